"""pimsim.util.jit: Numba's NumPy support is imported without SciPy's BLAS, and nothing else
loses it; each case runs in a fresh interpreter (the modules a test process already holds
would decide the outcome)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_replay_does_not_import_scipy_linalg_and_later_imports_still_work() -> None:
    pytest.importorskip("scipy.linalg", reason="SciPy is not installed: there is no probe")
    got = _run("""
        import json, sys
        import numpy as np
        import pimsim
        profile = pimsim.load_profile("hbm2")
        res = pimsim.replay(profile, np.arange(64, dtype=np.int64) * 64,
                            np.zeros(64, dtype=bool), np.zeros(64, dtype=np.int64))
        after_replay = "scipy.linalg" in sys.modules
        import scipy.linalg.cython_blas  # the probe's entry was removed: a real import
        from pimsim.util.jit import njit

        @njit
        def dot(a, b):
            return np.dot(a, b)

        a = np.arange(4.0)
        print(json.dumps({"requests": int(res.dram.requests), "scipy_linalg": after_replay,
                          "blas_module": type(sys.modules["scipy.linalg.cython_blas"]).__name__,
                          "dot": float(dot(a, a))}))
    """)
    assert got["requests"] == 64
    assert got["scipy_linalg"] is False
    assert got["blas_module"] == "module"
    assert got["dot"] == 0.0 + 1.0 + 4.0 + 9.0  # BLAS's np.dot in compiled code still works


def test_nothing_is_skipped_when_scipy_blas_was_loaded_first() -> None:
    pytest.importorskip("scipy.linalg", reason="SciPy is not installed: there is no probe")
    got = _run("""
        import json, sys
        import scipy.linalg.cython_blas
        import pimsim.util.jit as jit
        import numba.np.arraymath as am
        print(json.dumps({"again": jit.import_numpy_support(), "have_blas": am._HAVE_BLAS}))
    """)
    # imported before: the probe found SciPy's BLAS, and a second call changes nothing
    assert got == {"again": False, "have_blas": True}
