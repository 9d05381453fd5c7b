"""What a stored search result depends on: ``codesign search --resume`` refuses another
supernet, data cache, profile or estimate setting (naming it), the accuracy cache never
serves a score of another supernet, and ``--dataset`` must be the cache's own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from codesign.cli.main import main as codesign_main
from codesign.cosearch import CoSearchProblem
from codesign.data.synthetic import make_synthetic_cache
from codesign.nas.space import from_dict
from codesign.search import JOURNAL_NAME
from codesign.train.checkpoint import CHECKPOINT_NAME


def _perturbed_supernet(run_dir: Path, folder: Path) -> Path:
    """A copy of the run's supernet checkpoint with its weights changed: another supernet."""
    ckpt = torch.load(run_dir / "supernet" / CHECKPOINT_NAME, map_location="cpu",
                      weights_only=True)
    # every stored weight changes (matrices may be stored int8 row-wise: their scales)
    tensors = ckpt["model"]["tensors"]
    for name, v in tensors.items():
        if isinstance(v, dict):
            v["scale"] = v["scale"] * 1.5
        elif v.is_floating_point() and v.numel() > 1:
            tensors[name] = v + 0.5
    folder.mkdir(parents=True)
    torch.save(ckpt, folder / CHECKPOINT_NAME)
    return folder


def _args(run_dir: Path, out: Path, supernet: Path, data: Path) -> list[str]:
    return ["search", "--data", str(data), "--supernet", str(supernet), "--profile",
            "hbm2_pim", "--mode", "accuracy", "--budget", "tiny", "--out", str(out),
            "--finetune-steps", "0", "--eval-rows", "100", "--quiet"]


@pytest.mark.slow
def test_a_stored_search_is_tied_to_its_inputs(run_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    supernet = tmp_path / "supernet"
    shutil.copytree(run_dir / "supernet", supernet)
    data = run_dir / "data" / "cache"
    out = tmp_path / "search"
    out.mkdir()  # the user's folder: kept, and left empty by a failed command
    args = _args(run_dir, out, supernet, data)
    # a failed command leaves nothing that blocks the corrected one
    typo = [("no_such_profile" if a == "hbm2_pim" else a) for a in args]
    assert codesign_main(typo) == 2
    assert "no_such_profile" in capsys.readouterr().err
    assert list(out.iterdir()) == []
    # a journal holding only its header (a run that died before its first result) is no
    # search: the command runs without --resume
    (out / JOURNAL_NAME).write_text(json.dumps({"type": "header", "config": {}}) + "\n")
    assert codesign_main(args) == 0
    journal = (out / JOURNAL_NAME).read_text()
    best = (out / "best.json").read_text()
    # every file is strict JSON with the usual permissions
    _strict_json(out / "best.json")
    for line in journal.splitlines():
        _strict_json(line)
    _strict_json(out / "checkpoint.json")
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in out.rglob("*") if p.is_file())
    capsys.readouterr()
    # a retrained supernet at the same path: its content differs
    other = _perturbed_supernet(run_dir, tmp_path / "other_supernet")
    shutil.copyfile(other / CHECKPOINT_NAME, supernet / CHECKPOINT_NAME)
    assert codesign_main(args + ["--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another supernet" in err
    shutil.copyfile(run_dir / "supernet" / CHECKPOINT_NAME, supernet / CHECKPOINT_NAME)
    other_data = tmp_path / "data"
    make_synthetic_cache("criteo", 3000, other_data, seed=7, cap=2**10)
    for change, named in ((["--profile", "hbm2"], "another profile"),
                          (["--data", str(other_data)], "another data"),
                          (["--finetune-steps", "1"], "another finetune_steps"),
                          (["--eval-rows", "300"], "another eval_rows")):
        assert codesign_main(args + ["--resume"] + change) == 2, change
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and named in err, (change, err)
    # nothing was changed by the refusals, and the same inputs still resume
    assert (out / JOURNAL_NAME).read_text() == journal
    assert codesign_main(args + ["--resume"]) == 0
    assert (out / "best.json").read_text() == best
    # without --resume the folder is refused, naming both ways on; --overwrite starts the
    # search again and, from the same inputs and seed, finds the same best
    capsys.readouterr()
    assert codesign_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "--resume" in err and "--overwrite" in err and len(err.splitlines()) == 1
    assert codesign_main(args + ["--overwrite"]) == 0
    assert (out / "best.json").read_text() == best
    with pytest.raises(SystemExit):
        codesign_main(args + ["--overwrite", "--resume"])


def test_accuracy_cache_is_keyed_by_the_supernet(run_dir: Path, tmp_path: Path) -> None:
    spec = from_dict(json.loads((run_dir / "B.json").read_text())["spec"])
    other = _perturbed_supernet(run_dir, tmp_path / "other")
    common = {"data_dir": str(run_dir / "data" / "cache"), "profile": "hbm2_pim",
              "co_design": False, "finetune_steps": 0, "eval_rows": 200, "simulate": False}
    cache = str(tmp_path / "cache")
    first = CoSearchProblem(supernet=str(run_dir / "supernet"), cache_dir=cache, **common)
    second = CoSearchProblem(supernet=str(other), cache_dir=cache, **common)
    uncached = CoSearchProblem(supernet=str(other), **common)
    a = first.accuracy(spec)
    b = second.accuracy(spec)
    # the second supernet's score is its own, computed, never the first's from the cache
    assert b == uncached.accuracy(spec)
    assert b != a
    assert len(list((tmp_path / "cache" / "accuracy").glob("*/*.json"))) == 2


def test_dataset_must_be_the_caches(run_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s"
    args = _args(run_dir, out, run_dir / "supernet", run_dir / "data" / "cache")
    assert codesign_main(args + ["--dataset", "avazu"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--dataset avazu" in err and "'criteo'" in err
    assert not out.exists()  # refused before anything was created


def _refuse(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def _strict_json(source: Path | str) -> object:
    """Parse as strict JSON: NaN, Infinity and -Infinity are refused."""
    text = source.read_text() if isinstance(source, Path) else source
    return json.loads(text, parse_constant=_refuse)


def test_problems_at_other_profiles_share_the_loaded_supernet_and_block_memo(run_dir: Path) -> None:
    # the frozen supernet's block outputs do not depend on the hardware: one copy per
    # process, whatever the number of profiles a reproduction runs; the kernel costs do
    common = {"data_dir": str(run_dir / "data" / "cache"), "supernet": str(run_dir / "supernet"),
              "co_design": True, "finetune_steps": 0, "eval_rows": 200}
    hbm = CoSearchProblem(profile="hbm2_pim", **common)
    aim = CoSearchProblem(profile="gddr6_aim", **common)
    for shared in ("data", "supernet", "block_memo"):
        assert hbm._memo(shared) is aim._memo(shared), shared
    assert hbm._memo("sim_caches") is not aim._memo("sim_caches")
    assert hbm._memo("profile").name != aim._memo("profile").name
    spec = from_dict(json.loads((run_dir / "B.json").read_text())["spec"])
    # a profile's estimate reads back the blocks another profile's estimate computed, and
    # scores the subnet exactly as the first one, which computed every block, did
    first = hbm.accuracy(spec)
    hits = hbm._memo("block_memo").hits
    assert aim.accuracy(spec) == first
    assert hbm._memo("block_memo").hits > hits
