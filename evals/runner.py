"""Run tasks through a provider, score them and append one flushed record per finished task.

Answers come back through `providers.base.stream`: each record is written (and fsynced) the moment
its answer arrives, so a kill loses only the tasks in flight. A circuit breaker ends the run early
after `breaker` consecutive failures of one kind (status `stopped`), instead of spending minutes of
back-off on every remaining task. `--resume` reuses the stored settings and refuses when anything
that decides an answer differs from the run's manifest (evals/resume.py).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.errors import UserError
from evals.loader import LoadedSuite, load_suites
from evals.manifest import (
    Manifest,
    ResumeEntry,
    RunSettings,
    SuiteEntry,
    git_commit,
    hardware,
    now,
    read_manifest,
    versions,
    write_manifest,
)
from evals.plan import Task, build_request, in_shard, plan, suite_params
from evals.profiles import Profile, load_profile
from evals.records import (
    RECORDS_NAME,
    Record,
    RecordWriter,
    RunLock,
    ToolStats,
    read_lines,
    record_counts,
    repair,
    run_folder,
)
from evals.scoring import SCORER_VERSION, ScoreContext, score
from evals.tools.step_limit import step_limit_score
from evals.transcript import TranscriptEntry
from evals.types import Confidence, Message, Request, Response
from providers.base import Provider, preflight, stream

RunConfig = RunSettings  # the settings of one run, as stored in manifest.json
#: consecutive failures of one kind that stop a run (0: never)
DEFAULT_BREAKER = 10


@dataclass
class RunResult:
    run_dir: Path
    manifest: Manifest


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


class CircuitBreaker:
    """Trips after `limit` consecutive error responses of the same kind (a success resets it)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kind: str | None = None
        self.streak = 0

    def see(self, response: Response) -> str | None:
        """The reason to stop, when this response completes a streak; else None."""
        if not response.error:
            self.kind, self.streak = None, 0
            return None
        kind = response.error_kind or "error"
        self.streak = self.streak + 1 if kind == self.kind else 1
        self.kind = kind
        if self.limit and self.streak >= self.limit:
            return (f"{self.streak} consecutive `{kind}` failures (last: {response.error}); "
                    "the remaining tasks were not asked")
        return None


Answer = tuple[int, Response, list[TranscriptEntry], ToolStats | None]


