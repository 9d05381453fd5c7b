"""Request streams: the request arrays, the standard traces, trace files and their replay.

:mod:`~pimsim.requests.arrays` defines :class:`~pimsim.requests.arrays.Requests`,
:mod:`~pimsim.requests.traces` the standard traces (seq, rand, embed, gemv, idle),
:mod:`~pimsim.requests.tracefile` the DRAMsim3 one-line file format and
:mod:`~pimsim.requests.replay` the replay of a stream through the DRAM engine with energy.
"""
