"""Run folders: records.jsonl (one flushed JSON line per finished task) and manifest.json."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from evals.errors import UserError
from evals.judge import JudgeVerdict
from evals.scoring.outcome import Score
from evals.transcript import TranscriptEntry
from evals.types import Request, Response

Mode = Literal["plain", "tools"]
RECORDS_NAME = "records.jsonl"
LOCK_NAME = ".lock"
MAX_PROBLEMS_SHOWN = 10


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
    transcript: list[TranscriptEntry] = Field(default_factory=list)  # tools mode: every turn and tool call
    tool_stats: ToolStats | None = None
    score: Score | None = None  # None when the response is an error
    error: str | None = None
    cached: bool = False
    cache_key: str | None = None
    scorer_version: str = "1"
    timings: dict[str, float] = Field(default_factory=dict)
    judge: JudgeVerdict | None = None  # --judge: a grader model's verdict beside the rule's (evals/judge.py)


def task_key(suite: str, item_id: str, mode: str, sample: int) -> str:
    return f"{suite}/{item_id}/{mode}/{sample}"


class RecordWriter:
    """Append-only writer: every record is one line, flushed and fsynced as it completes. A full disk
    or an unwritable folder is a one-line UserError; the lines already written stay."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._f = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{path}: cannot write: {exc.strerror}") from exc

    def write(self, record: Record) -> None:
        try:
            self._f.write(record.model_dump_json() + "\n")
            self._f.flush()
            os.fsync(self._f.fileno())
        except OSError as exc:
            raise UserError(f"{self.path}: cannot write: {exc.strerror}; the records written so far are "
                            "kept, finish with `probity run --resume` once there is room") from exc

    def close(self) -> None:
        try:
            self._f.close()
        except OSError:
            pass

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RunLock:
    """An exclusive lock on a run folder (`.lock`, flock): one process appends to a run at a time.
    The lock goes with the process, so a killed run never leaves a stale lock behind."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(f"{self.path}: cannot create the run lock: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise UserError(f"{self.path.parent}: another probity process (pid {holder}) is writing this run; "
                            "wait for it to finish or stop it, then resume") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


@dataclass
class Line:
    """One line of records.jsonl as read: its number, the raw bytes and the parsed record or a problem."""

    number: int
    raw: bytes
    record: Record | None = None
    problem: str | None = None


def _parse(number: int, raw: bytes) -> Line:
    line = Line(number, raw)
    if not raw.endswith(b"\n"):
        line.problem = "incomplete last line (the run stopped while writing it)"
        return line
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line.problem = f"not UTF-8 (byte {exc.start})"
        return line
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        line.problem = f"not JSON ({exc.msg})"
        return line
    if not isinstance(data, dict):
        line.problem = f"not a record (a JSON {type(data).__name__})"
        return line
    try:
        line.record = Record.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(record)"
        line.problem = f"not a record: {where}: {first['msg']}"
    return line


def read_lines(path: Path) -> Iterator[Line]:
    """Every line of a records file, parsed; problems are reported on the line, never raised."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if raw.strip():
                yield _parse(number, raw)


def read_records(run_dir: str | Path) -> list[Record]:
    """All records of a run, or a UserError listing every line that cannot be used (unreadable, not a
    record, a second record for one task): a reader never computes on part of a run."""
    path = Path(run_dir) / RECORDS_NAME
    records: list[Record] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for line in read_lines(path):
        if line.record is None:
            problems.append(f"{path}:{line.number}: {line.problem}")
            continue
        key = line.record.key
        if key in first_line:
            problems.append(f"{path}:{line.number}: a second record for {key} (first at line {first_line[key]})")
            continue
        first_line[key] = line.number
        records.append(line.record)
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        raise UserError(*shown, *([f"{path}: ... and {more} more"] if more else []),
                        f"{path}: {len(problems)} line(s) cannot be used, so nothing was computed; "
                        f"`probity run --resume {Path(run_dir)}` drops them and re-asks those tasks")
    return records


def record_counts(records: Iterable[Record]) -> dict[str, int]:
    """The manifest's counts: records, errors, cached, and each scored outcome."""
    counts: Counter[str] = Counter()
    for record in records:
        counts["records"] += 1
        if record.error:
            counts["errors"] += 1
        elif record.score:
            counts[record.score.outcome] += 1
        counts["cached"] += record.cached
    return dict(counts)


def iter_records(run_dir: str | Path) -> Iterator[Record]:
    """The run's records (checked as a whole first, see read_records)."""
    return iter(read_records(run_dir))


def iter_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The readable records of a file being written, as plain data (the runner's own counts)."""
    for line in read_lines(path):
        if line.record is not None:
            yield line.record.model_dump(mode="json")


@dataclass
class Repair:
    """What `repair` did to records.jsonl before a resume."""

    done: set[str] = field(default_factory=set)
    unreadable: int = 0  # torn, not UTF-8, not JSON, not a record
    errors: int = 0  # error records dropped: their tasks are asked again
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)


def repair(path: Path, drop_errors: bool = True) -> Repair:
    """Prepare records.jsonl for resuming: drop unreadable lines, error records (retried) and second
    records of a task; rewrite the file atomically when anything was dropped."""
    result = Repair()
    keep: list[bytes] = []
    for line in read_lines(path):
        if line.record is None:
            result.unreadable += 1
            result.problems.append(f"{path}:{line.number}: {line.problem}")
            continue
        if drop_errors and line.record.error:
            result.errors += 1
            continue
        if line.record.key in result.done:
            result.duplicates += 1
            continue
        result.done.add(line.record.key)
        keep.append(line.raw)
    if result.unreadable or result.errors or result.duplicates:
        tmp = path.with_suffix(".jsonl.tmp")
        with tmp.open("wb") as f:
            f.writelines(keep)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return result


def run_folder(path: str | Path, label: str = "") -> Path:
    """`path` if it is a run folder (has manifest.json); otherwise a one-line UserError."""
    run_dir = Path(path)
    if not (run_dir / "manifest.json").is_file():
        raise UserError(f"{label}{run_dir}: not a run folder (no manifest.json)")
    return run_dir
