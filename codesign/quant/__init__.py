"""Precision of a subnet: the data type of each embedding table and dense operator, and the
crossbar arithmetic of operators placed on a crossbar PIM, as the accuracy estimate and the
simulator read them."""

from codesign.quant.precision import (
    DENSE_DTYPES,
    TABLE_DTYPES,
    CrossbarQuant,
    Precision,
)

__all__ = ["DENSE_DTYPES", "TABLE_DTYPES", "CrossbarQuant", "Precision"]
