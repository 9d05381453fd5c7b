"""Generic regularized evolution: fitness modes, Pareto sorting, checkpoint and resume.

The search knows nothing of subnets or PIM plans; a :class:`SearchProblem` supplies the
genomes (``sample``, ``mutate``, ``key``, ``evaluate``, ``to_json`` / ``from_json``, optionally
``is_valid``). :mod:`codesign.cosearch` is the co-design problem; :mod:`codesign.search.toy`
is a small documented example.

- :mod:`~codesign.search.config`: :class:`SearchConfig`, the budget presets :data:`BUDGETS`
  and the :data:`FITNESS_MODES`;
- :mod:`~codesign.search.pareto`: non-dominated sort, crowding distance, fitness order;
- :mod:`~codesign.search.store`: the journal and checkpoint of a search folder;
- :mod:`~codesign.search.evolution`: the evolution loop and :func:`run_search`;
- :mod:`~codesign.search.result`: :class:`SearchResult`.

Fitness modes (ties go to the older genome; NaN counts as the worst value): ``accuracy``
ranks by ``metric``; ``constrained`` puts the genomes within every ``limit`` first by
``metric``, then the others by total relative violation, and its result holds only genomes
within every limit (the best, the front: the non-dominated set of the feasible genomes;
None and empty when there is none); ``pareto`` is NSGA-II order over ``objectives`` (front,
then crowding distance), and the result's front is the non-dominated set of the whole
history.
"""

from codesign.search.config import BUDGETS, FITNESS_MODES, BudgetPreset, SearchConfig, SearchError
from codesign.search.evolution import run_search
from codesign.search.pareto import (
    constraint_violation,
    crowding_distance,
    fitness_order,
    non_dominated_sort,
    pareto_front,
)
from codesign.search.problem import SearchProblem
from codesign.search.result import SearchResult
from codesign.search.store import CHECKPOINT_NAME, JOURNAL_NAME

__all__ = [
    "BUDGETS",
    "CHECKPOINT_NAME",
    "FITNESS_MODES",
    "JOURNAL_NAME",
    "BudgetPreset",
    "SearchConfig",
    "SearchError",
    "SearchProblem",
    "SearchResult",
    "constraint_violation",
    "crowding_distance",
    "fitness_order",
    "non_dominated_sort",
    "pareto_front",
    "run_search",
]
