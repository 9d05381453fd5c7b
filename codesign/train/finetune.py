"""A subnet's quality as the supernet estimates it: refit the final layer of an extracted
copy on cached training features (the shared weights never move), then evaluate.

With a shared logit layer, each subnet's head is mis-calibrated after weight-sharing
training, and a few minibatch steps do not repair it (benchmarks/README.md, "head refit");
the head alone on the frozen subnet's features is a convex logistic problem, so the default
refit is full-batch L-BFGS from the supernet's head. The rows come from
``default_rng([seed, 3])``, the Adagrad variant's order from ``default_rng([seed, 4])``.

With a precision (:class:`codesign.quant.Precision`) the estimate sees it: the extracted
subnet computes under it (:func:`codesign.quant.apply_precision`) in the feature pass and
in the validation pass. Its activation ranges are calibrated first, on
:data:`CALIBRATION_ROWS` of the refit rows (``default_rng([seed, 5])``), so the cached
features are those of the quantised body. The head is refitted in fp32 on them and its own
precision applies afterwards, in the validation pass: a fake-quantised head makes the
refit's loss piecewise constant in its weights, which L-BFGS's line search cannot follow,
and the logit layer is one dot product per sample, whose post-training rounding moves the
logit by at most half a step per weight.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from codesign.data.cache import CtrData
from codesign.nas.memo import BlockMemo
from codesign.nas.ops import Final
from codesign.nas.space import SubnetSpec
from codesign.quant import Precision, QuantizedSubnet, apply_precision, calibrate
from codesign.train.config import TrainError, default
from codesign.train.loop import deterministic, iter_batches, to_tensors
from codesign.train.metrics import EvalResult, evaluate, metrics
from codesign.train.optim import clip_grad_norm

#: Training rows the head is refitted on when the caller gives none: the budget the ranking
#: figures of benchmarks/supernet.py were measured with (benchmarks/README.md).
FINETUNE_ROWS = 20_000
#: Head refit iterations of an estimate when the caller gives none (`codesign eval` and
#: benchmarks/supernet.py use it).
FINETUNE_STEPS = 100
#: Weight of the squared head weights in the L-BFGS refit's loss when the caller gives none
#: (benchmarks/README.md, "Supernet ranking": 1e-2 ranks worse).
REFIT_L2 = 1e-4
#: Rows per frozen forward pass while caching the head's inputs (memory only: the features
#: of a row do not depend on the batch).
FEATURE_BATCH = 4096
#: Refit rows the activation ranges of a quantised estimate are calibrated on.
CALIBRATION_ROWS = 4096
#: Gradient-norm clip of the Adagrad head refit: the same as training's.
HEAD_GRAD_CLIP: float = default("grad_clip")
#: L-BFGS history of the head refit (curvature pairs kept, each two copies of the head's
#: weights); torch's default is 100.
LBFGS_HISTORY = 20


def final_module(model: nn.Module) -> nn.Module:
    """The one final (logit) layer of a standalone subnet from ``Supernet.extract``."""
    found = [m for m in model.modules() if getattr(m, "kind", None) == Final.name]
    if len(found) != 1:
        raise TrainError(
            f"finetune_head: found {len(found)} final layers in {type(model).__name__}; "
            "accepted: a model from Supernet.extract with exactly one"
        )
    return found[0]


def rows_tag(rows: np.ndarray, start: int) -> str:
    """The name of the :data:`FEATURE_BATCH` rows of ``rows`` from ``start`` in a
    :class:`~codesign.nas.memo.BlockMemo` (a digest of their indices)."""
    part = np.ascontiguousarray(rows[start:start + FEATURE_BATCH], dtype=np.int64)
    return hashlib.sha256(part.tobytes()).hexdigest()[:24]


def head_inputs(model: nn.Module, final: nn.Module, data: CtrData,
                *row_sets: np.ndarray, memo: BlockMemo | None = None
                ) -> list[tuple[list[Tensor], Tensor]]:
    """The inputs of ``final`` (the module that runs the logit layer in ``model``) and the
    labels on each of ``row_sets``, from one frozen forward pass over them all (inference
    mode; :data:`FEATURE_BATCH` rows at a time within each set). With ``memo`` (``model``
    from ``Supernet.extract`` of a frozen supernet), blocks another subnet already computed
    on the same rows are read from it."""
    cached: list[tuple[Tensor, ...]] = []

    def keep(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        cached.append(tuple(t.detach() for t in inputs))

    per_set: list[tuple[list[Tensor], Tensor]] = []
    handle = final.register_forward_pre_hook(keep)
    try:
        with torch.inference_mode():
            for rows in row_sets:
                cached.clear()
                labels: list[Tensor] = []
                for k, batch in enumerate(iter_batches(data, rows, FEATURE_BATCH)):
                    dense, sparse, label = to_tensors(batch)
                    if memo is None:
                        model(dense, sparse)
                    else:
                        model(dense, sparse, memo, rows_tag(rows, k * FEATURE_BATCH))
                    labels.append(label)
                feats = [torch.cat([c[k] for c in cached]) for k in range(len(cached[0]))]
                per_set.append((feats, torch.cat(labels)))
    finally:
        handle.remove()
    # inference-mode tensors cannot enter the head fit's autograd graph: plain copies
    return [([f.clone() for f in feats], y.clone()) for feats, y in per_set]


def fit_head_lbfgs(final: nn.Module, feats: list[Tensor], y: Tensor, steps: int, l2: float) -> None:
    head = list(final.parameters())
    opt = torch.optim.LBFGS(head, lr=1.0, max_iter=steps, history_size=LBFGS_HISTORY,
                            line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        opt.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(final(*feats), y)
        loss = loss + l2 * sum((p * p).sum() for p in head if p.dim() > 1)
        loss.backward()
        return loss

    with deterministic():
        opt.step(closure)


def _fit_adagrad(final: nn.Module, feats: list[Tensor], y: Tensor, steps: int, *, lr: float,
                 eps: float, batch_size: int, seed: int, quiet: bool) -> None:
    head = list(final.parameters())
    opt = torch.optim.Adagrad(head, lr=lr, eps=eps)
    n_rows = int(y.shape[0])
    order_rng = np.random.default_rng([seed, 4])
    perm = order_rng.permutation(n_rows)
    pos = 0
    with deterministic():
        for _ in tqdm(range(steps), disable=quiet, desc="head", unit="step"):
            if pos + batch_size > n_rows:
                perm, pos = order_rng.permutation(n_rows), 0
            take = torch.from_numpy(perm[pos : pos + batch_size])
            pos += batch_size
            loss = F.binary_cross_entropy_with_logits(final(*(f[take] for f in feats)), y[take])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            clip_grad_norm(head, HEAD_GRAD_CLIP)
            opt.step()


def finetune_head(
    supernet: nn.Module,
    spec: SubnetSpec,
    data: CtrData,
    *,
    steps: int,
    rows: int | None = None,
    method: str = "lbfgs",
    l2: float = REFIT_L2,
    lr: float = 0.05,
    eps: float = 1e-2,
    batch_size: int = 512,
    seed: int = 0,
    quiet: bool = True,
    precision: Precision | None = None,
) -> nn.Module:
    """Fine-tune the final layer of subnet ``spec`` on training data; return that subnet.

    Works on a standalone copy (``supernet.extract(spec)``): the supernet's weights are not
    changed. The frozen part runs once over ``rows`` training rows (a seeded sample;
    default :data:`FINETUNE_ROWS`) while a forward hook keeps the final layer's inputs; the
    final layer alone is then fitted on them: ``method="lbfgs"`` runs at most ``steps``
    full-batch L-BFGS iterations on the log loss plus ``l2`` times the squared weights;
    ``method="adagrad"`` runs ``steps`` Adagrad steps of ``batch_size`` rows (``lr``, ``eps``).
    With ``precision``, the subnet computes under it (module docstring); the returned model
    is the quantised one.
    """
    if steps < 0:
        raise TrainError(f"finetune_head: steps {steps!r}; accepted: an integer >= 0")
    model = supernet.extract(spec)
    model.eval()
    net = apply_precision(model, precision, data.schema.sparse_names)
    quantised = net is not model
    if steps == 0 and not quantised:
        return model
    if method not in ("lbfgs", "adagrad"):
        raise TrainError(f"finetune_head: method {method!r}; accepted: lbfgs, adagrad")
    final = final_module(model)
    chosen = refit_rows(data, rows, seed)
    n_rows = chosen.shape[0]
    if quantised:
        cal = np.sort(np.random.default_rng([seed, 5]).choice(
            chosen, min(CALIBRATION_ROWS, n_rows), replace=False))
        calibrate(net, (to_tensors(b)[:2] for b in iter_batches(data, cal, FEATURE_BATCH)))
        net.eval()
        if steps == 0:
            return net
    runs_final = net.operator(Final.name) if isinstance(net, QuantizedSubnet) else final
    ((feats, y),) = head_inputs(net, runs_final, data, chosen)
    if method == "lbfgs":
        fit_head_lbfgs(final, feats, y, steps, l2)
    else:
        _fit_adagrad(final, feats, y, steps, lr=lr, eps=eps, batch_size=batch_size, seed=seed,
                     quiet=quiet)
    return net


def refit_rows(data: CtrData, rows: int | None, seed: int) -> np.ndarray:
    """The training rows a head refit reads: ``rows`` of them (default
    :data:`FINETUNE_ROWS`, at most the split) drawn by ``default_rng([seed, 3])``, sorted."""
    idx = data.indices("train")
    n_rows = min(rows if rows is not None else FINETUNE_ROWS, idx.shape[0])
    if n_rows < 1:
        raise TrainError(f"finetune_head: rows {rows!r}; accepted: a positive integer")
    return np.sort(np.random.default_rng([seed, 3]).choice(idx, n_rows, replace=False))


def estimate_on_rows(supernet: nn.Module, spec: SubnetSpec, data: CtrData, fit_rows: np.ndarray,
                     eval_rows: np.ndarray, steps: int, *, l2: float = REFIT_L2,
                     memo: BlockMemo | None = None) -> EvalResult:
    """The fp32 estimate of ``spec`` from one frozen pass: the logit layer's inputs on
    ``fit_rows`` and on ``eval_rows`` are cached together; the head is fitted by L-BFGS
    (at most ``steps`` iterations, as :func:`finetune_head`) on the first and applied to the
    second. The body is frozen, so the head on the cached inputs is the model's forward;
    ``memo`` keeps block outputs across calls on the same frozen supernet (the same answer,
    fewer blocks computed: :mod:`codesign.nas.memo`)."""
    model = supernet.extract(spec)
    model.eval()
    final = final_module(model)
    (feats, y), (val_feats, val_y) = head_inputs(model, final, data, fit_rows, eval_rows,
                                                 memo=memo)
    if steps > 0:
        fit_head_lbfgs(final, feats, y, steps, l2)
    with torch.inference_mode():
        probs = torch.sigmoid(final(*val_feats).double()).numpy()
    return metrics(val_y.numpy(), probs)


def estimate_subnet(
    supernet: nn.Module,
    spec: SubnetSpec,
    data: CtrData,
    finetune_steps: int = FINETUNE_STEPS,
    *,
    split: str = "val",
    rows: int | None = None,
    method: str = "lbfgs",
    lr: float = 0.05,
    batch_size: int = 512,
    seed: int = 0,
    limit: int | None = None,
    precision: Precision | None = None,
    memo: BlockMemo | None = None,
    l2: float = REFIT_L2,
) -> EvalResult:
    """The supernet's estimate of a subnet: fine-tune its head (L-BFGS: ``l2`` times the
    squared weights added to the log loss), evaluate on ``split``'s first ``limit`` rows;
    with ``precision``, both under that precision (module docstring).
    The fp32 L-BFGS estimate runs as :func:`estimate_on_rows` (one frozen pass, reading and
    filling ``memo`` when given; the other routes do not use it)."""
    if precision is None and method == "lbfgs" and finetune_steps >= 0:
        val = data.indices(split)  # type: ignore[arg-type]
        val = val if limit is None else val[:limit]
        if val.shape[0] == 0:
            raise TrainError(f"evaluate: split {split!r} has no rows; accepted: a non-empty split")
        return estimate_on_rows(supernet, spec, data, refit_rows(data, rows, seed), val,
                                finetune_steps, l2=l2, memo=memo)
    model = finetune_head(
        supernet, spec, data, steps=finetune_steps, rows=rows, method=method, l2=l2, lr=lr,
        batch_size=batch_size, seed=seed, precision=precision,
    )
    return evaluate(model, data, split, limit=limit)
