"""What precision genes do to a plan's simulated cost, and what the genes draw.

Part 1: NASRec's Criteo-Full subnet (``shared/reference/nasrec/criteo_full_best.json``,
else a sampled NASRec-Full subnet) on one profile at a few batch sizes, simulated under
plans that differ only in precision: every kernel on the host at fp32, every operator at
each other type the host runs, the tables at fp16 / int8 / int4, and the greedy placement
(latency) given all-fp32 and all-at-the-PIM's-type operators. Prints latency, energy, the
bytes of the tables and of the resident weights. A type pimsim does not cost yet is
reported as such.

Part 2: over ``--n`` subnets and sampled plans with precision genes per profile, the share
of tables and operators drawn at each type and of dense kernels and tables placed on PIM.

    .venv/bin/python benchmarks/precision_plans.py [--profile hbm2_pim] [--batch 1,256] [--n 20]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from codesign.data.schema import get_schema
from codesign.errors import CodesignError
from codesign.hw.capability import host_dtypes
from codesign.hw.evaluate import hardware_metrics, simulate_subnet
from codesign.hw.greedy import greedy_plan
from codesign.hw.mapping import map_subnet, subnet_graph
from codesign.hw.placement import PimPlan, TablePlan
from codesign.hw.plans import host_plan, naive_plan, sample_plan
from codesign.hw.precision_genes import op_choices, op_kernels
from codesign.nas.moves import sample
from codesign.nas.nasrec_json import load_spec
from codesign.quant import DENSE_DTYPES, TABLE_DTYPES
from pimsim import load_profile

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT.parent / "shared" / "reference" / "nasrec" / "criteo_full_best.json"


def _plans(spec, schema, prof, batch: int) -> dict[str, PimPlan]:
    graph = subnet_graph(spec, schema)
    ops = set(op_kernels(graph))
    base = host_plan(spec, schema)
    out = {"host, fp32": base}
    for d in host_dtypes(prof):
        if d != "fp32" and d in DENSE_DTYPES:
            out[f"host, operators {d}"] = base.model_copy(update={
                "precision": {k: d for k in ops}})
    for d in TABLE_DTYPES[1:]:
        out[f"host, tables {d}"] = base.model_copy(update={
            "tables": {f: TablePlan(dtype=d) for f in graph.tables}})
    if prof.pim is not None:
        knobs = naive_plan(spec, schema, prof).knobs
        out["greedy, open types"] = greedy_plan(spec, schema, prof, knobs, None, "latency",
                                                batch=batch)
        pim_types = [d for d in DENSE_DTYPES if d in prof.pim.dtypes]
        for d in ["fp32", *pim_types[:1]]:
            # every operator at d where some placement of its kernels runs d, else fp32
            prec = {key: d if d in op_choices(prof, kernels) else "fp32"
                    for key, kernels in op_kernels(graph).items()}
            try:
                out[f"greedy, operators {d} given"] = greedy_plan(
                    spec, schema, prof, knobs, None, "latency", batch=batch, precision=prec)
            except CodesignError as exc:
                print(f"  greedy with operators at {d}: {exc}")
    return out


def part1(profile: str, batches: list[int]) -> None:
    schema, prof = get_schema("criteo"), load_profile(profile)
    spec = load_spec(REF) if REF.is_file() else sample("full", np.random.default_rng(0))
    what = "NASRec criteo_full_best" if REF.is_file() else "a sampled NASRec-Full subnet"
    weighted = {k.name for k in subnet_graph(spec, schema).kernels if k.weighted}
    print(f"{what} on criteo, profile {profile}")
    print(f"{'batch':>5}  {'plan':34} {'latency us':>11} {'energy uJ':>10} {'tables MB':>10} "
          f"{'weights MB':>10} {'on PIM':>6}")
    for batch in batches:
        cache: dict = {}
        for name, plan in _plans(spec, schema, prof, batch).items():
            try:
                wl = map_subnet(spec, schema, plan, batch=batch, profile=prof)
                hw = hardware_metrics(simulate_subnet(spec, schema, plan, prof, batch=batch,
                                                      cache=cache))
            except ValidationError as exc:
                err = exc.errors()[0]
                print(f"{batch:>5}  {name:34} not simulated: pimsim's workload refuses "
                      f"{err['input']!r} ({err['msg']})")
                continue
            except CodesignError as exc:
                print(f"{batch:>5}  {name:34} not simulated: {exc}")
                continue
            tables = sum(t.bytes for t in wl.tables.values()) / 1e6
            weights = sum(k.resident_bytes() for k in wl.kernels if k.name in weighted) / 1e6
            print(f"{batch:>5}  {name:34} {hw['latency_ns'] / 1e3:11.2f} "
                  f"{hw['energy_pj'] / 1e6:10.2f} {tables:10.1f} {weights:10.2f} "
                  f"{len(plan.on_pim()):>6}")


def part2(n: int) -> None:
    schema = get_schema("criteo")
    print(f"\nprecision genes of {n} sampled plans (p_pim 0.15) per profile: share of tables / "
          "operators at each type, dense kernels on PIM")
    for path in sorted((ROOT / "hw_profiles").glob("*.yaml")):
        prof = load_profile(path.stem)
        rng = np.random.default_rng(0)
        tables: Counter[str] = Counter()
        ops: Counter[str] = Counter()
        pim = kernels = pim_tables = n_tables = 0
        for _ in range(n):
            spec = sample("full", rng)
            plan = sample_plan(spec, schema, prof, rng, 0.15, precision_genes=True)
            tables.update(t.dtype for t in plan.tables.values() if t.dtype)
            ops.update(plan.precision.values())
            pim += sum(v == "pim" for v in plan.dense.values())
            kernels += len(plan.dense)
            if subnet_graph(spec, schema).uses_embeddings:
                pim_tables += sum(t.placement == "pim" for t in plan.tables.values())
                n_tables += len(plan.tables)

        def share(c: Counter[str]) -> str:
            total = sum(c.values()) or 1
            return " ".join(f"{k} {v / total:4.0%}" for k, v in sorted(c.items()))

        print(f"  {path.stem:12} tables: {share(tables):38} operators: {share(ops):32} "
              f"on PIM: kernels {pim / max(kernels, 1):4.0%}, tables "
              f"{pim_tables / max(n_tables, 1):4.0%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="hbm2_pim")
    ap.add_argument("--batch", default="1,256")
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()
    part1(args.profile, [int(b) for b in args.batch.split(",")])
    part2(args.n)


if __name__ == "__main__":
    main()
