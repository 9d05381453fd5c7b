"""Re-exports of codesign.nas.flops; to be removed with the layout move."""

from codesign.nas.flops import FlopsReport, MatMul, OpCount, count_flops, feature_counts

#: The name the modules importing from here use.
Kernel = MatMul

__all__ = ["FlopsReport", "Kernel", "MatMul", "OpCount", "count_flops", "feature_counts"]
