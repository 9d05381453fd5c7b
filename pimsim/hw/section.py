"""The lookup of an optional profile section (``host``, ``pim``) with an error naming what
needs it."""

from __future__ import annotations

from typing import Any

from pimsim.errors import PimsimError


def required_section(profile: Any, key: str, requirement: str) -> Any:
    """``profile.<key>``, or a :class:`PimsimError` naming the profile and the missing
    section, followed by ``requirement`` (what needs the section and what it must give)."""
    section = getattr(profile, key, None)
    if section is None:
        raise PimsimError(f"profile {profile.name!r}: no {key!r} section; {requirement}")
    return section
