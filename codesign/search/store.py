"""A search's folder: the journal of finished evaluations and the per-generation checkpoint.

- ``journal.jsonl``: a header line (the config and the problem's inputs), then one line per
  finished evaluation,
  written and fsync'd as each evaluation arrives (in completion order). A kill can tear
  only the last line; reading cuts it off.
- ``checkpoint.json``: written atomically (:mod:`pimsim.util.fileio`) after every generation:
  config, generation, the numpy ``bit_generator.state``, population keys, every history
  record and the counters.

A resumed search takes its state from the checkpoint and the results of the evaluations
journaled after it, so nothing finished is evaluated again. It is refused when its config or
its problem's *inputs* (:meth:`SearchProblem.identity`: what every stored result depends on
besides the genome, such as the content hash of a model or of a data set) differ from the
stored ones, naming the first differing key: a stored score is never reused for other inputs.
A folder whose journal holds no evaluation and that has no checkpoint (a run that failed
before its first result) holds no search: it is started again without ``overwrite``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from pimsim.util.cli import to_jsonable
from pimsim.util.fileio import atomic_write_json

from codesign.search.config import SearchError

__all__ = [
    "CHECKPOINT_NAME",
    "JOURNAL_NAME",
    "STORE_FORMAT",
    "Checkpoint",
    "SearchStore",
    "malformed_checkpoint",
    "read_checkpoint",
    "read_journal",
]

CHECKPOINT_NAME = "checkpoint.json"
JOURNAL_NAME = "journal.jsonl"
STORE_FORMAT = "pimrec-search"
STORE_VERSION = 1


@dataclass
class Checkpoint:
    """The committed state of a search after its generation ``generation``."""

    generation: int
    rng: np.random.Generator
    population: list[str]
    history: list[dict[str, Any]]
    duplicates_accepted: int
    redraws: int


def read_objectives(objectives: Mapping[str, Any]) -> dict[str, float]:
    """Objectives as stored (strict JSON: a value that is not finite is ``null``) back as
    floats, ``null`` as NaN (the search's worst value)."""
    return {str(k): math.nan if v is None else float(v) for k, v in objectives.items()}


def malformed_checkpoint(where: str, exc: Exception) -> SearchError:
    return SearchError(
        f"{where}: malformed checkpoint ({type(exc).__name__}: {exc}); accepted: a "
        "checkpoint written by codesign.search"
    )


def _config_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def _short(value: Any) -> str:
    text = "not recorded" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_inputs(where: str, stored: Any, inputs: Mapping[str, Any]) -> None:
    """Refuse a stored search whose inputs differ from ``inputs``, naming the first key."""
    stored = stored if isinstance(stored, Mapping) else {}
    diff = _config_diff(stored, inputs)
    if diff:
        key = diff[0]
        raise SearchError(
            f"{where}: the stored search was made with another {key} ({_short(stored.get(key))}; "
            f"this one: {_short(inputs.get(key))}); accepted: the same {key} to resume, or "
            "another output folder"
        )


def read_checkpoint(path: Path, config: Mapping[str, Any],
                    inputs: Mapping[str, Any] | None = None) -> Checkpoint:
    """The checkpoint at ``path``, refused unless written by a search with ``config`` and
    (when given) ``inputs``."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SearchError(f"{path}: unreadable checkpoint ({exc}); accepted: JSON") from exc
    where = str(path)
    if not isinstance(data, dict) or data.get("format") != STORE_FORMAT:
        raise SearchError(
            f"{where}: format {data.get('format') if isinstance(data, dict) else data!r}; "
            f"accepted: a {STORE_FORMAT!r} checkpoint"
        )
    if inputs is not None:
        check_inputs(where, data.get("inputs"), inputs)
    diff = _config_diff(data.get("config", {}), config)
    if diff:
        raise SearchError(
            f"{where}: config differs from this search's in keys {diff}; accepted: the same "
            "config to resume, or another output folder"
        )
    try:
        state = data["rng_state"]
        bit_gen = getattr(np.random, state["bit_generator"])()
        bit_gen.state = state
        counters = data["counters"]
        ckpt = Checkpoint(
            generation=int(data["generation"]),
            rng=np.random.Generator(bit_gen),
            population=[str(k) for k in data["population"]],
            history=[{**rec, "objectives": read_objectives(rec["objectives"])}
                     for rec in data["history"]],
            duplicates_accepted=int(counters["duplicates_accepted"]),
            redraws=int(counters["redraws"]),
        )
        keys = {rec["key"] for rec in ckpt.history}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise malformed_checkpoint(where, exc) from exc
    missing = [k for k in ckpt.population if k not in keys]
    if missing:
        raise SearchError(
            f"{where}: population keys {missing[:3]} have no history record; accepted: a "
            "consistent checkpoint"
        )
    return ckpt


def _torn_last_line(lineno: int, lines: list[bytes]) -> bool:
    """Only the final line can be torn by a kill (every earlier line ends in a newline)."""
    return lineno == len(lines) or (lineno == len(lines) - 1 and lines[-1] == b"")


def _check_record(record: Any) -> None:
    if not isinstance(record, dict) or record.get("type") not in ("header", "eval"):
        raise ValueError("not a journal record")
    if record["type"] == "eval" and not (
        isinstance(record.get("key"), str) and isinstance(record.get("objectives"), dict)
    ):
        raise ValueError("an eval record needs 'key' and 'objectives'")


def read_journal(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Header and evaluation entries of a journal; a torn last line is cut off the file."""
    header: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = []
    with open(path, "rb") as fh:
        raw = fh.read()
    offset = 0
    lines = raw.split(b"\n")
    for lineno, line in enumerate(lines, start=1):
        start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            _check_record(record)
        except (ValueError, KeyError) as exc:
            if _torn_last_line(lineno, lines):
                with open(path, "r+b") as fh:
                    fh.truncate(start)
                    fh.flush()
                    os.fsync(fh.fileno())
                break
            raise SearchError(
                f"{path}:{lineno}: malformed journal line ({exc}); accepted: one JSON object "
                "per line with type 'header' or 'eval'"
            ) from exc
        if record["type"] == "header":
            if header is None:
                header = record
        else:
            try:
                record["objectives"] = read_objectives(record["objectives"])
            except (TypeError, ValueError) as exc:
                raise SearchError(f"{path}:{lineno}: objectives {record['objectives']!r}; "
                                  "accepted: numbers or null") from exc
            entries.append(record)
    return header, entries


class SearchStore:
    """The journal and checkpoint of one search in ``out_dir`` (its JSON ``config`` and the
    problem's JSON ``inputs``)."""

    def __init__(self, out_dir: Path, config: Mapping[str, Any],
                 inputs: Mapping[str, Any] | None = None) -> None:
        self.out_dir = out_dir
        self.config = dict(config)
        self.inputs = dict(inputs or {})
        self._journal: IO[str] | None = None
        self._created = False

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / CHECKPOINT_NAME

    @property
    def journal_path(self) -> Path:
        return self.out_dir / JOURNAL_NAME

    def open(self, resume: bool, overwrite: bool
             ) -> tuple[Checkpoint | None, list[dict[str, Any]]]:
        """Open the journal for appending; return the checkpoint (None when there is none)
        and the journal's evaluation entries. Without ``resume`` a folder that holds a
        search is refused unless ``overwrite``, which starts it again."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        ckpt_path, journal = self.checkpoint_path, self.journal_path
        if not resume:
            if self.holds_search() and not overwrite:
                raise SearchError(
                    f"{self.out_dir}: holds a search already ({CHECKPOINT_NAME} / "
                    f"{JOURNAL_NAME}); accepted: --resume (resume=True) to continue it, "
                    "--overwrite (overwrite=True) to start it again, or another output folder"
                )
            for p in (ckpt_path, journal):
                p.unlink(missing_ok=True)
        ckpt = (read_checkpoint(ckpt_path, self.config, self.inputs) if ckpt_path.exists()
                else None)
        header: dict[str, Any] | None = None
        entries: list[dict[str, Any]] = []
        if journal.exists():
            header, entries = read_journal(journal)
            if header is not None and not entries and ckpt is None:
                journal.unlink()  # a run that failed before its first result: no search
                header = None
            elif header is not None:
                check_inputs(f"{journal}:1", header.get("inputs"), self.inputs)
                diff = _config_diff(header.get("config", {}), self.config)
                if diff:
                    raise SearchError(
                        f"{journal}:1: the journal was written by a search with a different "
                        f"config (keys {diff}); accepted: the same config to resume, or "
                        "another output folder"
                    )
        self._created = header is None
        self._journal = open(journal, "a", encoding="utf-8")
        if header is None:
            self.append({"type": "header", "format": STORE_FORMAT, "config": self.config,
                         "inputs": self.inputs})
        return ckpt, entries

    def holds_search(self) -> bool:
        """Whether the folder holds a search's results: a checkpoint, or a journal with at
        least one evaluation."""
        if self.checkpoint_path.exists():
            return True
        if not self.journal_path.exists():
            return False
        try:
            return bool(read_journal(self.journal_path)[1])
        except SearchError:
            return True

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one record to the journal, on disk when this returns."""
        if self._journal is None:
            raise SearchError(f"{self.journal_path}: written before open(); accepted: "
                              "SearchStore.open() first")
        self._journal.write(json.dumps(to_jsonable(record), sort_keys=True, allow_nan=False) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def write_checkpoint(self, ckpt: Checkpoint) -> None:
        atomic_write_json(
            self.checkpoint_path,
            to_jsonable({
                "format": STORE_FORMAT,
                "version": STORE_VERSION,
                "config": self.config,
                "inputs": self.inputs,
                "generation": ckpt.generation,
                "rng_state": ckpt.rng.bit_generator.state,
                "population": ckpt.population,
                "history": ckpt.history,
                "counters": {
                    "duplicates_accepted": ckpt.duplicates_accepted,
                    "redraws": ckpt.redraws,
                },
            }),
            indent=None, sort_keys=True, allow_nan=False,
        )

    def close(self, failed: bool = False) -> None:
        """Close the journal; after a ``failed`` run, remove the journal this store created
        when it holds no evaluation (so the corrected command starts afresh)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
            if failed and self._created and not self.holds_search():
                self.journal_path.unlink(missing_ok=True)
