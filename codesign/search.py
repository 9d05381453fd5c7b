"""Regularized evolution over any genome, with fitness modes, Pareto sorting, checkpoint and resume.

The search knows nothing of subnets or PIM plans: a :class:`SearchProblem` supplies them
(``sample``, ``mutate``, ``key``, ``evaluate``, ``to_json``/``from_json``, and optionally
``is_valid``). The co-design genome (SubnetSpec, PimPlan) plugs in as one such problem.

Algorithm (Real et al. 2019, "Regularized evolution for image classifier architecture search",
in the batched form NASRec uses)
------------------------------------------------------------------------------------------
- Generation 0 takes the ``initial_genomes`` of the config first (in the given order; each
  one is the JSON form ``problem.to_json`` gives), then samples genomes until the
  population holds ``population``, and evaluates them all. Seeded genomes count in the
  evaluation budget like sampled ones, so a seeded search runs exactly as many evaluations
  as an unseeded one with the same config; they are journaled, checkpointed and resumed
  like any other evaluation, and a seeded genome that ``is_valid`` rejects, or that repeats
  an earlier one, stops the search with :class:`SearchError`.
- Each later generation ``g = 1 .. generations``:

  1. rank the current population once (see *fitness modes*; rank 0 is the best);
  2. for each of ``children`` children: draw ``sample`` members of the population uniformly
     without replacement (an independent tournament per child), take the best-ranked one as
     the parent and mutate it with ``n = mutations_at(g)`` mutations; ``n`` decays linearly
     from ``mutations_start`` (6) at generation 1 to ``mutations_end`` (1) at the last
     generation, rounded to the nearest integer;
  3. evaluate the new children (in parallel on the executor);
  4. ageing: append the children to the population in child order and drop the
     ``children`` oldest members, whatever their fitness (this is the "regularized" part; it
     is the same in every fitness mode).

  The population is fixed while a generation's children are drawn, so a generation's
  children are independent and can be evaluated concurrently.

Budget presets (``SearchConfig.budget``; every number can be overridden):

=======  ==========  ======  ========  ===========  ===========
budget   population  sample  children  generations  evaluations
=======  ==========  ======  ========  ===========  ===========
tiny     8           4       2         4            16
small    32          16      4         24           128
paper    128         64      8         240          2048
=======  ==========  ======  ========  ===========  ===========

``paper`` uses NASRec's population 128, sample 64, 8 children per generation and mutations
decaying 6 -> 1; the generation count (240, i.e. 2048 evaluations) is this project's choice.

Fitness modes (how a set of evaluated genomes is ranked; ties go to the older member)
------------------------------------------------------------------------------------
- ``accuracy``: lowest ``metric`` (default ``logloss``) first.
- ``constrained``: lowest ``metric`` among genomes that meet every limit in ``limits`` (e.g.
  ``{"latency_ns": 2e5, "energy_pj": 1e7}``; a genome meets a limit when value <= limit),
  then the infeasible ones by ascending total relative violation
  ``sum(max(0, (value - limit) / |limit|))``, then by ``metric``.
- ``pareto``: NSGA-II order over ``objectives`` (default logloss, latency_ns, energy_pj, all
  minimised; ``senses`` may mark some "max"): non-dominated front index computed over the
  whole current population, then larger crowding distance within the front first. The
  tournament picks the sample member with the best population-wide NSGA-II order; ageing is
  by age only, as above. The result's front is the non-dominated set of the whole history.

NaN objectives count as the worst possible value.

Duplicates and validity
-----------------------
A genome is identified by ``problem.key``. A proposal (sample or child) whose key was already
evaluated, or was proposed earlier in the same generation, is re-drawn (re-sampled or
re-mutated from the same parent); a proposal that ``is_valid`` rejects, or whose creation
raises ``SpecError``, is re-drawn too. After ``max_retries`` draws without a new valid genome
the last valid duplicate is accepted and takes the cached result (it joins the population
but is not evaluated again and adds no history row); if no valid genome was drawn at all the
search stops with :class:`SearchError`. So no genome is ever evaluated twice.

Persistence (``out_dir``)
-------------------------
- ``journal.jsonl``: a header line (the config), then one line per finished evaluation, written
  and fsync'd as each evaluation arrives (in completion order).
- ``checkpoint.json``: written atomically after every generation: config, generation, the
  numpy ``bit_generator.state``, population keys, every history record and counters.

``resume=True`` restores the last checkpoint (or starts from the seed if the process died
before the first checkpoint), replays the interrupted generation with the restored RNG - it
draws the same children, since every decision depends only on the committed history - and
takes any result found in the journal instead of evaluating it again. The final result equals
that of an uninterrupted run with the same config. Within a generation, results are applied in
child order, never in completion order, so every executor gives the same result.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import pandas as pd

from codesign.errors import CodesignError, SpecError
from codesign.executor import Executor, LocalExecutor

G = TypeVar("G")

__all__ = [
    "BUDGETS",
    "FITNESS_MODES",
    "BudgetPreset",
    "SearchConfig",
    "SearchError",
    "SearchProblem",
    "SearchResult",
    "crowding_distance",
    "fitness_order",
    "non_dominated_sort",
    "pareto_front",
    "run_search",
]

CHECKPOINT_NAME = "checkpoint.json"
JOURNAL_NAME = "journal.jsonl"
_FORMAT = "pimrec-search"
_VERSION = 1

FITNESS_MODES = ("accuracy", "constrained", "pareto")


class SearchError(CodesignError):
    """A search configuration, problem, checkpoint or journal is invalid."""


# --------------------------------------------------------------------------------------------
# The problem protocol
# --------------------------------------------------------------------------------------------


class SearchProblem(Protocol[G]):
    """What the search needs from a genome family.

    ``sample`` and ``mutate`` draw only from the given generator, so a search is reproducible.
    ``from_json(to_json(g))`` must be equivalent to ``g`` and ``key`` a stable hash of it.
    ``evaluate`` must be a pure function of the genome and picklable together with the
    problem (it may run in another process); it returns the objectives, such as
    ``{"logloss": ..., "latency_ns": ..., "energy_pj": ..., "flops": ...}``. A problem may also
    define ``is_valid(genome) -> bool``; invalid proposals are re-drawn.
    """

    def sample(self, rng: np.random.Generator) -> G: ...

    def mutate(self, genome: G, rng: np.random.Generator, n_mutations: int) -> G: ...

    def key(self, genome: G) -> str: ...

    def evaluate(self, genome: G) -> Mapping[str, float]: ...

    def to_json(self, genome: G) -> Any: ...

    def from_json(self, data: Any) -> G: ...


_REQUIRED_METHODS = ("sample", "mutate", "key", "evaluate", "to_json", "from_json")


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetPreset:
    population: int
    sample: int
    children: int
    generations: int


BUDGETS: dict[str, BudgetPreset] = {
    "tiny": BudgetPreset(population=8, sample=4, children=2, generations=4),
    "small": BudgetPreset(population=32, sample=16, children=4, generations=24),
    "paper": BudgetPreset(population=128, sample=64, children=8, generations=240),
}


@dataclass(frozen=True)
class SearchConfig:
    """Everything that determines a search's result (see the module docstring).

    ``population``, ``sample``, ``children`` and ``generations`` default to the ``budget``
    preset; ``metric`` is minimised in the ``accuracy`` and ``constrained`` modes.
    """

    budget: str = "tiny"
    seed: int = 0
    mode: str = "accuracy"
    population: int | None = None
    sample: int | None = None
    children: int | None = None
    generations: int | None = None
    mutations_start: int = 6
    mutations_end: int = 1
    metric: str = "logloss"
    limits: Mapping[str, float] = field(default_factory=dict)
    objectives: tuple[str, ...] = ("logloss", "latency_ns", "energy_pj")
    senses: tuple[str, ...] | None = None
    max_retries: int = 50
    #: Genomes (their ``problem.to_json`` form) put first into generation 0; see the module
    #: docstring. They take places of the ``population``, not extra evaluations.
    initial_genomes: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.budget not in BUDGETS:
            raise SearchError(
                f"search config budget: got {self.budget!r}; accepted: {', '.join(BUDGETS)}"
            )
        preset = BUDGETS[self.budget]
        for name in ("population", "sample", "children", "generations"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(preset, name))
        ints = {
            "seed": 0, "population": 1, "sample": 1, "children": 1, "generations": 0,
            "mutations_start": 1, "mutations_end": 1, "max_retries": 1,
        }
        for name, low in ints.items():
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise SearchError(
                    f"search config {name}: got {value!r}; accepted: an integer >= {low}"
                )
            object.__setattr__(self, name, int(value))
        assert self.sample is not None and self.population is not None
        if self.sample > self.population:
            raise SearchError(
                f"search config sample: got {self.sample}; accepted: at most population "
                f"({self.population})"
            )
        if self.mode not in FITNESS_MODES:
            raise SearchError(
                f"search config mode: got {self.mode!r}; accepted: {', '.join(FITNESS_MODES)}"
            )
        if not isinstance(self.metric, str) or not self.metric:
            raise SearchError(f"search config metric: got {self.metric!r}; accepted: a name")
        limits: dict[str, float] = {}
        for name, value in dict(self.limits).items():
            try:
                limit = float(value)
            except (TypeError, ValueError):
                limit = math.nan
            if not isinstance(name, str) or not math.isfinite(limit) or limit == 0.0:
                raise SearchError(
                    f"search config limits.{name}: got {value!r}; accepted: a finite, "
                    "non-zero number"
                )
            limits[name] = limit
        object.__setattr__(self, "limits", limits)
        if self.mode == "constrained" and not limits:
            raise SearchError(
                "search config limits: got none; accepted: at least one limit such as "
                "{'latency_ns': 1e5} in mode 'constrained'"
            )
        objectives = tuple(self.objectives)
        if not objectives or not all(isinstance(o, str) and o for o in objectives):
            raise SearchError(
                f"search config objectives: got {self.objectives!r}; accepted: a non-empty "
                "list of objective names"
            )
        if len(set(objectives)) != len(objectives):
            raise SearchError(
                f"search config objectives: got {list(objectives)}; accepted: distinct names"
            )
        object.__setattr__(self, "objectives", objectives)
        senses = ("min",) * len(objectives) if self.senses is None else tuple(self.senses)
        if len(senses) != len(objectives) or any(s not in ("min", "max") for s in senses):
            raise SearchError(
                f"search config senses: got {self.senses!r}; accepted: one of 'min'/'max' "
                f"per objective ({len(objectives)})"
            )
        object.__setattr__(self, "senses", senses)
        seeds = self.initial_genomes
        if isinstance(seeds, (str, bytes, Mapping)) or not isinstance(seeds, Sequence):
            raise SearchError(
                f"search config initial_genomes: got {type(seeds).__name__}; accepted: a list "
                "of genomes in their problem.to_json form"
            )
        try:
            seeds = tuple(json.loads(_canonical_json(g)) for g in seeds)
        except (TypeError, ValueError) as exc:
            raise SearchError(
                f"search config initial_genomes: not JSON ({exc}); accepted: genomes in their "
                "problem.to_json form"
            ) from exc
        if len(seeds) > self.population:
            raise SearchError(
                f"search config initial_genomes: got {len(seeds)}; accepted: at most population "
                f"({self.population})"
            )
        object.__setattr__(self, "initial_genomes", seeds)

    @property
    def total_evaluations(self) -> int:
        """Number of proposals: population + generations x children."""
        assert self.population is not None and self.generations is not None
        assert self.children is not None
        return self.population + self.generations * self.children

    def mutations_at(self, generation: int) -> int:
        """Mutations per child in ``generation`` (1-based), decaying linearly start -> end."""
        assert self.generations is not None
        if self.generations <= 1:
            return self.mutations_start
        frac = (generation - 1) / (self.generations - 1)
        value = self.mutations_start + (self.mutations_end - self.mutations_start) * frac
        return max(1, int(math.floor(value + 0.5)))

    def required_objectives(self) -> tuple[str, ...]:
        """Objective names every evaluation must return for this mode."""
        if self.mode == "accuracy":
            return (self.metric,)
        if self.mode == "constrained":
            return (self.metric, *[k for k in self.limits if k != self.metric])
        return tuple(self.objectives)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["limits"] = dict(self.limits)
        d["objectives"] = list(self.objectives)
        d["senses"] = list(self.senses or ())
        # Omitted when empty, so checkpoints written before the field existed still resume.
        seeds = d.pop("initial_genomes")
        if seeds:
            d["initial_genomes"] = list(seeds)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "search config") -> SearchConfig:
        if not isinstance(data, Mapping):
            raise SearchError(f"{where}: got {type(data).__name__}; accepted: a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SearchError(
                f"{where}: unknown key(s) {unknown}; accepted: {', '.join(sorted(known))}"
            )
        kwargs = dict(data)
        for name in ("objectives", "senses", "initial_genomes"):
            if kwargs.get(name) is not None:
                kwargs[name] = tuple(kwargs[name])
        return cls(**kwargs)


# --------------------------------------------------------------------------------------------
# Pareto machinery (vectorised)
# --------------------------------------------------------------------------------------------


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
    chunk = max(1, (1 << 22) // max(1, n * m))
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


def _violation(objs: Sequence[Mapping[str, float]], limits: Mapping[str, float]) -> np.ndarray:
    total = np.zeros(len(objs), dtype=np.float64)
    for name, limit in limits.items():
        vals = np.array([o[name] for o in objs], dtype=np.float64)
        excess = np.maximum(0.0, (vals - limit) / abs(limit))
        total += np.where(np.isnan(excess), np.inf, excess)
    return total


def _metric(objs: Sequence[Mapping[str, float]], name: str) -> np.ndarray:
    vals = np.array([o[name] for o in objs], dtype=np.float64)
    return np.where(np.isnan(vals), np.inf, vals)


def fitness_order(objs: Sequence[Mapping[str, float]], config: SearchConfig) -> np.ndarray:
    """Indices of ``objs`` from best to worst under ``config.mode``; ties favour lower index."""
    n = len(objs)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    index = np.arange(n)
    if config.mode == "accuracy":
        return np.lexsort((index, _metric(objs, config.metric)))
    if config.mode == "constrained":
        return np.lexsort((index, _metric(objs, config.metric), _violation(objs, config.limits)))
    points = np.array([[o[k] for k in config.objectives] for o in objs], dtype=np.float64)
    fronts = non_dominated_sort(points, config.senses)
    crowd = crowding_distance(points, fronts, config.senses)
    return np.lexsort((index, -crowd, fronts))


def _rank_positions(objs: Sequence[Mapping[str, float]], config: SearchConfig) -> np.ndarray:
    order = fitness_order(objs, config)
    ranks = np.empty(len(objs), dtype=np.int64)
    ranks[order] = np.arange(len(objs))
    return ranks


# --------------------------------------------------------------------------------------------
# Persistence helpers
# --------------------------------------------------------------------------------------------


def _atomic_write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _read_journal(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Header and evaluation entries of a journal; a torn last line is cut off the file."""
    header: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = []
    with open(path, "rb") as fh:
        raw = fh.read()
    offset = 0
    lines = raw.split(b"\n")
    for lineno, line in enumerate(lines, start=1):
        is_last = lineno == len(lines)
        start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or record.get("type") not in ("header", "eval"):
                raise ValueError("not a journal record")
            if record["type"] == "eval" and not (
                isinstance(record.get("key"), str) and isinstance(record.get("objectives"), dict)
            ):
                raise ValueError("an eval record needs 'key' and 'objectives'")
        except (ValueError, KeyError) as exc:
            # Only the final line can be torn by a kill (every earlier line ends in a newline).
            if is_last or (lineno == len(lines) - 1 and lines[-1] == b""):
                with open(path, "r+b") as fh:
                    fh.truncate(start)
                    fh.flush()
                    os.fsync(fh.fileno())
                break
            raise SearchError(
                f"{path}:{lineno}: malformed journal line ({exc}); accepted: one JSON object "
                "per line with type 'header' or 'eval'"
            ) from exc
        if record["type"] == "header":
            if header is None:
                header = record
        else:
            entries.append(record)
    return header, entries


