"""A small cache whose labels a known subnet draws: the teacher.

The labels are Bernoulli draws of ``sigmoid(ALPHA * z)``, where ``z`` is a fixed subnet's
standardised logit on the row (``z`` depends on the raw dense features and, through
the embedding tables, on the sparse ids). The teacher lies inside the model family that
the head refit searches (the refit can scale the logit layer by ALPHA), so at fp32 the
refitted estimate reaches the Bayes log loss on the draws, and any precision's extra log
loss is information the precision destroyed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from codesign.data.cache import CacheWriter, CtrData
from codesign.data.schema import DatasetSchema
from codesign.nas.space import SubnetSpec
from codesign.train.supernet import build_supernet
from tests.codesign.train.subnets import small_spec

#: Rows of the teacher cache (80 / 10 / 10 split: 16,000 train, 2,000 val).
ROWS = 20_000
#: Values per sparse field (row 0, the missing value, is never drawn).
CARDINALITY = 256
#: Logit scale of the labels: sigmoid(2.5 z) over a standardised z gives clicks between
#: a few percent and ninety-odd percent, a strongly informative teacher.
ALPHA = 2.5
SCHEMA = DatasetSchema(name="teacher", dense_names=("I1", "I2"),
                       sparse_names=("C1", "C2", "C3"), cardinalities=(CARDINALITY,) * 3)


def teacher_spec() -> SubnetSpec:
    """The subnet that draws the labels: FC / EFC blocks 16 wide over 16 tokens, the
    last block reading the raw features."""
    return small_spec(5, width=16, tokens=16, space="small")


def teacher_cache(out: Path, seed: int = 0) -> tuple[CtrData, torch.nn.Module]:
    """(the cache, the supernet whose subnet :func:`teacher_spec` drew its labels)."""
    net = build_supernet(SCHEMA, "small", 16, seed=seed)
    with torch.no_grad():  # a wide spread of embedding rows: the tables carry the signal
        net.embedding.weight.mul_(8.0)
    model = net.extract(teacher_spec()).eval()
    rng = np.random.default_rng([seed, 7])
    dense = rng.normal(size=(ROWS, 2)).astype(np.float32)
    sparse = rng.integers(1, CARDINALITY, size=(ROWS, 3)).astype(np.int64)
    with torch.no_grad():
        z = model(torch.from_numpy(dense), torch.from_numpy(sparse)).double().numpy()
    z = (z - z.mean()) / z.std()
    label = (rng.random(ROWS) < 1.0 / (1.0 + np.exp(-ALPHA * z))).astype(np.float32)
    with CacheWriter(out, SCHEMA) as w:
        w.append(dense, sparse, label)
        w.finish()
    return CtrData.open(out), net
