"""The hidden labelling model of the synthetic data: main effects, crosses, nonlinear dense.

    logit = b + sum_f a_f g_f(v_f)                         main effects
              + sum_(f,h) c_fh <u_f(v_f), u_h(v_h)> / 2    pairwise crosses (rank-4 factors)
              + sum_j d_j phi_j(z_j)                       nonlinear dense effects
              + e z_0 w(v_k)                               a dense x categorical cross

with g, u, w pseudo-random functions of (field, value) computed by hashing (no table per
value, so 10M-value fields cost nothing), z the standardised log(1 + x) of a dense value and
phi in {sin, square, tanh, hinge}. ``calibrate`` finds the intercept b that gives a target
click rate. A model that learns crosses and nonlinear dense effects therefore beats a
logistic regression, which beats the base rate.

The weight ranges in ``make_truth`` are design choices, not measurements: main effects of
0.15-0.55 and crosses of 0.45-0.8 logit units keep the terms of one order, so that each is
worth learning and none decides the label alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from codesign.data.hashing import GOLDEN_GAMMA, splitmix64

#: Each field's salts of ``_unit`` lie in a block of its own: field f uses
#: ``SALT_BLOCK * f + 1`` (main effect), ``+ 10 + k`` (cross factor k), ``+ 99`` (dense cross).
SALT_BLOCK: int = 1000


def _unit(keys: np.ndarray, salt: int) -> np.ndarray:
    """Pseudo-random values of variance 1 (uniform on [-sqrt 3, sqrt 3]) per key."""
    with np.errstate(over="ignore"):
        h = splitmix64(keys.astype(np.uint64) * GOLDEN_GAMMA ^ np.uint64(salt & 0xFFFFFFFFFFFF))
    u = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)  # top 53 bits: uniform [0, 1)
    return (u - 0.5) * np.sqrt(12.0)  # a uniform on [0, 1) has variance 1/12


@dataclass(frozen=True)
class Truth:
    """The hidden labelling model of one schema (fixed by its constant seed)."""

    main: np.ndarray  # [F] weight of each field's main effect
    pairs: tuple[tuple[int, int, float], ...]  # (field, field, weight) crosses
    dense: tuple[tuple[int, str, float], ...]  # (dense index, phi name, weight)
    dense_cat: tuple[int, int, float]  # (dense index, field, weight)
    dense_pair: tuple[int, int, float] | None  # (dense, dense, weight) product term
    factors: int = 4

    def logit(self, keys: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Logit without intercept; keys [n, F] int64 value ranks (0 missing), z [n, D]."""
        n, n_fields = keys.shape
        out = np.zeros(n, dtype=np.float64)
        for f in range(n_fields):
            if self.main[f] != 0.0:
                out += self.main[f] * _unit(keys[:, f], SALT_BLOCK * f + 1)
        for f, h, w in self.pairs:
            acc = np.zeros(n)
            for k in range(self.factors):
                acc += _unit(keys[:, f], SALT_BLOCK * f + 10 + k) * _unit(keys[:, h], SALT_BLOCK * h + 10 + k)
            out += w * acc / np.sqrt(self.factors)
        for j, phi, w in self.dense:
            out += w * _PHI[phi](z[:, j])
        j, f, w = self.dense_cat
        if z.shape[1]:
            out += w * z[:, j] * _unit(keys[:, f], SALT_BLOCK * f + 99)
        if self.dense_pair is not None:
            a, b, w = self.dense_pair
            out += w * z[:, a] * z[:, b]
        return out


_PHI: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": lambda x: np.sin(2.0 * x),
    "square": lambda x: x * x - 1.0,
    "tanh": lambda x: np.tanh(2.0 * x),
    "hinge": lambda x: np.maximum(x - 0.5, 0.0) * 2.0 - 0.4,
}


def make_truth(seed: int, n_fields: int, n_dense: int) -> Truth:
    """A hidden model over ``n_fields`` categorical and ``n_dense`` dense inputs, drawn from
    ``seed``: every field has a main effect, a third of the field pairs (at least three)
    cross, each dense input has one nonlinear effect."""
    rng = np.random.default_rng(seed)
    main = rng.uniform(0.15, 0.55, size=n_fields) * rng.choice([-1.0, 1.0], size=n_fields)
    n_pairs = max(3, n_fields // 3)
    pairs = []
    seen: set[tuple[int, int]] = set()
    while len(pairs) < n_pairs:
        f, h = sorted(int(x) for x in rng.choice(n_fields, size=2, replace=False))
        if (f, h) not in seen:
            seen.add((f, h))
            pairs.append((f, h, float(rng.uniform(0.45, 0.8))))
    names = list(_PHI)
    dense = tuple(
        (j, names[int(rng.integers(len(names)))], float(rng.uniform(0.25, 0.6) * rng.choice([-1, 1])))
        for j in range(n_dense)
    )
    dense_cat = (0, int(rng.integers(n_fields)), 0.4)
    dense_pair = (0, 1, 0.35) if n_dense >= 2 else None
    return Truth(main=main, pairs=tuple(pairs), dense=dense, dense_cat=dense_cat, dense_pair=dense_pair)


def calibrate(logits: np.ndarray, target: float) -> float:
    """Intercept b with mean(sigmoid(b + logits)) = target (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        rate = float(np.mean(1.0 / (1.0 + np.exp(-(mid + logits)))))
        lo, hi = (mid, hi) if rate < target else (lo, mid)
    return 0.5 * (lo + hi)
