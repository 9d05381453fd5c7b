"""Numba for pimsim's compiled functions: every module that compiles takes ``njit`` (and
the rest of Numba) through here, so that Numba's NumPy support is imported first without
its BLAS probe.

Numba's first compilation or cache load imports ``numba.np.arraymath``, which imports
``scipy.linalg`` (when SciPy is installed, as scikit-learn brings it) only to learn whether
a BLAS is there for ``np.correlate`` and ``np.convolve`` of floats. That import is about
0.2 s of the 1 s a short ``pimsim replay`` takes (``benchmarks/replay_scale.py``'s start-up
line). pimsim's compiled code calls neither function, so the probe is answered "no BLAS"
(an import of a ``None`` entry of ``sys.modules`` raises ImportError) and the entry is
removed again at once: a later ``import scipy.linalg`` works, and so does ``np.dot`` in
compiled code, which checks for a BLAS when it is compiled. Nothing changes when SciPy or
Numba's NumPy support was imported before.
"""

from __future__ import annotations

import sys

#: the module numba.np.arraymath imports to probe for a BLAS
BLAS_PROBE_MODULE = "scipy.linalg.cython_blas"


def import_numpy_support() -> bool:
    """Import ``numba.np.arraymath`` with its BLAS probe answered "none"; returns whether
    the probe was skipped (False: already imported, or SciPy's BLAS already loaded)."""
    if "numba.np.arraymath" in sys.modules or BLAS_PROBE_MODULE in sys.modules:
        return False
    sys.modules[BLAS_PROBE_MODULE] = None  # type: ignore[assignment]
    try:
        # lazy: only here is the probe answered "none" (see the module docstring)
        import numba.np.arraymath  # noqa: F401
    finally:
        if BLAS_PROBE_MODULE in sys.modules and sys.modules[BLAS_PROBE_MODULE] is None:
            del sys.modules[BLAS_PROBE_MODULE]
    return True


import_numpy_support()

from numba import njit  # noqa: E402

__all__ = ["BLAS_PROBE_MODULE", "import_numpy_support", "njit"]