def _config_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass
class SearchResult:
    """What a search returns.

    ``history``: one row per evaluated genome in proposal order, columns ``index``,
    ``generation``, ``key``, ``parent`` (key or None), ``n_mutations``, ``seeded`` (one of the
    config's ``initial_genomes``), ``genome`` (canonical
    JSON text), one column per objective, and ``front`` (non-dominated rank of the row over
    ``config.objectives`` within the whole history, when every row has those objectives),
    ``feasible``/``violation`` in mode ``constrained``.
    ``front``: the history rows with ``front == 0`` (empty if the objectives are missing).
    ``best``: the best history row under the mode's order (in mode ``pareto``: the front row
    with the lowest ``metric``), as a dict; ``best_genome`` the same as a genome object.
    ``population``/``population_keys``: the final population, oldest first. ``generation``:
    the last finished generation. ``duplicates_accepted``: proposals that took a cached result
    after ``max_retries``; ``redraws``: proposals re-drawn as invalid or duplicate;
    ``evaluations_run``: evaluations this call ran (journal and checkpoint hits excluded).
    """

    config: SearchConfig
    history: pd.DataFrame
    population_keys: list[str]
    population: list[Any]
    best: dict[str, Any] | None
    best_genome: Any
    front: pd.DataFrame
    generation: int
    duplicates_accepted: int
    redraws: int
    evaluations_run: int


