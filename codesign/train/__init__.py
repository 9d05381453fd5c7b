"""Training and evaluation of the supernet and its subnets.

- ``config``: TrainConfig (the hyper-parameters) and TrainError;
- ``optim``: hybrid Adagrad/Adam or NASRec's Adagrad, the warm-up + cosine schedule, clipping;
- ``loop``: the one training loop (``train_steps``) the supernet and from-scratch runs share;
- ``supernet``: weight-sharing training, checkpoints and resume;
- ``sampling``: what a supernet step trains (warm-up, single path, sandwich rule, in-place
  distillation, progressive shrinking) and its centred loss;
- ``probe``: the probe subnets whose log loss against the base rate shows the learning;
- ``checkpoint``: the checkpoint file, its atomic save, load and resume checks;
- ``storage``: the int8 row-wise weights of a finished checkpoint;
- ``metrics``: predictions, log loss, AUC, the base rate;
- ``finetune``: a subnet's estimate (head refit on cached features, then evaluation);
- ``scratch``: a subnet trained alone from fresh weights.

The names below re-export the flat ``codesign.train`` module's, to be removed with the
layout move (import them from the submodules).
"""

from codesign.train.checkpoint import CHECKPOINT_NAME, load_checkpoint
from codesign.train.config import TrainConfig, TrainError
from codesign.train.finetune import estimate_subnet, finetune_head
from codesign.train.metrics import (
    EvalResult,
    base_rate_logloss,
    evaluate,
    metrics,
    predict,
)
from codesign.train.optim import Optimizers, clip_grad_norm, embedding_parameters, make_optimizers, peak_lr
from codesign.train.scratch import ScratchRun, train_from_scratch, train_from_scratch_run, train_model
from codesign.train.sampling import supernet_loss
from codesign.train.supernet import (
    SupernetRun,
    build_supernet,
    init_output_bias,
    load_supernet,
    train_supernet,
)

__all__ = [
    "CHECKPOINT_NAME",
    "EvalResult",
    "Optimizers",
    "ScratchRun",
    "SupernetRun",
    "TrainConfig",
    "TrainError",
    "base_rate_logloss",
    "build_supernet",
    "clip_grad_norm",
    "embedding_parameters",
    "estimate_subnet",
    "evaluate",
    "finetune_head",
    "init_output_bias",
    "load_checkpoint",
    "load_supernet",
    "make_optimizers",
    "metrics",
    "peak_lr",
    "predict",
    "supernet_loss",
    "train_from_scratch",
    "train_from_scratch_run",
    "train_model",
    "train_supernet",
]
