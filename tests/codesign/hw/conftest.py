"""Profiles the plan and placement tests run on, loaded once per session."""

from __future__ import annotations

import pytest

from pimsim import Profile, load_profile

#: One profile per PIM kind the plans distinguish, and a plain memory without PIM.
PROFILE_NAMES = ("hbm2_pim", "gddr6_aim", "ddr4_recnmp", "ddr4_3200", "hbm2")


@pytest.fixture(scope="session")
def profiles() -> dict[str, Profile]:
    return {n: load_profile(n) for n in PROFILE_NAMES}
