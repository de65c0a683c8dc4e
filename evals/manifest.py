"""What a run folder's manifest.json records about where its numbers came from, as one typed model.

`Manifest` is the single definition that `run`, `--resume`, `report`, `compare`, `check`, `junit` and
`rescore` read. A manifest that is not JSON, or lacks a field, is one `path: field: reason` line
(exit 2), never a traceback. It is written durably: a temporary file, fsync, rename, fsync of the folder.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals import __version__
from evals.errors import UserError
from evals.profiles import Profile

NAME = "manifest.json"
#: status of a run: running (or killed while running), finished (every task has a record; some may be
#: errors), stopped (the circuit breaker ended it early), interrupted (Ctrl-C), failed (an exception)
STATUSES = ("running", "finished", "stopped", "interrupted", "failed")


class RunSettings(BaseModel):
    """The `probity run` options a resume reuses (`config` in manifest.json)."""

    model_config = ConfigDict(extra="ignore")
    suite_args: list[str] = Field(default_factory=list)
    provider: str  # profile name or absolute path of the profile file
    modes: list[str] = Field(default_factory=lambda: ["plain"])
    samples: int = 1
    seed: int = 0
    limit: int | None = None
    max_steps: int = 4
    cache: bool = True
    shard: str | None = None  # `i/n`: this run holds the tasks of shard i of n (evals.plan.in_shard)
    allow_weak_sandbox: bool = False  # tools mode: the python tool may run in a weak sandbox
    ask_confidence: bool = False  # a follow-up turn asks each answer's confidence (0-100); a resume keeps it


class SuiteEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    version: str = "1"
    check: str
    path: str
    sha256: str
    items: int
    tools: list[str] = Field(default_factory=list)
    max_new_tokens: int | None = None  # the effective value (suite, else profile); None in older runs
    # the suite's `text` tool protocol in words (evals.tools.textproto.describe); None without tools
    tool_protocol: str | None = None


class ResumeEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    at: str
    torn_lines: int = 0
    errors_retried: int = 0
    already_done: int = 0
    duplicates: int = 0


class Manifest(BaseModel):
    model_config = ConfigDict(extra="allow")  # fields of newer versions survive a rewrite
    run_id: str
    probity_version: str | None = None
    git_commit: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    status: str = "running"
    stopped_because: str | None = None
    config: RunSettings
    suites: list[SuiteEntry]
    profile: Profile  # secrets redacted (evals/secrets.py): header values and URL credentials
    profile_sha256: str | None = None  # digest of the unredacted profile: resume compares it
    scorer_version: str
    versions: dict[str, str | None] = Field(default_factory=dict)
    hardware: dict[str, Any] = Field(default_factory=dict)
    model_identity: dict[str, Any] | None = None
    counts: dict[str, int | None] = Field(default_factory=dict)
    retries: int = 0
    cache: dict[str, int] | None = None
    resumes: list[ResumeEntry] = Field(default_factory=list)
    sandbox: dict[str, str] | None = None  # python tool: {"isolation": bwrap|namespaces|process, "description"}
    merged_from: list[str] = Field(default_factory=list)  # probity merge: the shard runs joined here
    endpoints: dict[str, dict[str, int]] | None = None  # several endpoints: who answered how much
    # rescored folders (probity rescore)
    rescored_from: str | None = None
    rescored_at: str | None = None
    previous_scorer_version: str | None = None
    rescore: dict[str, Any] | None = None

    def suite(self, name: str) -> SuiteEntry | None:
        return next((s for s in self.suites if s.name == name), None)

    @property
    def label(self) -> str:
        return self.profile.name or self.profile.model or self.run_id


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _field(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def read_manifest(run_dir: Path) -> Manifest:
    """The run folder's manifest; a missing, unreadable or malformed one is a one-line UserError."""
    path = Path(run_dir) / NAME
    if not path.is_file():
        raise UserError(f"{run_dir}: not a run folder (no {NAME})")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path}: (file): expected a JSON object, found {type(data).__name__}")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise UserError(f"{path}: {_field(first['loc'])}: {first['msg']}{more}") from exc


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_manifest(run_dir: Path, manifest: Manifest) -> None:
    """Write manifest.json durably: the old file or the new one survives a crash, never half of one."""
    run_dir = Path(run_dir)
    tmp = run_dir / f"{NAME}.tmp"
    text = json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, run_dir / NAME)
    except OSError as exc:
        raise UserError(f"{run_dir / NAME}: cannot write: {exc.strerror}") from exc
    fsync_dir(run_dir)


def git_commit(cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           cwd=cwd or Path(__file__).parent, capture_output=True, text=True, timeout=5)
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"probity": __version__, "python": platform.python_version()}
    for dist in ("torch", "transformers", "openai", "pandas", "pydantic"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def hardware() -> dict[str, Any]:
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    cuda = None
    try:
        import torch

        cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    return {
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "cpus": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1) if mem else None,
        "gpu": cuda,
    }
