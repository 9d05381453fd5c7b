"""The precision's effect on a supernet's estimate is real: on data whose labels a subnet
draws from its embedding rows (:mod:`tests.codesign.quant.teacher`), int4 tables cost
measurable log loss, fp16 tables next to none.

Thresholds, from what each type does to a row: fp16 rounds each element by at most 2^-11
of its value, which moves the standardised teacher logit by about 1e-3 and the log loss,
to second order (1/2 p (1 - p) delta^2 ALPHA^2), by about 1e-6: the test allows 2e-4, the
float noise of a refit. int4 keeps 16 levels per row (a step of 1/15 of the row's
range, an error of up to half a step per element: several percent of each embedding),
which this teacher, whose labels hang on those rows, cannot absorb: the test asks for at
least 0.005 (the run measures about 0.03). int8 (255 levels) must cost under a tenth of
int4's cost.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codesign.quant import Precision
from codesign.train.finetune import estimate_subnet
from tests.codesign.quant.teacher import SCHEMA, teacher_cache, teacher_spec


@pytest.mark.slow
def test_int4_tables_cost_log_loss_and_fp16_next_to_none(tmp_path: Path) -> None:
    data, net = teacher_cache(tmp_path / "teacher")
    spec = teacher_spec()

    def cost(dtype: str) -> float:
        p = Precision(tables={f: dtype for f in SCHEMA.sparse_names})
        return estimate_subnet(net, spec, data, 100, precision=p).logloss - base

    base = estimate_subnet(net, spec, data, 100).logloss
    fp16, int8, int4 = cost("fp16"), cost("int8"), cost("int4")
    assert abs(fp16) <= 2e-4
    assert int4 >= 0.005
    assert int8 <= int4 / 10
    # and the precision reaches the body: int8 operators move the estimate too
    ops = Precision(ops={"final": "int8", "b6.fc": "int8"})
    assert estimate_subnet(net, spec, data, 100, precision=ops).logloss != pytest.approx(base, abs=1e-9)
