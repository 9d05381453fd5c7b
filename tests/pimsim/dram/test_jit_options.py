"""The guards around Numba's cache and its private no-refcount option."""

from __future__ import annotations

from pathlib import Path

import pytest

from pimsim.dram import jitcache, state


def test_cache_purged_when_sources_change(tmp_path: Path) -> None:
    (tmp_path / "kernel.simulate-1.py311.nbi").write_text("index")
    (tmp_path / "kernel.simulate-1.py311.1.nbc").write_text("code")
    (tmp_path / "kernel.cpython-311.pyc").write_text("bytecode")
    assert jitcache.purge_if_stale(tmp_path, "a")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dram_sources.sha256", "kernel.cpython-311.pyc"]
    (tmp_path / "kernel.simulate-1.py311.nbi").write_text("index")
    assert not jitcache.purge_if_stale(tmp_path, "a")  # same sources: kept
    assert (tmp_path / "kernel.simulate-1.py311.nbi").exists()
    assert jitcache.purge_if_stale(tmp_path, "b")
    assert not (tmp_path / "kernel.simulate-1.py311.nbi").exists()


def test_sources_hash_follows_content(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    h1 = jitcache.sources_hash(tmp_path)
    (tmp_path / "a.py").write_text("x = 2\n")
    assert jitcache.sources_hash(tmp_path) != h1


def test_cache_dir_is_numbas() -> None:
    assert isinstance(jitcache.cache_dir(), Path)


def test_refused_nrt_option_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    assert state.no_refcount_options() in ({state.NRT_OPTION: False}, {})

    def refuse(flags, options):  # noqa: ANN001, ANN202
        raise KeyError(f"Unrecognized options: {set(options)}")

    monkeypatch.setattr(state.CPUTargetOptions, "parse_as_flags", refuse)
    assert state.no_refcount_options() == {}
