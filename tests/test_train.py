"""Training and evaluation: learning, resume equality, determinism, head fine-tuning,
metrics against scikit-learn, and the train / eval CLI."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss, roc_auc_score

from codesign.cli import main as codesign_main
from codesign.data.cache import CtrData
from codesign.data.synthetic import make_synthetic_cache
from codesign.space import SubnetSpec, sample, save_spec
from codesign.train import (
    TrainConfig,
    TrainError,
    base_rate_logloss,
    build_supernet,
    estimate_subnet,
    evaluate,
    finetune_head,
    load_checkpoint,
    metrics,
    train_from_scratch,
    train_supernet,
)

#: Batch and rows for the supernet tests: a few small steps each.
SMALL = dict(batch_size=32, train_rows=128, quiet=True, supernet_warmup_fraction=0.0)


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> object:
    """One torch thread: on a shared 2-core machine OpenMP threads that wait for each other
    make tiny steps many times slower; restored afterwards."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> CtrData:
    out = tmp_path_factory.mktemp("train") / "criteo20k"
    return make_synthetic_cache("criteo", 20_000, out, seed=3, cap=512)


def small_spec(seed: int = 0, width: int = 32, tokens: int = 16) -> SubnetSpec:
    """A sampled subnet shrunk to small widths (FC / EFC only), whose last block also reads
    the raw features: quick to train."""
    spec = sample("full", np.random.default_rng(seed))
    blocks = [
        dataclasses.replace(b, dense_op="fc", sparse_op="efc", dense_width=width, sparse_tokens=tokens)
        for b in spec.blocks
    ]
    blocks[-1] = dataclasses.replace(blocks[-1], dense_inputs=(0, 6), sparse_inputs=(0, 6))
    return dataclasses.replace(spec, blocks=tuple(blocks))


def state(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float = 1e-6) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=atol, rtol=0, msg=f"parameter {k}")


def test_scratch_training_beats_base_rate(data: CtrData) -> None:
    base = base_rate_logloss(data, "val")
    assert 0.5 < base < 0.65  # Criteo-like click rate near 0.26
    cfg = TrainConfig(epochs=2, batch_size=128, train_rows=8192, lr=0.05, quiet=True, seed=1)
    model, val, test = train_from_scratch(small_spec(), data, cfg)
    assert val.n == len(data.indices("val")) and test.n == len(data.indices("test"))
    assert val.logloss < base - 0.008
    assert val.auc > 0.58 and test.auc > 0.58


def test_resume_equals_uninterrupted(data: CtrData, tmp_path: Path) -> None:
    full = train_supernet(data, TrainConfig(**SMALL, seed=4), space="small")
    assert full.finished and full.steps_done == 4
    ckdir = tmp_path / "ck"
    part = train_supernet(
        data, TrainConfig(**SMALL, seed=4, checkpoint_dir=ckdir, checkpoint_every_steps=1, stop_after_steps=2),
        space="small",
    )
    assert part.steps_done == 2 and not part.finished
    assert load_checkpoint(ckdir)["step"] == 2
    resumed = train_supernet(data, TrainConfig(**SMALL, seed=4, checkpoint_dir=ckdir), space="small", resume=True)
    assert resumed.resumed_from_step == 2 and resumed.steps_done == 4 and resumed.finished
    assert part.losses + resumed.losses == pytest.approx(full.losses, abs=1e-6)
    assert_same_state(state(resumed.supernet), state(full.supernet))
    # the final checkpoint holds the finished run; nothing temporary is left behind
    assert load_checkpoint(ckdir)["step"] == 4
    assert [p.name for p in ckdir.iterdir()] == ["supernet.pt"]


def test_resume_rejects_changed_config(data: CtrData, tmp_path: Path) -> None:
    ckdir = tmp_path / "ck"
    train_supernet(data, TrainConfig(**SMALL, seed=4, checkpoint_dir=ckdir, stop_after_steps=1), space="small")
    with pytest.raises(TrainError, match="config.lr"):
        train_supernet(data, TrainConfig(**SMALL, seed=4, lr=0.5, checkpoint_dir=ckdir), space="small", resume=True)


def test_deterministic_with_seed(data: CtrData) -> None:
    cfg = dict(SMALL, batch_size=16, train_rows=48, supernet_warmup_fraction=0.5)
    a = train_supernet(data, TrainConfig(**cfg, seed=7), space="small")
    b = train_supernet(data, TrainConfig(**cfg, seed=7), space="small")
    assert a.steps_done == 3
    assert a.whole_supernet_steps >= 1  # the warm-up trained the whole supernet (step 0: p = 1)
    assert a.losses == b.losses
    assert_same_state(state(a.supernet), state(b.supernet), atol=0)
    c = train_supernet(data, TrainConfig(**cfg, seed=8, stop_after_steps=1), space="small")
    assert c.losses[0] != a.losses[0]


