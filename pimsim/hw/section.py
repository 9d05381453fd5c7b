"""The strict pydantic base of every input model, and the lookup of an optional profile section.

:class:`StrictModel` is the one base for models read from user files (profiles, workloads,
plans, configs): unknown keys are errors, assignments are validated, and a YAML ``true``
where a number is expected is an error rather than pydantic's lax 1. A field validator
that rejects a value raises :class:`BadValue`, whose ``problem`` / ``accepted`` parts an
error translator can print as "key = value: problem; accepted: ...".

This module imports nothing from pimsim but the error family, so every layer may use it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from pimsim.errors import PimsimError

#: Field annotations for which a boolean is refused.
_NUMBER_TYPES: tuple[Any, ...] = (int, float, int | None, float | None)


class BadValue(ValueError):
    """A field's own value is unacceptable (raised by field validators)."""

    def __init__(self, problem: str, accepted: str) -> None:
        super().__init__(f"{problem}; accepted: {accepted}")
        self.problem = problem
        self.accepted = accepted


class StrictModel(BaseModel):
    """Base model: unknown keys are errors, values are validated on assignment, and a
    boolean is not accepted where a number is expected."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode would read ``true`` as 1: in an input file that is a mistake.
        if isinstance(value, bool) and info.field_name is not None:
            if cls.model_fields[info.field_name].annotation in _NUMBER_TYPES:
                raise BadValue("a boolean where a number is expected", "a number")
        return value


def required_section(profile: Any, key: str, requirement: str) -> Any:
    """``profile.<key>``, or a :class:`PimsimError` naming the profile and the missing
    section, followed by ``requirement`` (what needs the section and what it must give)."""
    section = getattr(profile, key, None)
    if section is None:
        raise PimsimError(f"profile {profile.name!r}: no {key!r} section; {requirement}")
    return section
