"""Re-exports of pimsim.hw.host, pimsim.hw.pim and pimsim.hw.dtypes; to be removed with the layout move."""

from pimsim.hw.dtypes import DTYPE_BYTES, DType
from pimsim.hw.host import HostSection
from pimsim.hw.pim import PimSection

__all__ = ["DTYPE_BYTES", "DType", "HostSection", "PimSection"]
