"""Hardware profiles: data and its validation, no simulation.

:mod:`pimsim.hw.schema` is the pydantic ``Profile`` (DRAM organisation, timing checked
against the named standard, power, controller, and the host and PIM sections) with its
derived quantities; :mod:`pimsim.hw.load` finds, loads (``extends:`` included) and saves
profiles; :mod:`pimsim.hw.dramsim3` imports a DRAMsim3 ``.ini`` (read by
:mod:`pimsim.hw.dramsim3_ini`).
"""
