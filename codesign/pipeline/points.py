"""The reproduction's operating points: (hardware profile, inference batch) pairs, each with
its own co-search, C, simulations and report section, and the folder it writes into.

One supernet and one accuracy search B serve every point; a point's co-search, C, its
training from scratch and its decomposition live in ``points/<profile>_b<batch>/``. A run
with a single point keeps them in the run folder itself (the layout of a one-point run)."""

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


@dataclass(frozen=True)
class OperatingPoint:
    """One profile at one inference batch."""

    profile: str
    batch: int

    @property
    def name(self) -> str:
        """Folder and label: ``<profile>_b<batch>`` (a profile path gives its file stem)."""
        return f"{Path(self.profile).stem}_b{self.batch}"


def operating_points(profiles: tuple[str, ...], batches: tuple[int, ...]) -> tuple[OperatingPoint, ...]:
    """Every (profile, batch) pair, profiles outermost; raises naming a repeated or empty
    value."""
    if not profiles or len(set(profiles)) != len(profiles):
        raise CodesignError(f"--profiles: {list(profiles)}; accepted: one or more distinct "
                            "profile names or YAML paths")
    if not batches or len(set(batches)) != len(batches) or any(
            not isinstance(b, int) or isinstance(b, bool) or b < 1 for b in batches):
        raise CodesignError(f"--batch: {list(batches)}; accepted: one or more distinct "
                            "integers >= 1")
    pts = tuple(OperatingPoint(p, b) for p in profiles for b in batches)
    names = [p.name for p in pts]
    if len(set(names)) != len(names):
        raise CodesignError(f"--profiles: {list(profiles)} give two profiles with one file "
                            "name; accepted: profiles with distinct names")
    return pts


def point_dir(out: Path, point: OperatingPoint, single: bool) -> Path:
    """The folder of ``point``'s artefacts: the run folder for a one-point run, else
    ``points/<name>/``."""
    return out if single else out / POINTS_DIR / point.name
