"""Re-exports of pimsim.requests.tracefile; to be removed with the layout move."""

from pimsim.requests.tracefile import read_trace, write_trace  # noqa: F401
