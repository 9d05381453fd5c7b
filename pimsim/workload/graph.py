"""A workload: kernels, their dependency DAG and embedding tables; YAML/JSON load and save.

Dependencies map a kernel to the kernels it waits for; names are checked, self-loops and
cycles rejected, and :meth:`Workload.topological_order` gives the order kernels start in.
``Workload.fallback_to_host`` lets kernels a PIM kind cannot run fall back to the host
instead of raising.

Shape rule along DAG edges: a kernel's inputs are the outputs of its dependencies,
concatenated along the feature axis. A ``gemm`` needs rows == m and total width == k;
``elementwise`` needs every input of shape (m, n); ``interaction`` needs rows == batch and
total width == tokens x dim. ``transfer`` passes its single input's shape through.
Dependencies without a shape (transfers without input) are not checked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator

from pimsim.errors import WorkloadError
from pimsim.util.fileio import atomic_write_text, read_text
from pimsim.util.validation import (
    KeyPath,
    format_validation_error,
    load_yaml_with_lines,
)
from pimsim.workload.kernels import (
    Elementwise,
    EmbeddingBag,
    Gemm,
    Interaction,
    Kernel,
    Table,
    Transfer,
    WorkloadModel,
)


class Workload(WorkloadModel):
    """Kernels, their dependencies (kernel -> kernels it waits for) and embedding tables."""

    name: str = "workload"
    tables: dict[str, Table] = Field(default_factory=dict)
    kernels: list[Kernel] = Field(min_length=1)
    deps: dict[str, list[str]] = Field(default_factory=dict)
    fallback_to_host: bool = False
    #: Check the shape rule along deps. Off for workloads whose edges carry reshapes or
    #: transposes (codesign.hw.mapping: token-axis maps read tokens as (batch x emb, tokens)).
    check_shapes: bool = True

    @model_validator(mode="after")
    def _check(self) -> "Workload":
        names: dict[str, Any] = {}
        for i, k in enumerate(self.kernels):
            if k.name in names:
                raise WorkloadError(f"kernels[{i}].name: duplicate kernel name {k.name!r}")
            names[k.name] = k
        for kname, ds in self.deps.items():
            if kname not in names:
                raise WorkloadError(
                    f"deps.{kname}: unknown kernel {kname!r}; accepted: {sorted(names)}"
                )
            for d in ds:
                if d not in names:
                    raise WorkloadError(
                        f"deps.{kname}: unknown dependency {d!r}; accepted: {sorted(names)}"
                    )
                if d == kname:
                    raise WorkloadError(f"deps.{kname}: a kernel cannot depend on itself")
        for i, k in enumerate(self.kernels):
            if isinstance(k, EmbeddingBag):
                self._bind_table(i, k)
        self.topological_order()  # raises on a cycle
        if self.check_shapes:
            self._check_shapes()
        return self

    def _bind_table(self, i: int, k: EmbeddingBag) -> None:
        if k.table not in self.tables:
            if k.rows is not None and k.dim is not None and not self.tables.get(k.table):
                # a kernel may define its table inline
                self.tables[k.table] = Table(rows=k.rows, dim=k.dim, dtype=k.dtype or "fp32")
            else:
                raise WorkloadError(
                    f"kernels[{i}] ({k.name!r}).table: unknown table {k.table!r}; accepted: "
                    f"{sorted(self.tables)} (or give rows and dim on the kernel)"
                )
        t = self.tables[k.table]
        for field, want in (("rows", t.rows), ("dim", t.dim), ("dtype", t.dtype)):
            got = getattr(k, field)
            if got is not None and got != want:
                raise WorkloadError(
                    f"kernels[{i}] ({k.name!r}).{field}: {got!r} does not match table "
                    f"{k.table!r} ({field} = {want!r})"
                )
        k.bind(t)

    def kernel(self, name: str) -> Any:
        for k in self.kernels:
            if k.name == name:
                return k
        raise WorkloadError(f"unknown kernel {name!r}")

    def topological_order(self) -> list[str]:
        order = [k.name for k in self.kernels]
        indeg = {n: len(set(self.deps.get(n, []))) for n in order}
        users: dict[str, list[str]] = {n: [] for n in order}
        for n in order:
            for d in set(self.deps.get(n, [])):
                users[d].append(n)
        ready = [n for n in order if indeg[n] == 0]
        out: list[str] = []
        while ready:
            n = ready.pop(0)
            out.append(n)
            for u in users[n]:
                indeg[u] -= 1
                if indeg[u] == 0:
                    ready.append(u)
        if len(out) != len(order):
            cyc = sorted(n for n in order if indeg[n] > 0)
            raise WorkloadError(f"deps: dependency cycle among kernels {cyc}")
        return out

    def _check_shapes(self) -> None:
        shapes: dict[str, tuple[int, int] | None] = {}
        for name in self.topological_order():
            k = self.kernel(name)
            ins = [shapes[d] for d in self.deps.get(name, [])]
            known = [s for s in ins if s is not None]
            if isinstance(k, Transfer):
                shapes[name] = known[0] if len(known) == 1 else None
                continue
            if known and len(known) == len(ins):
                rows = {s[0] for s in known}
                width = sum(s[1] for s in known)
                if isinstance(k, Gemm):
                    want_rows, want_w, what = k.m, k.k, "m and k"
                elif isinstance(k, Interaction):
                    want_rows, want_w, what = k.batch, k.tokens * k.dim, "batch and tokens x dim"
                elif isinstance(k, Elementwise):
                    want_rows, want_w, what = k.m, k.n * k.inputs, "m and inputs x n"
                    if any(s != (k.m, k.n) for s in known) or len(known) != k.inputs:
                        raise WorkloadError(
                            f"kernel {name!r}: inputs have shapes {known}; accepted: "
                            f"{k.inputs} input(s) of shape ({k.m}, {k.n})"
                        )
                else:
                    want_rows, want_w, what = None, None, ""
                if want_rows is not None and (rows != {want_rows} or width != want_w):
                    raise WorkloadError(
                        f"kernel {name!r}: shape mismatch, inputs {known} (concatenated: rows "
                        f"{sorted(rows)}, width {width}) do not match {what} = "
                        f"({want_rows}, {want_w})"
                    )
            shapes[name] = k.output_shape()

    # --- I/O -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<workload>",
                  lines: Mapping[KeyPath, int] | None = None) -> "Workload":
        """Validate ``data``; ``lines`` (key path -> line of ``source``) puts line numbers
        into the error messages."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise WorkloadError(
                format_validation_error(exc, data, lines or {}, source, cls)
            ) from None


