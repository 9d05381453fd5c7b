"""Training and evaluation: weight-sharing supernet training, head fine-tuning, evaluation
by log loss and AUC, and training a subnet from scratch.

Supernet training follows NASRec (Zhang et al., WWW 2023, Sec. 4 and its released code):

- The optimizer: NASRec's Adagrad (lr 0.12, eps 1e-2 as torch ``Adagrad(eps=...)``) on the
  embedding tables and, by default (``optimizer="hybrid"``), Adam (lr 1e-3) on the dense
  operators; ``optimizer="adagrad"`` is NASRec's single Adagrad (see ``TrainConfig``). A
  cosine learning-rate schedule with a linear warm-up over the first 10 % of the steps,
  gradient-norm clipping at 5, batch 512.
- "Supernet warm-up": during the first ``supernet_warmup_fraction`` of the steps the WHOLE
  supernet (``spec=None``) is trained with a probability that falls linearly from 1 to 0;
  otherwise (and afterwards always) one subnet is sampled per step by single-operator
  any-connection sampling (:func:`codesign.space.sample`).
- A subnet's quality is estimated by fine-tuning only its final layer on training data
  (on an extracted copy; the shared weights are never touched) and evaluating on val. The
  final layer is refitted on cached inputs (full-batch L-BFGS by default): with a shared
  logit layer, each subnet's head is mis-calibrated after weight-sharing training, and a few
  minibatch steps did not repair it in our runs (`benchmarks/supernet.py --quick`: val log
  loss up to 0.81 after 100 Adagrad head steps, 0.53 to 0.55 after the L-BFGS refit).

Everything random takes an explicit generator: the data order of epoch ``e`` comes from
``numpy.random.default_rng([seed, 1, e])``, subnet sampling from a numpy Generator whose state
is checkpointed, weight initialisation from ``Supernet(seed=...)``'s private
``torch.Generator``; head fine-tuning draws its rows from ``default_rng([seed, 3])``.
Checkpoints hold the model, optimizer, scheduler, generator states and step, are written
atomically (temp file + ``os.replace``), and resuming from one reaches the same weights as an
uninterrupted run.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch import Tensor, nn
from tqdm.auto import tqdm

from codesign.data.cache import Batch, CtrData
from codesign.errors import CodesignError
from codesign.space import SubnetSpec, get_space, sample, spec_hash

CHECKPOINT_NAME = "supernet.pt"
CHECKPOINT_FORMAT = "pimrec-supernet-ckpt/3"


class TrainError(CodesignError):
    """A training configuration, checkpoint or request is invalid."""


# --------------------------------------------------------------------------- configuration


class TrainConfig(BaseModel):
    """Hyper-parameters of supernet / standalone training (defaults: NASRec's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``hybrid`` (default): Adagrad (``lr``, ``eps``) on the embedding tables, Adam
    #: (``dense_lr``) on every dense operator. ``adagrad``: NASRec's single Adagrad for all
    #: parameters, its peak rate scaled by ``lr_reference_steps``. Why hybrid: on 100,000 to
    #: 400,000 synthetic Criteo rows (one pass, batch 512) NASRec's recipe either diverges in
    #: its first steps (dense layers at lr 0.12: mean loss of the first 50 steps 1.8) or, with
    #: the rate scaled to the run's horizon, leaves the embedding rows nearly untrained (val
    #: log loss 0.543 at 100k rows, worse than logistic regression's 0.478); Adam at 1e-3 on
    #: the dense part with Adagrad 0.12 on the tables reaches 0.486 at 100k rows and 0.455 at
    #: 400k rows (logistic regression, fully converged: 0.471). See ``benchmarks/supernet.py``.
    optimizer: Literal["hybrid", "adagrad"] = "hybrid"
    #: Adagrad's learning rate (the embedding tables; all parameters with ``adagrad``).
    lr: float = Field(0.12, gt=0)
    #: Adam's learning rate on the dense operators (``hybrid`` only).
    dense_lr: float = Field(1e-3, gt=0)
    #: torch.optim.Adagrad ``eps`` (NASRec's Adagrad epsilon 1e-2).
    eps: float = Field(1e-2, gt=0)
    #: Adagrad's initial accumulator value (torch ``initial_accumulator_value``).
    initial_accumulator: float = Field(0.0, ge=0)
    #: Fraction of all steps over which the learning rate rises linearly to ``lr``.
    lr_warmup_fraction: float = Field(0.1, ge=0, lt=1)
    #: Final learning rate of the cosine schedule as a fraction of ``lr``.
    lr_min_fraction: float = Field(0.0, ge=0, le=1)
    #: Horizon of ``lr`` with ``optimizer="adagrad"``. Adagrad's first steps are scale-free
    #: (each coordinate moves by about the current rate whatever its gradient's size) and
    #: later ones shrink as rate / sqrt(steps taken), so NASRec's lr 0.12 is tuned together
    #: with its horizon: one Criteo epoch, 36,672,495 rows / 512 = 71,626 steps, 7,162 of them
    #: warm-up (facebookresearch/NasRec nasrec/train_supernet.py: train_limit,
    #: num_warmup_steps = steps // 10). A run of S steps peaks at
    #: ``lr * min(1, sqrt(S / lr_reference_steps))`` so that its per-coordinate step at the end
    #: of the warm-up equals NASRec's; at the full rate a short run's first steps move a wide
    #: layer's output by lr * fan_in * mean |input| and the loss diverges. None: use ``lr``
    #: as given. Not used by ``hybrid`` (Adam's steps are bounded by ``dense_lr``).
    lr_reference_steps: int | None = Field(71_626, ge=1)
    grad_clip: float = Field(5.0, gt=0)
    batch_size: int = Field(512, ge=1)
    epochs: int = Field(1, ge=1)
    #: Train on at most this many training rows per epoch (None: the whole split).
    train_rows: int | None = Field(None, ge=1)
    #: Fraction of all steps in which the whole supernet is trained with a probability
    #: falling linearly from 1 to 0 (NASRec's supernet warm-up).
    supernet_warmup_fraction: float = Field(0.25, ge=0, le=1)
    #: Supernet training only: the loss reads each batch's logits minus their batch mean
    #: plus the head's bias. A subnet's logit carries a sample-independent offset (its
    #: layer-normed last features vary little across samples, so the shared head's weights
    #: add up to a constant) that depends on which subnet is drawn and grows with its width:
    #: uncentred, single-path steps spend their gradient chasing those offsets and the loss
    #: climbs (1,000 steps of 512 rows on synthetic Criteo: mean loss of steps 280-320 1.71
    #: against a base rate of 0.569; centred 0.60, falling). The estimate of a subnet refits
    #: its head and bias (:func:`finetune_head`), so the offset never reaches a ranking.
    center_logits: bool = True
    seed: int = 0
    emb_dim: int = Field(16, ge=1)
    #: Folder for checkpoints (``supernet.pt``); None: no checkpoints.
    checkpoint_dir: Path | None = None
    #: Write a checkpoint every this many steps (and always at the end).
    checkpoint_every_steps: int = Field(500, ge=1)
    #: Stop (after writing a checkpoint) once this many steps are done in total; the
    #: schedule still spans all epochs. For time budgets and interruption tests.
    stop_after_steps: int | None = Field(None, ge=1)
    #: torch threads (None: leave torch's setting alone).
    num_threads: int | None = Field(None, ge=1)
    quiet: bool = False

    @classmethod
    def make(cls, **kwargs: Any) -> TrainConfig:
        """Build a config; a bad value raises TrainError naming the key and value."""
        try:
            return cls(**kwargs)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            raise TrainError(
                f"train config {key}: {err.get('input')!r}; {err['msg']}"
            ) from None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class EvalResult:
    """Log loss (natural log, mean over rows), ROC AUC and the number of rows evaluated."""

    logloss: float
    auc: float
    n: int

    def __str__(self) -> str:
        return f"logloss {self.logloss:.5f}  AUC {self.auc:.5f}  (n={self.n})"


@dataclass
class SupernetRun:
    """The outcome of :func:`train_supernet`."""

    supernet: nn.Module
    config: TrainConfig
    space: str
    steps_done: int
    total_steps: int
    #: Mean training loss of each step run in THIS call (not those before a resume).
    losses: list[float]
    #: Steps that trained the whole supernet (spec=None) in this call.
    whole_supernet_steps: int
    samples: int
    wall_s: float
    samples_per_s: float
    resumed_from_step: int
    checkpoint_path: Path | None
    finished: bool


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _deterministic() -> Iterator[None]:
    """``torch.use_deterministic_algorithms(True)`` for the block, then the old setting."""
    old = torch.are_deterministic_algorithms_enabled()
    old_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old, warn_only=old_warn)


