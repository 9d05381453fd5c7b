"""Hardware sweeps: a grid over profile parameters, each point simulated on an executor.

A parameter is a dotted key into the profile (``dram.channels``, ``pim.units_per_channel``,
``timing.tCK_ns``, ``pim.dtype``, ...); :func:`parse_set` reads ``KEY=V1,V2,...`` (values are
YAML scalars: ``8``, ``1.25``, ``fp16``). The grid is the Cartesian product of the sets, in
the order given (the last set varies fastest). Each point is the base profile with those
values set and validated again (a key that does not exist, or a value the profile model
rejects, raises :class:`~pimsim.errors.ProfileError` naming the key path before anything
runs... unless the combination is only invalid at simulation time, which gives a row with
``status`` = the error message).

The workload is a :class:`~pimsim.workload.graph.Workload` or any picklable callable
``build(profile) -> Workload`` (e.g. codesign's subnet builder, whose kernel data types
follow the point's PIM data type).

Points run through ``executor.map(fn, items)`` (an executor of
:mod:`pimsim.util.executors`: in-process by default, a local process pool or Dask), in
chunks; each finished chunk is appended to ``points.jsonl`` in the output folder (flushed
and fsync'd), so ``resume=True`` skips the points already there. Results:
``results.parquet`` and ``results.csv`` (one row per point: the parameters,
``latency_ns``, ``energy_pj``, energy by component ``energy_<c>_pj``, DRAM commands, bytes,
FLOPs, ``status``), and ``sweep_<key>.png`` per swept parameter (latency and energy against
the parameter, one line per combination of the other parameters).
Every file is written to a temporary name and renamed.

pimsim never imports codesign: a codesign builder arrives as an object (see
:mod:`pimsim.cli.spec`).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pimsim.errors import PimsimError, ProfileError
from pimsim.hw.load import profile_from_dict
from pimsim.hw.schema import Profile
from pimsim.sim.engine import simulate
from pimsim.sim.trace import ENERGY_COLUMNS
from pimsim.util.executors import Executor, LocalExecutor
from pimsim.util.fileio import atomic_write_bytes, read_text
from pimsim.workload.graph import Workload

__all__ = [
    "SweepResult",
    "parse_set",
    "grid",
    "set_params",
    "run_point",
    "run_sweep",
]

#: Whole-number columns of a result row, from :meth:`pimsim.sim.trace.Trace.totals`.
COUNT_COLUMNS: tuple[str, ...] = ("dram_commands", "external_bytes", "internal_bytes", "flops",
                                  "kernels")

POINTS_NAME = "points.jsonl"
HEADER_NAME = "sweep.json"


# --------------------------------------------------------------------------- the grid


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,...`` -> (key, values); values are YAML scalars."""
    key, sep, rest = str(text).partition("=")
    key = key.strip()
    if not sep or not key or not rest.strip():
        raise PimsimError(f"--set {text!r}: accepted: KEY=V1,V2,... (e.g. dram.channels=4,8)")
    values: list[Any] = []
    for part in rest.split(","):
        part = part.strip()
        if not part:
            raise PimsimError(f"--set {text!r}: empty value; accepted: KEY=V1,V2,...")
        try:
            v = yaml.safe_load(part)
        except yaml.YAMLError:
            v = part
        if isinstance(v, (dict, list)) or v is None:
            raise PimsimError(f"--set {text!r}: value {part!r}; accepted: numbers or words")
        values.append(v)
    if len(set(map(repr, values))) != len(values):
        raise PimsimError(f"--set {text!r}: a value repeats; accepted: distinct values")
    return key, values


def grid(sets: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
    """The Cartesian product of the sets, the last varying fastest."""
    keys = [k for k, _ in sets]
    if len(set(keys)) != len(keys):
        raise PimsimError(f"--set: key repeated in {keys}; accepted: each key once")
    if not sets:
        return [{}]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(v for _, v in sets))]


