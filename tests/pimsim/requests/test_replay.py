"""pimsim.requests.replay: the command-name mapping its energy counts use; pimsim.replay is the
function."""

from __future__ import annotations

import subprocess
import sys

from pimsim.requests.replay import base_command


def test_base_command_by_hand() -> None:
    cases = {"ACT": "ACT", "ACT_AB": "ACT", "RDI": "RD", "WRI_AB": "WR", "RDAI": "RDA",
             "WRAI_AB": "WRA", "PREA": "PREA", "PRE_AB": "PRE", "REF": "REF", "RD": "RD"}
    assert {name: base_command(name) for name in cases} == cases


def test_pimsim_replay_is_the_function_after_the_cli_loads() -> None:
    # a fresh interpreter, so that only the command line's own imports run before the check
    code = ("import pimsim, pimsim.cli, pimsim.requests.replay as r\n"
            "from pimsim.cli.main import COMMAND_MODULES\n"
            "from pimsim.util.cli import build_parser\n"
            "build_parser('pimsim', '', COMMAND_MODULES)\n"
            "assert pimsim.replay is r.replay, pimsim.replay\n")
    subprocess.run([sys.executable, "-c", code], check=True)