def _to_tensors(batch: Batch) -> tuple[Tensor, Tensor, Tensor]:
    return (
        torch.from_numpy(np.ascontiguousarray(batch.dense, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(batch.sparse, dtype=np.int64)),
        torch.from_numpy(np.ascontiguousarray(batch.label, dtype=np.float32)),
    )


def _epoch_order(data: CtrData, split: str, seed: int, epoch: int, limit: int | None) -> np.ndarray:
    """Training rows of one epoch in their shuffled order (a function of seed and epoch)."""
    idx = data.indices(split)  # type: ignore[arg-type]
    rng = np.random.default_rng([seed, 1, epoch])
    order = idx[rng.permutation(idx.shape[0])]
    return order[:limit] if limit is not None else order


def _iter_batches(
    data: CtrData, order: np.ndarray, batch_size: int, start_batch: int = 0
) -> Iterator[Batch]:
    for start in range(start_batch * batch_size, order.shape[0], batch_size):
        yield data.take(np.sort(order[start : start + batch_size]))


def _n_train_rows(data: CtrData, train_rows: int | None) -> int:
    n = int(data.indices("train").shape[0])
    if n == 0:
        raise TrainError(f"{getattr(data, 'path', 'data')}: the train split is empty; accepted: a cache with training rows")
    return min(n, train_rows) if train_rows is not None else n


def _lr_lambda(total_steps: int, warmup_fraction: float, min_fraction: float) -> Callable[[int], float]:
    warm = int(round(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        span = max(1, total_steps - warm)
        progress = min(1.0, (step - warm) / span)
        return min_fraction + (1 - min_fraction) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def peak_lr(config: TrainConfig, total_steps: int) -> float:
    """The peak Adagrad rate of a run of ``total_steps`` steps: ``lr`` with ``hybrid`` (the
    tables), the horizon-scaled rate with ``adagrad`` (see ``lr_reference_steps``)."""
    if config.optimizer == "hybrid" or config.lr_reference_steps is None:
        return config.lr
    return config.lr * min(1.0, math.sqrt(max(1, total_steps) / config.lr_reference_steps))


def embedding_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The weights of every ``nn.Embedding`` in ``model`` (the sparse tables)."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Embedding) and m.weight.requires_grad]


class Optimizers:
    """One or two torch optimizers, each with its warm-up + cosine schedule, stepped together.

    ``step()`` steps every optimizer, then every schedule; ``state_dict()`` holds both for
    checkpoints. ``groups`` names them (``embedding`` / ``dense`` or ``all``)."""

    def __init__(self, parts: list[tuple[str, torch.optim.Optimizer]], total_steps: int,
                 config: TrainConfig) -> None:
        factor = _lr_lambda(total_steps, config.lr_warmup_fraction, config.lr_min_fraction)
        self.groups = [name for name, _ in parts]
        self.optimizers = [opt for _, opt in parts]
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, factor) for opt in self.optimizers]

    def zero_grad(self) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)

    def step(self) -> None:
        for opt in self.optimizers:
            opt.step()
        for sched in self.schedulers:
            sched.step()

    def lrs(self) -> dict[str, float]:
        """Current learning rate per group."""
        return {n: float(o.param_groups[0]["lr"]) for n, o in zip(self.groups, self.optimizers)}

    def state_dict(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "optimizers": [o.state_dict() for o in self.optimizers],
            "schedulers": [s.state_dict() for s in self.schedulers],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("groups") != self.groups:
            raise TrainError(
                f"checkpoint optimizer groups {state.get('groups')!r}; this run has "
                f"{self.groups!r}; accepted: a checkpoint of the same optimizer setting"
            )
        for o, st in zip(self.optimizers, state["optimizers"]):
            o.load_state_dict(st)
        for s, st in zip(self.schedulers, state["schedulers"]):
            s.load_state_dict(st)


def _fusable(params: list[nn.Parameter]) -> bool:
    # The fused CPU kernels are several times faster than the per-parameter loop on the
    # supernet's large sliced weights; both are deterministic. Sparse gradients need the loop.
    return all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params)


