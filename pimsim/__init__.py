"""pimsim: a cycle-approximate simulator of banked DRAM with Processing-In-Memory units.

The two entry points most users want::

    import pimsim
    profile = pimsim.load_profile("hbm2")
    result = pimsim.replay(profile, addresses, is_write, arrival_cycles)   # request trace
    trace = pimsim.simulate(workload, pimsim.load_profile("hbm2_pim"))     # kernels + PIM
"""

from pimsim.errors import PimsimError, ProfileError, TraceFormatError, WorkloadError
from pimsim.profile import Profile, load_profile
from pimsim.replay import replay  # noqa: E402  (rebinds the name from the submodule)
from pimsim.engine import simulate

__all__ = [
    "PimsimError",
    "Profile",
    "ProfileError",
    "TraceFormatError",
    "WorkloadError",
    "load_profile",
    "replay",
    "simulate",
]
__version__ = "0.1.0"
