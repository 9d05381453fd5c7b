"""A request stream as three arrays: byte addresses, write flags and arrival cycles.

:class:`Requests` is what the trace-file reader returns, what the standard traces are, and
what :func:`pimsim.requests.replay.replay` takes apart. Its arrays are checked where they
enter the engine (:func:`pimsim.dram.validate_requests`, the one set of request-array
checks) or a file (:func:`pimsim.requests.tracefile.write_trace`, through the same checks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Requests"]


@dataclass(frozen=True)
class Requests:
    """One request per index: ``addresses[i]`` (bytes), ``is_write[i]``, ``arrival_cycles[i]``
    (memory cycles, non-decreasing); ``name`` says where the stream comes from."""

    addresses: npt.NDArray[np.integer]
    is_write: npt.NDArray[np.bool_]
    arrival_cycles: npt.NDArray[np.int64]
    name: str = ""

    def __len__(self) -> int:
        return int(self.addresses.shape[0])