def _adagrad(params: list[nn.Parameter], lr: float, config: TrainConfig) -> torch.optim.Adagrad:
    return torch.optim.Adagrad(
        params, lr=lr, eps=config.eps, initial_accumulator_value=config.initial_accumulator,
        fused=_fusable(params) or None,
    )


def make_optimizers(model: nn.Module, config: TrainConfig, total_steps: int) -> Optimizers:
    """The optimizers of ``config.optimizer`` over ``model``'s trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adagrad":
        return Optimizers([("all", _adagrad(params, peak_lr(config, total_steps), config))],
                          total_steps, config)
    emb_ids = {id(p) for p in embedding_parameters(model)}
    emb = [p for p in params if id(p) in emb_ids]
    dense = [p for p in params if id(p) not in emb_ids]
    parts: list[tuple[str, torch.optim.Optimizer]] = []
    if emb:
        sparse = any(isinstance(m, nn.Embedding) and m.sparse for m in model.modules())
        parts.append(("embedding", torch.optim.Adagrad(emb, lr=config.lr, eps=config.eps,
                                                       initial_accumulator_value=config.initial_accumulator)
                      if sparse else _adagrad(emb, config.lr, config)))
    if dense:
        parts.append(("dense", torch.optim.Adam(dense, lr=config.dense_lr, fused=_fusable(dense) or None)))
    return Optimizers(parts, total_steps, config)


def clip_grad_norm(params: Sequence[nn.Parameter], max_norm: float) -> float:
    """Clip the total 2-norm of the gradients (dense or sparse) to ``max_norm``; return the norm."""
    with_grad = [p for p in params if p.grad is not None]
    if not with_grad:
        return 0.0
    if not any(p.grad.is_sparse for p in with_grad):  # type: ignore[union-attr]
        return float(torch.nn.utils.clip_grad_norm_(with_grad, max_norm))
    sq = torch.zeros((), dtype=torch.float64)
    for p in with_grad:
        g = p.grad
        assert g is not None
        v = g.coalesce()._values() if g.is_sparse else g
        sq = sq + torch.linalg.vector_norm(v.detach()).double() ** 2
    total = float(sq.sqrt())
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in with_grad:
            assert p.grad is not None
            p.grad.mul_(scale)
    return total


def _atomic_torch_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _config_dict(config: TrainConfig) -> dict[str, Any]:
    d = config.model_dump()
    d["checkpoint_dir"] = str(config.checkpoint_dir) if config.checkpoint_dir is not None else None
    return d


def build_supernet(schema: Any, space: str, emb_dim: int, seed: int) -> nn.Module:
    """A freshly initialised Supernet; its weights depend only on ``seed``."""
    from codesign.supernet import Supernet

    get_space(space)  # SpecError for an unknown space name
    return Supernet(schema, space=space, emb_dim=emb_dim, seed=seed)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a supernet checkpoint (a file, or a folder holding ``supernet.pt``)."""
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


