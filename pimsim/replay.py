"""Re-exports of pimsim.requests.replay; to be removed with the layout move."""

from pimsim.requests.replay import ReplayResult, energy_counts, replay  # noqa: F401
