"""Small subnets that train in a few steps, and model-state comparisons, for the training and
command-line tests."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from codesign.nas.moves import sample
from codesign.nas.space import SubnetSpec


def small_spec(seed: int = 0, width: int = 32, tokens: int = 16, space: str = "full") -> SubnetSpec:
    """A sampled NASRec-Full subnet shrunk to small widths (FC / EFC only), whose last block
    also reads the raw features; ``space`` relabels it (the blocks are valid in both)."""
    spec = sample("full", np.random.default_rng(seed))
    blocks = [
        dataclasses.replace(b, dense_op="fc", sparse_op="efc", dense_width=width, sparse_tokens=tokens)
        for b in spec.blocks
    ]
    blocks[-1] = dataclasses.replace(blocks[-1], dense_inputs=(0, 6), sparse_inputs=(0, 6))
    return dataclasses.replace(spec, blocks=tuple(blocks), space=space)


def state(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``net``'s state dict."""
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float = 1e-6) -> None:
    """Both states hold the same parameters, equal within ``atol``."""
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=atol, rtol=0, msg=f"parameter {k}")