def load_supernet(path: str | os.PathLike[str], schema: Any) -> tuple[nn.Module, dict[str, Any]]:
    """The supernet stored in a checkpoint, for data of ``schema`` (must match)."""
    ckpt = load_checkpoint(path)
    stored = ckpt["schema"]
    if stored != schema.to_dict():
        raise TrainError(
            f"{ckpt['path']}: trained on schema {stored.get('name')!r} with cardinalities "
            f"{stored.get('cardinalities')}; the data has {schema.name!r} with "
            f"{list(schema.cardinalities)}; accepted: the data set the supernet was trained on"
        )
    cfg = ckpt["config"]
    net = build_supernet(schema, ckpt["space"], int(cfg["emb_dim"]), int(cfg["seed"]))
    net.load_state_dict(ckpt["model"])
    return net, ckpt


# --------------------------------------------------------------------------- supernet training


def supernet_loss(logits: Tensor, label: Tensor, bias: Tensor, center: bool) -> Tensor:
    """Binary cross-entropy of a supernet training step; with ``center`` (see
    ``TrainConfig.center_logits``) on ``logits - mean(logits) + bias``, so that a constant
    added to every logit of the batch changes neither the loss nor any gradient but the
    bias's."""
    if center:
        logits = logits - logits.mean() + bias
    return F.binary_cross_entropy_with_logits(logits, label)