def test_finetune_changes_only_head_and_keeps_supernet(data: CtrData) -> None:
    net = build_supernet(data.schema, "small", 16, seed=2)
    before = state(net)
    spec = small_spec(5)
    spec = dataclasses.replace(spec, space="small")
    extracted = net.extract(spec)
    tuned = finetune_head(net, spec, data, steps=3, rows=2000)
    assert_same_state(state(net), before, atol=0)  # the shared weights are untouched
    a, b = state(extracted), state(tuned)
    changed = {k for k in a if not torch.equal(a[k], b[k])}
    assert changed and all(k.startswith("ops.final.") for k in changed), changed
    # estimate = fine-tuned head, evaluated on val; it differs from the untuned subnet
    est = estimate_subnet(net, spec, data, finetune_steps=3, rows=2000)
    plain = evaluate(net, data, "val", spec)
    assert est.n == plain.n and est.logloss != plain.logloss
    assert evaluate(tuned, data, "val").logloss == pytest.approx(est.logloss, abs=1e-9)
    # the minibatch Adagrad variant also moves the head only
    sgd = finetune_head(net, spec, data, steps=4, rows=1000, method="adagrad", lr=0.05, batch_size=256)
    c = state(sgd)
    assert {k for k in a if not torch.equal(a[k], c[k])} <= {k for k in a if k.startswith("ops.final.")}
    assert any(not torch.equal(a[k], c[k]) for k in a)
    with pytest.raises(TrainError, match="method"):
        finetune_head(net, spec, data, steps=1, rows=100, method="sgd")
    assert_same_state(state(net), before, atol=0)


def test_metrics_match_sklearn() -> None:
    y = np.array([0, 1, 1, 0, 1, 0, 0, 1], dtype=np.float32)
    p = np.array([0.1, 0.8, 0.6, 0.4, 0.3, 0.2, 0.7, 0.9])
    r = metrics(y, p)
    assert r.n == 8
    assert r.logloss == pytest.approx(log_loss(y, p), abs=1e-12)
    assert r.auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert r.auc == pytest.approx(13 / 16)
    assert r.logloss == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), abs=1e-12)
    assert math.isnan(metrics(np.ones(3), np.full(3, 0.5)).auc)


class ConstantLogit(torch.nn.Module):
    """A stand-in model whose logit is the first dense feature minus 1."""

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        return dense[:, 0] - 1.0


def test_evaluate_matches_sklearn_on_data(data: CtrData) -> None:
    r = evaluate(ConstantLogit(), data, "val", batch_size=1000)
    idx = data.indices("val")
    y = np.asarray(data.label[idx], dtype=np.float64)
    p = 1 / (1 + np.exp(-(np.asarray(data.dense[idx, 0], dtype=np.float64) - 1.0)))
    assert r.n == idx.shape[0]
    assert r.logloss == pytest.approx(log_loss(y, p), rel=1e-9)
    assert r.auc == pytest.approx(roc_auc_score(y, p), rel=1e-9)


def test_config_errors() -> None:
    with pytest.raises(TrainError, match="batch_size"):
        TrainConfig.make(batch_size=0)
    with pytest.raises(TrainError, match="lr"):
        TrainConfig.make(lr=-1)


def test_cli_train_supernet_eval_and_train(data: CtrData, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ck = tmp_path / "ck"
    common = ["--data", str(data.path), "--batch-size", "32", "--train-rows", "64", "--quiet"]
    assert codesign_main(["train-supernet", *common, "--out", str(ck), "--space", "small", "--supernet-warmup", "0"]) == 0
    assert "steps 2/2" in capsys.readouterr().out
    spec_path = tmp_path / "spec.json"
    save_spec(dataclasses.replace(small_spec(1), space="small"), spec_path)
    assert codesign_main(["eval", "--spec", str(spec_path), "--supernet", str(ck), "--data", str(data.path), "--finetune-steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "after 2 head fine-tuning steps: logloss" in out
    assert codesign_main(["train", "--spec", str(spec_path), *common, "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "val : logloss" in out and "test: logloss" in out
    assert (tmp_path / "m" / "metrics.json").is_file() and (tmp_path / "m" / "model.pt").is_file()
    # bad input: exit status 2 and a one-line message, no traceback
    assert codesign_main(["eval", "--spec", str(spec_path), "--supernet", str(tmp_path / "none"), "--data", str(data.path)]) == 2
    err = capsys.readouterr().err
    assert "no such checkpoint" in err and "Traceback" not in err
    assert codesign_main(["train-supernet", "--data", str(tmp_path / "nodata"), "--out", str(ck)]) == 2
    # a full-space spec against a small-space supernet is refused
    save_spec(small_spec(1), spec_path)
    assert codesign_main(["eval", "--spec", str(spec_path), "--supernet", str(ck), "--data", str(data.path)]) == 2
    assert "space" in capsys.readouterr().err
