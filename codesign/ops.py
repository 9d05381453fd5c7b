"""Re-exports of codesign.nas.ops; to be removed with the layout move."""

from torch import Tensor

from codesign.nas.ops import NUM_HEADS, Dims, Segment, Sizes, dot_tokens, init_parameters
from codesign.nas.ops import FM as _FM

__all__ = ["NUM_HEADS", "Dims", "ElasticFM", "Segment", "dot_tokens", "init_parameters"]


class ElasticFM(_FM):
    """codesign.nas.ops.FM with the arguments its importers here pass
    (tests/test_supernet_stability.py): built from ``(emb_dim, max_out)``, called as
    ``fm(x, dims)``."""

    def __init__(self, emb_dim: int, max_out: int) -> None:
        super().__init__(Sizes(dense_sources=(max_out,), sparse_sources=(), max_dense=max_out,
                               max_tokens=0, emb_dim=emb_dim))

    def forward(self, x: Tensor, dims: Dims) -> Tensor:  # type: ignore[override]
        return super().forward(x, dims=dims)
