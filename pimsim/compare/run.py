"""Running the advantage map's grid: every point on the host alone and on the PIM kind.

Each point is a one-kernel workload simulated twice with :func:`pimsim.sim.engine.simulate`
on the same profile: placement ``host`` and placement ``pim``. Latency is the trace's
makespan, energy its total (the kernel's energy plus the whole memory's background over
the makespan, as the engine books it), so whatever the cost models and the engine charge
flows into the map unchanged. Where the profile's PIM kind cannot run the kernel (op or
data type it does not support, :func:`pimsim.cost.pim.unsupported_reason`), the PIM side
is empty and ``pim_status`` says why.

Ratios are host over PIM: above 1, PIM is faster (latency) or spends less (energy).
Points run through an executor of :mod:`pimsim.util.executors` in grid order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from pimsim.compare.grid import FAMILY_OPS, CompareGrid, Point
from pimsim.cost.pim import capabilities, unsupported_reason
from pimsim.errors import PimsimError
from pimsim.hw.schema import Profile
from pimsim.hw.section import required_section
from pimsim.sim.engine import simulate
from pimsim.util.executors import Executor, LocalExecutor
from pimsim.workload.graph import Workload

#: Columns of a point row, in order (the CSV header of ``advantage.csv``).
POINT_COLUMNS: tuple[str, ...] = (
    "family", "shape", "batch", "dtype", "k", "n", "dim", "pooling", "distribution", "rows",
    "host_latency_ns", "pim_latency_ns", "host_energy_pj", "pim_energy_pj",
    "latency_ratio", "energy_ratio", "pim_status",
)
#: ``pim_status`` of a point the PIM kind ran.
OK = "ok"
#: Points per executor call: the unit of progress.
CHUNK = 8

#: What a profile without PIM units is told (the PIM profiles shipped in hw_profiles/).
NO_PIM = ("pimsim compare sets the host against the profile's PIM units; accepted: a "
          "profile with a pim section (hbm2_pim, gddr6_aim, ddr4_recnmp, upmem, reram_pim)")


def require_pim(profile: Profile) -> None:
    """A one-line PimsimError naming the profile if it has no PIM units."""
    required_section(profile, "pim", NO_PIM)


def default_grid(profile: Profile, grid: CompareGrid | None = None, *,
                 families: Sequence[str] | None = None,
                 dtypes: Sequence[str] | None = None) -> CompareGrid:
    """``grid`` (default :class:`CompareGrid`) for ``profile``: the families its PIM kind
    runs (or ``families``, each checked), GEMMs in ``dtypes`` or the kind's ``pim.dtype``,
    tables in ``dtypes`` or every data type the kind accepts."""
    require_pim(profile)
    caps = capabilities(profile)
    runs = [f for f, op in FAMILY_OPS.items() if op in caps.ops]
    if families is None:
        families = runs
    for f in families:
        if f not in runs:
            raise PimsimError(
                f"--family {f}: PIM kind {caps.kind!r} of profile {profile.name!r} does not "
                f"run {FAMILY_OPS[f]!r} kernels; accepted for this profile: "
                f"{', '.join(runs) or 'none'}")
    if not families:
        raise PimsimError(f"profile {profile.name!r}: PIM kind {caps.kind!r} runs none of "
                          f"the grid's kernels ({', '.join(FAMILY_OPS.values())})")
    base = grid or CompareGrid()
    gemm_dtypes = tuple(dtypes) if dtypes else (profile.pim.dtype,)
    table_dtypes = tuple(dtypes) if dtypes else tuple(caps.dtypes)
    return CompareGrid(families=tuple(families), batches=base.batches, gemms=base.gemms,
                       dims=base.dims, pooling=base.pooling, distributions=base.distributions,
                       rows=base.rows, gemm_dtypes=gemm_dtypes, table_dtypes=table_dtypes)


def point_workload(point: Point, placement: str) -> Workload:
    """The one-kernel workload of ``point`` on ``placement``."""
    kernel = point.kernel.model_copy(update={"placement": placement})
    tables = {"t": point.table} if point.table is not None else {}
    return Workload(name=f"{point.kernel.name}_{placement}", tables=tables, kernels=[kernel])


def ratio(host: float, pim: float) -> float:
    """Host over PIM (NaN where either side is missing or PIM took no time)."""
    if not (math.isfinite(host) and math.isfinite(pim)) or pim <= 0.0:
        return math.nan
    return host / pim


def run_point(item: tuple[Profile, Point, int]) -> dict[str, Any]:
    """One point on the host and on PIM: its row (module level, so it pickles)."""
    profile, point, seed = item
    row: dict[str, Any] = {c: math.nan for c in POINT_COLUMNS}
    row.update({"family": point.family, "shape": point.shape, "batch": point.batch,
                "dtype": point.dtype, **point.params})
    host = simulate(point_workload(point, "host"), profile, seed=seed).totals()
    row["host_latency_ns"] = host["makespan_ns"]
    row["host_energy_pj"] = host["energy_pj"]
    on_pim = point_workload(point, "pim")
    reason = unsupported_reason(profile, on_pim.kernels[0])
    if reason is None:
        try:
            pim = simulate(on_pim, profile, seed=seed).totals()
        except PimsimError as exc:  # a limit of the kind beyond op and data type
            reason = str(exc)
        else:
            row["pim_latency_ns"] = pim["makespan_ns"]
            row["pim_energy_pj"] = pim["energy_pj"]
    row["pim_status"] = OK if reason is None else reason
    row["latency_ratio"] = ratio(row["host_latency_ns"], row["pim_latency_ns"])
    row["energy_ratio"] = ratio(row["host_energy_pj"], row["pim_energy_pj"])
    return row


def run_grid(profile: Profile, grid: CompareGrid, *, seed: int = 0,
             executor: Executor | None = None,
             progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Every point of ``grid`` on ``profile``: one row per point (:data:`POINT_COLUMNS`),
    in grid order. ``progress(done, total)`` is called after each chunk of points."""
    require_pim(profile)
    points = grid.points()
    if not points:
        raise PimsimError("pimsim compare: the grid is empty; accepted: at least one shape, "
                          "one batch and one data type")
    ex = executor if executor is not None else LocalExecutor(0)
    rows: list[dict[str, Any]] = []
    if progress:
        progress(0, len(points))
    for start in range(0, len(points), CHUNK):
        part = points[start:start + CHUNK]
        rows.extend(ex.map(run_point, [(profile, p, seed) for p in part]))
        if progress:
            progress(len(rows), len(points))
    return pd.DataFrame(rows, columns=list(POINT_COLUMNS))
