"""TrainConfig: the hyper-parameters of supernet and from-scratch training, and TrainError.

The defaults are NASRec's (Zhang et al., WWW 2023, Sec. 4, and its released code
facebookresearch/NasRec) except where a field says otherwise; the measurements behind those
choices, with the commands that reproduce them, are in ``benchmarks/README.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codesign.errors import CodesignError

#: One Criteo epoch of NASRec's supernet training: 36,672,495 training rows / batch 512, rounded
#: (facebookresearch/NasRec nasrec/train_supernet.py: train_limit); the horizon NASRec's
#: Adagrad rate 0.12 was tuned for.
NASREC_EPOCH_STEPS = 71_626


class TrainError(CodesignError):
    """A training configuration, checkpoint or request is invalid."""


class TrainConfig(BaseModel):
    """Hyper-parameters of supernet / standalone training (defaults: NASRec's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``hybrid``: Adagrad (``lr``, ``eps``) on the embedding tables and Adam (``dense_lr``)
    #: on every dense operator, because NASRec's single Adagrad either diverges or leaves the
    #: tables untrained on runs shorter than its epoch (benchmarks/README.md, "optimizer").
    #: ``adagrad``: NASRec's single Adagrad on all parameters, its peak rate scaled by
    #: ``lr_reference_steps``.
    optimizer: Literal["hybrid", "adagrad"] = "hybrid"
    #: Adagrad's learning rate (the embedding tables; all parameters with ``adagrad``).
    lr: float = Field(0.12, gt=0)
    #: Adam's learning rate on the dense operators (``hybrid`` only).
    dense_lr: float = Field(1e-3, gt=0)
    #: torch.optim.Adagrad ``eps`` (NASRec's Adagrad epsilon 1e-2).
    eps: float = Field(1e-2, gt=0)
    #: Adagrad's initial accumulator value (torch ``initial_accumulator_value``).
    initial_accumulator: float = Field(0.0, ge=0)
    #: Fraction of all steps over which the learning rate rises linearly to its peak
    #: (NASRec: num_warmup_steps = steps // 10).
    lr_warmup_fraction: float = Field(0.1, ge=0, lt=1)
    #: Final learning rate of the cosine schedule as a fraction of the peak.
    lr_min_fraction: float = Field(0.0, ge=0, le=1)
    #: ``adagrad`` only: the horizon ``lr`` was tuned for. Adagrad's per-coordinate step is
    #: about rate / sqrt(steps taken), so a run of S steps peaks at
    #: ``lr * min(1, sqrt(S / lr_reference_steps))`` and ends its warm-up with NASRec's
    #: per-coordinate step (see :func:`codesign.train.optim.peak_lr`). None: ``lr`` as given.
    lr_reference_steps: int | None = Field(NASREC_EPOCH_STEPS, ge=1)
    #: Gradient-norm clip of every training step (NASRec's 5).
    grad_clip: float = Field(5.0, gt=0)
    batch_size: int = Field(512, ge=1)
    epochs: int = Field(1, ge=1)
    #: Train on at most this many training rows per epoch (None: the whole split).
    train_rows: int | None = Field(None, ge=1)
    #: Fraction of all steps in which the whole supernet is trained with a probability
    #: falling linearly from 1 to 0 (NASRec's supernet warm-up).
    supernet_warmup_fraction: float = Field(0.25, ge=0, le=1)
    #: Supernet training only: the loss reads each batch's logits minus their batch mean
    #: plus the head's bias (:func:`codesign.train.sampling.supernet_loss`), because a
    #: sampled subnet's logit carries a sample-independent offset that grows with its width
    #: and, uncentred, single-path steps chase those offsets instead of the labels
    #: (benchmarks/README.md, "centred loss"). Estimates refit head and bias, so the offset
    #: never reaches a ranking.
    center_logits: bool = True
    #: Supernet training only: which subnets a step trains. ``single``: NASRec's one
    #: subnet per step by single-operator any-connection sampling. ``sandwich`` (BigNAS, Yu
    #: et al., ECCV 2020, Sec. 3.1): the largest and the smallest subnet of the space
    #: (:func:`codesign.nas.moves.largest`, :func:`~codesign.nas.moves.smallest`) and
    #: ``sandwich_random`` sampled ones, their gradients summed into one optimizer step.
    #: ``fair`` (strict fairness, FairNAS, Chu et al., ICCV 2021): one subnet per dense
    #: operator, every block's operators permuted over them
    #: (:func:`codesign.nas.moves.fair_sample`), each on an equal share of the batch, gradients
    #: summed into one step, so every operator is updated every step.
    sampling: Literal["single", "sandwich", "fair"] = "single"
    #: Sampled subnets of a sandwich step.
    sandwich_random: int = Field(1, ge=0)
    #: Sandwich only: in-place distillation (BigNAS Sec. 3.1): the largest subnet trains on
    #: the labels, every other subnet of the step on the largest's predicted probabilities,
    #: taken without gradient.
    distill: bool = False
    #: Progressive shrinking (once-for-all, Cai et al., ICLR 2020, Sec. 3.2): over this
    #: fraction of the steps the narrowest dense width and token count a sampled subnet may
    #: have falls from the largest of the space to the smallest (a sampled value below the
    #: floor is raised to it); 0: every width from the first step.
    shrink_fraction: float = Field(0.0, ge=0, le=1)
    #: Supernet training only: the fraction of sampled subnet passes that compute under a
    #: random precision (every table's and operator's type drawn uniformly,
    #: :mod:`codesign.quant.sampled`), the one-shot mixed-precision supernet's training;
    #: 0: all fp32. Draws come from ``default_rng([seed, 6, step])``.
    precision_sampling: float = Field(0.0, ge=0, le=1)
    seed: int = 0
    emb_dim: int = Field(16, ge=1)
    #: Folder for checkpoints (``supernet.pt``); None: no checkpoints.
    checkpoint_dir: Path | None = None
    #: Write a checkpoint every this many steps (and always at the end).
    checkpoint_every_steps: int = Field(500, ge=1)
    #: Stop (after writing a checkpoint) once this many steps are done in total; the
    #: schedule still spans all epochs. For time budgets and interruption tests.
    stop_after_steps: int | None = Field(None, ge=1)
    #: Supernet training only: evaluate the probe subnets (:mod:`codesign.train.probe`) every
    #: this many steps (and always at the end); None: only at the end.
    probe_every_steps: int | None = Field(None, ge=1)
    #: Rows of the train split and of val each probe is evaluated on; 0: no probes.
    probe_rows: int = Field(2048, ge=0)
    #: How a finished run's checkpoint stores its matrices (:mod:`codesign.train.storage`):
    #: ``int8-rowwise`` (a quarter of float32's bytes) or ``float16`` (half); a run that can
    #: still resume keeps float32.
    checkpoint_storage: Literal["int8-rowwise", "float16"] = "int8-rowwise"
    #: torch threads (None: leave torch's setting alone).
    num_threads: int | None = Field(None, ge=1)
    quiet: bool = False

    @classmethod
    def make(cls, **kwargs: Any) -> TrainConfig:
        """Build a config; bad values raise one TrainError naming every key, value and rule."""
        try:
            return cls(**kwargs)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))} = {e.get('input')!r}: {e['msg']}"
                for e in exc.errors()
            )
            raise TrainError(f"train config: {problems}") from None


def default(field: str) -> Any:
    """The default of a TrainConfig field (command-line defaults read it, never retype it)."""
    return TrainConfig.model_fields[field].default
