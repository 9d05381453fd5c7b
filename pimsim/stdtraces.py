"""Re-exports of pimsim.requests.traces; to be removed with the layout move."""

from pimsim.requests.traces import (  # noqa: F401
    TRACE_NAMES,
    rand_trace,
    seq_trace,
    standard_trace,
    standard_traces,
)
