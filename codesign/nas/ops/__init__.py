"""The supernet's operators, one class each (contract: :class:`codesign.nas.ops.base.Op`).

``OPS`` is the registry of the operators a block may choose, by name; the search spaces,
the supernet, the FLOPs count and the PIM mapping read it (and the operators' own
metadata) instead of naming operators. The bridge operators (``Merge``, ``FM``, ``Final``)
sit at fixed places of every block and are used as classes. Adding an operator is one
class and one line here.
"""

from codesign.nas.ops.base import (
    PORT_SIDE,
    Dims,
    Elementwise,
    Op,
    Product,
    Segment,
    Sizes,
    Standalone,
    Step,
    init_parameters,
)
from codesign.nas.ops.bridge import FM, MERGE_TOKENS, Final, Merge
from codesign.nas.ops.dense import FC, Dot, Gating, Sum, dot_tokens
from codesign.nas.ops.sparse import EFC, NUM_HEADS, Attention

OPS: dict[str, type[Op]] = {cls.name: cls for cls in (FC, Dot, Gating, Sum, Attention, EFC)}

__all__ = [
    "EFC", "FC", "FM", "MERGE_TOKENS", "NUM_HEADS", "OPS", "PORT_SIDE", "Attention", "Dims",
    "Dot", "Elementwise", "Final", "Gating", "Merge", "Op", "Product", "Segment", "Sizes",
    "Standalone", "Step", "Sum", "dot_tokens", "init_parameters",
]
