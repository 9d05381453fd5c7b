"""Profiles the engine tests share, loaded once per session."""

from __future__ import annotations

import pytest

from pimsim.hw.load import load_profile


def _profile_fixture(fixture_name: str, profile_name: str):  # noqa: ANN202
    @pytest.fixture(scope="session", name=fixture_name)
    def fixture():  # noqa: ANN202
        return load_profile(profile_name)

    return fixture


hbm2 = _profile_fixture("hbm2", "hbm2")
ddr4 = _profile_fixture("ddr4", "ddr4_3200")
