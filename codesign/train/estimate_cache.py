"""A supernet's estimates of subnets at a precision, cached in memory and on disk.

An entry is named by the subnet's functional hash (:func:`codesign.nas.moves.functional_hash`)
and, for a precision other than all-fp32, a hash of :meth:`codesign.quant.Precision.key`:
all-fp32 entries keep the subnet's name alone, so caches written without precisions stay
valid. The folder an entry lives in is the caller's (named by the supernet's and the data's
identity and the estimate's settings), so a score is never reused for another supernet.
:func:`checkpoint_digest` is the supernet's identity.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesign.errors import CodesignError
from codesign.nas.moves import functional_hash
from codesign.nas.space import SubnetSpec
from codesign.quant.precision import Precision
from codesign.train.checkpoint import CHECKPOINT_NAME
from codesign.train.finetune import estimate_subnet
from pimsim.util.cli import to_jsonable
from pimsim.util.fileio import atomic_write_json

__all__ = ["EstimateCache", "checkpoint_digest", "entry_name", "estimate_at"]


def checkpoint_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a supernet checkpoint's bytes (a file, or a folder holding
    ``supernet.pt``): its identity, wherever it is stored."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT_NAME
    try:
        with open(p, "rb") as fh:
            return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise CodesignError(f"--supernet {p}: cannot read ({exc.strerror or exc}); accepted: "
                            "a checkpoint file or folder written by `codesign train-supernet`") from None


def entry_name(spec: SubnetSpec, precision: Precision | None = None) -> str:
    """The cache name of the estimate of ``spec`` at ``precision`` (see the module
    docstring)."""
    h = functional_hash(spec)
    key = "" if precision is None else precision.key()
    return h if not key else f"{h}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def estimate_at(precision: Precision | None, **kwargs: Any) -> Any:
    """:func:`codesign.train.finetune.estimate_subnet` with ``kwargs`` at ``precision``
    (None or all-fp32: the plain estimate)."""
    if precision is None or precision.key() == "":
        return estimate_subnet(**kwargs)
    return estimate_subnet(**kwargs, precision=precision)


@dataclass
class EstimateCache:
    """Estimates (``{"logloss": ..., "auc": ...}``) by :func:`entry_name`, in memory and,
    with ``folder``, as one strict-JSON file each."""

    folder: Path | None = None
    memo: dict[str, dict[str, float]] = field(default_factory=dict)

    def get_or_compute(self, spec: SubnetSpec, precision: Precision | None,
                       compute: Callable[[], dict[str, float]]) -> dict[str, float]:
        name = entry_name(spec, precision)
        if name in self.memo:
            return self.memo[name]
        path = None if self.folder is None else self.folder / f"{name}.json"
        if path is not None and path.is_file():
            try:
                stored = json.loads(path.read_text())
                res = {k: math.nan if v is None else float(v) for k, v in stored.items()}
                self.memo[name] = res
                return res
            except (OSError, AttributeError, TypeError, ValueError):
                pass  # a damaged cache entry is recomputed and rewritten
        res = compute()
        self.memo[name] = res
        if path is not None:
            atomic_write_json(path, to_jsonable(res), allow_nan=False)
        return res
