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

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from codesign.data.cache import CtrData
from codesign.nas.ops import Final
from codesign.nas.space import SubnetSpec
from codesign.quant import Precision, QuantizedSubnet, apply_precision, calibrate
from codesign.train.config import TrainError, default
from codesign.train.loop import deterministic, iter_batches, to_tensors
from codesign.train.metrics import EvalResult, evaluate
from codesign.train.optim import clip_grad_norm

#: Training rows the head is refitted on when the caller gives none: the budget the ranking
#: figures of benchmarks/supernet.py were measured with (benchmarks/README.md).
FINETUNE_ROWS = 20_000
#: Head refit iterations of an estimate when the caller gives none (`codesign eval` and
#: benchmarks/supernet.py use it).
FINETUNE_STEPS = 100
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


def _head_inputs(model: nn.Module, final: nn.Module, data: CtrData, rows: np.ndarray) -> tuple[list[Tensor], Tensor]:
    """The inputs of ``final`` (the module that runs the logit layer in ``model``) and the
    labels on ``rows``, from one frozen forward pass."""
    cached: list[tuple[Tensor, ...]] = []

    def keep(_module: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        cached.append(tuple(t.detach() for t in inputs))

    labels: list[Tensor] = []
    handle = final.register_forward_pre_hook(keep)
    try:
        with torch.no_grad():
            for batch in iter_batches(data, rows, FEATURE_BATCH):
                dense, sparse, label = to_tensors(batch)
                model(dense, sparse)
                labels.append(label)
    finally:
        handle.remove()
    feats = [torch.cat([c[k] for c in cached]) for k in range(len(cached[0]))]
    return feats, torch.cat(labels)


def _fit_lbfgs(final: nn.Module, feats: list[Tensor], y: Tensor, steps: int, l2: float) -> None:
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
    l2: float = 1e-4,
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
    idx = data.indices("train")
    n_rows = min(rows if rows is not None else FINETUNE_ROWS, idx.shape[0])
    if n_rows < 1:
        raise TrainError(f"finetune_head: rows {rows!r}; accepted: a positive integer")
    chosen = np.sort(np.random.default_rng([seed, 3]).choice(idx, n_rows, replace=False))
    if quantised:
        cal = np.sort(np.random.default_rng([seed, 5]).choice(
            chosen, min(CALIBRATION_ROWS, n_rows), replace=False))
        calibrate(net, (to_tensors(b)[:2] for b in iter_batches(data, cal, FEATURE_BATCH)))
        net.eval()
        if steps == 0:
            return net
    runs_final = net.operator(Final.name) if isinstance(net, QuantizedSubnet) else final
    feats, y = _head_inputs(net, runs_final, data, chosen)
    if method == "lbfgs":
        _fit_lbfgs(final, feats, y, steps, l2)
    else:
        _fit_adagrad(final, feats, y, steps, lr=lr, eps=eps, batch_size=batch_size, seed=seed,
                     quiet=quiet)
    return net


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
) -> EvalResult:
    """The supernet's estimate of a subnet: fine-tune its head, evaluate on ``split``; with
    ``precision``, both under that precision (module docstring)."""
    model = finetune_head(
        supernet, spec, data, steps=finetune_steps, rows=rows, method=method, lr=lr,
        batch_size=batch_size, seed=seed, precision=precision,
    )
    return evaluate(model, data, split, limit=limit)
