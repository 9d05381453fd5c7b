"""Start-up of the command lines: ``--help`` imports no command module (nor numba,
pandas, torch), a command imports its own module only, and the help lines the runner lists
without importing a module are the modules' own."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from codesign.cli.main import COMMANDS as CODESIGN_COMMANDS
from pimsim.cli.main import COMMANDS as PIMSIM_COMMANDS

HEAVY = ("numba", "pandas", "torch", "pydantic", "pyarrow", "distributed")


def _loaded_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             "print(' '.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    return set(out.split())


@pytest.mark.parametrize(("main", "commands"), [("pimsim.cli.main", PIMSIM_COMMANDS),
                                                 ("codesign.cli.main", CODESIGN_COMMANDS)])
def test_help_imports_no_command_module(main: str, commands: dict) -> None:
    loaded = _loaded_after(
        "import contextlib, io\n"
        f"from {main} import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass")
    assert not {m for m, _ in commands.values()} & loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_a_command_imports_its_module_only() -> None:
    loaded = _loaded_after(
        "import contextlib, io\n"
        "from pimsim.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['replay', '--help'])\n    except SystemExit:\n        pass")
    assert "pimsim.cli.replay" in loaded
    assert not {"pimsim.cli.simulate", "pimsim.cli.sweep", "pimsim.cli.profile"} & loaded


@pytest.mark.parametrize("commands", [PIMSIM_COMMANDS, CODESIGN_COMMANDS])
def test_listed_help_is_the_modules_own(commands: dict) -> None:
    for module in dict.fromkeys(m for m, _ in commands.values()):
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        for action in sub._choices_actions:
            assert commands[action.dest] == (module, action.help), action.dest
