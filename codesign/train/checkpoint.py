"""Supernet checkpoints: the file format, atomic saving, loading with checks, and the rule
for which config keys a resumed run may change.

A checkpoint (``supernet.pt``, torch.save of a dict) is in one of two states:

- ``training`` (written while a run can still resume): the model in float32, the optimizers
  and schedules, the subnet sampler's and torch's generator states, so that resuming reaches
  the same weights as an uninterrupted run;
- ``finished`` (written once the last step is done): the model alone, each matrix stored
  int8 row-wise or float16 (``TrainConfig.checkpoint_storage``, :mod:`codesign.train.storage`);
  nothing a finished run no longer needs.

Both hold the step, the total steps, the space, the data schema and the config. The
embedding table is one tensor of the model and is stored once, like every shared weight.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from codesign.data.cache import CtrData
from codesign.train.config import TrainConfig, TrainError
from codesign.train.storage import pack_state, unpack_state
from pimsim.util.fileio import atomic_open

CHECKPOINT_NAME = "supernet.pt"
CHECKPOINT_FORMAT = "pimrec-supernet-ckpt/4"
#: Formats of earlier pimrec versions: refused with a message saying so.
OLD_FORMATS = frozenset({"pimrec-supernet-ckpt/1", "pimrec-supernet-ckpt/2", "pimrec-supernet-ckpt/3"})

#: Config keys that may differ between a run and its resumption (they change where and how
#: often it writes or prints, never a number it computes).
RESUME_FREE = frozenset({"checkpoint_dir", "checkpoint_every_steps", "stop_after_steps", "quiet",
                         "num_threads", "probe_every_steps", "probe_rows", "checkpoint_storage"})


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


def checkpoint_record(model: dict[str, torch.Tensor], *, finished: bool, storage: str,
                      resume_state: dict[str, Any], **meta: Any) -> dict[str, Any]:
    """The dict a checkpoint file holds: ``model`` (a float32 state dict) packed as
    ``storage`` once finished (float32 before), ``resume_state`` (optimizer, generator
    states) only while training can resume, and ``meta`` (step, total_steps, space, schema,
    config)."""
    record: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "state": "finished" if finished else "training"}
    record["model"] = pack_state(model, storage if finished else "float32")
    if not finished:
        record.update(resume_state)
    record.update(meta)
    return record


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a supernet checkpoint (a file, or a folder holding ``supernet.pt``); ``path`` in
    the result names the file read and ``model`` is a float32 state dict."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT_NAME
    if not p.is_file():
        raise TrainError(f"{p}: no such checkpoint; accepted: a file or folder written by `codesign train-supernet`")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise TrainError(f"{p}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    fmt = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
    if fmt in OLD_FORMATS:
        raise TrainError(
            f"{p}: format {fmt!r} is an older pimrec's supernet checkpoint (float32 weights with "
            f"optimizer state) that this version does not read; accepted: {CHECKPOINT_FORMAT}: "
            "train the supernet again with `codesign train-supernet --overwrite`"
        )
    if fmt != CHECKPOINT_FORMAT:
        raise TrainError(f"{p}: format {fmt!r}; accepted: {CHECKPOINT_FORMAT}")
    ckpt["model"] = unpack_state(ckpt["model"], str(p))
    ckpt["path"] = str(p)
    return ckpt


def is_finished(ckpt: dict[str, Any]) -> bool:
    """Whether a loaded checkpoint is of a finished run (no optimizer state)."""
    return ckpt.get("state") == "finished"


def refuse_existing(ckpt_path: Path | None, resume: bool, overwrite: bool) -> None:
    """Without ``resume`` a folder that holds a checkpoint is refused unless ``overwrite``
    (then the run starts again and replaces it)."""
    if ckpt_path is None or resume or overwrite or not ckpt_path.exists():
        return
    try:
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True)
        what = (f"a {ckpt.get('state', 'training')} supernet checkpoint at step "
                f"{ckpt.get('step')}/{ckpt.get('total_steps')}")
    except Exception:  # an unreadable file is still in the way
        what = "a file of that name"
    raise TrainError(
        f"{ckpt_path}: holds {what}; accepted: --resume to continue it, or --overwrite to "
        "start again (the checkpoint is replaced)"
    )


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
    for key in sorted(set(ckpt["config"]) | set(now)):
        if key in RESUME_FREE:
            continue
        # a key the checkpoint lacks ran at that field's default
        field = TrainConfig.model_fields.get(key)
        old = ckpt["config"].get(key, field.default if field is not None else None)
        if now.get(key) != old:
            raise TrainError(
                f"{where}: config.{key} was {old!r}, now {now.get(key)!r}; accepted: the same "
                f"value as the interrupted run (only {', '.join(sorted(RESUME_FREE))} may change)"
            )
