"""Validated input files: YAML with line numbers and pydantic errors as readable messages.

Every message has the form ``FILE:LINE: key.path = VALUE: problem; accepted: ...``.
:func:`load_yaml_file` reads a YAML file and returns the data with the line of every
mapping key; :func:`format_validation_error` turns a pydantic ``ValidationError`` over
that data into such messages. A validator that knows better than pydantic what is wrong
raises :class:`KeyProblems`: each :class:`KeyProblem` names the key path (relative to
where the validator runs), the value, the problem and what is accepted. :class:`StrictModel`
is the base of input models: unknown keys are errors and a boolean is never a number.

This module sits at the bottom of pimsim (it imports only :mod:`pimsim.util.fileio`), so
callers pass their own exception class (``ProfileError``, ``WorkloadError``, ...).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from pimsim.util.fileio import read_text

KeyPath = tuple[str | int, ...]

#: Marks a :class:`KeyProblem` whose value is read from the input data at its path.
FROM_DATA: Any = object()

_NUMBER_TYPES: tuple[Any, ...] = (int, float, int | None, float | None)


@dataclass(frozen=True)
class KeyProblem:
    """What is wrong at ``path``; ``value`` is shown unless it is :data:`FROM_DATA` and the
    data has nothing there."""

    path: KeyPath
    problem: str
    accepted: str
    value: Any = FROM_DATA


class KeyProblems(ValueError):
    """Raised by a validator: one or more :class:`KeyProblem` under the validated node."""

    def __init__(self, problems: Sequence[KeyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(
            f"{'.'.join(map(str, p.path))}: {p.problem}; accepted: {p.accepted}"
            for p in self.problems))

    @classmethod
    def one(cls, key: str | KeyPath, value: Any, problem: str, accepted: str) -> KeyProblems:
        path = (key,) if isinstance(key, str) else tuple(key)
        return cls([KeyProblem(path, problem, accepted, value)])


class StrictModel(BaseModel):
    """Base of input models: unknown keys are errors, assignments are validated, and
    ``true`` is never read as 1 (pydantic's lax mode would: in an input file it is a
    mistake)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        # A model-level check, not a field validator on "*": pydantic refuses field
        # validators on the discriminator field of a tagged union (kernels' ``op``).
        if isinstance(data, Mapping):
            bad = [KeyProblem((name,), "a boolean where a number is expected", "a number")
                   for name, value in data.items()
                   if isinstance(value, bool) and name in cls.model_fields
                   and cls.model_fields[name].annotation in _NUMBER_TYPES]
            if bad:
                raise KeyProblems(bad)
        return data


def load_yaml_with_lines(
    text: str, source: str, error: type[Exception]
) -> tuple[Any, dict[KeyPath, int]]:
    """Parse YAML; return the data and the 1-based line of every mapping key by path."""
    lines: dict[KeyPath, int] = {}
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, lines
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise error(f"{source}{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise error(f"{source}: YAML syntax error: {exc}") from None

    def walk(n: yaml.Node, path: KeyPath) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in n.value:
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    dotted = ".".join(str(p) for p in (*path, key))
                    raise error(
                        f"{source}:{line}: {dotted}: duplicate key (first at line "
                        f"{seen[key]}); accepted: each key once"
                    )
                seen[key] = line
                lines[(*path, key)] = line
                walk(value_node, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                lines.setdefault((*path, i), item.start_mark.line + 1)
                walk(item, (*path, i))

    walk(node, ())
    return data, lines


def load_yaml_file(path: Path, error: type[Exception], what: str) -> tuple[Any, dict[KeyPath, int]]:
    """Read and parse the YAML file ``path`` (see :func:`load_yaml_with_lines`)."""
    return load_yaml_with_lines(read_text(path, error, f"the {what}"), str(path), error)


def model_at(root: type[BaseModel], loc: KeyPath) -> type[BaseModel] | None:
    """The pydantic model that holds the mapping at ``loc`` (a path of keys), if any."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        candidates = (annotation, *typing.get_args(annotation))
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return model


def lookup(data: Any, loc: KeyPath) -> tuple[bool, Any]:
    """``(True, value)`` at ``loc`` inside nested mappings and lists, else ``(False, None)``."""
    cur = data
    for part in loc:
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        else:
            return False, None
    return True, cur


def line_of(lines: Mapping[KeyPath, int], loc: KeyPath) -> int | None:
    """The line of ``loc``, or of its nearest enclosing key that has one."""
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


_BOUND_WORDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
                "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}


def describe_accepted(err: Mapping[str, Any]) -> str:
    """What a pydantic error's constraint accepts, in words."""
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind in _BOUND_WORDS:
        word, key = _BOUND_WORDS[kind]
        return f"{word} {ctx.get(key)}"
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind.startswith("int_"):
        return "an integer"
    if kind.startswith("float_"):
        return "a number"
    if kind == "string_too_short":
        return "a non-empty string"
    if kind.startswith("string_"):
        return "a string"
    if kind.startswith("dict_") or kind == "model_type":
        return "a mapping of keys to values"
    if kind.startswith("bool_"):
        return "true or false"
    return err.get("msg", "a valid value")


def _problem_of(err: Mapping[str, Any], loc: KeyPath, root: type[BaseModel],
                found: bool, value: Any) -> tuple[str, str]:
    kind = err["type"]
    parent = model_at(root, loc[:-1])
    if kind == "extra_forbidden":
        known = ", ".join(parent.model_fields) if parent is not None else "?"
        return "unknown key", f"the keys {known}"
    if kind == "missing":
        desc = None
        if parent is not None and loc and loc[-1] in parent.model_fields:
            desc = parent.model_fields[str(loc[-1])].description
        return "missing key", f"a value for it ({desc})" if desc else "a value for it"
    problem = str(err.get("msg", "invalid value"))
    problem = problem[:1].lower() + problem[1:]
    if kind in {"model_type", "dict_type"} and found:
        problem = f"expected a mapping, found {type(value).__name__}"
    return problem, describe_accepted(err)


def format_validation_error(
    exc: ValidationError, data: Any, lines: Mapping[KeyPath, int], source: str,
    root: type[BaseModel],
) -> str:
    """pydantic's errors over ``data`` (validated as ``root``) as ``FILE:LINE: ...`` lines."""
    entries: list[tuple[KeyPath, bool, Any, str, str]] = []
    for err in exc.errors(include_url=False):
        loc: KeyPath = tuple(err["loc"])
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, KeyProblems):
            for p in inner.problems:
                full = loc + p.path
                found, value = (True, p.value) if p.value is not FROM_DATA else lookup(data, full)
                entries.append((full, found, value, p.problem, p.accepted))
            continue
        found, value = lookup(data, loc)
        entries.append((loc, found, value, *_problem_of(err, loc, root, found, value)))
    messages = []
    for loc, found, value, problem, accepted in entries:
        line = line_of(lines, loc)
        where = f"{source}:{line}" if line is not None else source
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        value_text = f" = {value!r}" if found else ""
        messages.append(f"{where}: {dotted}{value_text}: {problem}; accepted: {accepted}")
    if len(messages) == 1:
        return messages[0]
    return f"{len(messages)} problems in {source}:\n  " + "\n  ".join(messages)
