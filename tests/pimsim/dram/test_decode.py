"""The compiled decode of a chunk: every field as the numpy AddressMapper decodes it, and
the engine indices by their definitions (pimsim.dram.state: B, G, Q channel-major)."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.dram.address import AddressMapper
from pimsim.dram.decode import decode_requests
from pimsim.dram.run import geometry
from pimsim.hw.load import load_profile


@pytest.mark.parametrize(("name", "queues"), [("hbm2", "per_bank"), ("ddr4_3200", "per_bank"),
                                               ("ddr4_3200", "shared"),
                                               ("ddr4_recnmp", "per_bank")])
def test_decode_matches_the_address_mapper(name: str, queues: str) -> None:
    base = load_profile(name)
    profile = base.model_copy(update={"controller": base.controller.model_copy(
        update={"queue_structure": queues})})
    geo = geometry(profile)
    mapper = AddressMapper(profile)
    rng = np.random.default_rng(7)
    addr = rng.integers(0, int(profile.capacity_bytes), 5000, dtype=np.int64)
    zeros = np.zeros(addr.shape[0], dtype=np.int64)
    req = decode_requests(mapper, geo, addr, zeros, zeros, zeros)
    dec = mapper.decode(addr)
    for field in ("channel", "rank", "row", "column"):
        np.testing.assert_array_equal(getattr(req, field), getattr(dec, field))
    d = profile.dram
    rank_of_system = dec.channel * d.ranks + dec.rank
    bank_in_rank = dec.bankgroup * d.banks_per_group + dec.bank
    banks_per_rank = d.bankgroups * d.banks_per_group
    np.testing.assert_array_equal(req.bank, rank_of_system * banks_per_rank + bank_in_rank)
    np.testing.assert_array_equal(req.bankgroup, rank_of_system * d.bankgroups + dec.bankgroup)
    per_bank = profile.controller.queue_structure == "per_bank"
    queue_in_channel = dec.rank * banks_per_rank + bank_in_rank if per_bank else dec.rank
    np.testing.assert_array_equal(req.queue, dec.channel * geo.nq_ch + queue_in_channel)
    assert req.address is addr


@pytest.mark.parametrize(("name", "lanes"), [("hbm2", 2), ("hbm2", 3), ("ddr4_3200", 2)])
def test_split_by_lane_is_selection_and_shift(name: str, lanes: int) -> None:
    """Each lane's part is the whole decode's requests on its channels, in stream order,
    with channel, bank, bank-group and queue indices counted from its first channel."""
    from pimsim.dram.stream import EngineSetup  # lazy: the engine setup imports the kernel

    profile = load_profile(name)
    setup = EngineSetup.of(profile, pim=False, stall_limit_cycles=1000)
    geo = setup.geo
    rng = np.random.default_rng(11)
    n = 4000
    addr = rng.integers(0, int(profile.capacity_bytes), n, dtype=np.int64)
    wr = rng.integers(0, 2, n, dtype=np.int64)
    arr = np.sort(rng.integers(0, 10**6, n))
    fl = np.zeros(n, dtype=np.int64)
    lane_of = np.arange(geo.n_ch, dtype=np.int64) * lanes // geo.n_ch
    firsts = [int(np.argmax(lane_of == g)) for g in range(lanes)]
    whole = decode_requests(AddressMapper(profile), geo, addr, wr, arr, fl)
    parts = setup.decode_by_lane(addr, wr, arr, fl, 500, lane_of, firsts)
    assert sum(len(index) for _, index in parts) == n
    for g, (req, index) in enumerate(parts):
        sel = np.flatnonzero(lane_of[whole.channel] == g)
        np.testing.assert_array_equal(index, 500 + sel)
        c0 = firsts[g]
        shift = {"channel": c0, "bank": c0 * geo.n_rk * geo.nb_rank,
                 "bankgroup": c0 * geo.n_rk * geo.n_bg, "queue": c0 * geo.nq_ch}
        for field in whole._fields:
            np.testing.assert_array_equal(getattr(req, field),
                                          getattr(whole, field)[sel] - shift.get(field, 0),
                                          err_msg=field)
        # a lane's thread decodes its own part alone: the same arrays
        ((own, own_index),) = setup.decode_by_lane(addr, wr, arr, fl, 500, lane_of, firsts,
                                                   lanes=[g])
        np.testing.assert_array_equal(own_index, index)
        for field in whole._fields:
            np.testing.assert_array_equal(getattr(own, field), getattr(req, field),
                                          err_msg=field)