def train_supernet(
    data: CtrData,
    config: TrainConfig,
    *,
    space: str = "full",
    resume: bool = False,
    supernet: nn.Module | None = None,
) -> SupernetRun:
    """Train a weight-sharing supernet on ``data``'s train split.

    With ``resume=True`` and a checkpoint in ``config.checkpoint_dir``, training continues
    from it (the config must match the checkpoint's apart from checkpointing / stopping /
    quiet / threads); the result equals an uninterrupted run's.
    """
    get_space(space)
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    n_rows = _n_train_rows(data, config.train_rows)
    steps_per_epoch = -(-n_rows // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    warm_steps = int(round(total_steps * config.supernet_warmup_fraction))

    if supernet is not None:
        net = supernet
    else:
        net = build_supernet(data.schema, space, config.emb_dim, config.seed)
        init_output_bias(net, data)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = make_optimizers(net, config, total_steps)
    sample_rng = np.random.default_rng([config.seed, 2])
    step = 0
    ckpt_path = config.checkpoint_dir / CHECKPOINT_NAME if config.checkpoint_dir is not None else None

    if resume:
        if ckpt_path is None:
            raise TrainError("resume: no checkpoint_dir given; accepted: resume with the checkpoint folder of the run")
        if ckpt_path.is_file():
            ckpt = load_checkpoint(ckpt_path)
            _check_resume(ckpt, config, space, data)
            net.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            sample_rng.bit_generator.state = ckpt["sample_rng"]
            torch.set_rng_state(ckpt["torch_rng"])
            step = int(ckpt["step"])
    resumed_from = step

    def save() -> None:
        if ckpt_path is None:
            return
        _atomic_torch_save(
            {
                "format": CHECKPOINT_FORMAT,
                "model": net.state_dict(),
                "optimizer": opt.state_dict(),
                "sample_rng": sample_rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "total_steps": total_steps,
                "space": space,
                "schema": data.schema.to_dict(),
                "config": _config_dict(config),
            },
            ckpt_path,
        )

    stop_at = total_steps if config.stop_after_steps is None else min(total_steps, config.stop_after_steps)
    losses: list[float] = []
    whole = 0
    samples = 0
    net.train()
    bar = tqdm(total=total_steps, initial=step, disable=config.quiet, desc=f"supernet[{space}]", unit="step")
    t0 = time.perf_counter()
    with _deterministic():
        while step < stop_at:
            epoch, in_epoch = divmod(step, steps_per_epoch)
            order = _epoch_order(data, "train", config.seed, epoch, config.train_rows)
            for batch in _iter_batches(data, order, config.batch_size, in_epoch):
                dense, sparse, label = _to_tensors(batch)
                # One uniform draw and (maybe) one sampled spec per step, always in this
                # order, so the generator's stream does not depend on the outcome.
                p_whole = max(0.0, 1.0 - step / warm_steps) if warm_steps > 0 else 0.0
                u = float(sample_rng.random())
                spec = sample(space, sample_rng)
                if u < p_whole:
                    spec = None
                    whole += 1
                logits = net(dense, sparse, spec)
                loss = supernet_loss(logits, label, net.final.bias, config.center_logits)
                opt.zero_grad()
                loss.backward()
                clip_grad_norm(params, config.grad_clip)
                opt.step()
                step += 1
                samples += int(label.shape[0])
                losses.append(float(loss.detach()))
                bar.update(1)
                if step % 20 == 0:
                    bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
                if step % config.checkpoint_every_steps == 0 or step == stop_at:
                    save()
                if step >= stop_at:
                    break
    bar.close()
    wall = time.perf_counter() - t0
    if step == resumed_from:
        save()
    return SupernetRun(
        supernet=net,
        config=config,
        space=space,
        steps_done=step,
        total_steps=total_steps,
        losses=losses,
        whole_supernet_steps=whole,
        samples=samples,
        wall_s=wall,
        samples_per_s=samples / wall if wall > 0 else float("nan"),
        resumed_from_step=resumed_from,
        checkpoint_path=ckpt_path,
        finished=step >= total_steps,
    )


#: Config keys that may differ between a run and its resumption.
_RESUME_FREE = {"checkpoint_dir", "checkpoint_every_steps", "stop_after_steps", "quiet", "num_threads"}


def _check_resume(ckpt: dict[str, Any], config: TrainConfig, space: str, data: CtrData) -> None:
    where = ckpt["path"]
    if ckpt["space"] != space:
        raise TrainError(f"{where}: space {ckpt['space']!r}; the resumed run asks for {space!r}")
    if ckpt["schema"] != data.schema.to_dict():
        raise TrainError(
            f"{where}: schema {ckpt['schema'].get('name')!r} differs from the data's "
            f"{data.schema.name!r}; accepted: the data set of the interrupted run"
        )
    now = _config_dict(config)
    for key, old in ckpt["config"].items():
        if key in _RESUME_FREE:
            continue
        if now.get(key) != old:
            raise TrainError(
                f"{where}: config.{key} was {old!r}, now {now.get(key)!r}; accepted: the same "
                f"value as the interrupted run (only {', '.join(sorted(_RESUME_FREE))} may change)"
            )


# --------------------------------------------------------------------------- evaluation


def _is_supernet(model: nn.Module) -> bool:
    return hasattr(model, "extract") and hasattr(model, "final_layer_parameters")


def predict(
    model: nn.Module,
    data: CtrData,
    split: str,
    spec: SubnetSpec | None = None,
    *,
    batch_size: int = 4096,
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, predicted click probabilities) of ``split``, rows in file order."""
    sup = _is_supernet(model)
    if not sup and spec is not None:
        raise TrainError("evaluate: spec given for a standalone model; accepted: spec only with a Supernet")
    idx = data.indices(split)  # type: ignore[arg-type]
    if limit is not None:
        idx = idx[:limit]
    labels: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, idx.shape[0], batch_size):
                dense, sparse, label = _to_tensors(data.take(idx[start : start + batch_size]))
                logits = model(dense, sparse, spec) if sup else model(dense, sparse)
                probs.append(torch.sigmoid(logits.double()).numpy())
                labels.append(label.numpy())
    finally:
        model.train(was_training)
    if not labels:
        raise TrainError(f"evaluate: split {split!r} has no rows; accepted: a non-empty split")
    return np.concatenate(labels), np.concatenate(probs)


def metrics(labels: np.ndarray, probs: np.ndarray) -> EvalResult:
    """Log loss and ROC AUC (scikit-learn); AUC is NaN when only one class is present."""
    from sklearn.metrics import log_loss, roc_auc_score

    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1 - 1e-12)
    ll = float(log_loss(y, p, labels=[0.0, 1.0]))
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < y.shape[0] else float("nan")
    return EvalResult(logloss=ll, auc=auc, n=int(y.shape[0]))


def evaluate(
    model_or_supernet: nn.Module,
    data: CtrData,
    split: str = "val",
    spec: SubnetSpec | None = None,
    *,
    batch_size: int = 4096,
    limit: int | None = None,
) -> EvalResult:
    """Log loss and AUC of a standalone model, or of the supernet on ``spec`` (None: whole)."""
    labels, probs = predict(model_or_supernet, data, split, spec, batch_size=batch_size, limit=limit)
    return metrics(labels, probs)


def train_base_rate(data: CtrData) -> float:
    """Click rate of the train split."""
    return float(np.asarray(data.label[data.indices("train")], dtype=np.float64).mean())


def init_output_bias(net: nn.Module, data: CtrData) -> float:
    """Set the logit layer's bias of a freshly built supernet to the train split's base-rate
    logit (log p / (1 - p)) and return it: a model then starts at the base-rate log loss
    instead of spending its first few hundred Adam steps (1e-3 each) walking the bias from 0
    to about -1 (Criteo) or -3 (KDD)."""
    p = min(max(train_base_rate(data), 1e-6), 1 - 1e-6)
    logit = math.log(p / (1 - p))
    with torch.no_grad():
        net.final.bias.fill_(logit)
    return logit


def base_rate_logloss(data: CtrData, split: str = "val") -> float:
    """Log loss of always predicting the training base rate."""
    p = train_base_rate(data)
    y = np.asarray(data.label[data.indices(split)], dtype=np.float64)  # type: ignore[arg-type]
    p = min(max(p, 1e-12), 1 - 1e-12)
    return float(-(y * math.log(p) + (1 - y) * math.log(1 - p)).mean())


# --------------------------------------------------------------------------- head fine-tuning


def _final_module(model: nn.Module) -> nn.Module:
    found = [m for m in model.modules() if getattr(m, "kind", None) == "final"]
    if len(found) != 1:
        raise TrainError(
            f"finetune_head: found {len(found)} final layers in {type(model).__name__}; "
            "accepted: a model from Supernet.extract with exactly one"
        )
    return found[0]


def head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The final (logit) layer's parameters of a standalone subnet from ``extract``."""
    return list(_final_module(model).parameters())


def finetune_head(
    supernet: nn.Module,
    spec: SubnetSpec,
    data: CtrData,
    *,
    steps: int,
    rows: int | None = None,
    method: str = "lbfgs",
    l2: float = 1e-4,
    lr: float = 0.05,
    eps: float = 1e-2,
    batch_size: int = 512,
    seed: int = 0,
    quiet: bool = True,
) -> nn.Module:
    """Fine-tune the final layer of subnet ``spec`` on training data; return that subnet.

    Works on a standalone copy (``supernet.extract(spec)``): the supernet's weights are not
    changed. Only the final layer moves. The frozen part of the subnet runs once over
    ``rows`` training rows (a seeded sample; default 20,000) while a forward hook keeps the
    final layer's inputs; the final layer alone is then fitted on those cached inputs:
    ``method="lbfgs"`` (default) runs at most ``steps`` full-batch L-BFGS iterations on the
    log loss plus ``l2`` times the squared weights (the problem is convex);
    ``method="adagrad"`` runs ``steps`` Adagrad steps of ``batch_size`` rows (lr ``lr``).
    """
    if steps < 0:
        raise TrainError(f"finetune_head: steps {steps!r}; accepted: an integer >= 0")
    model = supernet.extract(spec)
    model.eval()
    if steps == 0:
        return model
    final = _final_module(model)
    head = list(final.parameters())
    idx = data.indices("train")
    n_rows = min(rows if rows is not None else 20_000, idx.shape[0])
    if n_rows < 1:
        raise TrainError(f"finetune_head: rows {rows!r}; accepted: a positive integer")
    rng = np.random.default_rng([seed, 3])
    chosen = np.sort(rng.choice(idx, n_rows, replace=False))
    cached: list[tuple[Tensor, ...]] = []

    def keep(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        cached.append(tuple(t.detach() for t in inputs))

    labels: list[Tensor] = []
    handle = final.register_forward_pre_hook(keep)
    try:
        with torch.no_grad():
            for batch in _iter_batches(data, chosen, 4096):
                dense, sparse, label = _to_tensors(batch)
                model(dense, sparse)
                labels.append(label)
    finally:
        handle.remove()
    feats = [torch.cat([c[k] for c in cached]) for k in range(len(cached[0]))]
    y = torch.cat(labels)
    if method == "lbfgs":
        # The head alone is a convex (logistic) problem on the cached inputs: solve it with
        # full-batch L-BFGS from the supernet's head, ``steps`` iterations at most.
        opt_l = torch.optim.LBFGS(head, lr=1.0, max_iter=steps, history_size=20, line_search_fn="strong_wolfe")

        def closure() -> Tensor:
            opt_l.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(final(*feats), y)
            loss = loss + l2 * sum((p * p).sum() for p in head if p.dim() > 1)
            loss.backward()
            return loss

        with _deterministic():
            opt_l.step(closure)
        return model
    if method != "adagrad":
        raise TrainError(f"finetune_head: method {method!r}; accepted: lbfgs, adagrad")
    opt = torch.optim.Adagrad(head, lr=lr, eps=eps)
    order_rng = np.random.default_rng([seed, 4])
    perm = order_rng.permutation(n_rows)
    pos = 0
    with _deterministic():
        for _ in tqdm(range(steps), disable=quiet, desc="head", unit="step"):
            if pos + batch_size > n_rows:
                perm, pos = order_rng.permutation(n_rows), 0
            take = torch.from_numpy(perm[pos : pos + batch_size])
            pos += batch_size
            logits = final(*(f[take] for f in feats))
            loss = F.binary_cross_entropy_with_logits(logits, y[take])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            clip_grad_norm(head, 5.0)
            opt.step()
    return model


def estimate_subnet(
    supernet: nn.Module,
    spec: SubnetSpec,
    data: CtrData,
    finetune_steps: int = 100,
    *,
    split: str = "val",
    rows: int | None = None,
    method: str = "lbfgs",
    lr: float = 0.05,
    batch_size: int = 512,
    seed: int = 0,
    limit: int | None = None,
) -> EvalResult:
    """The supernet's estimate of a subnet: fine-tune its head, evaluate on ``split``."""
    model = finetune_head(
        supernet, spec, data, steps=finetune_steps, rows=rows, method=method, lr=lr,
        batch_size=batch_size, seed=seed,
    )
    return evaluate(model, data, split, limit=limit)


# --------------------------------------------------------------------------- from scratch


@dataclass
class ScratchRun:
    model: nn.Module
    val: EvalResult
    test: EvalResult
    steps: int
    wall_s: float
    samples_per_s: float
    losses: list[float] = field(default_factory=list)


def train_model(
    model: nn.Module,
    data: CtrData,
    config: TrainConfig,
    *,
    desc: str = "train",
) -> tuple[list[float], int, float]:
    """Train a standalone model (``forward(dense, sparse)``) with the config's optimizer and
    schedule; return (losses, samples, wall seconds)."""
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    n_rows = _n_train_rows(data, config.train_rows)
    steps_per_epoch = -(-n_rows // config.batch_size)
    total = steps_per_epoch * config.epochs
    if config.stop_after_steps is not None:
        total_run = min(total, config.stop_after_steps)
    else:
        total_run = total
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizers(model, config, total)
    losses: list[float] = []
    samples = 0
    step = 0
    model.train()
    bar = tqdm(total=total_run, disable=config.quiet, desc=desc, unit="step")
    t0 = time.perf_counter()
    with _deterministic():
        for epoch in range(config.epochs):
            order = _epoch_order(data, "train", config.seed, epoch, config.train_rows)
            for batch in _iter_batches(data, order, config.batch_size):
                if step >= total_run:
                    break
                dense, sparse, label = _to_tensors(batch)
                loss = F.binary_cross_entropy_with_logits(model(dense, sparse), label)
                opt.zero_grad()
                loss.backward()
                clip_grad_norm(params, config.grad_clip)
                opt.step()
                step += 1
                samples += int(label.shape[0])
                losses.append(float(loss.detach()))
                bar.update(1)
                if step % 20 == 0:
                    bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    bar.close()
    model.eval()
    return losses, samples, time.perf_counter() - t0


def train_from_scratch(
    spec: SubnetSpec,
    data: CtrData,
    config: TrainConfig,
    *,
    eval_limit: int | None = None,
) -> tuple[nn.Module, EvalResult, EvalResult]:
    """Train subnet ``spec`` alone from freshly initialised weights; (model, val, test)."""
    run = train_from_scratch_run(spec, data, config, eval_limit=eval_limit)
    return run.model, run.val, run.test


def train_from_scratch_run(
    spec: SubnetSpec,
    data: CtrData,
    config: TrainConfig,
    *,
    eval_limit: int | None = None,
) -> ScratchRun:
    """:func:`train_from_scratch` with timing and the loss curve."""
    net = build_supernet(data.schema, spec.space, config.emb_dim, config.seed)
    init_output_bias(net, data)
    model = net.extract(spec)
    del net
    losses, samples, wall = train_model(model, data, config, desc=f"scratch {spec_hash(spec)[:8]}")
    val = evaluate(model, data, "val", limit=eval_limit)
    test = evaluate(model, data, "test", limit=eval_limit)
    return ScratchRun(
        model=model,
        val=val,
        test=test,
        steps=len(losses),
        wall_s=wall,
        samples_per_s=samples / wall if wall > 0 else float("nan"),
        losses=losses,
    )


__all__ = [
    "CHECKPOINT_NAME",
    "EvalResult",
    "ScratchRun",
    "init_output_bias",
    "supernet_loss",
    "SupernetRun",
    "TrainConfig",
    "TrainError",
    "base_rate_logloss",
    "build_supernet",
    "clip_grad_norm",
    "estimate_subnet",
    "evaluate",
    "finetune_head",
    "head_parameters",
    "load_checkpoint",
    "load_supernet",
    "metrics",
    "peak_lr",
    "make_optimizers",
    "Optimizers",
    "embedding_parameters",
    "predict",
    "train_from_scratch",
    "train_from_scratch_run",
    "train_model",
    "train_supernet",
]

