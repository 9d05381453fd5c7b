"""The reram_pim profile and the crossbar section: sources, searchable knobs, validation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pimsim.cli import main
from pimsim.cost.layout import Layout
from pimsim.cost.pim import pim_kernel_cost
from pimsim.errors import ProfileError
from pimsim.hw.load import load_profile, profile_from_dict
from pimsim.hw.pim import SEARCHABLE_KNOBS, PimSectionBase
from pimsim.hw.pim_crossbar import CrossbarFields
from pimsim.workload import Gemm

#: Fields of PimSectionBase the crossbar kind reads (the digital unit and the tiles).
BASE_FIELDS_USED = ("units_per_channel", "lanes", "clock_mhz", "access_bytes",
                    "alu_pj_per_op", "elementwise_fns")


def test_profile_loads_and_every_field_used_has_a_source() -> None:
    p = load_profile("reram_pim")
    assert p.pim.kind == "crossbar" and p.host is not None
    assert p.dram == load_profile("hbm2").dram  # the memory side is hbm2's
    used = set(CrossbarFields.model_fields) | set(BASE_FIELDS_USED)
    missing = sorted(f for f in used if f not in p.pim.sources)
    assert not missing, f"fields without a source: {missing}"
    assert all(len(text) > 10 for text in p.pim.sources.values())


def test_the_three_crossbar_knobs_are_searchable_and_validated() -> None:
    assert {"crossbar_size", "adc_bits", "weight_bits"} <= SEARCHABLE_KNOBS
    pim = load_profile("reram_pim").pim
    assert pim.with_knobs(crossbar_size=256).crossbar_size == 256
    assert pim.with_knobs(weight_bits=4).slices() == 2
    for knob, bad, accepted in (("crossbar_size", 100, "16, 32, 64, 128"),
                                ("adc_bits", 3, r"\[4, 5, 6, 7, 8, 9, 10\]"),
                                ("weight_bits", 12, "1..8"), ("weight_bits", 0, "1..8")):
        with pytest.raises(ValueError, match=rf"{knob} = {bad}: .*accepted: .*{accepted}"):
            pim.with_knobs(**{knob: bad})


def test_a_bad_searchable_value_names_its_key() -> None:
    data = load_profile("reram_pim").model_dump()
    data["pim"]["searchable"]["adc_bits"] = [8, 12]
    with pytest.raises(ProfileError, match=r"searchable\.adc_bits = 12: no energy"):
        profile_from_dict(data, "x.yaml")
    data = load_profile("hbm2_pim").model_dump()
    data["pim"]["searchable"]["crossbar_size"] = [128]
    with pytest.raises(ProfileError, match=r"'crossbar_size' is not a field of kind "
                                           r"'bank_simd'"):
        profile_from_dict(data, "x.yaml")


def test_knobs_move_the_cost_the_way_the_hardware_does() -> None:
    """weight_bits 4: two cells per weight, half the crossbars and conversions; adc_bits 6:
    1.20 instead of 1.67 pJ per conversion (the profile's table); crossbar_size 256: a
    256-column crossbar's ADC needs 200 ns per cycle."""
    p = load_profile("reram_pim")
    g = Gemm(name="g", m=4, k=1024, n=1024, dtype="int8", placement="pim")

    def cost(**knobs):
        prof = p.model_copy(update={"pim": p.pim.with_knobs(**knobs)}) if knobs else p
        return pim_kernel_cost(prof, g, Layout(prof), np.random.default_rng(0))

    base, w4, a6, s256 = cost(), cost(weight_bits=4), cost(adc_bits=6), cost(crossbar_size=256)
    assert w4.extra["crossbars"] * 2 == base.extra["crossbars"]
    assert w4.extra["adc_conversions"] * 2 == base.extra["adc_conversions"]
    assert a6.energy.xbar_adc_pj == pytest.approx(base.energy.xbar_adc_pj * 1.20 / 1.67)
    assert s256.compute_ns == pytest.approx(4 * 8 * 256 / 1.28 + 100)
    assert isinstance(p.pim, PimSectionBase)


@pytest.mark.parametrize("size, dac, cell, bits", [
    # with ISAAC's weight flipping a partial sum is at most (2^v - 1) x floor(R (2^w - 1) / 2)
    (128, 1, 2, 8),    # ISAAC Sec. 5: 128 rows, 1-bit inputs, 2-bit cells: 9 bits, 8 with flipping
    (128, 2, 2, 10),   # log R + v + w = 11 when both exceed 1 bit, one fewer: 3 x 192 = 576
    (256, 1, 1, 8),    # 256 x 1 x 1 = 256 needs 9 bits; flipped, floor(256 / 2) = 128: 8
    (64, 2, 3, 10),    # 3 x floor(64 x 7 / 2) = 672: 512 <= 672 < 1024 (log R + v + w - 1)
])
def test_lossless_adc_resolution_as_isaac_states_it(size, dac, cell, bits) -> None:
    pim = load_profile("reram_pim").pim.model_copy(
        update={"crossbar_size": size, "dac_bits": dac, "cell_bits": cell})
    assert pim.lossless_adc_bits() == bits


def test_profile_check_prints_the_crossbar_capacity(capsys) -> None:
    assert main(["profile", "check", "reram_pim"]) == 0
    out = capsys.readouterr().out
    assert "16,128 crossbars (8 channels x 21 tiles x 96 crossbars" in out
    # 16,128 crossbars x 4,096 int8 weights per 800 ns
    assert f"{16128 * 4096 / 800 * 1e-3:.3f}" in out
    # ISAAC Sec. 5: 128 rows, 1-bit DAC, 2-bit cells with weight flipping: its 8-bit ADC
    assert re.search(r"crossbar_lossless_adc_bits\s+8\b", out)


def test_arithmetic_follows_the_knobs() -> None:
    """The accuracy side's crossbar arithmetic is the section's, knobs applied."""
    pim = load_profile("reram_pim").pim.with_knobs(crossbar_size=256, adc_bits=6,
                                                    weight_bits=4)
    assert pim.arithmetic() == {"rows": 256, "cell_bits": 2, "weight_bits": 4,
                                "input_bits": 8, "dac_bits": 1, "adc_bits": 6}
