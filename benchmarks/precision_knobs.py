"""What precision and the PIM knobs do, kernel by kernel, host against PIM on one memory.

Four tables, each row one kernel simulated with ``pimsim.simulate`` on the host and on
the PIM units (both in the same data type; energy is the whole system's over the run):

1. **Tables by precision**: one 1M-row table of dim 64, batch 256, pooling 80, uniform, in
   fp32, int8 and int4 (FBGEMM's row-wise layouts: 256, 72 and 36 bytes a row) on
   ``ddr4_recnmp`` and ``upmem`` (the types each kind runs; a refused type says so).
2. **Batch tiling** on ``hbm2_pim``: GEMM 1024 x 512 fp16 at batch 1, 16, 256 with
   ``batch_tile`` 1 (the published dataflow) and 8 (its register-file limit).
3. **DPU clock** on ``upmem``: GEMM 512 x 256 int32 at batch 16 and a dim-64 int32 table
   at 350, 400 and 450 MHz.
4. **Host precision**: GEMM 1024 x 1024 at batch 256 in each type the host computes, on
   the hosts of ``ddr4_3200`` (Xeon slice), ``ddr4_cpu`` (EPYC 7742), ``hbm2`` (V100
   share) and ``gddr6`` (T4 share).

    .venv/bin/python benchmarks/precision_knobs.py
"""

from __future__ import annotations

import pandas as pd

import pimsim
from pimsim.workload import EmbeddingBag, Gemm, Table, Workload


def _run(profile: pimsim.Profile, kernel: object, tables: dict | None = None) -> dict:
    t = pimsim.simulate(Workload(tables=tables or {}, kernels=[kernel]), profile).totals()
    return {"us": t["makespan_ns"] / 1e3, "uJ": t["energy_pj"] / 1e6}


def _pair(profile: pimsim.Profile, make, tables: dict | None = None) -> dict:  # noqa: ANN001
    """Host and PIM runs of ``make(placement)``, with the host / PIM ratios."""
    host = _run(profile, make("host"), tables)
    try:
        pim = _run(profile, make("pim"), tables)
    except pimsim.PimsimError as exc:
        return {"host us": host["us"], "pim us": None, "note": str(exc).split(": ", 1)[-1][:60]}
    return {"host us": host["us"], "pim us": pim["us"], "speedup": host["us"] / pim["us"],
            "host uJ": host["uJ"], "pim uJ": pim["uJ"], "energy ratio": host["uJ"] / pim["uJ"]}


def tables_by_precision() -> pd.DataFrame:
    rows = []
    for name in ("ddr4_recnmp", "upmem"):
        p = pimsim.load_profile(name)
        for dt in ("fp32", "int8", "int4"):
            t = Table(rows=1_000_000, dim=64, dtype=dt)

            def make(pl: str) -> EmbeddingBag:
                return EmbeddingBag(name="e", table="t", batch=256, pooling=80, placement=pl)
            rows.append({"profile": name, "dtype": dt, "row bytes": t.row_bytes,
                         **_pair(p, make, {"t": t})})
    return pd.DataFrame(rows)


def batch_tiling() -> pd.DataFrame:
    rows = []
    base = pimsim.load_profile("hbm2_pim")
    for tile in (1, 8):
        p = base.model_copy(update={"pim": base.pim.with_knobs(batch_tile=tile)})
        for m in (1, 16, 256):
            def make(pl: str) -> Gemm:
                return Gemm(name="g", m=m, n=512, k=1024, dtype="fp16", placement=pl)
            rows.append({"batch_tile": tile, "batch": m, **_pair(p, make)})
    return pd.DataFrame(rows)


def dpu_clock() -> pd.DataFrame:
    rows = []
    base = pimsim.load_profile("upmem")
    t = Table(rows=1_000_000, dim=64, dtype="int32")
    for mhz in (350, 400, 450):
        p = base.model_copy(update={"pim": base.pim.with_knobs(clock_mhz=mhz)})

        def gemm(pl: str) -> Gemm:
            return Gemm(name="g", m=16, n=256, k=512, dtype="int32", placement=pl)

        def bag(pl: str) -> EmbeddingBag:
            return EmbeddingBag(name="e", table="t", batch=256, pooling=80, placement=pl)
        rows.append({"clock MHz": mhz, "kernel": "gemm 512x256 b16", **_pair(p, gemm)})
        rows.append({"clock MHz": mhz, "kernel": "table dim 64 p80", **_pair(p, bag, {"t": t})})
    return pd.DataFrame(rows)


def host_precision() -> pd.DataFrame:
    rows = []
    for name in ("ddr4_3200", "ddr4_cpu", "hbm2", "gddr6"):
        p = pimsim.load_profile(name)
        for dt in pimsim.host_dtypes(p):
            r = _run(p, Gemm(name="g", m=256, n=1024, k=1024, dtype=dt))
            rows.append({"profile": name, "dtype": dt, "peak GOP/s": p.host.peak_for(dt),
                         "us": r["us"], "uJ": r["uJ"]})
    return pd.DataFrame(rows)


def main() -> None:
    pd.set_option("display.width", 200)
    fmt = {"float_format": lambda v: f"{v:,.3g}"}
    for title, frame in (("1. tables by precision (1M x 64, batch 256, pooling 80)",
                          tables_by_precision()),
                         ("2. batch tiling, hbm2_pim, GEMM 1024x512 fp16", batch_tiling()),
                         ("3. DPU clock, upmem", dpu_clock()),
                         ("4. host precision, GEMM 1024x1024 batch 256", host_precision())):
        print(f"\n{title}\n{frame.to_string(index=False, **fmt)}")


if __name__ == "__main__":
    main()
