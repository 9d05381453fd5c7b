"""Imports inside codesign.data run one way: each module imports only modules of lower layers."""

from __future__ import annotations

import ast
from pathlib import Path

import codesign.data

#: Bottom first; a module may import the modules of the layers before its own.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("schema",),
    ("formats",),
    ("hashing",),
    ("tokenize",),
    ("cache", "reader"),
    ("kdd",),
    ("prepare",),
    ("synth_text", "synth_draws", "synth_truth"),
    ("synthetic",),
)


def _data_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("codesign.data."):
            out.add(node.module.removeprefix("codesign.data."))
        elif isinstance(node, ast.Import):
            out |= {a.name.removeprefix("codesign.data.") for a in node.names if a.name.startswith("codesign.data.")}
    return out


def test_every_module_has_a_layer_and_imports_only_lower_ones() -> None:
    folder = Path(codesign.data.__file__).parent
    layer_of = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "_parse", "commands"}
    assert modules == set(layer_of), "a module of codesign.data has no layer in this test"
    for name in sorted(modules):
        for dep in _data_imports(folder / f"{name}.py"):
            assert layer_of[dep] < layer_of[name], f"codesign.data.{name} imports codesign.data.{dep}"
