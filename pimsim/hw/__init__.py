"""Hardware profiles: the typed schema, loading and saving, and the DRAMsim3 importer.

Data and its validation only, no simulation: :mod:`pimsim.hw.schema` (the pydantic
``Profile``), :mod:`pimsim.hw.load` (search path, ``extends:``, YAML load and save),
:mod:`pimsim.hw.dramsim3` (DRAMsim3 ``.ini`` import).
"""