# --------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------


@dataclass
class _Proposal:
    genome: Any
    genome_json: Any
    key: str
    parent: str | None
    n_mutations: int
    duplicate: bool


class _Search(Generic[G]):
    def __init__(
        self,
        problem: SearchProblem[G],
        config: SearchConfig,
        executor: Executor,
        out_dir: Path | None,
    ) -> None:
        self.problem = problem
        self.config = config
        self.executor = executor
        self.out_dir = out_dir
        self.rng = np.random.default_rng(config.seed)
        self.generation = -1
        self.population: list[str] = []
        self.history: list[dict[str, Any]] = []
        self.results: dict[str, dict[str, float]] = {}  # committed + journaled evaluations
        self.genomes: dict[str, Any] = {}  # key -> canonical genome (committed ones)
        self.duplicates_accepted = 0
        self.redraws = 0
        self.evaluations_run = 0
        self._journal: Any = None

    # ---- persistence ------------------------------------------------------------------------

    def open_store(self, resume: bool, overwrite: bool) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        ckpt = self.out_dir / CHECKPOINT_NAME
        journal = self.out_dir / JOURNAL_NAME
        cfg = self.config.to_dict()
        if not resume:
            if (ckpt.exists() or journal.exists()) and not overwrite:
                raise SearchError(
                    f"{self.out_dir}: holds a search already ({CHECKPOINT_NAME} / "
                    f"{JOURNAL_NAME}); accepted: resume=True (--resume) to continue it or "
                    "overwrite=True to start again"
                )
            for p in (ckpt, journal):
                p.unlink(missing_ok=True)
        if ckpt.exists():
            self._load_checkpoint(ckpt, cfg)
        if journal.exists():
            header, entries = _read_journal(journal)
            if header is not None:
                diff = _config_diff(header.get("config", {}), cfg)
                if diff:
                    raise SearchError(
                        f"{journal}:1: the journal was written by a search with a different "
                        f"config (keys {diff}); accepted: resume with the same config, or "
                        "overwrite=True"
                    )
            for entry in entries:
                self.results.setdefault(entry["key"], dict(entry["objectives"]))
            self._journal = open(journal, "a", encoding="utf-8")
            if header is None:
                self._append_journal({"type": "header", "format": _FORMAT, "config": cfg})
        else:
            self._journal = open(journal, "a", encoding="utf-8")
            self._append_journal({"type": "header", "format": _FORMAT, "config": cfg})

    def _load_checkpoint(self, path: Path, cfg: Mapping[str, Any]) -> None:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise SearchError(f"{path}: unreadable checkpoint ({exc}); accepted: JSON") from exc
        where = str(path)
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise SearchError(
                f"{where}: format {data.get('format') if isinstance(data, dict) else data!r}; "
                f"accepted: a {_FORMAT!r} checkpoint"
            )
        diff = _config_diff(data.get("config", {}), cfg)
        if diff:
            raise SearchError(
                f"{where}: config differs from this search's in keys {diff}; accepted: resume "
                "with the same config, or overwrite=True"
            )
        try:
            state = data["rng_state"]
            bit_gen = getattr(np.random, state["bit_generator"])()
            bit_gen.state = state
            self.rng = np.random.Generator(bit_gen)
            self.generation = int(data["generation"])
            self.population = [str(k) for k in data["population"]]
            self.history = list(data["history"])
            counters = data.get("counters", {})
            self.duplicates_accepted = int(counters.get("duplicates_accepted", 0))
            self.redraws = int(counters.get("redraws", 0))
            for rec in self.history:
                self.results[rec["key"]] = dict(rec["objectives"])
                self.genomes[rec["key"]] = self.problem.from_json(rec["genome"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SearchError(
                f"{where}: malformed checkpoint ({type(exc).__name__}: {exc}); accepted: a "
                "checkpoint written by codesign.search"
            ) from exc
        missing = [k for k in self.population if k not in self.results]
        if missing:
            raise SearchError(
                f"{where}: population keys {missing[:3]} have no history record; accepted: a "
                "consistent checkpoint"
            )

    def _append_journal(self, record: Mapping[str, Any]) -> None:
        if self._journal is None:
            return
        self._journal.write(json.dumps(record, sort_keys=True) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def _checkpoint(self) -> None:
        if self.out_dir is None:
            return
        _atomic_write_json(
            self.out_dir / CHECKPOINT_NAME,
            {
                "format": _FORMAT,
                "version": _VERSION,
                "config": self.config.to_dict(),
                "generation": self.generation,
                "rng_state": self.rng.bit_generator.state,
                "population": self.population,
                "history": self.history,
                "counters": {
                    "duplicates_accepted": self.duplicates_accepted,
                    "redraws": self.redraws,
                },
            },
        )

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    # ---- proposals --------------------------------------------------------------------------

    def _draw(
        self, make: Callable[[], G], seen: set[str], parent: str | None, n_mut: int, what: str
    ) -> _Proposal:
        is_valid = getattr(self.problem, "is_valid", None)
        last_dup: _Proposal | None = None
        last_error = ""
        for _ in range(self.config.max_retries):
            try:
                genome = make()
            except SpecError as exc:
                last_error = str(exc)
                self.redraws += 1
                continue
            if is_valid is not None and not is_valid(genome):
                last_error = "is_valid() returned False"
                self.redraws += 1
                continue
            # Canonical form: exactly what a resumed search rebuilds from the checkpoint.
            gjson = json.loads(_canonical_json(self.problem.to_json(genome)))
            canon = self.problem.from_json(gjson)
            key = str(self.problem.key(canon))
            prop = _Proposal(canon, gjson, key, parent, n_mut, duplicate=key in seen)
            if not prop.duplicate:
                return prop
            last_dup = prop
            self.redraws += 1
        if last_dup is not None:
            self.duplicates_accepted += 1
            return last_dup
        raise SearchError(
            f"search generation {self.generation + 1}: {what} gave no valid genome in "
            f"{self.config.max_retries} tries (last: {last_error}); accepted: a problem whose "
            "sample/mutate return valid genomes"
        )

    def _seeded(self, i: int, data: Any, seen: set[str]) -> _Proposal:
        where = f"search config initial_genomes[{i}]"
        try:
            genome = self.problem.from_json(data)
        except (CodesignError, KeyError, TypeError, ValueError) as exc:
            raise SearchError(
                f"{where}: {str(data)[:80]!r} is not a genome of this problem ({exc}); "
                "accepted: the problem.to_json form of a genome"
            ) from exc
        is_valid = getattr(self.problem, "is_valid", None)
        if is_valid is not None and not is_valid(genome):
            raise SearchError(f"{where}: {str(data)[:80]!r} is rejected by is_valid(); "
                              "accepted: a valid genome")
        gjson = json.loads(_canonical_json(self.problem.to_json(genome)))
        canon = self.problem.from_json(gjson)
        key = str(self.problem.key(canon))
        if key in seen:
            raise SearchError(f"{where}: repeats an earlier genome (key {key}); accepted: "
                              "distinct genomes")
        return _Proposal(canon, gjson, key, None, 0, duplicate=False)

    def _propose(self, gen: int) -> list[_Proposal]:
        cfg = self.config
        seen = {rec["key"] for rec in self.history}
        proposals: list[_Proposal] = []
        if gen == 0:
            assert cfg.population is not None
            for i, data in enumerate(cfg.initial_genomes):
                prop = self._seeded(i, data, seen)
                seen.add(prop.key)
                proposals.append(prop)
            for _ in range(cfg.population - len(proposals)):
                prop = self._draw(lambda: self.problem.sample(self.rng), seen, None, 0, "sample")
                seen.add(prop.key)
                proposals.append(prop)
            return proposals
        assert cfg.children is not None and cfg.sample is not None
        ranks = _rank_positions([self.results[k] for k in self.population], cfg)
        n_mut = cfg.mutations_at(gen)
        for _ in range(cfg.children):
            contestants = self.rng.choice(len(self.population), size=cfg.sample, replace=False)
            winner = int(contestants[np.argmin(ranks[contestants])])
            parent_key = self.population[winner]
            parent = self.genomes[parent_key]
            prop = self._draw(
                lambda: self.problem.mutate(parent, self.rng, n_mut),
                seen, parent_key, n_mut, f"mutate({parent_key})",
            )
            seen.add(prop.key)
            proposals.append(prop)
        return proposals

    # ---- evaluation -------------------------------------------------------------------------

    def _check_objectives(self, key: str, raw: Any) -> dict[str, float]:
        if not isinstance(raw, Mapping):
            raise SearchError(
                f"evaluate(genome {key}): returned {type(raw).__name__}; accepted: a mapping "
                "of objective name to number"
            )
        out: dict[str, float] = {}
        for name, value in raw.items():
            try:
                out[str(name)] = float(value)
            except (TypeError, ValueError) as exc:
                raise SearchError(
                    f"evaluate(genome {key}): objective {name!r} = {value!r}; accepted: a "
                    "number"
                ) from exc
        missing = [n for n in self.config.required_objectives() if n not in out]
        if missing:
            raise SearchError(
                f"evaluate(genome {key}): result lacks {missing}; got keys {sorted(out)}; "
                f"accepted: a mapping with {list(self.config.required_objectives())} for mode "
                f"{self.config.mode!r}"
            )
        return out

    def run_generation(self, gen: int, bar: Any) -> None:
        proposals = self._propose(gen)
        pending: dict[str, _Proposal] = {}
        for prop in proposals:
            if prop.key in self.results:  # journaled before a kill, or a duplicate
                bar.update(1)
            elif prop.key not in pending:
                pending[prop.key] = prop
            else:
                bar.update(1)
        futures = {}
        for key, prop in pending.items():
            futures[self.executor.submit(self.problem.evaluate, prop.genome)] = key
        for fut in self.executor.as_completed(list(futures)):
            key = futures[fut]
            objectives = self._check_objectives(key, fut.result())
            self.results[key] = objectives
            self.evaluations_run += 1
            self._append_journal(
                {
                    "type": "eval",
                    "generation": gen,
                    "key": key,
                    "genome": pending[key].genome_json,
                    "objectives": objectives,
                }
            )
            bar.update(1)
        # Commit in proposal order: independent of completion order and of cache hits.
        committed = {rec["key"] for rec in self.history}
        new_keys: list[str] = []
        for prop in proposals:
            new_keys.append(prop.key)
            if prop.key in committed:
                continue
            committed.add(prop.key)
            self.genomes[prop.key] = prop.genome
            self.history.append(
                {
                    "index": len(self.history),
                    "generation": gen,
                    "key": prop.key,
                    "parent": prop.parent,
                    "n_mutations": prop.n_mutations,
                    "genome": prop.genome_json,
                    "objectives": self.results[prop.key],
                }
            )
        if gen == 0:
            self.population = new_keys
        else:
            self.population = self.population[len(new_keys) :] + new_keys
        self.generation = gen
        self._checkpoint()
        best = self._best_value()
        if best is not None:
            bar.set_postfix({f"best_{self.config.metric}": f"{best:.6g}", "gen": gen})

    def _best_value(self) -> float | None:
        vals = [r["objectives"].get(self.config.metric) for r in self.history]
        vals = [v for v in vals if v is not None and not math.isnan(v)]
        return min(vals) if vals else None

    # ---- result -----------------------------------------------------------------------------

    def result(self) -> SearchResult:
        cfg = self.config
        objective_names = sorted({n for r in self.history for n in r["objectives"]})
        n_seeded = len(cfg.initial_genomes)
        rows = []
        for rec in self.history:
            row = {
                "index": rec["index"],
                "generation": rec["generation"],
                "key": rec["key"],
                "parent": rec["parent"],
                "n_mutations": rec["n_mutations"],
                "seeded": rec["generation"] == 0 and rec["index"] < n_seeded,
                "genome": _canonical_json(rec["genome"]),
            }
            for name in objective_names:
                row[name] = rec["objectives"].get(name, math.nan)
            rows.append(row)
        history = pd.DataFrame(
            rows,
            columns=["index", "generation", "key", "parent", "n_mutations", "seeded", "genome",
                     *objective_names],
        )
        objs = [rec["objectives"] for rec in self.history]
        have_front = bool(self.history) and all(
            all(k in o for k in cfg.objectives) for o in objs
        )
        if have_front:
            points = history[list(cfg.objectives)].to_numpy(dtype=np.float64)
            history["front"] = non_dominated_sort(points, cfg.senses)
            front = history[history["front"] == 0].reset_index(drop=True)
        else:
            front = history.iloc[0:0].copy()
        if cfg.mode == "constrained" and self.history:
            viol = _violation(objs, cfg.limits)
            history["violation"] = viol
            history["feasible"] = viol == 0.0
        best: dict[str, Any] | None = None
        best_genome: Any = None
        if self.history:
            if cfg.mode == "pareto" and have_front and not front.empty:
                metric_col = cfg.metric if cfg.metric in front else cfg.objectives[0]
                i = int(front.sort_values([metric_col, "index"], kind="stable").iloc[0]["index"])
            else:
                i = int(fitness_order(objs, cfg)[0])
            best = history.iloc[i].to_dict()
            best_genome = self.genomes[self.history[i]["key"]]
        return SearchResult(
            config=cfg,
            history=history,
            population_keys=list(self.population),
            population=[self.genomes[k] for k in self.population],
            best=best,
            best_genome=best_genome,
            front=front,
            generation=self.generation,
            duplicates_accepted=self.duplicates_accepted,
            redraws=self.redraws,
            evaluations_run=self.evaluations_run,
        )


def run_search(
    problem: SearchProblem[G],
    config: SearchConfig,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    executor: Executor | None = None,
    quiet: bool = False,
) -> SearchResult:
    """Run (or, with ``resume=True``, continue) a regularized-evolution search.

    ``out_dir`` holds the journal and checkpoint (nothing is persisted when it is None);
    without ``resume`` an ``out_dir`` that already holds a search is refused unless
    ``overwrite``. ``executor`` runs the evaluations (default: in-process, serially); the
    caller keeps ownership of it. Progress is shown with tqdm unless ``quiet``.
    """
    from tqdm.auto import tqdm

    missing = [m for m in _REQUIRED_METHODS if not callable(getattr(problem, m, None))]
    if missing:
        raise SearchError(
            f"search problem {type(problem).__name__}: lacks {missing}; accepted: an object "
            f"with {', '.join(_REQUIRED_METHODS)}"
        )
    if not isinstance(config, SearchConfig):
        raise SearchError(
            f"search config: got {type(config).__name__}; accepted: a SearchConfig"
        )
    if resume and out_dir is None:
        raise SearchError(
            "search resume: got resume=True without out_dir; accepted: the folder of the "
            "search to continue"
        )
    own_executor = executor is None
    ex = LocalExecutor(0) if executor is None else executor
    search = _Search(problem, config, ex, None if out_dir is None else Path(out_dir))
    try:
        search.open_store(resume=resume, overwrite=overwrite)
        assert config.generations is not None
        done = len(search.history) + search.duplicates_accepted
        with tqdm(
            total=config.total_evaluations,
            initial=min(done, config.total_evaluations),
            disable=quiet,
            desc=f"search[{config.mode}]",
            unit="eval",
        ) as bar:
            for gen in range(search.generation + 1, config.generations + 1):
                search.run_generation(gen, bar)
        return search.result()
    finally:
        search.close()
        if own_executor:
            ex.close()
