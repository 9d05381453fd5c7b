"""Property tests: random request streams on every standard, page policy, queue structure
and scheduler, every command checked by the independent validator in
``tests.helpers.cmdlog_validator``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pimsim.dram import FLAG_ALL_BANK, FLAG_INTERNAL, run_requests
from pimsim.dram.address import AddressMapper
from pimsim.hw.load import load_profile
from tests.helpers.cmdlog_validator import validate_command_log, validate_write_buffer

PROFILES = {"DDR4": "ddr4_3200", "HBM2": "hbm2", "GDDR6": "gddr6"}


def _profile(std: str, policy: str):
    p = load_profile(PROFILES[std])
    if policy != p.controller.page_policy:
        p = p.model_copy(deep=True)
        p.controller.page_policy = policy
    return p


_CACHE: dict[tuple[str, str], object] = {}


def profile_for(std: str, policy: str):
    key = (std, policy)
    if key not in _CACHE:
        _CACHE[key] = _profile(std, policy)
    return _CACHE[key]


@st.composite
def streams(draw, ranks: int, with_flags: bool = False):
    n = draw(st.integers(1, 300))
    ints = lambda hi: st.lists(st.integers(0, hi), min_size=n, max_size=n)  # noqa: E731
    fields = dict(
        channel=draw(ints(1)), rank=draw(ints(ranks - 1)), bankgroup=draw(ints(3)),
        bank=draw(ints(1)), row=draw(ints(3)), column=draw(ints(7)),
    )
    wr = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    gaps = draw(st.lists(st.sampled_from([0, 0, 0, 1, 3, 20, 200]), min_size=n, max_size=n))
    flags = None
    if with_flags:
        flags = draw(st.lists(st.sampled_from([0, 0, 0, FLAG_INTERNAL,
                                               FLAG_INTERNAL | FLAG_ALL_BANK]),
                              min_size=n, max_size=n))
    return fields, np.array(wr), np.cumsum(gaps), flags


def _check(profile, stream) -> None:
    fields, wr, arr, flags = stream
    m = AddressMapper(profile)
    f = dict(fields)
    f["channel"] = np.minimum(f["channel"], profile.dram.channels - 1)
    addr = m.encode(**{k: np.asarray(v) for k, v in f.items()})
    fl = None if flags is None else np.asarray(flags, np.uint8)
    res = run_requests(profile, addr, wr, arr, flags=fl, record_commands=True)
    errors = validate_command_log(profile, res.command_log)
    assert errors == [], "\n".join(errors[:10])
    if flags is None:
        errors = validate_write_buffer(profile, addr, wr, res)
        assert errors == [], "\n".join(errors[:10])
    # every request completes, after its admission, which is not before its arrival
    assert (res.admit_cycle >= arr).all()
    assert (res.complete_cycle > res.admit_cycle).all()
    # every request that got a command of its own has exactly one column command
    col = res.command_log[res.command_log.command.str.match(r"^(RD|WR)")]
    served = col.request.to_numpy()
    assert len(np.unique(served)) == len(served)
    assert len(served) + res.merged_reads + res.merged_writes == len(addr)


def _check_random_streams(profile, max_examples: int, with_flags: bool = False) -> None:
    """Run :func:`_check` on ``max_examples`` random streams for ``profile``."""

    @settings(max_examples=max_examples, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(stream=streams(profile.dram.ranks, with_flags=with_flags))
    def run(stream):
        _check(profile, stream)

    run()


@pytest.mark.parametrize("policy", ["open", "close"])
@pytest.mark.parametrize("std", ["DDR4", "HBM2", "GDDR6"])
def test_random_streams_are_legal(std, policy):
    _check_random_streams(profile_for(std, policy), max_examples=30)


@pytest.mark.parametrize("std", ["HBM2", "DDR4"])
def test_random_pim_streams_are_legal(std):
    _check_random_streams(profile_for(std, "open"), max_examples=20, with_flags=True)


def test_validator_catches_violations():
    """The validator is not vacuous: hand-made illegal logs are reported."""
    p = profile_for("HBM2", "open")
    t = p.timing

    def log(rows):
        return pd.DataFrame(rows, columns=["cycle", "command", "channel", "rank", "bankgroup",
                                           "bank", "row", "column", "request"])

    ok = log([(0, "ACT", 0, 0, 0, 0, 1, 0, 0), (t.tRCD_RD, "RD", 0, 0, 0, 0, 1, 0, 0)])
    assert validate_command_log(p, ok) == []
    early = log([(0, "ACT", 0, 0, 0, 0, 1, 0, 0), (t.tRCD_RD - 1, "RD", 0, 0, 0, 0, 1, 0, 0)])
    assert any("tRCD" in e for e in validate_command_log(p, early))
    wrong_row = log([(0, "ACT", 0, 0, 0, 0, 1, 0, 0), (40, "RD", 0, 0, 0, 0, 2, 0, 0)])
    assert any("open row" in e for e in validate_command_log(p, wrong_row))
    double_act = log([(0, "ACT", 0, 0, 0, 0, 1, 0, 0), (100, "ACT", 0, 0, 0, 0, 2, 0, 0)])
    assert any("open" in e for e in validate_command_log(p, double_act))
    faw = log([(i * t.tRRD_L, "ACT", 0, 0, i % 4, i // 4, 1, 0, 0) for i in range(5)])
    assert any("tFAW" in e for e in validate_command_log(p, faw))
    bus = log([(0, "ACT", 0, 0, 0, 0, 1, 0, 0), (0 + 1, "ACT", 0, 0, 1, 0, 1, 0, 0),
               (40, "RD", 0, 0, 0, 0, 1, 0, 0), (41, "RD", 0, 0, 1, 0, 1, 0, 0)])
    assert any("overlap" in e for e in validate_command_log(p, bus))
    during_ref = log([(0, "REF", 0, 0, -1, -1, -1, -1, -1), (10, "ACT", 0, 0, 0, 0, 1, 0, 0)])
    assert any("tRFC" in e for e in validate_command_log(p, during_ref))


@pytest.mark.parametrize("structure, scheduler", [("shared", "frfcfs"), ("per_bank", "fcfs"),
                                                  ("shared", "fcfs")])
def test_queue_structures_and_schedulers_are_legal(structure, scheduler):
    base = profile_for("DDR4", "open").model_copy(deep=True)
    base.controller.queue_structure = structure
    base.controller.scheduler = scheduler
    _check_random_streams(base, max_examples=15, with_flags=True)
