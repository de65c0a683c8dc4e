"""The response cache: never ask a model the same question twice.

A response is stored under a content address: the SHA-256 of the provider's `identity()`
(adapter, model, weights hash, settings that change outputs), the request's messages, tools and
generation parameters, and, only when sampling (temperature > 0), the sample index and seed.
Greedy answers are deterministic, so greedy requests that differ only in `sample`/`seed` share
one entry.

On disk it is one SQLite database in WAL mode (`responses.sqlite3` in the cache folder), safe for
several processes writing at once. The folder is, in order: the `folder` argument, the
`PROBITY_CACHE_DIR` environment variable, `.probity-cache/` in the current directory.

`CachedProvider(provider, cache)` wraps any provider: hits come back with `Response.cached=True`
and the misses go to the wrapped provider in one batched call; `stream` hands each answer back (and
stores it) as soon as it arrives. Error responses are never stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from evals.types import Request, Response
from providers.base import stream

#: bumped when the key layout changes (old entries are then simply never hit)
KEY_VERSION = 1
ENV_VAR = "PROBITY_CACHE_DIR"
DEFAULT_DIR = ".probity-cache"
DB_NAME = "responses.sqlite3"


def cache_dir(folder: str | Path | None = None) -> Path:
    """Where the cache lives: the argument, else $PROBITY_CACHE_DIR, else ./.probity-cache."""
    if folder is not None:
        return Path(folder)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path.cwd() / DEFAULT_DIR


def key_payload(identity: dict[str, Any], request: Request) -> dict[str, Any]:
    """Everything that can change a response, as plain JSON data."""
    params = request.params.model_dump(mode="json")
    sampled = request.params.temperature > 0
    if not sampled:
        params.pop("seed", None)  # greedy: the seed changes nothing
    payload: dict[str, Any] = {
        "v": KEY_VERSION,
        "identity": identity,
        "messages": [m.model_dump(mode="json") for m in request.messages],
        "tools": request.tools,
        "params": params,
    }
    if sampled:
        payload["sample"] = request.sample
    return payload


def cache_key(identity: dict[str, Any], request: Request) -> str:
    blob = json.dumps(key_payload(identity, request), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """A key -> Response store in one SQLite file (WAL mode; one connection per process)."""

    def __init__(self, folder: str | Path | None = None, timeout_s: float = 60.0) -> None:
        self.folder = cache_dir(folder)
        self.path = self.folder / DB_NAME
        self.timeout_s = timeout_s
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> ResponseCache:
        """The cache in the default folder ($PROBITY_CACHE_DIR or ./.probity-cache)."""
        return cls()

    # a connection must not cross a fork: reopen in a child process
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self.folder.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False)
            self._retry(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute("PRAGMA synchronous=NORMAL")
            self._retry(lambda: conn.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL, "
                "created REAL NOT NULL)"))
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _retry(self, op: Any) -> Any:
        """Schema and journal-mode changes can meet a lock that busy_timeout does not wait for."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                return op()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def get_many(self, keys: Iterable[str]) -> dict[str, Response]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Response] = {}
        with self._lock:
            conn = self._connection()
            for start in range(0, len(wanted), 500):  # stay under SQLite's host-parameter limit
                part = wanted[start : start + 500]
                rows = conn.execute(f"SELECT key, response FROM responses WHERE key IN ({','.join('?' * len(part))})",
                                    part).fetchall()
                for key, data in rows:
                    found[key] = Response.model_validate_json(data)
        return found

    def get(self, key: str) -> Response | None:
        return self.get_many([key]).get(key)

    def put_many(self, items: Iterable[tuple[str, Response]]) -> int:
        """Store successful responses; errors and answers cut at `max_response_bytes` (not part of the
        identity) are skipped. Returns how many were stored."""
        rows = [(key, resp.model_copy(update={"cached": False}).model_dump_json(), time.time())
                for key, resp in items if resp.error is None and not resp.truncated]
        if not rows:
            return 0
        with self._lock:
            conn = self._connection()
            self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                conn.executemany("INSERT OR REPLACE INTO responses (key, response, created) VALUES (?, ?, ?)", rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return len(rows)

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection().execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


class CachedProvider:
    """A Provider that answers from the cache and sends only the misses to `provider`, in one batch.

    `read=False` refreshes: every request goes to the model and the answers overwrite the cache.
    Identical requests within one batch are asked once. Counters: `calls` (inner generate calls),
    `hits` (answered without the model), `misses` (answered by the model).
    """

    def __init__(self, provider: Any, cache: ResponseCache, *, read: bool = True, write: bool = True) -> None:
        self.inner = provider
        self.cache = cache
        self.read = read
        self.write = write
        self.chunk_size: int = provider.chunk_size
        self.calls = 0
        self.hits = 0
        self.misses = 0

    def identity(self) -> dict[str, Any]:
        return self.inner.identity()

    def key(self, request: Request) -> str:
        """The cache key of `request` (what a record stores as `cache_key`)."""
        return cache_key(self.inner.identity(), request)

    def generate(self, requests: list[Request]) -> list[Response]:
        out: list[Response | None] = [None] * len(requests)
        for i, response in self.stream(requests):
            out[i] = response
        return [r for r in out if r is not None]

    def stream(self, requests: list[Request]) -> Iterator[tuple[int, Response]]:
        """Hits at once, then each miss as the wrapped provider finishes it (stored as it arrives)."""
        keys = [self.key(r) for r in requests]
        found = self.cache.get_many(keys) if self.read else {}
        waiting: dict[str, list[int]] = {}  # key -> indices asking it (the first is sent)
        for i, key in enumerate(keys):
            if key in found:
                self.hits += 1
                yield i, found[key].model_copy(update={"cached": True, "retries": 0})
            else:
                waiting.setdefault(key, []).append(i)
        if not waiting:
            return
        self.calls += 1
        asked = list(waiting)
        with closing(stream(self.inner, [requests[waiting[key][0]] for key in asked])) as answers:
            for j, response in answers:
                key = asked[j]
                if self.write:
                    self.cache.put_many([(key, response)])
                first, *copies = waiting[key]
                self.misses += 1
                yield first, response
                for i in copies:
                    if response.error is not None:  # an error is not an answer: its duplicates carry it
                        self.misses += 1
                        yield i, response
                    else:
                        self.hits += 1
                        yield i, response.model_copy(update={"cached": True, "retries": 0})

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.cache.close()

    def __getattr__(self, name: str) -> Any:
        # anything else (profile, render, tokenizer, ...) is the wrapped provider's
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
