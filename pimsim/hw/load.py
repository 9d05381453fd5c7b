"""Finding, loading and saving profiles; ``extends:`` for profiles built on another.

A profile is looked up by file path or by name on :func:`profile_dirs`
(``$PIMSIM_PROFILE_PATH`` first, then the shipped ``hw_profiles/``). A profile that says
``extends: <profile>`` starts from that profile's sections and overrides only the keys it
gives (mappings merge key by key; scalars and lists replace), so a PIM profile and its
base profile describe the same memory from one file. The base is looked up next to the
extending file first, then on the search path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pimsim.errors import ProfileError
from pimsim.util.fileio import atomic_write_text
from pimsim.hw.schema import STANDARDS_CONTEXT_KEY, Profile
from pimsim.standards import StandardRegistry
from pimsim.util.validation import KeyPath, format_validation_error, load_yaml_file

#: Folder of the profiles shipped with the project, and the environment variable that adds
#: folders (``os.pathsep``-separated, searched first) to the name lookup.
BUILTIN_PROFILE_DIR: Path = Path(__file__).resolve().parents[2] / "hw_profiles"
PROFILE_PATH_ENV = "PIMSIM_PROFILE_PATH"

#: The key that names the profile a profile builds on.
EXTENDS_KEY = "extends"

_PROFILE_SUFFIXES = (".yaml", ".yml")


def profile_from_dict(
    data: Any, source: str, lines: Mapping[KeyPath, int] | None = None,
    standards: StandardRegistry | None = None,
) -> Profile:
    """Validate a dict (parsed YAML) into a :class:`Profile`.

    ``source`` names the input in messages (a file path, or e.g. ``"<dict>"``); ``lines``
    maps key paths to YAML line numbers when the dict came from a file; ``standards`` is
    the registry to check the standard against (default: :data:`pimsim.standards.STANDARDS`).
    """
    if not isinstance(data, Mapping):
        raise ProfileError(
            f"{source}: the profile is a {type(data).__name__}; accepted: a mapping with "
            "the sections name, dram, timing, power, controller (and optional description, "
            f"host, pim, {EXTENDS_KEY})"
        )
    try:
        context = {STANDARDS_CONTEXT_KEY: standards} if standards is not None else None
        return Profile.model_validate(dict(data), context=context)
    except ValidationError as exc:
        raise ProfileError(
            format_validation_error(exc, data, lines or {}, source, Profile)) from None


def profile_dirs() -> list[Path]:
    """Folders searched for profile names: ``$PIMSIM_PROFILE_PATH`` first, then built-ins."""
    env = os.environ.get(PROFILE_PATH_ENV, "")
    dirs = [Path(part.strip()).expanduser() for part in env.split(os.pathsep) if part.strip()]
    return [*dirs, BUILTIN_PROFILE_DIR]


def list_profiles() -> list[Path]:
    """Every ``*.yaml``/``*.yml`` profile on the search path; earlier folders win by name."""
    found: dict[str, Path] = {}
    for folder in profile_dirs():
        if not folder.is_dir():
            continue
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            found.setdefault(path.stem, path)
    return sorted(found.values(), key=lambda p: p.stem)


def _named(name: str, folders: Iterable[Path]) -> Path | None:
    for folder in folders:
        for ext in _PROFILE_SUFFIXES:
            path = folder / f"{name}{ext}"
            if path.is_file():
                return path
    return None


def resolve_profile_path(path_or_name: str | os.PathLike[str]) -> Path:
    """A file path as given, or a bare name looked up on :func:`profile_dirs`."""
    text = os.fspath(path_or_name)
    candidate = Path(text).expanduser()
    if candidate.is_file():
        return candidate
    if candidate.suffix in _PROFILE_SUFFIXES or os.sep in text or "/" in text:
        raise ProfileError(f"{text}: no such profile file; accepted: an existing YAML file "
                           "or a profile name")
    path = _named(text, profile_dirs())
    if path is not None:
        return path
    names = ", ".join(p.stem for p in list_profiles()) or "(none found)"
    raise ProfileError(
        f"{text!r}: no such profile name in {', '.join(str(d) for d in profile_dirs())}; "
        f"accepted: a YAML file path or one of {names}"
    )


def merge_sections(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override``'s keys on top; mappings merge recursively."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_sections(out[key], value)
        else:
            out[key] = value
    return out


def _read_profile_data(
    path: Path, chain: tuple[Path, ...]
) -> tuple[Any, dict[KeyPath, int]]:
    """The data of the profile file ``path`` with its ``extends`` chain merged in, and the
    lines of the keys ``path`` itself gives."""
    data, lines = load_yaml_file(path, ProfileError, "profile")
    if data is None:
        raise ProfileError(f"{path}: the file is empty; accepted: a YAML profile mapping")
    if not isinstance(data, Mapping) or EXTENDS_KEY not in data:
        return data, lines
    base_name = data[EXTENDS_KEY]
    where = f"{path}:{lines.get((EXTENDS_KEY,), '?')}: {EXTENDS_KEY} = {base_name!r}"
    if not isinstance(base_name, str) or not base_name:
        raise ProfileError(f"{where}: not a profile name; accepted: a profile name or file")
    base_path = _named(base_name, [path.parent]) or resolve_profile_path(base_name)
    if base_path.resolve() in chain:
        raise ProfileError(f"{where}: extends itself through "
                           f"{' -> '.join(p.name for p in chain)}; accepted: a chain without "
                           "cycles")
    base, _ = _read_profile_data(base_path, (*chain, base_path.resolve()))
    own = {k: v for k, v in data.items() if k != EXTENDS_KEY}
    return merge_sections(base, own), lines


def load_profile(path_or_name: str | os.PathLike[str]) -> Profile:
    """Load and validate a profile from a YAML file or a name such as ``"hbm2"``."""
    path = resolve_profile_path(path_or_name)
    data, lines = _read_profile_data(path, (path.resolve(),))
    return profile_from_dict(data, str(path), lines)


def _yaml_scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    if text.endswith("\n...") or text.endswith("..."):
        text = text.rsplit("\n", 1)[0].strip()
    return text


def profile_to_yaml(
    profile: Profile,
    comments: Mapping[str, str] | None = None,
    header: Iterable[str] = (),
) -> str:
    """YAML text of a profile; ``comments`` maps ``section.key`` to an end-of-line comment."""
    comments = comments or {}
    data = profile.model_dump(mode="json", exclude_none=True)
    out: list[str] = [f"# {line}".rstrip() for line in header]

    def comment(key: str) -> str:
        text = comments.get(key)
        return f"  # {text}" if text else ""

    for top, value in data.items():
        if isinstance(value, dict):
            out.append(f"{top}:{comment(top)}")
            for key, sub in value.items():
                dotted = f"{top}.{key}"
                if isinstance(sub, (dict, list)):
                    block = yaml.safe_dump({key: sub}, sort_keys=False, width=10_000)
                    out.extend("  " + line for line in block.rstrip("\n").splitlines())
                else:
                    out.append(f"  {key}: {_yaml_scalar(sub)}{comment(dotted)}")
        else:
            out.append(f"{top}: {_yaml_scalar(value)}{comment(top)}")
    return "\n".join(out) + "\n"


def save_profile(
    profile: Profile,
    path: str | os.PathLike[str],
    comments: Mapping[str, str] | None = None,
    header: Iterable[str] = (),
) -> Path:
    """Write a profile as YAML atomically (temporary file in the same folder, then rename)."""
    target = Path(path)
    atomic_write_text(target, profile_to_yaml(profile, comments, header))
    return target
