"""pimsim: a cycle-approximate simulator of banked DRAM with Processing-In-Memory units."""

from pimsim.errors import PimsimError, ProfileError, TraceFormatError, WorkloadError

__all__ = ["PimsimError", "ProfileError", "TraceFormatError", "WorkloadError"]
__version__ = "0.1.0"
