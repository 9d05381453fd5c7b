"""SearchConfig: everything that determines a search's result, with the budget presets and
the fitness modes that the command line offers as its choices."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from codesign.errors import CodesignError

__all__ = [
    "BUDGETS",
    "FITNESS_MODES",
    "BudgetPreset",
    "SearchConfig",
    "SearchError",
    "canonical_json",
]


class SearchError(CodesignError):
    """A search configuration, problem, checkpoint or journal is invalid."""


def canonical_json(data: Any) -> str:
    """The one text of a JSON value (sorted keys, no spaces): how genomes are compared."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class BudgetPreset:
    population: int
    sample: int
    children: int
    generations: int


#: ``paper`` is NASRec's population 128, sample 64 and 8 children per generation; its
#: 240 generations (2048 evaluations) are this project's choice.
BUDGETS: dict[str, BudgetPreset] = {
    "tiny": BudgetPreset(population=8, sample=4, children=2, generations=4),
    "small": BudgetPreset(population=32, sample=16, children=4, generations=24),
    "paper": BudgetPreset(population=128, sample=64, children=8, generations=240),
}

#: How a set of evaluated genomes is ranked (see :func:`codesign.search.pareto.fitness_order`).
FITNESS_MODES = ("accuracy", "constrained", "pareto")

_PRESET_FIELDS = ("population", "sample", "children", "generations")
_DEFAULT_OBJECTIVES = ("logloss", "latency_ns", "energy_pj")


def _plain_int(value: Any) -> Any:
    return int(value) if isinstance(value, np.integer) else value


def _one_of(names: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in names:
            raise ValueError(f"got {value!r}; accepted: {', '.join(names)}")
        return value

    return AfterValidator(check)


def _limit(value: float) -> float:
    if value == 0.0:
        raise ValueError("got 0.0; accepted: a finite, non-zero number")
    return value


#: Integers (numpy integers too, never a bool) of at least 0 or 1.
NonNegative = Annotated[int, BeforeValidator(_plain_int), Field(strict=True, ge=0)]
Positive = Annotated[int, BeforeValidator(_plain_int), Field(strict=True, ge=1)]
Name = Annotated[str, Field(min_length=1)]
Limit = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_limit)]


class SearchConfig(BaseModel):
    """Everything that determines a search's result (see :mod:`codesign.search`).

    ``population``, ``sample``, ``children`` and ``generations`` default to the ``budget``
    preset; ``metric`` is minimised in the ``accuracy`` and ``constrained`` modes;
    ``limits`` (mode ``constrained``) are met when value <= limit; ``objectives`` and their
    ``senses`` ("min" by default) are the Pareto axes; ``initial_genomes`` (their
    ``problem.to_json`` form) go first into generation 0, taking places of the population,
    not extra evaluations. Invalid values raise :class:`SearchError` naming the field.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget: Annotated[str, _one_of(tuple(BUDGETS))] = "tiny"
    seed: NonNegative = 0
    mode: Annotated[str, _one_of(FITNESS_MODES)] = "accuracy"
    population: Positive
    sample: Positive
    children: Positive
    generations: NonNegative
    mutations_start: Positive = 6
    mutations_end: Positive = 1
    metric: Name = "logloss"
    limits: dict[str, Limit] = Field(default_factory=dict)
    objectives: tuple[Name, ...] = Field(default=_DEFAULT_OBJECTIVES, min_length=1)
    senses: tuple[Literal["min", "max"], ...]
    max_retries: Positive = 50
    initial_genomes: tuple[Any, ...] = ()

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Preset sizes of the budget and one "min" per objective, where not given."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        preset = BUDGETS.get(data.get("budget", "tiny"))
        for name in _PRESET_FIELDS:
            if data.get(name) is None and preset is not None:
                data[name] = getattr(preset, name)
        objectives = data.get("objectives", _DEFAULT_OBJECTIVES)
        if data.get("senses") is None and isinstance(objectives, (list, tuple)):
            data["senses"] = ("min",) * len(objectives)
        seeds = data.get("initial_genomes", ())
        if isinstance(seeds, (str, bytes, Mapping)):
            raise ValueError(f"initial_genomes: got {type(seeds).__name__}; accepted: a list "
                             "of genomes in their problem.to_json form")
        return data

    @field_validator("objectives")
    @classmethod
    def _distinct(cls, objectives: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(objectives)) != len(objectives):
            raise ValueError(f"got {list(objectives)}; accepted: distinct names")
        return objectives

    @field_validator("initial_genomes")
    @classmethod
    def _json_genomes(cls, seeds: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            return tuple(json.loads(canonical_json(g)) for g in seeds)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not JSON ({exc}); accepted: genomes in their problem.to_json "
                             "form") from None

    @model_validator(mode="after")
    def _consistent(self) -> SearchConfig:
        if self.sample > self.population:
            raise ValueError(f"sample: got {self.sample}; accepted: at most population "
                             f"({self.population})")
        if self.mode == "constrained" and not self.limits:
            raise ValueError("limits: got none; accepted: at least one limit such as "
                             "{'latency_ns': 1e5} in mode 'constrained'")
        if len(self.senses) != len(self.objectives):
            raise ValueError(f"senses: got {list(self.senses)}; accepted: one of 'min'/'max' "
                             f"per objective ({len(self.objectives)})")
        if len(self.initial_genomes) > self.population:
            raise ValueError(f"initial_genomes: got {len(self.initial_genomes)}; accepted: at "
                             f"most population ({self.population})")
        return self

    @property
    def total_evaluations(self) -> int:
        """Number of proposals: population + generations x children."""
        return self.population + self.generations * self.children

    def mutations_at(self, generation: int) -> int:
        """Mutations per child in ``generation`` (1-based), decaying linearly start -> end,
        rounded half up."""
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
        """JSON form (lists for tuples), as checkpoints and journal headers store it."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "search config") -> SearchConfig:
        if not isinstance(data, Mapping):
            raise SearchError(f"{where}: got {type(data).__name__}; accepted: a mapping")
        return cls(**data)


def _config_error(exc: ValidationError) -> SearchError:
    """The first error of ``exc`` as "search config <key path>: got <value>; accepted: ..."."""
    errors = exc.errors()
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        known = ", ".join(sorted(SearchConfig.model_fields))
        return SearchError(f"search config: unknown key(s) {unknown}; accepted: {known}")
    err = errors[0]
    where = "search config " + ".".join(str(p) for p in err["loc"])
    if err["type"] == "value_error":
        text = str(err["ctx"]["error"])
        return SearchError(f"{where}: {text}" if err["loc"] else f"{where}{text}")
    accepted = err["msg"].removeprefix("Input should be ")
    return SearchError(f"{where}: got {err['input']!r}; accepted: {accepted}")
