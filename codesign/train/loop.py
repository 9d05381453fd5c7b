"""The training loop shared by supernet and from-scratch training: seeded epoch order,
minibatches as tensors, and :func:`train_steps` (loss, backward, clip, optimizer step,
progress), plus the deterministic-algorithms switch every fit runs under."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from codesign.data.cache import Batch, CtrData
from codesign.train.config import TrainConfig, TrainError
from codesign.train.optim import Optimizers, clip_grad_norm

#: The progress bar shows the mean loss of this many last steps, refreshed as often.
PROGRESS_WINDOW = 20

#: ``loss_of(dense, sparse, label, step)``: the loss of one minibatch at global step ``step``.
LossFn = Callable[[Tensor, Tensor, Tensor, int], Tensor]


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """``torch.use_deterministic_algorithms(True)`` for the block, then the old setting."""
    old = torch.are_deterministic_algorithms_enabled()
    old_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old, warn_only=old_warn)


def to_tensors(batch: Batch) -> tuple[Tensor, Tensor, Tensor]:
    """(dense float32, sparse int64, label float32) tensors of a minibatch."""
    return (
        torch.from_numpy(np.ascontiguousarray(batch.dense, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(batch.sparse, dtype=np.int64)),
        torch.from_numpy(np.ascontiguousarray(batch.label, dtype=np.float32)),
    )


def epoch_order(data: CtrData, split: str, seed: int, epoch: int, limit: int | None) -> np.ndarray:
    """Rows of one epoch in their shuffled order, from ``default_rng([seed, 1, epoch])``."""
    idx = data.indices(split)  # type: ignore[arg-type]
    rng = np.random.default_rng([seed, 1, epoch])
    order = idx[rng.permutation(idx.shape[0])]
    return order[:limit] if limit is not None else order


def iter_batches(data: CtrData, order: np.ndarray, batch_size: int, start_batch: int = 0) -> Iterator[Batch]:
    """Consecutive minibatches of ``order`` from batch ``start_batch`` on (rows of a batch
    read in file order)."""
    for start in range(start_batch * batch_size, order.shape[0], batch_size):
        yield data.take(np.sort(order[start : start + batch_size]))


def steps_per_epoch(data: CtrData, config: TrainConfig) -> int:
    """Minibatches per epoch: the train split (at most ``train_rows``) over ``batch_size``."""
    n = int(data.indices("train").shape[0])
    if n == 0:
        raise TrainError(f"{getattr(data, 'path', 'data')}: the train split is empty; accepted: a cache with training rows")
    rows = min(n, config.train_rows) if config.train_rows is not None else n
    return -(-rows // config.batch_size)


@dataclass
class StepsDone:
    """What :func:`train_steps` did: the step reached, each step's loss, rows, wall seconds."""

    step: int
    losses: list[float]
    samples: int
    wall_s: float


def train_steps(
    loss_of: LossFn,
    params: Sequence[nn.Parameter],
    opt: Optimizers,
    data: CtrData,
    config: TrainConfig,
    *,
    start_step: int,
    stop_at: int,
    bar_total: int,
    desc: str,
    after_step: Callable[[int], None] | None = None,
    base_logloss: float | None = None,
) -> StepsDone:
    """Run training steps ``start_step`` .. ``stop_at - 1`` over ``config``'s epochs.

    Step ``s`` reads minibatch ``s mod steps_per_epoch`` of epoch ``s // steps_per_epoch``
    (:func:`epoch_order`), so a resumed run sees the batches an uninterrupted one would.
    Each step: ``loss_of``, backward, gradient-norm clip at ``config.grad_clip``, optimizer
    and schedule step, then ``after_step(step_reached)``. Runs under :func:`deterministic`.
    The progress bar shows the mean loss of the last steps and, when given, the base-rate
    log loss ``base_logloss`` beside it.
    """
    per_epoch = steps_per_epoch(data, config)
    step = start_step
    losses: list[float] = []
    samples = 0
    bar = tqdm(total=bar_total, initial=start_step, disable=config.quiet, desc=desc, unit="step")
    t0 = time.perf_counter()
    with deterministic():
        while step < stop_at:
            epoch, in_epoch = divmod(step, per_epoch)
            order = epoch_order(data, "train", config.seed, epoch, config.train_rows)
            for batch in iter_batches(data, order, config.batch_size, in_epoch):
                dense, sparse, label = to_tensors(batch)
                loss = loss_of(dense, sparse, label, step)
                opt.zero_grad()
                loss.backward()
                clip_grad_norm(params, config.grad_clip)
                opt.step()
                step += 1
                samples += int(label.shape[0])
                losses.append(float(loss.detach()))
                bar.update(1)
                if step % PROGRESS_WINDOW == 0:
                    post = {"loss": f"{np.mean(losses[-PROGRESS_WINDOW:]):.4f}"}
                    if base_logloss is not None:
                        post["base_rate"] = f"{base_logloss:.4f}"
                    bar.set_postfix(post)
                if after_step is not None:
                    after_step(step)
                if step >= stop_at:
                    break
    bar.close()
    return StepsDone(step=step, losses=losses, samples=samples, wall_s=time.perf_counter() - t0)
