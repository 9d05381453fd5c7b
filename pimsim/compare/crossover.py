"""The crossover batch of a shape: where, along the batch sizes, PIM stops winning.

PIM wins at a batch when the host-over-PIM ratio is above 1. Over the batches of a shape
(ascending), the crossover is

- ``always``: PIM wins at every batch; ``never``: at none;
- ``up to B``: PIM wins from the smallest batch up to B and loses beyond (the usual
  shape for weight-streaming PIM, whose time grows with every batch row while a host
  reuses the weights);
- ``from B``: PIM loses at the small batches and wins from B on;
- ``at B1, B2``: any other pattern, the winning batches listed;
- ``n/a``: the PIM kind does not run the shape.

:func:`crossover_table` gives one row per shape with both crossovers (latency, energy),
the last batch PIM wins in the leading run and the first it loses (empty when there is
none), and the ratios at every batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

ALWAYS = "always"
NEVER = "never"
NOT_RUN = "n/a"
#: The keys that identify a shape in a point table.
SHAPE_KEYS: tuple[str, ...] = ("family", "shape", "dtype")


@dataclass(frozen=True)
class Crossover:
    """Where PIM wins along ascending ``batches``: the label (see the module docstring),
    the last batch of the leading winning run and the first batch PIM loses (None where
    there is no such batch)."""

    label: str
    wins_up_to: int | None
    loses_from: int | None


def crossover(batches: Sequence[int], ratios: Sequence[float]) -> Crossover:
    """The crossover of ``ratios`` (host over PIM, one per batch of ``batches``)."""
    pairs = sorted(zip(batches, ratios))
    known = [(b, r) for b, r in pairs if r is not None and math.isfinite(r)]
    if not known:
        return Crossover(NOT_RUN, None, None)
    wins = [r > 1.0 for _, r in known]
    bs = [b for b, _ in known]
    first_loss = next((b for b, w in zip(bs, wins) if not w), None)
    lead = [b for b, w in zip(bs, wins) if w and (first_loss is None or b < first_loss)]
    last_lead = lead[-1] if lead else None
    if all(wins):
        return Crossover(ALWAYS, last_lead, None)
    if not any(wins):
        return Crossover(NEVER, None, first_loss)
    n_lead = len(lead)
    if not any(wins[n_lead:]):
        return Crossover(f"up to {last_lead}", last_lead, first_loss)
    first_win = next(i for i, w in enumerate(wins) if w)
    if all(wins[first_win:]) and n_lead == 0:
        return Crossover(f"from {bs[first_win]}", None, first_loss)
    at = ", ".join(str(b) for b, w in zip(bs, wins) if w)
    return Crossover(f"at {at}", last_lead, first_loss)


def ratio_text(value: float) -> str:
    """A ratio with two decimals, or two significant digits below 0.1."""
    if not math.isfinite(value):
        return NOT_RUN
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def crossover_table(points: pd.DataFrame) -> pd.DataFrame:
    """One row per shape of ``points`` (rows as :data:`pimsim.compare.run.POINT_COLUMNS`):
    the shape keys, ``latency_crossover``, ``energy_crossover``, the batches of the
    leading latency win (``latency_wins_up_to``, ``latency_loses_from``), and
    ``ratio_b<B>`` (latency / energy text) for every batch."""
    rows = []
    batches = sorted(int(b) for b in points["batch"].unique())
    for key, g in points.groupby(list(SHAPE_KEYS), sort=False):
        lat = crossover(g["batch"].tolist(), g["latency_ratio"].tolist())
        en = crossover(g["batch"].tolist(), g["energy_ratio"].tolist())
        row = dict(zip(SHAPE_KEYS, key))
        row.update({"latency_crossover": lat.label, "energy_crossover": en.label,
                    "latency_wins_up_to": lat.wins_up_to, "latency_loses_from": lat.loses_from})
        by_batch = {int(r.batch): r for r in g.itertuples()}
        for b in batches:
            r = by_batch.get(b)
            row[f"ratio_b{b}"] = (NOT_RUN if r is None or not math.isfinite(r.latency_ratio)
                                  else f"{ratio_text(r.latency_ratio)} / "
                                  f"{ratio_text(r.energy_ratio)}")
        rows.append(row)
    return pd.DataFrame(rows)
