"""Re-exports of codesign.nas.flops; to be removed with the layout move."""

from codesign.nas.flops import FlopsReport, MatMul, OpCount, count_flops, feature_counts

#: The matrix product's old name.
Kernel = MatMul

__all__ = ["FlopsReport", "Kernel", "MatMul", "OpCount", "count_flops", "feature_counts"]
