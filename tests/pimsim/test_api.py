"""The public API of pimsim/__init__.py: every name listed, documented and of its home module."""

from __future__ import annotations

import pimsim
from pimsim.requests.replay import replay
from pimsim.sim.engine import kernel_costs, simulate
from pimsim.sim.trace import ENERGY_COLUMNS, Trace
from pimsim.workload.graph import Workload


def test_every_listed_name_exists_and_is_in_the_docstring() -> None:
    assert pimsim.__doc__ is not None
    for name in pimsim.__all__:
        assert hasattr(pimsim, name), name
        assert name in pimsim.__doc__, name


def test_names_are_the_home_modules_objects() -> None:
    assert (pimsim.simulate, pimsim.kernel_costs) == (simulate, kernel_costs)
    assert pimsim.replay is replay  # the function, not the module pimsim.requests.replay
    assert (pimsim.Trace, pimsim.Workload, pimsim.ENERGY_COLUMNS) == (Trace, Workload,
                                                                      ENERGY_COLUMNS)
