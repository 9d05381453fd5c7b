"""pimsim and DRAMsim3 side by side on long traces: wall time, peak memory, requests/s.

    python benchmarks/replay_scale.py [--sizes 1M,10M] [--kinds rand,embed,paced]
                                      [--cache DIR] [--no-dramsim3] [--threads N]

Generates DRAMsim3-format traces (kept in --cache, default ~/.cache/pimrec-bench/
replay_scale): ``rand`` (uniformly random 64 B reads over 1 GiB, all due at cycle 0, as the
standard ``rand`` trace of ../shared/reference/README.md, longer), ``embed`` (the standard
embedding-bag gather: Zipf rows of 256 B, all due at cycle 0) and ``paced`` (the random
reads arriving one every 4 memory cycles: below HBM2's random-access rate, so that no
request waits for a transaction queue and the channel groups run in parallel). Each trace
is replayed on HBM2 by ``pimsim replay`` (a fresh process, JIT cache warm) and by DRAMsim3
(``../shared/peers/dramsim3``'s replay front end on HBM2_8Gb_x128.ini, built into
~/.cache/pimrec-peers/dramsim3 when absent; its output files go to a temporary folder);
``paced`` also by ``pimsim replay --threads 1`` (one lane: the parallel groups' gain), and
every trace once more by ``pimsim replay --requests-out`` (the per-request results streamed
to a Parquet file in a temporary folder: the memory of that path). Every run is its own
child process: wall seconds, CPU seconds and peak resident memory are the child's
(os.wait4); each row also shows the 1-minute load average when the run ended (the machine
may be shared: a figure measured under load is slower in wall time, not in CPU time).
Also prints the start-up figures: ``pimsim --help`` and a warm ``pimsim replay`` of a
100,000-request trace.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pimsim.requests.traces import GIB, REQUEST_BYTES
from pimsim.util.rng import DEFAULT_ZIPF_S, zipf_ranks_exact

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DS3_PEER = SHARED / "peers" / "dramsim3"
DS3_CONFIG = DS3_PEER / "configs" / "HBM2_8Gb_x128.ini"
DS3_BIN = Path.home() / ".cache" / "pimrec-peers" / "dramsim3" / "bin" / "dramsim3_replay"
CACHE = Path.home() / ".cache" / "pimrec-bench" / "replay_scale"
#: requests generated and written per step (bounded memory while writing 10M lines)
GEN_CHUNK = 1_000_000
#: memory cycles between two requests of the paced trace
PACED_GAP_CYCLES = 4
#: the embedding table of ``embed`` (the standard trace's: 1M rows of 256 B)
EMBED_ROWS = 1_000_000
EMBED_ROW_BYTES = 256


def _count(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


def _chunk_requests(kind: str, start: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Addresses and arrival cycles of requests ``start .. start + n - 1`` of ``kind``."""
    rng = np.random.default_rng([seed, start])
    if kind in ("rand", "paced"):
        addr = rng.integers(0, GIB // REQUEST_BYTES, n, dtype=np.int64) * REQUEST_BYTES
    else:
        per_row = EMBED_ROW_BYTES // REQUEST_BYTES
        perm = np.random.default_rng(seed).permutation(EMBED_ROWS)
        ranks = zipf_ranks_exact(rng, EMBED_ROWS, DEFAULT_ZIPF_S, -(-n // per_row))
        rows = perm[ranks - 1].astype(np.int64)
        offsets = np.arange(per_row, dtype=np.int64) * REQUEST_BYTES
        addr = (rows[:, None] * EMBED_ROW_BYTES + offsets[None, :]).reshape(-1)[:n]
    if kind == "paced":
        arrival = (np.arange(start, start + n, dtype=np.int64)) * PACED_GAP_CYCLES
    else:
        arrival = np.zeros(n, dtype=np.int64)
    return addr, arrival


def make_trace(kind: str, n: int, folder: Path, seed: int = 0) -> Path:
    """The trace file of ``n`` requests of ``kind`` in ``folder`` (written once)."""
    path = folder / f"{kind}_{n}.trace"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as fh:
        for start in range(0, n, GEN_CHUNK):
            addr, arrival = _chunk_requests(kind, start, min(GEN_CHUNK, n - start), seed)
            fh.write("".join(f"0x{a:x} READ {c}\n"
                             for a, c in zip(addr.tolist(), arrival.tolist())))
    tmp.replace(path)
    return path


def measure(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``argv`` as a child; its wall and CPU seconds, peak RSS (MB) and stdout."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read()
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024, "stdout": text, "load": os.getloadavg()[0]}


def pimsim_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run_pimsim(trace: Path, threads: int | None, parquet: bool = False) -> dict:
    argv = [sys.executable, "-m", "pimsim.cli.main", "replay", "--profile", "hbm2", "--trace",
            str(trace), "--json"]
    if threads:
        argv += ["--threads", str(threads)]
    with tempfile.TemporaryDirectory() as out:
        if parquet:
            argv += ["--requests-out", str(Path(out) / "requests.parquet")]
        res = measure(argv, pimsim_env())
    res["cycles"] = json.loads(res["stdout"])["cycles"]
    return res


def dramsim3_binary() -> Path | None:
    if DS3_BIN.is_file():
        return DS3_BIN
    if not (DS3_PEER / "build.sh").is_file():
        return None
    built = subprocess.run([str(DS3_PEER / "build.sh"), str(DS3_BIN.parents[1])],
                           capture_output=True, text=True, check=False)
    return Path(built.stdout.strip().splitlines()[-1]) if built.returncode == 0 else None


def run_dramsim3(binary: Path, trace: Path) -> dict:
    with tempfile.TemporaryDirectory() as out:
        res = measure([str(binary), str(DS3_CONFIG), str(trace), "--width", "0", "--out", out])
    res["cycles"] = json.loads(res["stdout"].strip().splitlines()[-1])["cycles"]
    return res


def start_up(folder: Path) -> None:
    help_s = min(measure([sys.executable, "-m", "pimsim.cli.main", "--help"],
                         pimsim_env())["wall_s"] for _ in range(5))
    trace = make_trace("rand", 100_000, folder)
    # compile or load the kernels once, those of the channel groups too (a small trace
    # replays in one lane by default): no row below pays for compiling
    run_pimsim(trace, None)
    run_pimsim(trace, 2)
    warm = min((run_pimsim(trace, None) for _ in range(3)), key=lambda r: r["wall_s"])
    print(f"pimsim --help: {help_s:.3f} s wall (best of 5)")
    print(f"pimsim replay, 100,000-request rand trace, warm: {warm['wall_s']:.3f} s wall, "
          f"{warm['cpu_s']:.3f} s CPU, {warm['rss_mb']:.0f} MB peak (best of 3)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,10M", help="requests per trace, e.g. 1M,10M")
    ap.add_argument("--kinds", default="rand,embed,paced")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where the traces are kept")
    ap.add_argument("--no-dramsim3", action="store_true", help="pimsim only")
    ap.add_argument("--threads", type=int, default=None,
                    help="pimsim replay --threads (default: its own choice)")
    args = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    start_up(args.cache)
    binary = None if args.no_dramsim3 else dramsim3_binary()
    if binary is None and not args.no_dramsim3:
        print(f"DRAMsim3 not available ({DS3_PEER} absent or its build failed): pimsim only")
    head = ["trace", "requests", "sim", "wall s", "cpu s", "peak MB", "req/s (wall)",
            "cycles", "wall / pimsim's wall", "cpu / pimsim's cpu", "load"]
    rows = []
    for n in (_count(s) for s in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            trace = make_trace(kind, n, args.cache)
            ours = run_pimsim(trace, args.threads)
            runs = [("pimsim", ours)]
            if kind == "paced" and args.threads is None:
                # the channel groups' gain: the same replay in one lane
                runs.append(("pimsim 1 thread", run_pimsim(trace, 1)))
            runs.append(("pimsim + Parquet", run_pimsim(trace, args.threads, parquet=True)))
            if binary is not None:
                runs.append(("DRAMsim3", run_dramsim3(binary, trace)))
            for sim, r in runs:
                ratio = f"{r['wall_s'] / ours['wall_s']:.1f}x" if sim != "pimsim" else ""
                cpu_ratio = f"{r['cpu_s'] / ours['cpu_s']:.1f}x" if sim != "pimsim" else ""
                rows.append([kind, f"{n:,}", sim, f"{r['wall_s']:.2f}", f"{r['cpu_s']:.2f}",
                             f"{r['rss_mb']:.0f}", f"{n / r['wall_s']:,.0f}",
                             f"{r['cycles']:,}", ratio, cpu_ratio,
                             f"{r['load']:.2f}"])
                print("  ".join(rows[-1]), flush=True)
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    print()
    for r in (head, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}; end to end: process start, "
          "parsing, replay, energy, summary; pimsim's JIT cache warm")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
