"""Re-exports of pimsim.util.fileio; to be removed with the layout move."""

from pimsim.util.fileio import (  # noqa: F401
    atomic_open,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)
