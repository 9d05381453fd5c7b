"""Pareto machinery: NSGA-II non-dominated sort and crowding distance (vectorised), and the
fitness order of each mode. NaN objectives count as the worst possible value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codesign.search.config import SearchConfig, SearchError

__all__ = [
    "constraint_violation",
    "crowding_distance",
    "fitness_order",
    "non_dominated_sort",
    "pareto_front",
    "rank_positions",
]

#: Elements of one block of the dominance comparison (n_block x n x m booleans), which
#: bounds its memory to a few tens of MB whatever the number of points.
_DOMINANCE_BLOCK_ELEMENTS = 1 << 22


def _as_minimised(points: Any, senses: Sequence[str] | None) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise SearchError(
            f"pareto points: got an array of shape {arr.shape}; accepted: (n_points, n_objectives)"
        )
    if senses is not None:
        senses = tuple(senses)
        if len(senses) != arr.shape[1] or any(s not in ("min", "max") for s in senses):
            raise SearchError(
                f"pareto senses: got {list(senses)}; accepted: one of 'min'/'max' per "
                f"objective ({arr.shape[1]})"
            )
        sign = np.where(np.array(senses) == "max", -1.0, 1.0)
        arr = arr * sign
    return np.where(np.isnan(arr), np.inf, arr)


def _dominance_matrix(q: np.ndarray) -> np.ndarray:
    """``D[i, j]`` is True when point i dominates point j (all <=, at least one <)."""
    n, m = q.shape
    dom = np.empty((n, n), dtype=bool)
    chunk = max(1, _DOMINANCE_BLOCK_ELEMENTS // max(1, n * m))
    for start in range(0, n, chunk):
        a = q[start : start + chunk, None, :]
        b = q[None, :, :]
        dom[start : start + chunk] = (a <= b).all(axis=2) & (a < b).any(axis=2)
    return dom


def non_dominated_sort(points: Any, senses: Sequence[str] | None = None) -> np.ndarray:
    """Front index of every point (0 = non-dominated), as NSGA-II's fast non-dominated sort.

    ``points`` has shape (n, m); ``senses`` gives "min" (default) or "max" per column. Equal
    points do not dominate each other and share a front; NaN counts as the worst value.
    """
    q = _as_minimised(points, senses)
    n = q.shape[0]
    fronts = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return fronts
    dom = _dominance_matrix(q)
    n_dominators = dom.sum(axis=0)
    current = n_dominators == 0
    level = 0
    while current.any():
        fronts[current] = level
        n_dominators = n_dominators - dom[current].sum(axis=0)
        current = (n_dominators == 0) & (fronts < 0)
        level += 1
    return fronts


def pareto_front(points: Any, senses: Sequence[str] | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated points (duplicates of a front point are on it too)."""
    q = _as_minimised(points, senses)
    if q.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    return ~_dominance_matrix(q).any(axis=0)


def crowding_distance(
    points: Any, fronts: np.ndarray | None = None, senses: Sequence[str] | None = None
) -> np.ndarray:
    """NSGA-II crowding distance of each point within its front.

    Per objective, a front's points are sorted (stable, so ties keep index order); the two
    extremes get +inf and each inner point adds (next - previous) / (max - min) of the front.
    An objective that is constant or not finite over a front adds nothing to inner points.
    """
    q = _as_minimised(points, senses)
    n, m = q.shape
    if fronts is None:
        fronts = non_dominated_sort(q)
    dist = np.zeros(n, dtype=np.float64)
    for level in np.unique(fronts):
        idx = np.flatnonzero(fronts == level)
        if idx.size <= 2:
            dist[idx] = np.inf
            continue
        for k in range(m):
            vals = q[idx, k]
            order = np.argsort(vals, kind="stable")
            sorted_vals = vals[order]
            dist[idx[order[0]]] = np.inf
            dist[idx[order[-1]]] = np.inf
            span = sorted_vals[-1] - sorted_vals[0]
            if not np.isfinite(span) or span <= 0.0:
                continue
            dist[idx[order[1:-1]]] += (sorted_vals[2:] - sorted_vals[:-2]) / span
    return dist


def constraint_violation(objs: Sequence[Mapping[str, float]],
                         limits: Mapping[str, float]) -> np.ndarray:
    """Total relative violation ``sum(max(0, (value - limit) / |limit|))`` of each of
    ``objs`` (0 when every limit is met; NaN counts as an infinite violation)."""
    total = np.zeros(len(objs), dtype=np.float64)
    for name, limit in limits.items():
        vals = np.array([o[name] for o in objs], dtype=np.float64)
        excess = np.maximum(0.0, (vals - limit) / abs(limit))
        total += np.where(np.isnan(excess), np.inf, excess)
    return total


def _metric(objs: Sequence[Mapping[str, float]], name: str, sense: str = "min") -> np.ndarray:
    """Values of ``name`` as minimised (negated for ``max``), NaN as +inf."""
    vals = np.array([o[name] for o in objs], dtype=np.float64)
    if sense == "max":
        vals = -vals
    return np.where(np.isnan(vals), np.inf, vals)


def fitness_order(objs: Sequence[Mapping[str, float]], config: SearchConfig) -> np.ndarray:
    """Indices of ``objs`` from best to worst under ``config.mode``; ties favour lower index.

    ``accuracy``: ascending ``metric``. ``constrained``: ascending total violation of the
    ``limits`` (0 for every feasible genome), then ``metric``, then the other
    ``objectives`` in their order and sense (those every result has): genomes that share a
    subnet share its log loss whatever their plan, and of those the cheaper comes first.
    ``pareto``: NSGA-II order over ``objectives`` (front index, then larger crowding
    distance within the front).
    """
    n = len(objs)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    index = np.arange(n)
    if config.mode == "accuracy":
        return np.lexsort((index, _metric(objs, config.metric)))
    if config.mode == "constrained":
        violation = constraint_violation(objs, config.limits)
        ties = [_metric(objs, k, sense) for k, sense in zip(config.objectives, config.senses)
                if k != config.metric and all(k in o for o in objs)]
        return np.lexsort((index, *reversed(ties), _metric(objs, config.metric), violation))
    points = np.array([[o[k] for k in config.objectives] for o in objs], dtype=np.float64)
    fronts = non_dominated_sort(points, config.senses)
    crowd = crowding_distance(points, fronts, config.senses)
    return np.lexsort((index, -crowd, fronts))


def rank_positions(objs: Sequence[Mapping[str, float]], config: SearchConfig) -> np.ndarray:
    """Rank of each of ``objs`` under ``config.mode`` (0 is the best)."""
    order = fitness_order(objs, config)
    ranks = np.empty(len(objs), dtype=np.int64)
    ranks[order] = np.arange(len(objs))
    return ranks
