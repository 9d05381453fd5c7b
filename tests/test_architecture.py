"""The architecture as a contract.

- The import-linter contracts of ``pyproject.toml`` hold (pimsim never imports codesign; each
  package's layers import downwards only; codesign reaches pimsim through its public API and
  ``pimsim.util``), and they fail when a forbidden import is added to a copy of the tree.
- No module of either package imports another module's private (underscore) name.
- An import inside a function carries a ``lazy:`` comment giving its start-up reason.
- No module of either package is over 400 lines.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pimsim", "codesign")
MAX_MODULE_LINES = 400
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.skip(f"import-linter is not installed beside {sys.executable}")
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )


def test_import_contracts_hold() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" not in proc.stdout.lower().replace("0 broken", "")


def _copy_tree(dest: Path) -> Path:
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("pimsim/errors.py", "import codesign.errors", "codesign sits on pimsim"),
        ("pimsim/util/fileio.py", "import pimsim.sim", "pimsim layers"),
        ("codesign/data/schema.py", "import codesign.pipeline", "codesign layers"),
        ("codesign/data/schema.py", "import codesign.data.cache", "codesign.data layers"),
        ("codesign/nas/space.py", "import pimsim.dram", "codesign uses pimsim's public API"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, line: str,
                                              contract: str) -> None:
    root = _copy_tree(tmp_path)
    target = root / module
    target.write_text(target.read_text() + f"\n{line}  # added by the test\n")
    proc = _lint(root)
    assert proc.returncode != 0, proc.stdout
    assert contract in proc.stdout and "BROKEN" in proc.stdout, proc.stdout


def _function_imports(tree: ast.AST) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    found.append(sub)
    return found


def _says_why(lines: list[str], index: int) -> bool:
    """Whether the import on ``lines[index]``, or the comment and import lines right above
    it (a block of lazy imports shares one comment), carries ``lazy:``."""
    while index >= 0:
        text = lines[index].strip()
        if "lazy:" in text:
            return True
        if not (text.startswith(("#", "import ", "from ")) or text in (")",) or text.endswith(",")):
            return False
        index -= 1
    return False


def test_no_private_name_is_imported_across_modules() -> None:
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}")
    assert not offenders, "private names imported across modules:\n" + "\n".join(offenders)


def test_function_level_imports_say_why() -> None:
    offenders = []
    for path in _modules():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines), filename=str(path))
        for node in _function_imports(tree):
            if not _says_why(lines, node.lineno - 1):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not offenders, (
        "imports inside functions without a `# lazy: <start-up reason>` comment:\n"
        + "\n".join(offenders)
    )


def test_no_module_is_over_the_size_budget() -> None:
    sizes = {p: len(p.read_text().splitlines()) for p in _modules()}
    over = [f"{p.relative_to(ROOT)}: {n} lines" for p, n in sizes.items() if n > MAX_MODULE_LINES]
    assert not over, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(over)
