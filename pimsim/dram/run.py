"""run_requests: a request stream through a profile's memory system, and the checks and
compile-time dispatch in front of the kernel."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numba
import numpy as np
from numba import types as nbtypes

from pimsim.dram.address import AddressMapper
from pimsim.dram.codes import (
    FLAG_ALL_BANK,
    FLAG_INTERNAL,
    FLAGS_ALL,
    REFRESH_ALL_BANK,
    ROW_POLICIES,
    S_NLOG,
    S_STATUS,
    SCHEDULERS,
)
from pimsim.dram.decode import decode_requests
from pimsim.dram.kernel import simulate
from pimsim.dram.result import DramResult, command_log_frame, dram_result
from pimsim.dram.state import Geometry, Requests
from pimsim.dram.tables import engine_timing
from pimsim.errors import PimsimError
from pimsim.hw.schema import Profile
from pimsim.standards import CompiledTiming, compile_timing, get_standard

#: cycles without progress (no admission, no request served) while requests are
#: outstanding after which a replay is declared deadlocked. A legal schedule never waits
#: longer than a few refresh intervals (thousands of cycles); this is four orders of
#: magnitude above that, and reached in well under a second of replay.
DEFAULT_STALL_LIMIT_CYCLES = 50_000_000

#: command-log entries allocated per request: ACT, PRE and the column command, plus one
#: for refresh's PREA / REF; LOG_SLACK more for refreshes of sparse streams. A log that
#: overflows anyway is replayed once with exactly the room it needs.
LOG_ENTRIES_PER_REQUEST = 4
LOG_SLACK = 1024


@lru_cache(maxsize=64)
def _compiled_from_json(profile_json: str) -> CompiledTiming:
    profile = Profile.model_validate_json(profile_json)
    return compile_timing(get_standard(profile.dram.standard), profile)


def compiled_timing_for(profile: Profile) -> CompiledTiming:
    """The compiled timing tables of ``profile`` (a pure memo on the profile's content)."""
    return _compiled_from_json(profile.model_dump_json())


def geometry(profile: Profile) -> Geometry:
    """Sizes of ``profile``'s memory system and controller queues."""
    d = profile.dram
    nb_rank = d.bankgroups * d.banks_per_group
    per_bank = profile.controller.queue_structure == "per_bank"
    nq_ch = d.ranks * nb_rank if per_bank else d.ranks
    q_rank = np.arange(nq_ch, dtype=np.int64) // (nb_rank if per_bank else 1)
    bg_of = np.arange(nb_rank, dtype=np.int64) // d.banks_per_group
    std = get_standard(d.standard)
    ctl = profile.controller
    return Geometry(int(d.channels), int(d.ranks), int(d.bankgroups), int(d.banks_per_group),
                    int(nb_rank), int(nq_ch), int(ctl.trans_queue_size),
                    int(ctl.cmd_queue_size), bool(per_bank),
                    bool(std.dual_command_bus), q_rank, bg_of, int(ctl.write_buffer_entries),
                    int(ctl.write_drain_threshold))


def decoded_requests(profile: Profile, geo: Geometry, addr: np.ndarray, wr: np.ndarray,
                     arr: np.ndarray, fl: np.ndarray) -> Requests:
    """The request arrays with their decoded bank, bank group and queue indices."""
    return decode_requests(AddressMapper(profile), geo, addr, wr, arr, fl)


# ---------------------------------------------------------------- compile-time dispatch
#: arguments of the kernel's entry points (simulate, resume) compiled as literals: each
#: combination gets its own machine code, in which the branches they decide are folded
#: away (the plain replay carries no logging, all-bank or FCFS code); each is compiled once
#: and kept in Numba's on-disk cache like any other signature
_LITERAL_ARGS = ("scheduler", "row_policy", "refresh_kind", "record", "pim")
#: compiled variants of the entry points by (entry, argument key) (a memo, as Numba's own
#: dispatcher keeps)
_KERNELS: dict[tuple, Callable] = {}


def _literal_positions(entry: Callable) -> frozenset[int]:
    code = entry.py_func.__code__
    return frozenset(i for i, name in enumerate(code.co_varnames[:code.co_argcount])
                     if name in _LITERAL_ARGS)


def _type_key(a: object) -> object:
    """What decides the Numba type of a non-literal argument (cheap: numba.typeof of all
    the arguments costs about 0.1 ms a call)."""
    if isinstance(a, np.ndarray):
        f = a.flags
        return (a.dtype, a.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned)
    if isinstance(a, tuple):
        return (type(a), *(_type_key(x) for x in a))
    return type(a)


def call_kernel(entry: Callable, *args: object) -> object:
    """Call the Numba entry point ``entry`` (:func:`~pimsim.dram.kernel.simulate` or
    :func:`~pimsim.dram.kernel.resume`) with the arguments named in _LITERAL_ARGS typed as
    literals, the others as Numba's dispatcher would."""
    literal = _literal_positions(entry)
    key = (entry.py_func.__name__,
           *(a if i in literal else _type_key(a) for i, a in enumerate(args)))
    kernel = _KERNELS.get(key)
    if kernel is None:
        signature = tuple(nbtypes.literal(a) if i in literal else numba.typeof(a)
                          for i, a in enumerate(args))
        kernel = _KERNELS.setdefault(key, entry.compile(signature))
    return kernel(*args)


# ---------------------------------------------------------------- input checks
def _as_int_array(name: str, value, n: int | None, *, allow_bool: bool = False) -> np.ndarray:  # noqa: ANN001
    a = np.asarray(value)
    if a.ndim != 1:
        raise PimsimError(f"{name}: expected a 1-D array, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise PimsimError(f"{name}: length {a.shape[0]} differs from addresses ({n})")
    if a.dtype.kind == "b" and allow_bool:
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        accepted = "an integer or bool array" if allow_bool else "an integer array"
        raise PimsimError(f"{name}: dtype {a.dtype} not accepted; accepted: {accepted}")
    return a.astype(np.int64, copy=False)


def validate_requests(profile, addresses, is_write, arrival_cycles, flags=None, *,  # noqa: ANN001, ANN201
                      first_index: int = 0):
    """Checked int64 copies of the request arrays; raises PimsimError on bad input, naming
    the request by its index plus ``first_index`` (a chunk's place in a stream)."""
    addr = _as_int_array("addresses", addresses, None)
    n = addr.shape[0]
    wr = _as_int_array("is_write", is_write, n, allow_bool=True)
    arr = _as_int_array("arrival_cycles", arrival_cycles, n)
    if n and addr.min() < 0:
        i = int(np.argmax(addr < 0))
        raise PimsimError(f"addresses[{i + first_index}] = {int(addr[i])} is negative; "
                          "accepted: 0 .. capacity - 1")
    cap = int(profile.capacity_bytes)
    if n and addr.max() >= cap:
        i = int(np.argmax(addr >= cap))
        raise PimsimError(
            f"addresses[{i + first_index}] = {int(addr[i])} is beyond the capacity of profile "
            f"{profile.name!r}; accepted: 0 .. {cap - 1}"
        )
    if n and ((wr != 0) & (wr != 1)).any():
        i = int(np.argmax((wr != 0) & (wr != 1)))
        raise PimsimError(f"is_write[{i + first_index}] = {int(wr[i])}; accepted: 0/1 or bool")
    if n and arr.min() < 0:
        i = int(np.argmax(arr < 0))
        raise PimsimError(f"arrival_cycles[{i + first_index}] = {int(arr[i])} is negative; "
                          "accepted: >= 0")
    if n > 1 and (np.diff(arr) < 0).any():
        i = int(np.argmax(np.diff(arr) < 0)) + 1
        raise PimsimError(
            f"arrival_cycles[{i + first_index}] = {int(arr[i])} is before "
            f"arrival_cycles[{i - 1 + first_index}] = "
            f"{int(arr[i - 1])}; accepted: non-decreasing arrival cycles (in-order stream)"
        )
    if flags is None:
        fl = np.zeros(n, dtype=np.int64)
    else:
        fl = _as_int_array("flags", flags, n)
        if n and ((fl < 0) | (fl > FLAGS_ALL)).any():
            i = int(np.argmax((fl < 0) | (fl > FLAGS_ALL)))
            raise PimsimError(
                f"flags[{i + first_index}] = {int(fl[i])}; accepted: 0..{FLAGS_ALL} "
                f"(FLAG_INTERNAL={FLAG_INTERNAL} | FLAG_ALL_BANK={FLAG_ALL_BANK})"
            )
    return addr, wr, arr, fl


def run_requests(profile, addresses, is_write, arrival_cycles, *, flags=None,  # noqa: ANN001
                 record_commands: bool = False,
                 stall_limit_cycles: int = DEFAULT_STALL_LIMIT_CYCLES) -> DramResult:
    """Replay a request stream through ``profile``'s memory system.

    ``addresses`` are byte addresses (int), ``is_write`` bool/0-1, ``arrival_cycles``
    non-decreasing memory cycles, ``flags`` optional per-request :data:`FLAG_INTERNAL` /
    :data:`FLAG_ALL_BANK`. With ``record_commands`` the result carries the command log.
    """
    addr, wr, arr, fl = validate_requests(profile, addresses, is_write, arrival_cycles, flags)
    ct = compiled_timing_for(profile)
    geo = geometry(profile)
    req = decoded_requests(profile, geo, addr, wr, arr, fl)
    pim = bool(fl.any())
    tm = engine_timing(ct, profile, pim=pim)
    scheduler = SCHEDULERS[profile.controller.scheduler]
    row_policy = ROW_POLICIES[profile.controller.page_policy]
    record = bool(record_commands)
    log_cap = LOG_ENTRIES_PER_REQUEST * addr.shape[0] + LOG_SLACK
    while True:
        out, log = call_kernel(simulate, req, geo, tm, scheduler, row_policy,
                               REFRESH_ALL_BANK, record, pim, int(log_cap),
                               int(stall_limit_cycles))
        n_log = int(out.stats[S_NLOG])
        if not record or n_log <= log_cap:
            break
        log_cap = n_log + 16  # the log overflowed: replay with room for it
    if out.stats[S_STATUS] != 0:
        raise PimsimError(
            f"run_requests: no progress for {stall_limit_cycles} cycles on profile "
            f"{profile.name!r} (scheduler deadlock); please report this stream"
        )
    frame = None
    if record:
        frame = command_log_frame(ct, log, n_log, geo.nb_rank, geo.n_bpg)
    return dram_result(out, ct, wr, fl, int(profile.transaction_bytes), geo.nb_rank, frame)
