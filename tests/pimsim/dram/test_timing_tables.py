"""The engine's timing update walks only the constraints that can hold a command back
(pimsim.dram.tables): the issuable commands are those the row policy and the PIM flags
name, the cut list of a command is the one derived by hand from the profile's timing,
and a replay with the cut tables matches, command by command, the replay that updates
every register of every constraint."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.dram.codes import REFRESH_ALL_BANK, ROW_POLICIES, S_STATUS, SCHEDULERS
from pimsim.dram.kernel import simulate
from pimsim.dram.run import call_kernel, compiled_timing_for, decoded_requests, geometry
from pimsim.dram.tables import engine_timing, issuable_commands, update_lists
from pimsim.hw.schema import Profile
from pimsim.standards import SLOT_BANK, SLOT_CHANNEL, SLOT_RANK


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


def test_cut_list_of_a_read_on_hbm2(hbm2) -> None:  # noqa: ANN001
    """HBM2 (hw_profiles/hbm2.yaml: one rank, BL4 on a DDR bus = 2 cycles, CL 14, CWL 4,
    tRTP 5, tRTRS 2, tCCD_L 2, tCCD_S 1). A RD holds back: PRE of its bank by tRTP, the
    rank's PREA by tRTP, the next RD on the channel's data bus by the burst (2), a WR by
    CL + burst + tRTRS - CWL = 14. Cut: tCCD_L (2) and tCCD_S (1), no longer than the
    bus's 2; the sibling-rank turnarounds (one rank)."""
    ct = compiled_timing_for(hbm2)
    tm = engine_timing(ct, hbm2, pim=False)
    rd = ct.names.index("RD")
    got = {(int(tm.upd_slot[rd, e]), ct.names[tm.upd_f[rd, e]], int(tm.upd_lat[rd, e]))
           for e in range(tm.upd_n[rd])}
    assert got == {(SLOT_BANK, "PRE", 5), (SLOT_RANK, "PREA", 5), (SLOT_CHANNEL, "RD", 2),
                   (SLOT_CHANNEL, "WR", 14 + 2 + 2 - 4)}


def _stream(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Reads and writes over 64 MiB (row hits, conflicts, merges), some with PIM flags."""
    rng = np.random.default_rng(seed)
    addr = rng.integers(0, 1 << 20, n, dtype=np.int64) * 64
    wr = (rng.random(n) < 0.3).astype(np.int64)
    arr = np.cumsum(rng.integers(0, 6, n))
    flags = np.where(rng.random(n) < 0.2, rng.integers(1, 4, n), 0)
    return addr, wr, arr, flags


@pytest.mark.parametrize(("name", "policy", "pim"), [
    ("hbm2", "open", False), ("hbm2", "close", False), ("hbm2", "open", True),
    ("ddr4", "open", False),  # two ranks: the sibling-rank constraints stay
])
def test_cut_tables_replay_as_the_full_ones(name: str, policy: str, pim: bool,
                                            request: pytest.FixtureRequest) -> None:
    profile = _with(request.getfixturevalue(name), page_policy=policy)
    ct = compiled_timing_for(profile)
    geo = geometry(profile)
    addr, wr, arr, flags = _stream(4000, seed=11)
    if not pim:
        flags = np.zeros_like(flags)
    req = decoded_requests(profile, geo, addr, wr, arr, flags)
    cut = engine_timing(ct, profile, pim=pim)
    full = cut._replace(**dict(zip(("upd_n", "upd_slot", "upd_f", "upd_lat"),
                                   update_lists(ct.lat), strict=True)),
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
