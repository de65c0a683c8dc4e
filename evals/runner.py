"""Run tasks through a provider, score them and append one flushed record per finished task."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.errors import UserError
from evals.loader import LoadedSuite, load_suites
from evals.manifest import git_commit, hardware, now, versions
from evals.plan import Task, build_request, plan
from evals.profiles import Profile, load_profile
from evals.records import (
    Record,
    RecordWriter,
    ToolStats,
    iter_lines,
    read_manifest,
    repair,
    run_folder,
    write_manifest,
)
from evals.scoring import SCORER_VERSION, ScoreContext, score
from evals.tools.step_limit import step_limit_score
from evals.types import Request, Response
from providers.base import Provider


@dataclass
class RunConfig:
    suite_args: list[str]
    provider: str  # profile name or path
    modes: list[str] = field(default_factory=lambda: ["plain"])
    samples: int = 1
    seed: int = 0
    limit: int | None = None
    max_steps: int = 4
    cache: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunResult:
    run_dir: Path
    manifest: dict[str, Any]


def new_run_id(profile: Profile) -> str:
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{profile.name}"


def chunked(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    """Consecutive tasks of the same suite and mode, at most `size` at a time."""
    chunk: list[Task] = []
    for task in tasks:
        if chunk and (len(chunk) >= size or (task.loaded.suite.name, task.mode)
                      != (chunk[0].loaded.suite.name, chunk[0].mode)):
            yield chunk
            chunk = []
        chunk.append(task)
    if chunk:
        yield chunk


class Runner:
    """Owns one run folder: plans, generates, scores, writes records, keeps the manifest."""

    def __init__(self, config: RunConfig, run_dir: Path, suites: list[LoadedSuite], profile: Profile,
                 provider: Provider, manifest: dict[str, Any]) -> None:
        self.config = config
        self.run_dir = run_dir
        self.suites = suites
        self.profile = profile
        self.provider = provider
        self.manifest = manifest
        self.ctx = ScoreContext(identity=profile.identity, knowledge_cutoff=profile.knowledge_cutoff)
        self._tools: dict[str, list[Any]] = {}

    # -- tools mode ---------------------------------------------------------------------------
    def tools_for(self, loaded: LoadedSuite) -> list[Any]:
        name = loaded.suite.name
        if name not in self._tools:
            from evals.tools import get_tools

            corpus = (loaded.path.parent / loaded.suite.corpus) if loaded.suite.corpus else None
            self._tools[name] = get_tools(loaded.suite.tools, corpus)
        return self._tools[name]

    def _answer(self, chunk: list[Task], requests: list[Request]
                ) -> list[tuple[Response, list[dict[str, Any]], ToolStats | None]]:
        if chunk[0].mode == "tools":
            from evals.tools.loop import run_agents

            results = run_agents(self.provider, requests, self.tools_for(chunk[0].loaded),
                                 self.profile.tool_protocol, self.config.max_steps)
            return [(r.response, r.transcript, r.stats) for r in results]
        return [(resp, [], None) for resp in self.provider.generate(requests)]

    def record(self, task: Task, request: Request, response: Response, transcript: list[dict[str, Any]],
               stats: ToolStats | None, gen_s: float) -> Record:
        t0 = time.perf_counter()
        sc = None
        if not response.error:  # a tools-mode turn still asking for a tool at the step limit is no answer
            check = task.loaded.suite.check
            sc = step_limit_score(transcript) or score(check, task.item, response.text, self.ctx)
        suite = task.loaded.suite
        return Record(
            key=task.key, run_id=self.manifest["run_id"], suite=suite.name, suite_version=suite.version,
            check=suite.check, item_id=task.item.id, lang=task.item.lang, control=task.item.control,
            tags=task.item.tags, mode=task.mode, sample=task.sample, request=request, response=response,
            transcript=transcript, tool_stats=stats, score=sc, error=response.error, cached=response.cached,
            cache_key=self._cache_key(request) if task.mode == "plain" else None, scorer_version=SCORER_VERSION,
            timings={"generate_s": round(gen_s, 4), "score_s": round(time.perf_counter() - t0, 5)},
        )

    def _cache_key(self, request: Request) -> str | None:
        key = getattr(self.provider, "key", None)  # a CachedProvider knows its keys
        return key(request) if callable(key) else None

    def run(self, done: set[str]) -> None:
        tasks = list(plan(self.suites, self.config.modes, self.config.samples, self.config.limit))
        total = len(tasks)
        pending = [t for t in tasks if t.key not in done]
        self.manifest["counts"] = {"tasks": total}
        write_manifest(self.run_dir, self.manifest)
        bar = tqdm(total=total, initial=total - len(pending), unit="task",
                   disable=not sys.stderr.isatty(), dynamic_ncols=True)
        retries = int(self.manifest.get("retries", 0))
        try:
            with RecordWriter(self.run_dir / "records.jsonl") as writer:
                for chunk in chunked(pending, self.provider.chunk_size):
                    bar.set_description(f"{chunk[0].loaded.suite.name}/{chunk[0].mode}")
                    requests = [build_request(t, self.profile, self.config.seed) for t in chunk]
                    t0 = time.perf_counter()
                    answers = self._answer(chunk, requests)
                    gen_s = (time.perf_counter() - t0) / len(chunk)
                    for task, request, (response, transcript, stats) in zip(chunk, requests, answers, strict=True):
                        retries += response.retries
                        writer.write(self.record(task, request, response, transcript, stats, gen_s))
                    bar.update(len(chunk))
                    self.manifest["retries"] = retries
        except BaseException as exc:
            self.manifest["retries"] = retries
            self.finish("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed", str(exc).splitlines()[:1])
            raise
        finally:
            bar.close()
        self.finish("finished")

    def finish(self, status: str, reason: list[str] | None = None) -> None:
        counts: Counter[str] = Counter()
        for data in iter_lines(self.run_dir / "records.jsonl"):
            counts["records"] += 1
            if data.get("error"):
                counts["errors"] += 1
            elif data.get("score"):
                counts[data["score"]["outcome"]] += 1
            counts["cached"] += bool(data.get("cached"))
        self.manifest["counts"] = {"tasks": self.manifest.get("counts", {}).get("tasks"), **counts}
        if hasattr(self.provider, "hits"):  # this session's cache traffic: model calls made vs answers reused
            self.manifest["cache"] = {"model_calls": self.provider.calls, "hits": self.provider.hits,
                                      "misses": self.provider.misses}
        self.manifest["status"] = status
        if reason:
            self.manifest["stopped_because"] = reason[0]
        self.manifest["finished_at"] = now()
        write_manifest(self.run_dir, self.manifest)


def _profile_ref(name_or_path: str) -> str:
    p = Path(name_or_path)
    return str(p.resolve()) if p.suffix in (".yaml", ".yml") and p.is_file() else name_or_path


def make_cached(provider: Provider, use_cache: bool) -> Provider:
    if not use_cache:
        return provider
    try:
        from evals.cache import CachedProvider, ResponseCache
    except ImportError:
        return provider
    return CachedProvider(provider, ResponseCache.default())


def start_run(config: RunConfig, out: Path, run_dir: Path | None = None,
              provider: Provider | None = None) -> RunResult:
    """Begin a new run (run_dir None) or resume the run in run_dir with its stored configuration.
    `provider` reuses an already loaded model (tests, notebooks); it is not closed here."""
    resume = run_dir is not None
    if resume:
        assert run_dir is not None
        manifest = read_manifest(run_folder(run_dir))
        stored = manifest["config"]
        config = RunConfig(**{**stored, "cache": config.cache})
    profile = load_profile(config.provider)
    suites = load_suites(config.suite_args)
    from providers import make_provider

    owned = provider is None
    provider = make_cached(provider if provider is not None else make_provider(profile), config.cache)
    if resume:
        assert run_dir is not None
        before = {s["name"]: s["sha256"] for s in manifest["suites"]}
        for ls in suites:
            if before.get(ls.suite.name) not in (None, ls.sha256):
                raise UserError(f"{ls.path}: changed since run {manifest['run_id']} started; "
                                "start a new run instead of resuming")
        done, torn, dropped = repair(run_dir / "records.jsonl")
        manifest.setdefault("resumes", []).append({"at": now(), "torn_lines": torn, "errors_retried": dropped,
                                                   "already_done": len(done)})
    else:
        done = set()
        run_dir = out / new_run_id(profile)
        suffix = 1
        while run_dir.exists():
            suffix += 1
            run_dir = out / f"{new_run_id(profile)}-{suffix}"
        run_dir.mkdir(parents=True)
        manifest = {
            "run_id": run_dir.name,
            "probity_version": versions()["probity"],
            "git_commit": git_commit(),
            "started_at": now(),
            "status": "running",
            "config": {**config.to_dict(), "provider": _profile_ref(config.provider)},
            "suites": [{"name": ls.suite.name, "version": ls.suite.version, "check": ls.suite.check,
                        "path": str(ls.path), "sha256": ls.sha256, "items": len(ls.suite.items),
                        "tools": ls.suite.tools} for ls in suites],
            "profile": profile.model_dump(mode="json"),
            "scorer_version": SCORER_VERSION,
            "versions": versions(),
            "hardware": hardware(),
        }
    manifest["status"] = "running"
    write_manifest(run_dir, manifest)
    manifest["model_identity"] = provider.identity()
    try:
        Runner(config, run_dir, suites, profile, provider, manifest).run(done)
    finally:
        if owned:
            provider.close()
        elif hasattr(provider, "cache"):
            provider.cache.close()
    return RunResult(run_dir, manifest)
