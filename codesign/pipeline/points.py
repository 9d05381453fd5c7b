"""The reproduction's operating points: (hardware profile, inference batch) pairs, each with
its own co-search, C, simulations and report section, and the folder it writes into.

One supernet and one accuracy search B serve every point; a point's co-search, C, its
training from scratch and its decomposition live in ``points/<profile>_b<batch>/``. A run
with a single point keeps them in the run folder itself (the layout of a one-point run).

A serving point (:attr:`OperatingPoint.serving`) is the serving case: batch 1 under a
latency limit. Its co-search runs in the ``constrained`` mode, minimising energy with the
latency limit and B's supernet log loss plus the tolerance as its limits (a genome over
either is never chosen), and C is the least energy among the genomes within both; the limit is given (``--latency-limit-us``) or, by default, B's
latency on the naive plan over the published speed-up (:data:`AUTO_LIMIT_SPEEDUP`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codesign.errors import CodesignError

#: Profiles and batches of ``codesign reproduce`` when it names none: the four PIM kinds
#: that hold recommender kernels (bank SIMD, bank MAC, crossbar, DIMM-buffer NMP with the
#: CPU host) at the serving batch, a small and a large batch.
DEFAULT_PROFILES: tuple[str, ...] = ("hbm2_pim", "gddr6_aim", "reram_pim", "ddr4_recnmp")
DEFAULT_BATCHES: tuple[int, ...] = (1, 16, 256)
#: Sub-folder of the run folder holding one folder per operating point.
POINTS_DIR = "points"
#: Batch of the serving points.
SERVING_BATCH = 1
#: A serving point's default limit: B's naive-plan latency at batch 1 divided by this, the
#: published latency ratio of co-design over the baseline (protocol.PUBLISHED).
AUTO_LIMIT_SPEEDUP = 1.5
#: ``--latency-limit-us`` values other than a number.
LIMIT_AUTO, LIMIT_NONE = "auto", "none"


@dataclass(frozen=True)
class OperatingPoint:
    """One profile at one inference batch; ``serving``: under a latency limit of
    ``limit_us`` µs (None: :data:`AUTO_LIMIT_SPEEDUP` applied to B at run time)."""

    profile: str
    batch: int
    serving: bool = False
    limit_us: float | None = None

    @property
    def name(self) -> str:
        """Folder and label: ``<profile>_b<batch>`` (a profile path gives its file stem),
        ``_limit`` appended for a serving point."""
        return f"{Path(self.profile).stem}_b{self.batch}" + ("_limit" if self.serving else "")

    @property
    def label(self) -> str:
        """How the report names the point."""
        where = f"{self.profile} at batch {self.batch}"
        if not self.serving:
            return where
        limit = "auto" if self.limit_us is None else f"{self.limit_us:g} µs"
        return f"{where}, latency-limited ({limit})"


def parse_limit(text: str) -> float | str:
    """``--latency-limit-us``: ``auto``, ``none`` or a number of µs > 0."""
    t = text.strip().lower()
    if t in (LIMIT_AUTO, LIMIT_NONE):
        return t
    try:
        value = float(t)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise CodesignError(f"--latency-limit-us {text}; accepted: {LIMIT_AUTO}, {LIMIT_NONE} or "
                            "a finite number of µs > 0")
    return value


def serving_points(profiles: tuple[str, ...], limit: float | str) -> tuple[OperatingPoint, ...]:
    """One serving point per profile at :data:`SERVING_BATCH` (none for ``none``)."""
    if limit == LIMIT_NONE:
        return ()
    value = None if limit == LIMIT_AUTO else float(limit)
    return tuple(OperatingPoint(p, SERVING_BATCH, True, value) for p in profiles)


def operating_points(profiles: tuple[str, ...], batches: tuple[int, ...],
                     limit: float | str = LIMIT_NONE) -> tuple[OperatingPoint, ...]:
    """Every (profile, batch) pair, profiles outermost, then the serving points of
    ``limit`` (:func:`serving_points`); raises naming a repeated or empty value."""
    if not profiles or len(set(profiles)) != len(profiles):
        raise CodesignError(f"--profiles: {list(profiles)}; accepted: one or more distinct "
                            "profile names or YAML paths")
    if not batches or len(set(batches)) != len(batches) or any(
            not isinstance(b, int) or isinstance(b, bool) or b < 1 for b in batches):
        raise CodesignError(f"--batch: {list(batches)}; accepted: one or more distinct "
                            "integers >= 1")
    pts = tuple(OperatingPoint(p, b) for p in profiles for b in batches)
    pts += serving_points(profiles, limit)
    names = [p.name for p in pts]
    if len(set(names)) != len(names):
        raise CodesignError(f"--profiles: {list(profiles)} give two profiles with one file "
                            "name; accepted: profiles with distinct names")
    return pts


def point_dir(out: Path, point: OperatingPoint, single: bool) -> Path:
    """The folder of ``point``'s artefacts: the run folder for a one-point run, else
    ``points/<name>/``."""
    return out if single else out / POINTS_DIR / point.name
