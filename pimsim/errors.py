"""The one exception family of pimsim.

Every message names where the bad input is (file, line or key path), the value found and
what is accepted. The CLI prints the message and exits with status 2.
"""

from __future__ import annotations


class PimsimError(Exception):
    """Base of every error pimsim raises on bad input or an impossible request."""


class ProfileError(PimsimError):
    """A hardware profile (YAML or DRAMsim3 .ini) is malformed or inconsistent."""


class TraceFormatError(PimsimError):
    """A request trace file has a malformed line."""


class WorkloadError(PimsimError):
    """A workload (kernels, DAG, placement) is malformed or cannot run on a profile."""
