"""What one kernel costs before scheduling: its DRAM command stream, compute time and energy.

``memory`` replays address streams through the DRAM engine and prices them (the cost
types every unit shares); ``layout`` places tables, weights and buffers in the address
space; ``llc`` models the host's row cache; ``host`` is the host roofline; ``pim`` holds
one class per PIM kind behind a small interface, registered by kind name. The SimPy layer
(``pimsim.sim.engine``) schedules the :class:`pimsim.cost.memory.KernelCost` values they return.
"""
