"""Re-exports of pimsim.dram.address; to be removed with the layout move."""

from pimsim.dram.address import FIELDS, AddressMapper, DecodedAddresses

__all__ = ["FIELDS", "AddressMapper", "DecodedAddresses"]
