"""Re-exports of pimsim.cost.layout; to be removed with the layout move."""

from pimsim.cost.layout import Layout

__all__ = ["Layout"]
