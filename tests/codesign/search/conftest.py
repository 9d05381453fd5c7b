"""A tiny trained supernet and its data for the co-search tests of this package: 3,000
synthetic Criteo rows (buckets capped at 1,024) and one epoch on 512 of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from codesign.data.cache import CtrData
from codesign.data.synthetic import make_synthetic_cache
from codesign.train.config import TrainConfig
from codesign.train.supernet import train_supernet


@pytest.fixture(scope="package")
def tiny_supernet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """``(data cache folder, supernet checkpoint folder)``, trained with one torch thread
    (restored afterwards)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("cosearch")
    make_synthetic_cache("criteo", 3000, root / "data", seed=0, cap=2**10, quiet=True)
    cfg = TrainConfig.make(epochs=1, seed=0, checkpoint_dir=root / "supernet", train_rows=512,
                           quiet=True, num_threads=1)
    train_supernet(CtrData.open(root / "data"), cfg, space="full", resume=False)
    yield root / "data", root / "supernet"
    torch.set_num_threads(old)
