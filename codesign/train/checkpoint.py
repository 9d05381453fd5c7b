"""Supernet checkpoints: the file format, atomic saving, loading with checks, and the rule
for which config keys a resumed run may change.

A checkpoint (``supernet.pt``, torch.save of a dict) holds the model, the optimizers and
schedules, the subnet sampler's and torch's generator states, the step, the total steps,
the space, the data schema and the config; resuming from one reaches the same weights as an
uninterrupted run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from codesign.data.cache import CtrData
from codesign.train.config import TrainConfig, TrainError
from pimsim.util.fileio import atomic_open

CHECKPOINT_NAME = "supernet.pt"
CHECKPOINT_FORMAT = "pimrec-supernet-ckpt/3"

#: Config keys that may differ between a run and its resumption (they change where and how
#: often it writes or prints, never a number it computes).
RESUME_FREE = frozenset({"checkpoint_dir", "checkpoint_every_steps", "stop_after_steps", "quiet", "num_threads"})


def save_torch(obj: Any, path: Path) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (temporary file beside it, then rename)."""
    with atomic_open(path, "wb") as handle:
        torch.save(obj, handle)
    return path


def config_dict(config: TrainConfig) -> dict[str, Any]:
    """The config as plain data for a checkpoint (the folder as a string)."""
    d = config.model_dump()
    d["checkpoint_dir"] = str(config.checkpoint_dir) if config.checkpoint_dir is not None else None
    return d


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a supernet checkpoint (a file, or a folder holding ``supernet.pt``); ``path`` in
    the result names the file read."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT_NAME
    if not p.is_file():
        raise TrainError(f"{p}: no such checkpoint; accepted: a file or folder written by `codesign train-supernet`")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise TrainError(f"{p}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        fmt = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise TrainError(f"{p}: format {fmt!r}; accepted: {CHECKPOINT_FORMAT}")
    ckpt["path"] = str(p)
    return ckpt


def check_schema(ckpt: dict[str, Any], schema: Any) -> None:
    """Refuse a checkpoint trained on another data schema than ``schema``."""
    stored = ckpt["schema"]
    if stored != schema.to_dict():
        raise TrainError(
            f"{ckpt['path']}: trained on schema {stored.get('name')!r} with cardinalities "
            f"{stored.get('cardinalities')}; the data has {schema.name!r} with "
            f"{list(schema.cardinalities)}; accepted: the data set the supernet was trained on"
        )


def check_resume(ckpt: dict[str, Any], config: TrainConfig, space: str, data: CtrData) -> None:
    """Refuse to resume ``ckpt`` with another space, data schema or config (but
    :data:`RESUME_FREE`)."""
    where = ckpt["path"]
    if ckpt["space"] != space:
        raise TrainError(f"{where}: space {ckpt['space']!r}; the resumed run asks for {space!r}")
    check_schema(ckpt, data.schema)
    now = config_dict(config)
    for key, old in ckpt["config"].items():
        if key in RESUME_FREE:
            continue
        if now.get(key) != old:
            raise TrainError(
                f"{where}: config.{key} was {old!r}, now {now.get(key)!r}; accepted: the same "
                f"value as the interrupted run (only {', '.join(sorted(RESUME_FREE))} may change)"
            )