def load_workload(path: str | os.PathLike[str]) -> Workload:
    """Read a workload from YAML or JSON; relative ``indices_file`` paths are resolved
    against the workload file's folder."""
    p = Path(path)
    if not p.is_file():
        raise WorkloadError(f"workload file {str(p)!r} not found")
    text = read_text(p, WorkloadError, "the workload")
    lines: dict[KeyPath, int] = {}
    if p.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise WorkloadError(f"{p}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    else:
        data, lines = load_yaml_with_lines(text, str(p), WorkloadError)
    if not isinstance(data, dict):
        raise WorkloadError(f"{p}: top level must be a mapping with 'kernels'")
    for k in data.get("kernels", []) or []:
        if isinstance(k, dict) and isinstance(k.get("indices_file"), str):
            f = Path(k["indices_file"])
            if not f.is_absolute():
                k["indices_file"] = str(p.parent / f)
    return Workload.from_dict(data, source=str(p), lines=lines)


def save_workload(workload: Workload, path: str | os.PathLike[str]) -> Path:
    """Write YAML (or JSON for a ``.json`` suffix) atomically."""
    p = Path(path)
    data = workload.to_dict()
    text = json.dumps(data, indent=1) if p.suffix == ".json" else yaml.safe_dump(
        data, sort_keys=False)
    atomic_write_text(p, text)
    return p
