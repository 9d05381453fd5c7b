"""The result of a simulation: one record per kernel, as pandas, and the one trace summary.

:meth:`Trace.totals` is the summary every caller uses (sweeps, the co-search's hardware
metrics, the CLI table). Files (Parquet, CSV, Chrome trace JSON, timeline PNG) are written
by :mod:`pimsim.sim.export`; the ``Trace`` methods of the same names call it.

Energy columns (pJ, :data:`pimsim.energy.ENERGY_COMPONENTS`): ``act_pj`` (ACT+PRE),
``read_pj`` and ``write_pj`` (column reads and writes inside the DRAM), ``ref_pj`` (refresh), ``background_pj``, ``io_pj`` (external bus), ``pim_alu_pj``,
``host_pj`` (host cores and on-chip data movement), ``host_static_pj`` (the host's static
power over elapsed time), and the ReRAM crossbar parts ``xbar_array_pj``, ``xbar_adc_pj``,
``xbar_dac_pj``, ``xbar_digital_pj``, ``xbar_buffer_pj``, ``xbar_program_pj`` (see
:class:`pimsim.energy.EnergyBreakdown`). ``energy_pj`` is their sum.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pimsim.energy import ENERGY_COMPONENTS
from pimsim.sim import export

ENERGY_COLUMNS: tuple[str, ...] = ENERGY_COMPONENTS
COMMAND_COLUMNS: tuple[str, ...] = ("n_act", "n_pre", "n_rd", "n_wr", "n_ref")
#: ``op`` of the record that holds the memory's background energy outside every kernel.
IDLE_OP = "background"


@dataclass
class KernelRecord:
    """What one kernel did: where, when, how much data and energy."""

    name: str
    op: str
    placement: str  # host | pim | memory (idle background of the whole memory)
    unit: str  # the lane it ran on: "host", "pim:ch0-7", ...
    start_ns: float = 0.0
    end_ns: float = 0.0
    dram_ns: float = 0.0
    compute_ns: float = 0.0
    fallback: bool = False
    n_act: int = 0
    n_pre: int = 0
    n_rd: int = 0
    n_wr: int = 0
    n_ref: int = 0
    external_bytes: int = 0
    internal_bytes: int = 0
    flops: int = 0
    act_pj: float = 0.0
    read_pj: float = 0.0
    write_pj: float = 0.0
    ref_pj: float = 0.0
    background_pj: float = 0.0
    io_pj: float = 0.0
    pim_alu_pj: float = 0.0
    host_pj: float = 0.0
    host_static_pj: float = 0.0
    xbar_array_pj: float = 0.0
    xbar_adc_pj: float = 0.0
    xbar_dac_pj: float = 0.0
    xbar_digital_pj: float = 0.0
    xbar_buffer_pj: float = 0.0
    xbar_program_pj: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_ns(self) -> float:
        return self.end_ns - self.start_ns

    @property
    def energy_pj(self) -> float:
        return float(sum(getattr(self, c) for c in ENERGY_COLUMNS))

    @property
    def dram_commands(self) -> int:
        return int(sum(getattr(self, c) for c in COMMAND_COLUMNS))


class Trace:
    """Per-kernel records of one simulation plus metadata (profile, workload, seed)."""

    def __init__(self, records: list[KernelRecord], meta: dict[str, Any] | None = None):
        self.records = list(records)
        self.meta = dict(meta or {})

    # --- tables ----------------------------------------------------------------------
    @property
    def df(self) -> pd.DataFrame:
        rows = []
        for r in self.records:
            d = asdict(r)
            d.pop("extra")
            d["duration_ns"] = r.duration_ns
            d["dram_commands"] = r.dram_commands
            d["energy_pj"] = r.energy_pj
            rows.append(d)
        cols = list(KernelRecord.__dataclass_fields__)
        cols.remove("extra")
        cols[6:6] = ["duration_ns"]
        cols += ["dram_commands", "energy_pj"]
        return pd.DataFrame(rows, columns=cols)

    @property
    def makespan_ns(self) -> float:
        if not self.records:
            return 0.0
        return max(r.end_ns for r in self.records) - min(r.start_ns for r in self.records)

    def totals(self) -> dict[str, float]:
        """Makespan, kernel count (the idle-memory record is not a kernel), DRAM commands,
        bytes, FLOPs and energy by component and in total, summed over the records."""
        df = self.df
        out: dict[str, float] = {"makespan_ns": self.makespan_ns,
                                 "kernels": float((df["op"] != IDLE_OP).sum())}
        for c in (*COMMAND_COLUMNS, "dram_commands", "external_bytes", "internal_bytes",
                  "flops", *ENERGY_COLUMNS, "energy_pj"):
            out[c] = float(df[c].sum()) if len(df) else 0.0
        return out

    def kernel(self, name: str) -> KernelRecord:
        for r in self.records:
            if r.name == name:
                return r
        raise KeyError(name)

    def table(self) -> str:
        """A readable per-kernel table (Markdown) followed by the totals."""
        df = self.df
        show = df[["name", "op", "placement", "unit", "start_ns", "end_ns", "duration_ns",
                   "dram_commands", "external_bytes", "internal_bytes", "flops", "energy_pj"]]
        times = {c: "{:,.1f}".format for c in ("start_ns", "end_ns", "duration_ns")}  # one format
        lines = [show.to_string(index=False, float_format=lambda v: f"{v:.4g}", formatters=times)]
        t = self.totals()
        lines.append("")
        lines.append(
            f"makespan {t['makespan_ns']:.1f} ns | energy {t['energy_pj'] / 1e6:.4g} uJ "
            + "(" + ", ".join(f"{c[:-3]} {t[c] / 1e6:.3g}" for c in ENERGY_COLUMNS
                              if t[c] or not c.startswith("xbar_")) + " uJ) | "
            f"external {t['external_bytes'] / 1e6:.4g} MB, internal "
            f"{t['internal_bytes'] / 1e6:.4g} MB | {t['flops'] / 1e9:.4g} GFLOP/batch "
            "(2 per multiply-add)"
        )
        return "\n".join(lines)

    # --- files (pimsim.sim.export) ----------------------------------------------------
    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        return export.to_parquet(self, path)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        return export.to_csv(self, path)

    @classmethod
    def from_parquet(cls, path: str | os.PathLike[str]) -> "Trace":
        df = pd.read_parquet(path)
        fields = [f for f in KernelRecord.__dataclass_fields__ if f != "extra"]
        # a column the file lacks (a file with fewer energy components) reads as its default
        recs = [KernelRecord(**{f: row[f] for f in fields if f in row})
                for row in df.to_dict("records")]
        return cls(recs)

    def chrome_events(self) -> dict[str, Any]:
        return export.chrome_events(self)

    def to_chrome_json(self, path: str | os.PathLike[str]) -> Path:
        return export.to_chrome_json(self, path)

    def timeline_png(self, path: str | os.PathLike[str], title: str | None = None) -> Path:
        return export.timeline_png(self, path, title)