class Runner:
    """Owns one run folder: plans, generates, scores, writes records, keeps the manifest."""

    def __init__(self, config: RunConfig, run_dir: Path, suites: list[LoadedSuite], profile: Profile,
                 provider: Provider, manifest: Manifest, breaker: int = DEFAULT_BREAKER) -> None:
        self.config = config
        self.run_dir = run_dir
        self.suites = suites
        self.profile = profile
        self.provider = provider
        self.manifest = manifest
        self.breaker = CircuitBreaker(breaker)
        self.ctx = ScoreContext(identity=profile.identity, knowledge_cutoff=profile.knowledge_cutoff)
        self._tools: dict[str, list[Any]] = {}

    # -- tools mode ---------------------------------------------------------------------------
    def tools_for(self, loaded: LoadedSuite) -> list[Any]:
        name = loaded.suite.name
        if name not in self._tools:
            from evals.tools import get_tools

            corpus = (loaded.path.parent / loaded.suite.corpus) if loaded.suite.corpus else None
            from evals.secrets import profile_secrets

            key = os.environ.get(self.profile.api_key_env) if self.profile.api_key_env else None
            self._tools[name] = get_tools(loaded.suite.tools, corpus, secrets=profile_secrets(self.profile, key))
        return self._tools[name]

    def _answers(self, chunk: list[Task], requests: list[Request]) -> Iterator[Answer]:
        """(index in chunk, final response, transcript, tool stats) as each task finishes."""
        if chunk[0].mode == "tools":
            from evals.tools.loop import stream_agents

            agents = stream_agents(self.provider, requests, self.tools_for(chunk[0].loaded),
                                   self.profile.tool_protocol, self.config.max_steps,
                                   options=chunk[0].loaded.suite.tool_protocol)
            with closing(agents):
                for i, result in agents:
                    yield i, result.response, result.transcript, result.stats
            return
        with closing(stream(self.provider, requests)) as answers:
            for i, response in answers:
                yield i, response, [], None

    def ask_verbal(self, tasks: list[Task], requests: list[Request], responses: list[Response]) -> list[Response]:
        """Each answered task's response with the verbal confidence of a follow-up turn (the answer, then
        "how confident are you, 0-100?"). The answer, and so its score, is untouched; a follow-up that
        fails or holds no number in 0-100 leaves `verbal` None (`verbal_reply` "" for a failure)."""
        from evals.calibration import VERBAL_MAX_TOKENS, parse_verbal, verbal_prompt

        asked = [j for j, r in enumerate(responses) if not r.error]
        followups = [requests[j].model_copy(update={
            "messages": [*requests[j].messages, Message(role="assistant", content=responses[j].text),
                         Message(role="user", content=verbal_prompt(tasks[j].item.lang))],
            "params": requests[j].params.model_copy(update={"max_new_tokens": VERBAL_MAX_TOKENS, "stop": []}),
            "tools": []}) for j in asked]
        out = list(responses)
        with closing(stream(self.provider, followups)) as replies:
            for k, reply in replies:
                j = asked[k]
                text = "" if reply.error else reply.text
                base = responses[j].confidence or Confidence(source="verbal")
                confidence = base.model_copy(update={"verbal": parse_verbal(text), "verbal_reply": text[:200]})
                out[j] = responses[j].model_copy(update={"confidence": confidence})
        return out

    def record(self, task: Task, request: Request, response: Response, transcript: list[TranscriptEntry],
               stats: ToolStats | None) -> Record:
        t0 = time.perf_counter()
        sc = None
        if not response.error:  # a tools-mode turn still asking for a tool at the step limit is no answer
            check = task.loaded.suite.check
            sc = step_limit_score(transcript) or score(check, task.item, response.text, self.ctx)
        suite = task.loaded.suite
        return Record(
            key=task.key, run_id=self.manifest.run_id, suite=suite.name, suite_version=suite.version,
            check=suite.check, item_id=task.item.id, lang=task.item.lang, control=task.item.control,
            tags=task.item.tags, mode=task.mode, sample=task.sample, request=request, response=response,
            transcript=transcript, tool_stats=stats, score=sc, error=response.error, cached=response.cached,
            cache_key=self._cache_key(request) if task.mode == "plain" else None, scorer_version=SCORER_VERSION,
            timings={"generate_s": round(response.latency_s, 4), "score_s": round(time.perf_counter() - t0, 5)},
        )

    def _cache_key(self, request: Request) -> str | None:
        key = getattr(self.provider, "key", None)  # a CachedProvider knows its keys
        return key(request) if callable(key) else None

    def pending(self, done: set[str]) -> tuple[int, list[Task]]:
        tasks = [t for t in plan(self.suites, self.config.modes, self.config.samples, self.config.limit)
                 if in_shard(t.key, self.config.shard)]
        return len(tasks), [t for t in tasks if t.key not in done]

    def run(self, done: set[str]) -> None:
        total, pending = self.pending(done)
        self.manifest.counts = {"tasks": total}
        write_manifest(self.run_dir, self.manifest)
        bar = tqdm(total=total, initial=total - len(pending), unit="task",
                   disable=not sys.stderr.isatty(), dynamic_ncols=True)
        retries = self.manifest.retries
        stop: str | None = None
        try:
            with RecordWriter(self.run_dir / RECORDS_NAME) as writer:
                for chunk in chunked(pending, self.provider.chunk_size):
                    bar.set_description(f"{chunk[0].loaded.suite.name}/{chunk[0].mode}")
                    requests = [build_request(t, self.profile, self.config.seed) for t in chunk]
                    held: list[Answer] = []  # --ask-confidence: the chunk's answers wait for their follow-ups
                    # closing cancels what is still in flight when the breaker tripped
                    with closing(self._answers(chunk, requests)) as answers:
                        for i, response, transcript, stats in answers:
                            retries += response.retries
                            if self.config.ask_confidence:
                                held.append((i, response, transcript, stats))
                            else:
                                writer.write(self.record(chunk[i], requests[i], response, transcript, stats))
                                bar.update(1)
                            stop = self.breaker.see(response)
                            if stop:
                                break
                    if held:
                        rated = self.ask_verbal([chunk[i] for i, *_ in held], [requests[i] for i, *_ in held],
                                                [r for _, r, *_ in held])
                        for (i, _, transcript, stats), response in zip(held, rated, strict=True):
                            writer.write(self.record(chunk[i], requests[i], response, transcript, stats))
                            bar.update(1)
                    self.manifest.retries = retries
                    if stop:
                        break
        except BaseException as exc:
            self.manifest.retries = retries
            self.finish("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed",
                        str(exc).splitlines()[:1])
            raise
        finally:
            bar.close()
        if stop:
            self.finish("stopped", [stop])
        else:
            self.finish("finished")

    def finish(self, status: str, reason: list[str] | None = None) -> None:
        readable = (line.record for line in read_lines(self.run_dir / RECORDS_NAME) if line.record is not None)
        self.manifest.counts = {"tasks": self.manifest.counts.get("tasks"), **record_counts(readable)}
        if hasattr(self.provider, "hits"):  # this session's cache traffic: model calls made vs answers reused
            self.manifest.cache = {"model_calls": self.provider.calls, "hits": self.provider.hits,
                                   "misses": self.provider.misses}
        self._store_endpoint_usage()
        self.manifest.status = status
        self.manifest.stopped_because = reason[0] if reason else None
        self.manifest.finished_at = now()
        write_manifest(self.run_dir, self.manifest)


    def _store_endpoint_usage(self) -> None:
        """Several endpoints: who answered how much (answered, failed attempts, taken out), this
        session's counts added to those of the sessions before it (a resumed run)."""
        usage = getattr(self.provider, "endpoint_usage", None)  # the openai adapter, also behind the cache
        if not callable(usage):
            return
        session = usage()
        if len(session) < 2 and not self.manifest.endpoints:
            return
        self.manifest.endpoints = add_usage(self.manifest.endpoints or {}, session)


