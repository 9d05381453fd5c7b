"""SearchProblem: what the search needs from a genome family."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

import numpy as np

__all__ = ["REQUIRED_METHODS", "SearchProblem"]

G = TypeVar("G")

#: The methods every problem has; ``is_valid`` is optional.
REQUIRED_METHODS = ("sample", "mutate", "key", "evaluate", "to_json", "from_json")


class SearchProblem(Protocol[G]):
    """What the search needs from a genome family.

    ``sample`` and ``mutate`` draw only from the given generator, so a search is reproducible.
    ``from_json(to_json(g))`` must be equivalent to ``g`` and ``key`` a stable hash of it.
    ``evaluate`` must be a pure function of the genome and picklable together with the
    problem (it may run in another process); it returns the objectives, such as
    ``{"logloss": ..., "latency_ns": ..., "energy_pj": ..., "flops": ...}``. A problem may also
    define ``is_valid(genome) -> bool``; invalid proposals are re-drawn, and so are those whose
    creation raises :class:`~codesign.errors.SpecError`. A problem may define
    ``identity() -> Mapping[str, JSON]``: everything its results depend on besides the
    genome (content hashes of the models and data it reads, its settings); a search stores it
    and refuses to resume with other values, naming the differing key.
    """

    def sample(self, rng: np.random.Generator) -> G: ...

    def mutate(self, genome: G, rng: np.random.Generator, n_mutations: int) -> G: ...

    def key(self, genome: G) -> str: ...

    def evaluate(self, genome: G) -> Mapping[str, float]: ...

    def to_json(self, genome: G) -> Any: ...

    def from_json(self, data: Any) -> G: ...