def set_params(profile: Profile, params: dict[str, Any]) -> Profile:
    """A copy of ``profile`` with dotted keys set, validated as a whole profile."""
    data = profile.model_dump(mode="python")
    for key, value in params.items():
        node: Any = data
        parts = key.split(".")
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if not isinstance(node, dict) or part not in node:
                here = ".".join(parts[:depth]) or "(top)"
                accepted = sorted(node) if isinstance(node, dict) else []
                raise ProfileError(
                    f"profile {profile.name!r}: key {key!r}: {part!r} not found under {here}; "
                    f"accepted: {', '.join(map(str, accepted)) or 'no keys (a value)'}"
                )
            if last:
                if isinstance(node[part], dict):
                    raise ProfileError(
                        f"profile {profile.name!r}: key {key!r} is a section; accepted: a "
                        f"value key such as {key}.{next(iter(node[part]), '...')}"
                    )
                node[part] = value
            else:
                node = node[part]
    return profile_from_dict(data, source=f"{profile.name} with {params}")


def _point_key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


# --------------------------------------------------------------------------- one point


def run_point(item: tuple[Profile, Any, dict[str, Any], int]) -> dict[str, Any]:
    """Simulate one grid point; a module-level function so that it pickles by reference.

    ``item`` = (base profile, workload or builder, params, seed). Returns the result row.
    """
    base, workload, params, seed = item
    row: dict[str, Any] = {"point": _point_key(params), **params}
    try:
        prof = set_params(base, params)
        wl = workload(prof) if callable(workload) and not isinstance(workload, Workload) \
            else workload
        replicate = getattr(workload, "replicate_hot_rows", 0)
        trace = simulate(wl, prof, seed=seed, replicate_hot_rows=replicate)
    except PimsimError as exc:
        row.update({"latency_ns": math.nan, "energy_pj": math.nan, "status": str(exc)})
        for c in ENERGY_COLUMNS:
            row[f"energy_{c}"] = math.nan
        return row
    totals = trace.totals()
    row["latency_ns"] = totals["makespan_ns"]
    row["energy_pj"] = totals["energy_pj"]
    for c in ENERGY_COLUMNS:
        row[f"energy_{c}"] = totals[c]
    for c in COUNT_COLUMNS:
        row[c] = int(totals[c])
    row["status"] = "ok"
    return row


# --------------------------------------------------------------------------- the sweep


class SweepResult:
    def __init__(self, rows: pd.DataFrame, out_dir: Path | None, ran: int, skipped: int,
                 plots: list[Path]) -> None:
        self.rows = rows
        self.out_dir = out_dir
        self.ran = ran
        self.skipped = skipped
        self.plots = plots


def _workload_id(workload: Any) -> str:
    if isinstance(workload, Workload):
        text = json.dumps(workload.to_dict(), sort_keys=True, default=str)
    else:
        text = repr(workload)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _header(profile: Profile, workload: Any, sets: Sequence[tuple[str, Sequence[Any]]],
            seed: int) -> dict[str, Any]:
    """What every stored point depends on: the resume check compares all of it."""
    profile_text = json.dumps(profile.model_dump(mode="json"), sort_keys=True)
    return {"profile": profile.name,
            "profile_digest": hashlib.sha256(profile_text.encode()).hexdigest()[:16],
            "workload": _workload_id(workload), "sets": [[k, list(v)] for k, v in sets],
            "seed": seed}


def _set_options(sets: Any) -> str:
    return " ".join(f"--set {k}={','.join(map(str, v))}" for k, v in sets or []) or "(none)"


#: Each input of the header, the option that gives it, and how its values are shown.
_RESUMED_INPUTS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("sets", "--set grid", _set_options),
    ("profile", "--profile", repr),
    ("profile_digest", "--profile (its contents)", str),
    ("workload", "--workload/--spec (the workload's digest)", str),
    ("seed", "--seed", str),
)


def _check_same_sweep(hpath: Path, header: dict[str, Any]) -> None:
    """Refuse to resume the sweep of ``hpath`` with other inputs (one line naming the
    first input that differs); the folder is left untouched."""
    try:
        old = json.loads(read_text(hpath, PimsimError, "the sweep header (JSON)"))
    except json.JSONDecodeError as exc:
        raise PimsimError(f"{hpath}:{exc.lineno}: not valid JSON ({exc.msg}); accepted: the "
                          "sweep.json a sweep wrote, or another --out") from None
    for key, option, show in _RESUMED_INPUTS:
        if not isinstance(old, dict) or old.get(key) != header[key]:
            was = show(old.get(key)) if isinstance(old, dict) and key in old else "(not recorded)"
            raise PimsimError(
                f"--resume: {option} differs from the sweep in {hpath.parent} (there: {was}; "
                f"here: {show(header[key])}); accepted: the same inputs to resume, or another "
                "--out")