def add_usage(*usages: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Per-endpoint counts added up (sessions of a resumed run, shards of a merged one)."""
    merged: dict[str, dict[str, int]] = {}
    for usage in usages:
        for url, counts in usage.items():
            into = merged.setdefault(url, {})
            for name, value in counts.items():
                into[name] = into.get(name, 0) + value
    return merged


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


def suite_entries(suites: list[LoadedSuite], profile: Profile) -> list[SuiteEntry]:
    from evals.tools.textproto import describe

    return [SuiteEntry(name=ls.suite.name, version=ls.suite.version, check=ls.suite.check, path=str(ls.path),
                       sha256=ls.sha256, items=len(ls.suite.items), tools=ls.suite.tools,
                       max_new_tokens=suite_params(ls.suite, profile).max_new_tokens,
                       tool_protocol=describe(ls.suite.tool_protocol) if ls.suite.tools else None)
            for ls in suites]


def new_manifest(run_dir: Path, config: RunConfig, suites: list[LoadedSuite], profile: Profile) -> Manifest:
    from evals.secrets import profile_digest, redact_profile

    return Manifest(
        run_id=run_dir.name, probity_version=versions()["probity"], git_commit=git_commit(), started_at=now(),
        status="running", config=config.model_copy(update={"provider": _profile_ref(config.provider)}),
        suites=suite_entries(suites, profile), profile=Profile.model_validate(redact_profile(profile)),
        profile_sha256=profile_digest(profile), scorer_version=SCORER_VERSION, versions=versions(),
        hardware=hardware())


def _new_run_dir(out: Path, profile: Profile, shard: str | None) -> Path:
    base = new_run_id(profile) + (f"-shard{shard.replace('/', 'of')}" if shard else "")
    run_dir = out / base
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = out / f"{base}-{suffix}"
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot create the run folder: {exc.strerror}") from exc
    return run_dir


def check_sandbox(config: RunConfig, suites: list[LoadedSuite]) -> str | None:
    """Tools mode with the python tool needs a real sandbox: WeakSandbox (UserError, exit 2) before the
    model is loaded, unless --allow-weak-sandbox. Returns the isolation level, or None."""
    if "tools" not in config.modes or not any("python" in ls.suite.tools for ls in suites):
        return None
    from evals.tools.sandbox import require_sandbox

    return require_sandbox(config.allow_weak_sandbox)


def start_run(config: RunConfig, out: Path, run_dir: Path | None = None, provider: Provider | None = None,
              breaker: int = DEFAULT_BREAKER) -> RunResult:
    """Begin a new run (run_dir None) or resume the run in run_dir with its stored configuration.
    `provider` reuses an already loaded model (tests, notebooks); it is not closed here."""
    from evals.resume import check_identity, check_resume

    stored: Manifest | None = None
    if run_dir is not None:
        run_dir = run_folder(run_dir)
        stored = read_manifest(run_dir)
        config = stored.config.model_copy(update={
            "cache": config.cache,
            "allow_weak_sandbox": config.allow_weak_sandbox or stored.config.allow_weak_sandbox})
    profile = load_profile(config.provider)
    suites = load_suites(config.suite_args)
    sandbox_level = check_sandbox(config, suites)
    if stored is not None:
        assert run_dir is not None
        check_resume(run_dir, stored, profile, suites)
    from providers import make_provider

    owned = provider is None
    provider = make_cached(provider if provider is not None else make_provider(profile), config.cache)
    try:
        if run_dir is None:  # made once the model and the endpoint answer: a failure leaves no empty folder
            preflight(provider)
            run_dir = _new_run_dir(out, profile, config.shard)
        with RunLock(run_dir):
            done = {line.record.key for line in read_lines(run_dir / RECORDS_NAME)
                    if line.record is not None and not line.record.error}
            manifest = stored if stored is not None else new_manifest(run_dir, config, suites, profile)
            runner = Runner(config, run_dir, suites, profile, provider, manifest, breaker)
            if stored is not None and runner.pending(done)[1]:
                preflight(provider)  # an unreachable endpoint is one line before any task runs
            identity = provider.identity()
            if stored is not None:
                check_identity(run_dir, stored, identity)
                fixed = repair(run_dir / RECORDS_NAME)
                for problem in fixed.problems:
                    print(f"resume: dropped {problem}", file=sys.stderr)
                manifest.resumes.append(ResumeEntry(at=now(), torn_lines=fixed.unreadable,
                                                    errors_retried=fixed.errors, already_done=len(fixed.done),
                                                    duplicates=fixed.duplicates))
                done = fixed.done
            manifest.status = "running"
            manifest.model_identity = identity
            if sandbox_level is not None:
                from evals.tools.sandbox import isolation_description

                manifest.sandbox = {"isolation": sandbox_level, "description": isolation_description(sandbox_level)}
            write_manifest(run_dir, manifest)
            runner.run(done)
    finally:
        if owned:
            provider.close()
        elif hasattr(provider, "cache"):
            provider.cache.close()
    return RunResult(run_dir, manifest)
