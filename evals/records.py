"""Run folders: records.jsonl (one flushed JSON line per finished task) and manifest.json."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from evals.errors import UserError
from evals.scoring.outcome import Score
from evals.types import Request, Response

Mode = Literal["plain", "tools"]


class ToolStats(BaseModel):
    steps: int = 1  # model turns
    tool_calls: int = 0
    tool_errors: int = 0


class Record(BaseModel):
    key: str  # suite/item_id/mode/sample: unique within a run
    run_id: str
    suite: str
    suite_version: str
    check: str
    item_id: str
    lang: str
    control: bool = False
    tags: list[str] = Field(default_factory=list)
    mode: Mode = "plain"
    sample: int = 0
    request: Request
    response: Response  # the final answer (in tools mode: the last model turn)
    transcript: list[dict[str, Any]] = Field(default_factory=list)  # tools mode: every turn and tool call
    tool_stats: ToolStats | None = None
    score: Score | None = None  # None when the response is an error
    error: str | None = None
    cached: bool = False
    cache_key: str | None = None
    scorer_version: str = "1"
    timings: dict[str, float] = Field(default_factory=dict)


def task_key(suite: str, item_id: str, mode: str, sample: int) -> str:
    return f"{suite}/{item_id}/{mode}/{sample}"


class RecordWriter:
    """Append-only writer: every record is one line, flushed and fsynced as it completes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f = path.open("a", encoding="utf-8")

    def write(self, record: Record) -> None:
        self._f.write(record.model_dump_json() + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Yield each complete record; a torn last line (no newline or bad JSON) is skipped."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                return
            try:
                yield json.loads(raw)
            except json.JSONDecodeError:
                continue


def iter_records(run_dir: Path) -> Iterator[Record]:
    for data in iter_lines(Path(run_dir) / "records.jsonl"):
        yield Record.model_validate(data)


def repair(path: Path, drop_errors: bool = True) -> tuple[set[str], int, int]:
    """Prepare records.jsonl for resuming: cut a torn tail, drop error records (they are retried)
    and duplicates. Returns (done keys, torn lines removed, error records removed)."""
    if not path.exists():
        return set(), 0, 0
    keep: list[bytes] = []
    done: set[str] = set()
    torn = errors = duplicates = 0
    with path.open("rb") as f:
        for raw in f:
            try:
                data = json.loads(raw) if raw.endswith(b"\n") else None
            except json.JSONDecodeError:
                data = None
            if data is None:
                torn += 1
                continue
            if drop_errors and data.get("error"):
                errors += 1
                continue
            if data["key"] in done:
                duplicates += 1
                continue
            done.add(data["key"])
            keep.append(raw)
    if torn or errors or duplicates:
        tmp = path.with_suffix(".jsonl.tmp")
        with tmp.open("wb") as f:
            f.writelines(keep)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return done, torn, errors


def run_folder(path: str | Path, label: str = "") -> Path:
    """`path` if it is a run folder (has manifest.json); otherwise a one-line UserError."""
    run_dir = Path(path)
    if not (run_dir / "manifest.json").is_file():
        raise UserError(f"{label}{run_dir}: not a run folder (no manifest.json)")
    return run_dir


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    tmp = Path(run_dir) / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    os.replace(tmp, Path(run_dir) / "manifest.json")
