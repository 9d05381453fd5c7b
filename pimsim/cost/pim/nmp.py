"""``buffer_nmp`` (RecNMP): a pooling unit per rank in the DIMM buffer chip.

Embedding pooling only. Tables are interleaved over the PIM channels; each lookup is an
internal read of its rank (ranks work in parallel, the channel bus is not used). The host
sends ``nmp_inst_bytes`` of instruction per lookup and reads one pooled vector per bag per
channel, while the ranks read (RecNMP pipelines its packets). Hot-row replication spreads
the lookups of the hottest rows over the ranks of their channel; an optional RankCache
(``unit_cache_bytes``, LRU by row per rank) serves repeats. The RankCache is shared by the
tables pooled on the unit: a kernel gets ``1 / cache_share`` of it (the engine passes the
number of embedding kernels on PIM). The rank's reads cross the DRAM devices' pins to the
buffer chip on the DIMM: that hop is charged at ``internal_io_pj_per_bit``. The ALU's
width is ``lanes`` 32-bit lanes; ``lanes_by_dtype`` gives narrower types their real
lane count. A row-wise quantised table (int8) is dequantised on the unit: each element
read costs a multiply-add (``scale * q + bias``) besides its pooling add, at the lanes
and energy of the table's type; the pooled vectors leave in fp32.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pimsim.cost.layout import Layout, assign_hot_to_units, hot_rows
from pimsim.cost.llc import lru_row_hits
from pimsim.cost.memory import MemCost, replay_stream
from pimsim.cost.pim.base import PimKind, PimWork, replay_per_rank
from pimsim.errors import PimsimError
from pimsim.workload import EmbeddingBag


class BufferNmpKind(PimKind):
    """RecNMP rank-NMP units (Ke et al., ISCA 2020)."""

    name: ClassVar[str] = "buffer_nmp"
    modelled_ops: ClassVar[tuple[str, ...]] = ("embedding_bag",)
    replicates_hot_rows: ClassVar[bool] = True

    def check_profile(self) -> None:
        ranks = self.profile.dram.ranks
        if self.pim.units_per_channel != ranks:
            raise PimsimError(
                f"profile {self.profile.name!r}: pim.units_per_channel = "
                f"{self.pim.units_per_channel}; accepted for buffer_nmp: one unit per rank = "
                f"dram.ranks ({ranks})"
            )

    def channel_bandwidth_gbps(self, dtype: str) -> float:
        """Every rank's own data bus at full rate, at most the ALUs' rate."""
        d, tck = self.profile.dram, self.profile.timing.tCK_ns
        rank_bw = d.bus_width / 8 * d.data_rate / tck
        return min(d.ranks * rank_bw, self.alu_gbps(dtype))

    def embedding_bag(self, k: EmbeddingBag, layout: Layout, rng: np.random.Generator,
                      replicate: int, cache_share: int = 1) -> PimWork:
        profile, pim, chans = self.profile, self.pim, self.chans
        n_ch = len(chans)
        t = k.tbl
        tx = layout.tx_bytes
        offsets, idx = k.bag_indices(rng)
        spans = layout.row_spans(idx, t.row_bytes)  # transactions of each lookup
        first = np.cumsum(spans) - spans  # each lookup's first transaction
        addr = layout.embedding_addresses(k.table, idx, t.row_bytes, t.bytes, channels=chans)
        f = layout.mapper.decode(addr.astype(np.int64))
        ranks = profile.dram.ranks
        rank = f.rank
        hot = hot_rows(idx, replicate)
        if hot.size:  # a replicated row can be read from any rank of its channel
            rank = np.repeat(assign_hot_to_units(idx, f.rank[first], hot, ranks), spans)
        unit = f.channel * ranks + rank
        lookup_units_all = unit[first]  # every lookup is pooled by its rank's unit
        hits = np.zeros(idx.size, dtype=bool)
        if pim.unit_cache_bytes:
            cap_rows = pim.unit_cache_bytes // max(1, cache_share) // t.row_bytes
            lookup_unit = unit[first]
            for u in np.unique(lookup_unit):
                sel = np.flatnonzero(lookup_unit == u)
                hits[sel] = lru_row_hits(idx[sel], cap_rows)
            keep = np.repeat(~hits, spans)
            addr, rank, unit = addr[keep], rank[keep], unit[keep]
        inner = replay_per_rank(profile, layout, addr, rank) if addr.size else MemCost()
        n_inst = -(-(idx.size * pim.nmp_inst_bytes // n_ch) // tx)
        inst = np.concatenate([layout.buffer_addresses(f"{k.name}:nmp_inst", n_inst * tx,
                                                       channels=(c,)) for c in chans])
        out_bytes = k.batch * t.pooled_row_bytes  # one pooled vector per bag per channel
        outs = np.concatenate([layout.buffer_addresses(f"{k.name}:pooled", out_bytes,
                                                       channels=(c,)) for c in chans])
        outer = replay_stream(profile, np.concatenate([inst, outs]),
                              np.concatenate([np.ones(inst.size, bool),
                                              np.zeros(outs.size, bool)]))
        loads = np.bincount(lookup_units_all, minlength=n_ch * ranks)
        # per element read: a pooling add, and a dequantising multiply-add if quantised
        dequant = 1.0 if t.quantised else 0.0
        elem_ns = (1.0 / pim.unit_ops_per_ns(t.dtype, "add")
                   + dequant / pim.unit_ops_per_ns(t.dtype, "mac"))
        return PimWork(
            inner.alongside(outer), alu_ops=idx.size * t.dim * (1.0 + dequant),
            alu_ns=float(loads.max()) * t.dim * elem_ns, dtype=t.dtype,
            internal_bytes=int((~hits).sum()) * t.row_bytes,
            host_flops=k.batch * t.dim * (n_ch - 1),  # the host adds the channels' partials
            host_bytes=out_bytes * n_ch,
            internal_io_pj=int((~hits).sum()) * t.row_bytes * 8.0 * pim.internal_io_pj_per_bit,
            extra={"lookups": int(idx.size), "replicated_rows": int(hot.size),
                   "max_unit_lookups": int(loads.max()), "rank_cache_hits": int(hits.sum())})
