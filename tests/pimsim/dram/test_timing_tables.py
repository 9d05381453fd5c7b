"""The engine's timing update keeps only the registers of the commands a replay can issue
(pimsim.dram.run.issuable_commands): the set is the one the row policy and the PIM flags
name, and a replay with the tables cut to it matches, command by command, the replay that
updates every register of every command."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.dram.codes import REFRESH_ALL_BANK, ROW_POLICIES, S_STATUS, SCHEDULERS
from pimsim.dram.kernel import simulate
from pimsim.dram.run import (
    call_kernel, compiled_timing_for, decoded_requests, engine_timing, geometry,
    issuable_commands, update_lists,
)
from pimsim.hw.schema import Profile


def _with(profile: Profile, **controller: object) -> Profile:
    return profile.model_copy(
        update={"controller": profile.controller.model_copy(update=controller)})


@pytest.mark.parametrize(("policy", "pim", "names"), [
    ("open", False, {"ACT", "PRE", "PREA", "REF", "RD", "WR"}),
    ("close", False, {"ACT", "PRE", "PREA", "REF", "RDA", "WRA"}),
    ("open", True, {"ACT", "PRE", "PREA", "REF", "RD", "WR", "RDI", "WRI"}),
    ("close", True, {"ACT", "PRE", "PREA", "REF", "RDA", "WRA", "RDAI", "WRAI"}),
])
def test_issuable_commands_are_those_of_the_row_policy(hbm2, policy: str, pim: bool,  # noqa: ANN001
                                                       names: set[str]) -> None:
    ct = compiled_timing_for(hbm2)
    used = issuable_commands(ct, ROW_POLICIES[policy], pim)
    assert {n for n, u in zip(ct.names, used, strict=True) if u} == names


def _stream(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Reads and writes over 64 MiB (row hits, conflicts, merges), some with PIM flags."""
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, 1 << 20, n, dtype=np.int64) * 64
    wr = (rng.random(n) < 0.3).astype(np.int64)
    arr = np.cumsum(rng.integers(0, 6, n))
    flags = np.where(rng.random(n) < 0.2, rng.integers(1, 4, n), 0)
    return addr, wr, arr, flags


@pytest.mark.parametrize(("policy", "pim"), [("open", False), ("close", False),
                                             ("open", True)])
def test_cut_tables_replay_as_the_full_ones(hbm2, policy: str, pim: bool) -> None:  # noqa: ANN001
    profile = _with(hbm2, page_policy=policy)
    ct = compiled_timing_for(profile)
    geo = geometry(profile)
    addr, wr, arr, flags = _stream(4000, seed=11)
    if not pim:
        flags = np.zeros_like(flags)
    req = decoded_requests(profile, geo, addr, wr, arr, flags)
    cut = engine_timing(ct, profile, pim=pim)
    every = np.ones(ct.role.shape[0], dtype=np.bool_)
    full = cut._replace(**dict(zip(("upd_n", "upd_slot", "upd_f", "upd_lat"),
                                   update_lists(ct.lat, every), strict=True)),
                        win_next=ct.win_next)
    assert cut.upd_n.sum() < full.upd_n.sum()
    outs = []
    for tm in (cut, full):
        out, log = call_kernel(simulate, req, geo, tm, SCHEDULERS["frfcfs"],
                               ROW_POLICIES[policy], REFRESH_ALL_BANK, True, pim,
                               16 * addr.shape[0], 10_000_000)
        outs.append((out, log))
    (o1, l1), (o2, l2) = outs
    assert o1.stats[S_STATUS] == 0  # not stalled
    for a, b in zip(o1, o2, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(l1, l2, strict=True):
        np.testing.assert_array_equal(a, b)
