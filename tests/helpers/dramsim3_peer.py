"""DRAMsim3 as a live peer: its binary (built once into a cache folder), one replay of a
request stream through it, and the request streams the differential comparison uses.

The peer is ``../shared/peers/dramsim3`` (DRAMsim3's source and the front end
``driver/replay.cc``, see its PEER.md); ``build.sh DEST`` builds it into ``DEST`` (about a
minute) and reuses a build already there. The front end admits requests the way
``pimsim replay`` does (in order, each no earlier than its arrival, as many per cycle as
the controllers accept) and prints one JSON line; DRAMsim3's own statistics files go to a
temporary folder, never the working directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pimsim.requests.tracefile import write_trace
from tests.helpers.shared import DRAMSIM3_PEER

#: where the peer is built unless told otherwise (a build there is reused)
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / \
    "pimrec-peers" / "dramsim3"
BUILD_SCRIPT = DRAMSIM3_PEER / "build.sh"
CONFIGS = DRAMSIM3_PEER / "configs"

#: the DRAMsim3 configuration of each standard the importer supports
CONFIG_OF_STANDARD: dict[str, str] = {
    "HBM2": "HBM2_8Gb_x128.ini",
    "DDR4": "DDR4_8Gb_x8_3200.ini",
    "GDDR6": "GDDR6_8Gb_x16.ini",
    "LPDDR4": "LPDDR4_8Gb_x16_2400.ini",
}

#: bytes of every request of the streams (one cache line, as the standard traces)
LINE_BYTES = 64
GIB = 1 << 30


def peer_missing() -> str | None:
    """Why the peer cannot be built or run here, or None when it can."""
    if not BUILD_SCRIPT.is_file():
        return f"{DRAMSIM3_PEER} absent (the DRAMsim3 peer next to the repository)"
    if built_binary(DEFAULT_CACHE) is not None:
        return None
    missing = [tool for tool in ("cmake", "g++", "make") if shutil.which(tool) is None]
    if missing:
        return (f"DRAMsim3 is not built in {DEFAULT_CACHE} and {', '.join(missing)} "
                "is absent")
    return None


def built_binary(cache: Path) -> Path | None:
    """The front end's binary in ``cache`` when a build is there."""
    binary = cache / "bin" / "dramsim3_replay"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


def build_peer(cache: Path = DEFAULT_CACHE) -> Path:
    """The peer's binary, built into ``cache`` by the peer's build.sh unless already there."""
    found = built_binary(cache)
    if found is not None:
        return found
    done = subprocess.run([str(BUILD_SCRIPT), str(cache)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"DRAMsim3 build into {cache} failed: {done.stderr[-2000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def run_peer(binary: Path, ini: Path, addresses: np.ndarray, is_write: np.ndarray,
             arrival_cycles: np.ndarray) -> dict:
    """One replay through DRAMsim3: the front end's JSON (cycles, avg_read_latency_cycles,
    tCK_ns, loop_wall_s, ...) plus DRAMsim3's ``total_energy`` (pJ, as it computes it) and
    the process's wall seconds. Trace and statistics live in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="pimrec-ds3-") as tmp:
        folder = Path(tmp)
        trace = write_trace(folder / "stream.trace", addresses, is_write, arrival_cycles)
        out = folder / "out"
        out.mkdir()
        done = subprocess.run(
            [str(binary), str(ini), str(trace), "--width", "0", "--out", str(out)],
            capture_output=True, text=True, check=False, cwd=folder,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{binary} on {ini.name}: exit {done.returncode}: "
                               f"{done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["total_energy_pj"] = _total_energy(out)
    return result


def _total_energy(out: Path) -> float | None:
    """DRAMsim3's total_energy summed over channels (its dramsim3.json), if written."""
    files = sorted(out.glob("*.json"))
    if not files:
        return None
    stats = json.loads(files[0].read_text())
    return float(sum(ch.get("total_energy", 0.0) for ch in stats.values()))


@dataclass(frozen=True)
class Stream:
    """A request stream: byte addresses, 0/1 writes, arrival cycles."""

    name: str
    addresses: np.ndarray
    is_write: np.ndarray
    arrival_cycles: np.ndarray


def _lines(rng: np.random.Generator, n: int, span_bytes: int) -> np.ndarray:
    return rng.integers(0, span_bytes // LINE_BYTES, size=n, dtype=np.int64) * LINE_BYTES


def mixed_stream(rng: np.random.Generator, n: int, write_share: float, *,
                 span_bytes: int = GIB, run_lines: int = 16, seq_share: float = 0.5,
                 name: str = "mixed") -> Stream:
    """``n`` requests due at cycle 0: runs of ``run_lines`` consecutive lines (row hits)
    for ``seq_share`` of the runs, single random lines (row misses and conflicts) for the
    rest, each request a write with probability ``write_share``."""
    runs = max(1, n // run_lines)
    starts = _lines(rng, runs, span_bytes - run_lines * LINE_BYTES)
    sequential = rng.random(runs) < seq_share
    pieces = []
    for start, is_seq in zip(starts.tolist(), sequential.tolist()):
        if is_seq:
            pieces.append(start + np.arange(run_lines, dtype=np.int64) * LINE_BYTES)
        else:
            pieces.append(_lines(rng, run_lines, span_bytes))
    addr = np.concatenate(pieces)[:n]
    wr = (rng.random(addr.shape[0]) < write_share).astype(np.int64)
    return Stream(name, addr, wr, np.zeros(addr.shape[0], dtype=np.int64))


def bursty_stream(rng: np.random.Generator, n: int, write_share: float, *, burst: int = 256,
                  gap_cycles: int = 2_000, span_bytes: int = GIB,
                  name: str = "bursts") -> Stream:
    """``mixed_stream``'s requests in bursts of ``burst`` due together, ``gap_cycles``
    apart (queues fill and drain again)."""
    base = mixed_stream(rng, n, write_share, span_bytes=span_bytes, name=name)
    arrival = (np.arange(base.addresses.shape[0], dtype=np.int64) // burst) * gap_cycles
    return Stream(name, base.addresses, base.is_write, arrival)
