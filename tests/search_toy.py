"""Re-exports of codesign.search.toy; to be removed with the layout move."""

from codesign.search.toy import TARGET, IntVectorProblem, fail_on_three, slow_square

__all__ = ["TARGET", "IntVectorProblem", "fail_on_three", "slow_square"]
