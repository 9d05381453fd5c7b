"""Integer codes the compiled engine shares: request flags, command roles and classes,
policy choices, sentinels and the slots of the statistics array.

Numba freezes module-level integers into the machine code, so every name here costs
nothing at run time.
"""

from __future__ import annotations

import numpy as np

from pimsim.standards import ROLE_CODES

# ---------------------------------------------------------------- request flags
#: the column access does not use the external data bus (RDI/WRI, RDAI/WRAI)
FLAG_INTERNAL = 1
#: all-bank broadcast: ACT, the column command and PRE act on every bank of the rank
FLAG_ALL_BANK = 2
#: every flag bit the engine knows
FLAGS_ALL = FLAG_INTERNAL | FLAG_ALL_BANK

# ---------------------------------------------------------------- command roles
# the standard's role codes (pimsim.standards.ROLE_CODES), which CompiledTiming.role holds
ROLE_ACT = ROLE_CODES["act"]
ROLE_PRE = ROLE_CODES["pre"]
ROLE_PREA = ROLE_CODES["prea"]
ROLE_REF = ROLE_CODES["ref"]
ROLE_RD = ROLE_CODES["rd"]
ROLE_WR = ROLE_CODES["wr"]

#: command classes a queue keeps a bound for: ACT, PRE, read column, write column
CLASS_ACT, CLASS_PRE, CLASS_RD, CLASS_WR = range(4)
N_CLASSES = 4

#: which command an entry needs next, from its bank's state
NEED_ACT, NEED_PRE, NEED_COLUMN = range(3)

#: the two command buses of a dual-command-bus standard (HBM2): row and column commands
BUS_ROW, BUS_COLUMN = range(2)

# ---------------------------------------------------------------- policies (literals)
SCHED_FRFCFS, SCHED_FCFS = range(2)
ROW_OPEN, ROW_CLOSE = range(2)
REFRESH_ALL_BANK = 0
#: the profile's spelling of each choice -> the literal the kernel is compiled for
SCHEDULERS = {"frfcfs": SCHED_FRFCFS, "fcfs": SCHED_FCFS}
ROW_POLICIES = {"open": ROW_OPEN, "close": ROW_CLOSE}
REFRESH_KINDS = {"all_bank": REFRESH_ALL_BANK}

# ---------------------------------------------------------------- sentinels
#: "no bound yet": above any cycle a replay reaches, and INF + a latency still fits int64
INF = np.int64(1) << np.int64(62)
#: a tFAW-ring entry long before cycle 0, so the first commands of a rank see no window
NEG = -(np.int64(1) << np.int64(40))

#: candidate queues are bits of one signed int64; the round robin forms (1 << nq) - 1,
#: which must stay below the sign bit, so at most 62 queues per channel use the mask
#: (more, as ddr4_recnmp's 64 per-bank queues, are walked one by one)
MASK_MAX_QUEUES = 62

#: buckets of the pending-address filter of admission: a power of two (the hash is a
#: mask), 32 KiB of counts that stay in cache; a zero count proves no pending request has
#: the address, a collision only costs the merge scan, so any hash gives the same results
PEND_BUCKETS = 4096
#: the filter's hash folds address bits 17 and up (rank, bank, row under the shipped
#: mappings) onto the low bits, so that streams differing only there still spread out
PEND_FOLD_SHIFT = 17

# ---------------------------------------------------------------- statistics slots
(S_HITS, S_MISSES, S_CONFLICTS, S_STATUS, S_NLOG, S_END, S_STEPS, S_SCANS,
 S_MERGED_RD, S_MERGED_WR) = range(10)
N_STATS = 10
#: S_STATUS value of a replay stopped by the stall limit
STATUS_STALLED = 1
