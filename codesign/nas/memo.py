"""Block outputs kept across frozen forward passes of different subnets on the same rows.

Every subnet of a supernet computes a block from the supernet's weights sliced to the
block's dimensions and from the outputs of the blocks it reads. Two subnets whose block
``i`` runs the same operators with the same dimensions on sources that are themselves the
same computations therefore produce the same block output on the same input rows: an
evolutionary search's child shares every block before its mutation (and every block that
does not depend on it) with its parent. :class:`BlockMemo` keeps those outputs, keyed by a
structural signature (:func:`block_signature`) and a tag naming the input rows, so that a
frozen pass recomputes only the blocks that changed. It holds inference-mode tensors and
is bounded by bytes (least recently used first out).

It is only valid while the weights it was filled from stay fixed (a frozen supernet, as
in a search's estimates) and the tag names the same rows; the owner keeps it beside the
loaded supernet."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

from torch import Tensor

#: Default size bound of a memo: about 25 blocks of a wide subnet at 4,096 rows.
DEFAULT_MAX_BYTES = 1 << 30


def _nbytes(outs: dict[str, Tensor]) -> int:
    return sum(t.element_size() * t.nelement() for t in outs.values())


@dataclass
class BlockMemo:
    """Block outputs (``{"dense": t, "sparse": t}``, either may be absent) by (rows tag,
    signature id); ``hits`` and ``misses`` count lookups."""

    max_bytes: int = DEFAULT_MAX_BYTES
    hits: int = 0
    misses: int = 0
    _ids: dict[Hashable, int] = field(default_factory=dict, repr=False)
    _store: OrderedDict[tuple[Hashable, int], dict[str, Tensor]] = field(
        default_factory=OrderedDict, repr=False)
    _bytes: int = 0

    def sig_id(self, signature: Hashable) -> int:
        """A small integer naming ``signature`` (equal signatures, equal ids), so that a
        later block's signature holds its sources' ids rather than their whole history."""
        return self._ids.setdefault(signature, len(self._ids))

    def get(self, tag: Hashable, sid: int, sides: tuple[str, ...]) -> dict[str, Tensor] | None:
        """The outputs kept for ``sid`` on rows ``tag`` when they hold every one of
        ``sides``, else None."""
        key = (tag, sid)
        outs = self._store.get(key)
        if outs is None or any(s not in outs for s in sides):
            self.misses += 1
            return None
        self._store.move_to_end(key)
        self.hits += 1
        return outs

    def put(self, tag: Hashable, sid: int, outs: dict[str, Tensor]) -> None:
        """Keep ``outs``; drop the least recently used entries beyond ``max_bytes`` (an
        entry larger than the bound is not kept)."""
        size = _nbytes(outs)
        if size > self.max_bytes:
            return
        key = (tag, sid)
        old = self._store.pop(key, None)
        if old is not None:
            self._bytes -= _nbytes(old)
        self._store[key] = outs
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, dropped = self._store.popitem(last=False)
            self._bytes -= _nbytes(dropped)

    @property
    def nbytes(self) -> int:
        """Bytes of the kept tensors."""
        return self._bytes


def block_signature(index: int, calls: tuple[Hashable, ...], sources: tuple[int, ...]) -> Hashable:
    """What determines a block's outputs: its index (its weights), its operator runs (op,
    dimensions, the sources each port reads) and the signature ids of the sources read."""
    return (index, calls, sources)