def _read_points(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if not path.is_file():
        return rows
    for line in read_text(path, PimsimError, "the sweep's points (JSON lines)").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a torn last line from a kill: that point runs again
    return rows


def run_sweep(
    profile: Profile,
    workload: Any,
    sets: Sequence[tuple[str, Sequence[Any]]],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    executor: Executor | None = None,
    resume: bool = False,
    seed: int = 0,
    chunk: int = 8,
    plots: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run the grid of ``sets`` over ``profile`` for ``workload`` (see the module
    docstring); returns the rows (grid order) and writes the files into ``out_dir``."""
    points = grid(sets)
    for p in points:  # every key and value valid before anything runs
        set_params(profile, p)
    ex = executor if executor is not None else LocalExecutor(0)
    out = Path(out_dir) if out_dir is not None else None
    done: dict[str, dict[str, Any]] = {}
    header = json.loads(json.dumps(_header(profile, workload, sets, seed), default=str))
    if out is not None:
        hpath, ppath = out / HEADER_NAME, out / POINTS_NAME
        if hpath.is_file() and resume:
            _check_same_sweep(hpath, header)
            done = {r["point"]: r for r in _read_points(ppath)}
        elif ppath.is_file() and not hpath.is_file():
            raise PimsimError(f"{out}: holds {POINTS_NAME} without {HEADER_NAME}, so what its "
                              "points were run with is unknown; accepted: another --out")
        elif hpath.is_file() or ppath.is_file():
            raise PimsimError(f"{out}: holds a sweep already; accepted: --resume or another --out")
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(hpath, json.dumps(header, indent=1).encode())
    todo = [p for p in points if _point_key(p) not in done]
    skipped = len(points) - len(todo)
    if progress:
        progress(skipped, len(points))
    for start in range(0, len(todo), max(1, chunk)):
        part = todo[start:start + max(1, chunk)]
        rows = ex.map(run_point, [(profile, workload, p, seed) for p in part])
        for r in rows:
            done[r["point"]] = r
        if out is not None:
            with (out / POINTS_NAME).open("a") as fh:
                for r in rows:
                    fh.write(json.dumps(r, default=str) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        if progress:
            progress(skipped + start + len(part), len(points))
    df = pd.DataFrame([done[_point_key(p)] for p in points])
    plot_paths: list[Path] = []
    if out is not None:
        buf = io.BytesIO()
        df.astype({k: str for k, _ in sets if df[k].dtype == object}).to_parquet(buf,
                                                                                 index=False)
        atomic_write_bytes(out / "results.parquet", buf.getvalue())
        atomic_write_bytes(out / "results.csv", df.to_csv(index=False).encode())
        if plots:
            plot_paths = [plot_parameter(df, [k for k, _ in sets], key, out / _plot_name(key))
                          for key, _ in sets]
    return SweepResult(df, out, len(todo), skipped, plot_paths)


def _plot_name(key: str) -> str:
    return "sweep_" + "".join(c if c.isalnum() or c in "._-" else "_" for c in key) + ".png"


def plot_parameter(df: pd.DataFrame, keys: list[str], key: str, path: Path) -> Path:
    """Latency and energy against ``key``; one line per combination of the other keys."""
    # lazy: matplotlib takes 0.19 s to import (python -X importtime); only sweeps that
    # draw pay it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    others = [k for k in keys if k != key]
    values = list(dict.fromkeys(df[key].tolist()))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    groups = [((), df)] if not others else list(df.groupby(others, sort=False))
    for ax, col, label in ((axes[0], "latency_ns", "latency (us)"),
                           (axes[1], "energy_pj", "energy (uJ)")):
        scale = 1e3 if col == "latency_ns" else 1e6
        for name, g in groups[:12]:
            xs = g[key].tolist() if numeric else [values.index(v) for v in g[key]]
            tag = ", ".join(f"{o}={v}" for o, v in zip(others, name if isinstance(name, tuple)
                                                          else (name,))) or None
            ax.plot(xs, (g[col] / scale).tolist(), marker="o", label=tag)
        if not numeric:
            ax.set_xticks(range(len(values)))
            ax.set_xticklabels([str(v) for v in values])
        ax.set_xlabel(key)
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    if others and len(groups) > 1:
        axes[1].legend(fontsize=7)
    fig.suptitle(f"sweep over {key}")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return atomic_write_bytes(path, buf.getvalue())
