"""Response cache: content addressing, hits and misses, errors, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

import pytest

from evals.cache import CachedProvider, ResponseCache, cache_dir, cache_key
from evals.types import GenParams, Message, Request, Response

IDENTITY = {"adapter": "fake", "model": "m", "file_sha256": "abc"}


def req(text: str = "hi", *, sample: int = 0, **params: Any) -> Request:
    return Request(messages=[Message(role="user", content=text)], params=GenParams(**params), sample=sample)


class Counting:
    """A provider that answers with a counter, so a repeat shows whether the model was asked."""

    chunk_size = 8

    def __init__(self, fail: set[str] | None = None) -> None:
        self.batches: list[list[str]] = []
        self.n = 0
        self.fail = fail or set()

    def identity(self) -> dict[str, Any]:
        return IDENTITY

    def generate(self, requests: list[Request]) -> list[Response]:
        self.batches.append([r.messages[-1].content for r in requests])
        out = []
        for r in requests:
            self.n += 1
            text = r.messages[-1].content
            if text in self.fail:
                out.append(Response(error="boom", error_kind="http_500"))
            else:
                out.append(Response(text=f"{text}#{self.n}", finish_reason="stop", completion_tokens=2))
        return out

    def close(self) -> None:
        pass


@pytest.fixture
def cache(tmp_path: Path) -> ResponseCache:
    c = ResponseCache(tmp_path / "cache")
    yield c
    c.close()


def test_folder_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROBITY_CACHE_DIR", raising=False)
    assert cache_dir() == tmp_path / ".probity-cache"
    monkeypatch.setenv("PROBITY_CACHE_DIR", str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env"
    assert cache_dir(tmp_path / "arg") == tmp_path / "arg"


def test_keys_differ_when_any_input_differs() -> None:
    base = cache_key(IDENTITY, req())
    assert base == cache_key(dict(IDENTITY), req())  # stable
    variants = [
        cache_key(IDENTITY | {"file_sha256": "abd"}, req()),
        cache_key(IDENTITY | {"model": "other"}, req()),
        cache_key(IDENTITY | {"settings": 1}, req()),
        cache_key(IDENTITY, req("hi!")),
        cache_key(IDENTITY, Request(messages=[Message(role="system", content="s"),
                                              Message(role="user", content="hi")])),
        cache_key(IDENTITY, Request(messages=[Message(role="user", content="hi")],
                                    tools=[{"type": "function", "function": {"name": "calc"}}])),
        cache_key(IDENTITY, req(max_new_tokens=8)),
        cache_key(IDENTITY, req(stop=["\n"])),
        cache_key(IDENTITY, req(temperature=0.7, seed=1)),
    ]
    assert len({base, *variants}) == len(variants) + 1


def test_greedy_ignores_sample_and_seed_sampling_does_not() -> None:
    assert cache_key(IDENTITY, req(sample=0)) == cache_key(IDENTITY, req(sample=3, seed=9))
    hot = [cache_key(IDENTITY, req(sample=s, temperature=0.8, seed=seed)) for s in (0, 1) for seed in (1, 2)]
    assert len(set(hot)) == 4


def test_hit_and_miss(cache: ResponseCache) -> None:
    inner = Counting()
    cp = CachedProvider(inner, cache)
    first = cp.generate([req("a"), req("b")])
    assert [r.text for r in first] == ["a#1", "b#2"] and not any(r.cached for r in first)
    assert (cp.calls, cp.hits, cp.misses) == (1, 0, 2)
    second = cp.generate([req("a"), req("c"), req("b")])
    assert [r.text for r in second] == ["a#1", "c#3", "b#2"]
    assert [r.cached for r in second] == [True, False, True]
    assert inner.batches == [["a", "b"], ["c"]]  # only the miss went to the model, in one call
    assert (cp.calls, cp.hits, cp.misses) == (2, 2, 3)
    third = cp.generate([req("a"), req("b"), req("c")])
    assert all(r.cached for r in third) and cp.calls == 2  # nothing asked


def test_persists_across_instances(tmp_path: Path) -> None:
    CachedProvider(Counting(), ResponseCache(tmp_path)).generate([req("a")])
    inner = Counting()
    again = CachedProvider(inner, ResponseCache(tmp_path)).generate([req("a")])
    assert again[0].text == "a#1" and again[0].cached and inner.batches == []


def test_duplicates_in_one_batch_are_asked_once(cache: ResponseCache) -> None:
    inner = Counting()
    out = CachedProvider(inner, cache).generate([req("a"), req("a"), req("b")])
    assert inner.batches == [["a", "b"]]
    assert [r.text for r in out] == ["a#1", "a#1", "b#2"] and [r.cached for r in out] == [False, True, False]


def test_sampled_generations_keyed_per_sample_and_seed(cache: ResponseCache) -> None:
    inner = Counting()
    cp = CachedProvider(inner, cache)
    batch = [req("a", sample=s, temperature=0.7, seed=100 + s) for s in range(3)]
    first = cp.generate(batch)
    assert len({r.text for r in first}) == 3  # three samples, three model answers
    assert [r.text for r in cp.generate(batch)] == [r.text for r in first]
    cp.generate([req("a", sample=0, temperature=0.7, seed=999)])  # a new seed is a new answer
    assert len(inner.batches) == 2


def test_errors_are_not_cached(cache: ResponseCache) -> None:
    inner = Counting(fail={"bad"})
    cp = CachedProvider(inner, cache)
    out = cp.generate([req("bad"), req("good"), req("bad")])
    assert out[0].error == "boom" and out[2].error == "boom" and not out[0].cached
    assert len(cache) == 1
    cp.generate([req("bad")])
    assert inner.batches[-1] == ["bad"]  # asked again


def test_refresh_mode_does_not_read(cache: ResponseCache) -> None:
    CachedProvider(Counting(), cache).generate([req("a")])
    inner = Counting()
    out = CachedProvider(inner, cache, read=False).generate([req("a")])
    assert inner.batches == [["a"]] and not out[0].cached


def test_delegates_other_attributes(cache: ResponseCache) -> None:
    inner = Counting()
    cp = CachedProvider(inner, cache)
    assert cp.chunk_size == 8 and cp.batches is inner.batches and cp.identity() == IDENTITY


def _writer(folder: str, worker: int, n: int) -> None:
    cache = ResponseCache(folder)
    for i in range(n):
        key = cache_key(IDENTITY, req(f"w{worker}-{i}"))
        shared = cache_key(IDENTITY, req(f"shared-{i}"))
        cache.put_many([(key, Response(text=f"{worker}:{i}")), (shared, Response(text=f"shared {i}"))])
        assert cache.get(shared) is not None
    cache.close()


def test_concurrent_writers_across_processes(tmp_path: Path) -> None:
    folder = str(tmp_path / "cache")
    ResponseCache(folder).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(folder, w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    cache = ResponseCache(folder)
    assert len(cache) == 4 * 60 + 60
    got = cache.get_many(cache_key(IDENTITY, req(f"w{w}-{i}")) for w in range(4) for i in range(60))
    assert sorted(r.text for r in got.values()) == sorted(f"{w}:{i}" for w in range(4) for i in range(60))
    assert cache._connection().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert cache._connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
