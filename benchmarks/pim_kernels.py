"""PIM kernels on every profile, with and without PIM; and the speed of the simulator.

Kernels: GEMV 4096x4096 (batch 1), GEMM 4096x4096 batch 256, and an embedding-bag batch of
26 Criteo-sized tables (batch 256, dim 16, Zipf 1.05) with pooling 1 and pooling 80; for the
embedding kinds also RecNMP's setting (one 1M-row table of 64-dim rows, uniform, pooling 80). Each runs on the
PIM profile's host ("host") and on its PIM units ("pim"), on the same memory. Printed per
row: latency (us), energy (uJ), memory energy (DRAM only, uJ), speedup and energy ratio
(host / pim), and the profile's internal/external bandwidth ratio. Kernels a kind cannot
run are reported as such. PIM runs replicate the 16 hottest rows of each table in every
unit (``replicate_hot_rows``); the host has its LLC.

Then the wall time of simulating one Criteo-sized inference batch (26 tables + a 7-layer
MLP, batch 256) after warm-up, on hbm2_pim (MLP on PIM) and on hbm2 (all on the host).

With ``--published``: the published PIM points beside the model's figures, like for like
(the settings of ``tests/pimsim/cost/test_published.py``), instead.

With ``--crossovers``: the GEMM crossover table of the bank-level PIM profiles instead,
per layer shape (k x n) the largest batch of 1, 2, 4, ..., 256 at which PIM still beats
the host on latency / on energy ("0": not even at batch 1, "all": still at 256), with the
host at fp32 and, in brackets, at the PIM's own data type.

    .venv/bin/python benchmarks/pim_kernels.py [--quick | --crossovers | --published]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from pimsim.sim.engine import simulate
from pimsim.cost.pim import bandwidth_ratio, capabilities, unsupported_reason
from pimsim.hw.pim import pim_section
from pimsim.hw.load import load_profile
from pimsim.workload import EmbeddingBag, Gemm, Table, Workload, criteo_dlrm, example_table_rows

#: The Criteo table sizes of the example workload (examples/criteo_dlrm_b256.yaml).
CRITEO_TABLE_ROWS = example_table_rows()

PIM_PROFILES = ("hbm2_pim", "gddr6_aim", "ddr4_recnmp", "upmem")
MEMORY_COLS = ("act_pj", "read_pj", "write_pj", "ref_pj", "background_pj", "io_pj")
#: Hot rows of each table replicated in every PIM unit (layout option) for the PIM runs.
REPLICATE = 16


def kernels_for(profile_name: str, quick: bool) -> dict[str, Workload]:
    p = load_profile(profile_name)
    pim = pim_section(p)
    pools = "embedding_bag" in capabilities(p).ops
    dt = pim.dtype  # the kind's native type: fp16 / bf16 / fp32 (RecNMP) / int32 (UPMEM)
    emb_dt = pim.dtype if pools else "fp32"
    out: dict[str, Workload] = {}
    out["gemv 4096x4096"] = Workload(name="gemv", kernels=[Gemm(name="k", m=1, n=4096, k=4096,
                                                                dtype=dt)])
    if not quick:
        out["gemm 4096x4096 b256"] = Workload(name="gemm", kernels=[
            Gemm(name="k", m=256, n=4096, k=4096, dtype=dt)])
    for pool in (1, 80):
        tables = {f"t{i}": Table(rows=r, dim=16, dtype=emb_dt)
                  for i, r in enumerate(CRITEO_TABLE_ROWS)}
        ks = [EmbeddingBag(name=f"e{i}", table=f"t{i}", batch=256, pooling=pool,
                           distribution="zipf") for i in range(len(CRITEO_TABLE_ROWS))]
        out[f"emb 26x b256 p{pool}"] = Workload(name=f"emb_p{pool}", tables=tables, kernels=ks)
    if pools:  # RecNMP's setting: large tables, 256-byte rows
        out["emb 1Mx64 b256 p80 unif"] = Workload(
            name="emb_recnmp", tables={"t": Table(rows=1_000_000, dim=64, dtype=emb_dt)},
            kernels=[EmbeddingBag(name="e", table="t", batch=256, pooling=80)])
    return out


def placed(w: Workload, placement: str) -> Workload:
    data = w.to_dict()
    for k in data["kernels"]:
        k["placement"] = placement
    return Workload.from_dict(data)


def kernel_table(quick: bool) -> pd.DataFrame:
    rows = []
    for name in PIM_PROFILES:
        p = load_profile(name)
        ratio = bandwidth_ratio(p)
        for label, w in kernels_for(name, quick).items():
            reason = next((unsupported_reason(p, k) for k in w.kernels
                           if unsupported_reason(p, k)), None)
            host = simulate(placed(w, "host"), p).totals()
            row = {"profile": name, "kernel": label, "int/ext bw": round(ratio, 2),
                   "host us": host["makespan_ns"] / 1e3, "host uJ": host["energy_pj"] / 1e6}
            if reason is None:
                pim = simulate(placed(w, "pim"), p, replicate_hot_rows=REPLICATE).totals()
                mem_h = sum(host[c] for c in MEMORY_COLS)
                mem_p = sum(pim[c] for c in MEMORY_COLS)
                row.update({"pim us": pim["makespan_ns"] / 1e3, "pim uJ": pim["energy_pj"] / 1e6,
                            "speedup": host["makespan_ns"] / pim["makespan_ns"],
                            "energy ratio": host["energy_pj"] / pim["energy_pj"],
                            "mem energy saving %": 100.0 * (1.0 - mem_p / mem_h)})
            else:
                row["note"] = f"PIM cannot run it: {reason}"
            rows.append(row)
    return pd.DataFrame(rows)


CROSSOVER_SHAPES = ((13, 512), (16, 64), (256, 128), (512, 256), (1024, 512), (4096, 4096))
CROSSOVER_BATCHES = (1, 2, 4, 8, 16, 32, 64, 256)


def _crossover(wins: list[bool]) -> str:
    """The largest batch at which PIM still wins, scanning batches up while it wins."""
    last = "0"
    for batch, win in zip(CROSSOVER_BATCHES, wins):
        if not win:
            return last
        last = str(batch)
    return "all"


def crossover_table() -> pd.DataFrame:
    rows = []
    for name in ("hbm2_pim", "gddr6_aim"):
        p = load_profile(name)
        dt = pim_section(p).dtype
        row: dict[str, str] = {"profile": name}
        for k, n in CROSSOVER_SHAPES:
            cells = []
            for host_dt in ("fp32", dt):
                lat, en = [], []
                for m in CROSSOVER_BATCHES:
                    h = simulate(Workload(name="g", kernels=[
                        Gemm(name="g", m=m, k=k, n=n, dtype=host_dt, placement="host")]), p).totals()
                    q = simulate(Workload(name="g", kernels=[
                        Gemm(name="g", m=m, k=k, n=n, dtype=dt, placement="pim")]), p).totals()
                    lat.append(q["makespan_ns"] < h["makespan_ns"])
                    en.append(q["energy_pj"] < h["energy_pj"])
                cells.append(f"{_crossover(lat)}/{_crossover(en)}")
            row[f"{k}x{n}"] = f"{cells[0]} ({cells[1]})"
        rows.append(row)
    return pd.DataFrame(rows)


def _speedups(p, host: Workload, pim: Workload) -> tuple[float, float, float]:
    """Host / PIM latency, energy ratio and memory-energy saving (%)."""
    h, q = simulate(host, p).totals(), simulate(pim, p).totals()
    mem_h, mem_q = (sum(t[c] for c in MEMORY_COLS) for t in (h, q))
    return (h["makespan_ns"] / q["makespan_ns"], h["energy_pj"] / q["energy_pj"],
            100.0 * (1.0 - mem_q / mem_h))


def published_table() -> pd.DataFrame:
    rows = []
    for name, dt, pub in (("hbm2_pim", "fp16", "2.8-8.9x, energy -60 % or more"),
                          ("gddr6_aim", "bf16", "7.5-10.5x")):
        w = Workload(name="gemv", kernels=[Gemm(name="k", m=1, n=4096, k=4096, dtype=dt)])
        s, e, _ = _speedups(load_profile(name), w, placed(w, "pim"))
        rows.append({"profile": name, "kernel": f"GEMV 4096x4096 {dt}", "published": pub,
                     "speedup": s, "energy ratio": e})
    t = {"t": Table(rows=1_000_000, dim=64, dtype="fp32")}
    w = Workload(name="sls", tables=t, kernels=[EmbeddingBag(name="e", table="t", batch=256,
                                                             pooling=80)])
    s, e, m = _speedups(load_profile("ddr4_recnmp"), w, placed(w, "pim"))
    rows.append({"profile": "ddr4_recnmp", "kernel": "SLS 1Mx64 fp32 p80 b256",
                 "published": "4.2x, -45.8 % memory energy", "speedup": s, "energy ratio": e,
                 "mem energy saving %": m})
    tables = {f"t{i}": Table(rows=700_000, dim=16, dtype="int32") for i in range(32)}
    w = Workload(name="upmem", tables=tables, kernels=[
        EmbeddingBag(name=f"e{i}", table=f"t{i}", batch=64, pooling=120) for i in range(32)])
    s, e, _ = _speedups(load_profile("upmem"), w, placed(w, "pim"))
    rows.append({"profile": "upmem", "kernel": "32 int32 tables 700kx16 p120 b64",
                 "published": "0.92-126x", "speedup": s, "energy ratio": e})
    return pd.DataFrame(rows)


def criteo_wall_ms(profile_name: str, mlp: str, repeats: int = 5) -> tuple[float, float]:
    p = load_profile(profile_name)
    dt = "fp16" if profile_name == "hbm2_pim" else "fp32"
    w = criteo_dlrm(CRITEO_TABLE_ROWS, batch=256, pooling=1, dtype=dt, mlp_placement=mlp, fallback_to_host=True)
    simulate(w, p, seed=0)  # warm-up: JIT compilation and first-use costs
    best = float("inf")
    makespan = 0.0
    for seed in range(1, repeats + 1):
        t0 = time.perf_counter()
        tr = simulate(w, p, seed=seed)
        best = min(best, time.perf_counter() - t0)
        makespan = tr.makespan_ns
    return best * 1e3, makespan / 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip the batch-256 GEMM rows")
    ap.add_argument("--crossovers", action="store_true",
                    help="print the GEMM crossover table of hbm2_pim and gddr6_aim instead")
    ap.add_argument("--published", action="store_true",
                    help="print the published PIM points beside the model's instead")
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    if args.published:
        print(published_table().to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        return
    if args.crossovers:
        print("GEMM crossovers: largest batch PIM wins, latency/energy; host fp32 "
              "(host at the PIM's data type)")
        print(crossover_table().to_string(index=False))
        return
    df = kernel_table(args.quick)
    print(df.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print()
    for prof, mlp in (("hbm2_pim", "pim"), ("hbm2", "host")):
        wall, span = criteo_wall_ms(prof, mlp)
        print(f"Criteo batch (26 tables + 7-layer MLP, batch 256) on {prof}, MLP on {mlp}: "
              f"simulated {span:.1f} us, wall {wall:.1f} ms (best of 5 after warm-up; "
              "target <= 200 ms)")


if __name__ == "__main__":
    main()
