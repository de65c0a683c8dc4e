"""The OpenAI adapter against a real local HTTP server that injects faults (tests/servers/fault.py).

Timeouts and backoff are tiny so the whole file runs in seconds."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from servers.fault import FaultServer

from evals.cli import main
from evals.errors import FatalProviderError, UserError
from evals.manifest import read_manifest
from evals.profiles import Profile
from evals.records import iter_lines
from evals.types import GenParams, Message, Request
from providers.openai import OpenAIProvider

pytestmark = pytest.mark.server

KEY_ENV = "PROBITY_TEST_KEY"
SECRET = "sk-test-Zq8SECRETvalue0123456789"
TOOLS = [{"type": "function", "function": {"name": "calculator", "description": "Evaluate arithmetic",
                                           "parameters": {"type": "object",
                                                          "properties": {"expression": {"type": "string"}}}}}]


def profile(url: str, **kw: object) -> Profile:
    settings: dict[str, object] = {"name": "fault", "adapter": "openai", "model": "fault-model", "base_url": url,
                                   "concurrency": 16, "timeout_s": 0.5, "max_retries": 3, "backoff_s": 0.005}
    settings.update(kw)
    return Profile.model_validate(settings)


def ask(text: str, **params: object) -> Request:
    return Request(messages=[Message(role="user", content=text)], params=GenParams.model_validate(params))


@pytest.fixture
def server():
    with FaultServer(hang_s=2.0, retry_after="0.01") as s:
        yield s


@pytest.fixture
def provider(server: FaultServer):
    p = OpenAIProvider(profile(server.url))
    yield p
    p.close()


def test_300_requests_at_30_percent_faults(server: FaultServer) -> None:
    """300 requests, 30% of attempts faulted (429, 500, 503, hang, reset, malformed, empty): 300
    responses in order, each its own answer or an error with its cause; none lost or answered twice."""
    server.fault_rate, server.seed = 0.3, 7
    p = OpenAIProvider(profile(server.url, timeout_s=0.5, backoff_s=0.01, max_retries=4, concurrency=16))
    markers = [f"item-{i:03d}" for i in range(300)]
    t0 = time.perf_counter()
    out = p.generate([ask(f"[{m}] What is {i} + 1?") for i, m in enumerate(markers)])
    elapsed = time.perf_counter() - t0
    p.close()
    assert len(out) == 300
    errors: Counter[str] = Counter()
    for m, r in zip(markers, out, strict=True):
        # the server saw this request exactly retries + 1 times: retries are counted, none lost
        assert server.attempts[m] == r.retries + 1, m
        if r.error is None:
            assert r.text == f"answer to {m}" and server.answered[m] == 1  # its own answer, once
        else:
            # an error response carries the cause of its last attempt
            last = server.decide(m, r.retries, "")
            expected = {"429": "http_429", "500": "http_500", "503": "http_503", "hang": "timeout",
                        "reset": "connection", "malformed": "malformed", "empty": "empty_choices"}[last]
            assert r.error_kind == expected and r.error and r.text == "", (m, r)
            assert r.retries == 4 and server.answered[m] == 0
            errors[r.error_kind] += 1
    answered = [r.text for r in out if r.error is None]
    assert len(answered) == len(set(answered))  # no marker answered twice in the output
    retries = sum(r.retries for r in out)
    assert retries == server.requests - 300 > 60  # about 0.3/0.7 × 300 ≈ 130
    assert set(server.faults) == {"429", "500", "503", "hang", "reset", "malformed", "empty"}
    assert sum(errors.values()) == sum(1 for r in out if r.error) < 10  # 0.3⁵ × 300 ≈ 0.7
    assert p.stats["retries"] == retries
    assert elapsed < 20


SCRIPTED = [  # prompt script -> (error_kind or None, retries, attempts seen by the server)
    ("[faults: 429,500,503]", None, 3, 4),
    ("[faults: hang,reset]", None, 2, 3),
    ("[faults: malformed,empty]", None, 2, 3),
    ("[faults: 502]", None, 1, 2),
    ("[always: 404]", "http_404", 0, 1),
    ("[always: 400]", "http_400", 0, 1),
    ("[always: 422]", "http_422", 0, 1),
    ("[always: 500]", "http_500", 3, 4),
    ("[always: 429]", "http_429", 3, 4),
    ("[always: hang]", "timeout", 3, 4),
    ("[always: reset]", "connection", 3, 4),
    ("[always: malformed]", "malformed", 3, 4),
    ("[always: empty]", "empty_choices", 3, 4),
]


def test_each_fault_maps_to_retry_or_error(server: FaultServer, provider: OpenAIProvider) -> None:
    requests = [ask(f"[req-s{i}] {script}") for i, (script, *_) in enumerate(SCRIPTED)]
    out = provider.generate(requests)
    for i, ((script, kind, retries, attempts), r) in enumerate(zip(SCRIPTED, out, strict=True)):
        assert (r.error_kind, r.retries, server.attempts[f"req-s{i}"]) == (kind, retries, attempts), script
        if kind is None:
            assert r.error is None and r.text == f"answer to req-s{i}"
        else:
            assert r.error and r.text == ""
    by_kind = {kind: r.error for (_, kind, *_), r in zip(SCRIPTED, out, strict=True) if kind}
    assert by_kind["http_404"] == "HTTP 404: injected HTTP 404 for req-s4"  # the server's own message
    assert by_kind["http_500"].endswith("(after 4 attempts)")
    assert by_kind["timeout"].startswith("no answer within 0.5 s")


def test_retry_after_is_honoured() -> None:
    with FaultServer(retry_after="1") as server:
        p = OpenAIProvider(profile(server.url, backoff_s=0.001))
        t0 = time.perf_counter()
        (r,) = p.generate([ask("[req-ra] [faults: 429]")])
        elapsed = time.perf_counter() - t0
        p.close()
    assert r.error is None and r.retries == 1
    assert 1.0 <= elapsed < 2.0


def test_401_stops_the_run_with_one_line_and_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    with FaultServer(api_key="sk-the-right-one") as server:  # its 401 message echoes the key it was sent
        p = OpenAIProvider(profile(server.url, api_key_env=KEY_ENV, concurrency=4))
        with pytest.raises(FatalProviderError) as info:
            p.generate([ask(f"[req-k{i}] hello") for i in range(100)])
        p.close()
        assert server.requests <= 4  # the first 401 cancels everything else: no retries, no more requests
    text = str(info.value)
    assert text == f"{KEY_ENV} is not accepted by {server.url} (HTTP 401)"
    assert SECRET not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_403_without_a_key_is_fatal_too(server: FaultServer, provider: OpenAIProvider) -> None:
    with pytest.raises(FatalProviderError, match=r"^the API key is not accepted by .* \(HTTP 403\)$"):
        provider.generate([ask("[req-f] [always: 403]")])


def test_the_key_never_appears_in_what_the_adapter_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    with FaultServer(api_key=SECRET) as server:
        p = OpenAIProvider(profile(server.url, api_key_env=KEY_ENV))
        out = p.generate([ask("[req-e1] [faults: echo-auth]"), ask("[req-e2] [always: 404]"),
                          ask("[req-e3] [always: 500]"), ask("[req-e4] plain")])
        identity = p.identity()
        p.close()
        assert server.headers["req-e4"]["authorization"] == f"Bearer {SECRET}"  # it was sent
    assert out[0].text == "answer to req-e1; you sent Bearer [redacted]"
    dumped = json.dumps([r.model_dump() for r in out]) + json.dumps(identity) + json.dumps(dict(p.stats))
    assert SECRET not in dumped
    assert identity == {"adapter": "openai", "base_url": server.url, "model": "fault-model", "tool_protocol": "text"}


def test_missing_key_variable_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(UserError, match=f"^{KEY_ENV} is not set: profile fault reads its API key from it$"):
        OpenAIProvider(profile("http://127.0.0.1:9/v1", api_key_env=KEY_ENV))
    monkeypatch.setenv(KEY_ENV, "  ")
    with pytest.raises(UserError, match=KEY_ENV):
        OpenAIProvider(profile("http://127.0.0.1:9/v1", api_key_env=KEY_ENV))


def test_unreachable_endpoint_gives_error_responses() -> None:
    """Nothing listening: every retry fails to connect, and each request ends as an error response
    (the runner records it; `--resume` retries it), not a crash."""
    from servers.llamacpp import free_port

    p = OpenAIProvider(profile(f"http://127.0.0.1:{free_port()}/v1", max_retries=2, backoff_s=0.001))
    out = p.generate([ask("[req-u1] hi"), ask("[req-u2] hi")])
    p.close()
    assert [(r.error_kind, r.retries, r.text) for r in out] == [("connection", 2, ""), ("connection", 2, "")]
    assert all(r.error and r.error.startswith("connection failed: ") for r in out)


def test_base_url_env_overrides_the_profile(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBITY_BASE_URL", server.url + "/")
    p = OpenAIProvider(profile("http://127.0.0.1:9/nowhere"))
    (r,) = p.generate([ask("[req-o] hi")])
    p.close()
    assert r.text == "answer to req-o" and p.identity()["base_url"] == server.url


def test_wire_body_headers_tools_and_reasoning(server: FaultServer) -> None:
    p = OpenAIProvider(profile(server.url, headers={"X-Probity-Test": "yes"}))
    req = Request(messages=[Message(role="system", content="Be brief."), Message(role="user", content="[req-w] hi"),
                            Message(role="assistant", content="", tool_calls=[
                                {"id": "c1", "name": "calculator", "arguments": '{"expression": "1+1"}'}]),
                            Message(role="tool", tool_call_id="c1", name="calculator", content="2")],
                  params=GenParams(max_new_tokens=33, temperature=0.7, top_p=0.9, seed=11, stop=["\n\n", "END"]),
                  tools=TOOLS)
    out = p.generate([req, ask("[req-t] [faults: think]"), ask("[req-r] [faults: reasoning]"),
                      Request(messages=[Message(role="user", content="[req-c] [faults: tool]")], tools=TOOLS)])
    p.close()
    body = server.bodies["req-w"]
    assert {k: body[k] for k in ("model", "max_tokens", "temperature", "top_p", "seed", "stop", "tool_choice")} == {
        "model": "fault-model", "max_tokens": 33, "temperature": 0.7, "top_p": 0.9, "seed": 11,
        "stop": ["\n\n", "END"], "tool_choice": "auto"}
    assert body["tools"] == TOOLS
    assert body["messages"][2]["tool_calls"][0]["function"] == {"name": "calculator",
                                                                "arguments": '{"expression": "1+1"}'}
    assert body["messages"][3] == {"role": "tool", "content": "2", "tool_call_id": "c1"}
    assert server.headers["req-w"]["x-probity-test"] == "yes"
    assert "seed" not in server.bodies["req-t"] and "tools" not in server.bodies["req-t"]
    assert (out[1].text, out[1].reasoning) == ("answer to req-t", "Let me think about req-t.")
    assert (out[2].text, out[2].reasoning) == ("answer to req-r", "thinking about req-r")
    assert out[3].finish_reason == "tool_calls" and out[3].text == ""
    assert [(c.id, c.name, json.loads(c.arguments)) for c in out[3].tool_calls] == [
        ("call_1", "calculator", {"expression": "2+2"})]
    assert out[0].prompt_tokens == 7 and out[0].completion_tokens == 3 and out[0].model == "fault-model"


def test_generate_inside_a_running_event_loop(server: FaultServer, provider: OpenAIProvider) -> None:
    async def notebook_cell() -> str:
        return provider.generate([ask("[req-nb] hi")])[0].text

    assert asyncio.run(notebook_cell()) == "answer to req-nb"


def test_runner_300_items_30_percent_faults(tmp_path: Path) -> None:
    """Through `probity run`: every item is scored or an error record with its cause, none lost or
    duplicated, and the manifest's retry count is what the server saw."""
    lines = ["name: faulty", "version: 1", "check: letter_counts", "defaults: {max_new_tokens: 16}", "items:"]
    for i in range(300):
        lines += [f"  - id: f{i:03d}", "    lang: en", f"    prompt: \"[req-{i:03d}] How many r's are in 'rr'?\"",
                  "    expect: {kind: number, value: 2}"]
    suite = tmp_path / "faulty.yaml"
    suite.write_text("\n".join(lines) + "\n")
    with FaultServer(fault_rate=0.3, seed=11, hang_s=1.0, retry_after="0.01") as server:
        prof = tmp_path / "faulty-endpoint.yaml"
        prof.write_text(f"name: faulty-endpoint\nadapter: openai\nmodel: fault-model\nbase_url: {server.url}\n"
                        "concurrency: 16\ntimeout_s: 0.3\nmax_retries: 3\nbackoff_s: 0.005\n")
        out = tmp_path / "runs"
        # a few items fail every attempt (about 0.3⁴ × 300): allowed, so the run ends with status 0
        assert main(["run", str(suite), "--provider", str(prof), "--out", str(out), "--no-cache",
                     "--max-error-rate", "0.1"]) == 0
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    records = list(iter_lines(run_dir / "records.jsonl"))
    assert sorted(r["item_id"] for r in records) == [f"f{i:03d}" for i in range(300)]
    for r in records:
        if r["error"]:
            assert r["score"] is None and r["response"]["error_kind"], r
        else:
            assert r["score"]["outcome"] in {"correct", "incorrect", "abstained", "invalid"}
            marker = "req-" + r["item_id"][1:]
            assert r["response"]["text"] == f"answer to {marker}"
    manifest = read_manifest(run_dir)
    assert manifest.status == "finished"
    retries = manifest.retries
    assert retries == sum(r["response"]["retries"] for r in records)
    # every retry is an attempt the client made; the server counts the ones it read. An attempt the client
    # abandons at its 0.3 s deadline before the server's thread reads it (a loaded CI machine) is in the first
    # count only, so the two may differ by a few, never the other way round
    assert server.attempts["req-unmarked"] == 1  # the preflight: one request (a 429 for this seed) before the tasks
    assert 0 <= retries - (server.requests - 301) <= max(3, retries // 20)
    assert server.requests > 301
    assert manifest.counts["records"] == 300
    assert manifest.counts.get("errors", 0) == sum(1 for r in records if r["error"])


# -- preflight --------------------------------------------------------------------------------------
@pytest.fixture
def no_env_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROBITY_BASE_URL", raising=False)


def preflight_error(p: OpenAIProvider) -> tuple[str, float]:
    t0 = time.perf_counter()
    with pytest.raises(UserError) as info:
        p.preflight()
    elapsed = time.perf_counter() - t0
    p.close()
    assert not isinstance(info.value, FatalProviderError) and len(info.value.lines) == 1
    assert info.value.__traceback__ is not None and "\n" not in info.value.lines[0]
    return info.value.lines[0], elapsed


@pytest.mark.usefixtures("no_env_url")
def test_preflight_of_a_stopped_server_is_one_line_at_once() -> None:
    from servers.llamacpp import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"  # bound, then closed: nothing listens there
    # the run's own schedule would retry for a long while: the preflight does not use it
    line, elapsed = preflight_error(OpenAIProvider(profile(url, timeout_s=60, max_retries=8, backoff_s=5)))
    assert line == f"profile fault: cannot reach {url} (connection refused); start the server or set $PROBITY_BASE_URL"
    assert elapsed < 3  # one retry after 0.5 s


def test_preflight_names_the_variable_that_set_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from servers.llamacpp import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("PROBITY_BASE_URL", url)
    line, _ = preflight_error(OpenAIProvider(profile("http://127.0.0.1:9/elsewhere")))
    assert line == f"profile fault: cannot reach {url} (connection refused); start the server or fix $PROBITY_BASE_URL"


@pytest.mark.usefixtures("no_env_url")
def test_preflight_of_an_unresolvable_host() -> None:
    line, elapsed = preflight_error(OpenAIProvider(profile("http://nonexistent.invalid/v1", timeout_s=60)))
    assert line == ("profile fault: cannot reach http://nonexistent.invalid/v1 (cannot resolve host "
                    "'nonexistent.invalid'); check the host name in base_url or set $PROBITY_BASE_URL")
    assert elapsed < 12  # bounded by the 5 s connect timeout whatever the resolver does


@pytest.mark.usefixtures("no_env_url")
def test_preflight_tls_to_a_plain_http_server(server: FaultServer) -> None:
    url = server.url.replace("http://", "https://")
    line, elapsed = preflight_error(OpenAIProvider(profile(url)))
    assert line.startswith(f"profile fault: cannot reach {url} (TLS failure: ")
    assert line.endswith("); check http:// versus https:// and that the server's certificate is trusted")
    assert elapsed < 3


@pytest.mark.usefixtures("no_env_url")
def test_preflight_timeout_is_bounded() -> None:
    with FaultServer(fault_all="hang", hang_s=30) as server:
        line, elapsed = preflight_error(OpenAIProvider(profile(server.url, timeout_s=0.5, max_retries=8)))
        assert server.attempts["req-unmarked"] == 1
    assert line == (f"profile fault: {server.url} accepted the connection but did not answer within 0.5 s (timeout); "
                    "check that the server is serving, or raise timeout_s")
    assert elapsed < 2


@pytest.mark.usefixtures("no_env_url")
def test_preflight_of_an_unknown_model() -> None:
    with FaultServer(models={"fault-model"}) as server:
        line, _ = preflight_error(OpenAIProvider(profile(server.url, model="no-such-model")))
        ok = OpenAIProvider(profile(server.url))
        ok.preflight()
        ok.close()
    assert line == (f"profile fault: {server.url} does not serve model 'no-such-model' (HTTP 404: The model "
                    "`no-such-model` does not exist or you do not have access to it.); check the profile's model")


@pytest.mark.usefixtures("no_env_url")
def test_preflight_of_a_wrong_path(server: FaultServer) -> None:
    url = server.url.removesuffix("/v1")
    line, _ = preflight_error(OpenAIProvider(profile(url, base_url=url + "/v2")))
    assert line.startswith(f"profile fault: {url}/v2/chat/completions was not found (HTTP 404: ")


def test_preflight_with_a_rejected_key_is_the_fatal_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    with FaultServer(api_key="sk-the-right-one") as server:
        p = OpenAIProvider(profile(server.url, api_key_env=KEY_ENV))
        with pytest.raises(FatalProviderError, match=f"^{KEY_ENV} is not accepted by .* \\(HTTP 401\\)$"):
            p.preflight()
        with pytest.raises(FatalProviderError):  # and nothing more is sent
            p.generate([ask("[req-after] hi")])
        p.close()
        assert server.requests == 1


@pytest.mark.parametrize("fault", ["429", "503", "500", "malformed", "reset"])
def test_preflight_passes_a_reachable_busy_server(fault: str) -> None:
    """A server that is up but failing: the run's own retries and error records deal with it, so the
    preflight neither fails nor waits out the backoff schedule."""
    with FaultServer(fault_all=fault, retry_after="30") as server:
        p = OpenAIProvider(profile(server.url, max_retries=8, backoff_s=5))
        t0 = time.perf_counter()
        p.preflight()
        elapsed = time.perf_counter() - t0
        p.close()
        assert server.attempts["req-unmarked"] == 1 and elapsed < 1.5
    assert "served_model" not in p.identity()


def test_preflight_learns_the_served_snapshot_and_the_cache_keeps_snapshots_apart(tmp_path: Path) -> None:
    from evals.cache import CachedProvider, ResponseCache

    cache = ResponseCache(tmp_path / "cache")
    question = [ask("[req-snap] What is the capital of France?")]
    with FaultServer(served_model="fault-model-2024-07-18") as server:
        first = OpenAIProvider(profile(server.url))
        before = first.identity()
        first.preflight()
        assert first.identity() == {**before, "served_model": "fault-model-2024-07-18"}
        body = server.bodies["req-unmarked"]
        assert body["max_tokens"] == 1 and body["messages"] == [{"role": "user", "content": "Reply with OK."}]
        assert CachedProvider(first, cache).generate(question)[0].cached is False
        assert server.answered["req-snap"] == 1

        server.served_model = "fault-model-2025-01-01"  # the alias now points at a newer snapshot
        second = OpenAIProvider(profile(server.url))
        second.preflight()
        (r,) = CachedProvider(second, cache).generate(question)
        assert r.cached is False and server.answered["req-snap"] == 2  # not the older snapshot's answer

        server.served_model = "fault-model-2024-07-18"
        third = OpenAIProvider(profile(server.url))
        third.preflight()
        (r,) = CachedProvider(third, cache).generate(question)
        assert r.cached is True and server.answered["req-snap"] == 2  # the same snapshot: its cached answer
        for p in (first, second, third):
            p.close()
    cache.close()


# -- stream -----------------------------------------------------------------------------------------
def test_stream_yields_each_answer_as_it_completes(server: FaultServer) -> None:
    p = OpenAIProvider(profile(server.url, timeout_s=5))
    requests = [ask("[req-slow] [delay: 1.0]"), ask("[req-quick] hi"), ask("[req-mid] [delay: 0.3]")]
    t0 = time.perf_counter()
    seen = [(i, r.text, time.perf_counter() - t0) for i, r in p.stream(requests)]
    assert [(i, text) for i, text, _ in seen] == [(1, "answer to req-quick"), (2, "answer to req-mid"),
                                                 (0, "answer to req-slow")]
    assert seen[0][2] < 0.5 <= 1.0 <= seen[2][2]  # the first answer long before the slowest one
    assert [r.text for r in p.generate(requests)] == ["answer to req-slow", "answer to req-quick", "answer to req-mid"]
    p.close()


def _wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_closing_a_stream_cancels_the_requests_in_flight(server: FaultServer) -> None:
    p = OpenAIProvider(profile(server.url, timeout_s=10, concurrency=16))
    slow = [f"req-d{i}" for i in range(10)]
    gen = p.stream([ask("[req-first] hi")] + [ask(f"[{m}] [delay: 2]") for m in slow])
    assert next(gen)[1].text == "answer to req-first"
    assert _wait_for(lambda: all(server.attempts[m] for m in slow))  # all ten are at the server
    t0 = time.perf_counter()
    gen.close()
    assert time.perf_counter() - t0 < 1.0
    # the server sees every client hang up and sends none of the ten answers
    assert _wait_for(lambda: sum(server.cancelled[m] for m in slow) == 10)
    assert sum(server.answered[m] for m in slow) == 0
    (r,) = p.generate([ask("[req-later] hi")])  # the provider is still usable
    assert r.text == "answer to req-later"
    p.close()


def test_ctrl_c_while_waiting_on_a_stream(server: FaultServer) -> None:
    p = OpenAIProvider(profile(server.url, timeout_s=10))
    slow = [f"req-i{i}" for i in range(5)]
    gen = p.stream([ask("[req-i-first] hi")] + [ask(f"[{m}] [delay: 3]") for m in slow])
    assert next(gen)[0] == 0
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
            next(gen)  # blocks for about 3 s unless interrupted
        elapsed = time.perf_counter() - t0
    finally:
        signal.signal(signal.SIGINT, previous)
    assert elapsed < 1.5
    assert _wait_for(lambda: sum(server.cancelled[m] for m in slow) == 5)
    assert sum(server.answered[m] for m in slow) == 0
    assert p.generate([ask("[req-i-later] hi")])[0].text == "answer to req-i-later"
    p.close()


def test_a_rejected_key_ends_the_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    with FaultServer(api_key=SECRET) as server:
        p = OpenAIProvider(profile(server.url, api_key_env=KEY_ENV, timeout_s=5))
        got = []
        t0 = time.perf_counter()
        with pytest.raises(FatalProviderError, match=r"\(HTTP 403\)$"):
            for item in p.stream([ask("[req-a1] hi"), ask("[req-a2] [delay: 0.3] [always: 403]"),
                                  ask("[req-a3] [delay: 2]")]):
                got.append(item)
        elapsed = time.perf_counter() - t0
        p.close()
        assert _wait_for(lambda: server.cancelled["req-a3"] == 1) and server.answered["req-a3"] == 0
    assert [i for i, _ in got] == [0]  # the healthy answer came first; the 403 ended the iteration
    assert elapsed < 1.5  # without waiting for the slow request, which was cancelled


# -- reasoning models -------------------------------------------------------------------------------
UNSUPPORTED_MAX_TOKENS = ("HTTP 400: Unsupported parameter: 'max_tokens' is not supported with this model. "
                          "Use 'max_completion_tokens' instead.")
UNSUPPORTED_TEMPERATURE = ("HTTP 400: Unsupported value: 'temperature' does not support 0.0 with this model. "
                           "Only the default (1) value is supported.")


def test_a_default_profile_against_a_reasoning_model(no_env_url: None) -> None:
    with FaultServer(reasoning_rules=True) as server:
        p = OpenAIProvider(profile(server.url))
        out = p.generate([ask("[req-m1] hi"), ask("[req-m2] hi", temperature=0.7)])
        assert [(r.error, r.error_kind, r.retries, r.text) for r in out] == [
            (UNSUPPORTED_MAX_TOKENS, "http_400", 0, ""), (UNSUPPORTED_MAX_TOKENS, "http_400", 0, "")]
        assert server.attempts["req-m1"] == server.attempts["req-m2"] == 1  # a 400 is not retried
        half = OpenAIProvider(profile(server.url, token_limit_param="max_completion_tokens"))
        (r,) = half.generate([ask("[req-m3] hi")])
        assert (r.error, r.error_kind, server.attempts["req-m3"]) == (UNSUPPORTED_TEMPERATURE, "http_400", 1)
        # the preflight sends the profile's settings, so it names the setting to change
        line, _ = preflight_error(p)
        assert line == (f"profile fault: {server.url} rejects the request ({UNSUPPORTED_MAX_TOKENS}); "
                        "set token_limit_param: max_completion_tokens in the profile")
        line, _ = preflight_error(half)
        assert line == (f"profile fault: {server.url} rejects the request ({UNSUPPORTED_TEMPERATURE}); "
                        "set send_sampling_params: false in the profile")


def test_a_reasoning_profile_against_a_reasoning_model() -> None:
    with FaultServer(reasoning_rules=True, served_model="fault-model-2025-08-07") as server:
        p = OpenAIProvider(profile(server.url, token_limit_param="max_completion_tokens", send_sampling_params=False,
                                   reasoning_token_budget=100, reasoning_effort="low"))
        p.preflight()
        out = p.generate([ask("[req-n1] hi", temperature=0.7, top_p=0.5, seed=3, max_new_tokens=16),
                          ask("[req-n2] [faults: think]")])
        identity = p.identity()
        p.close()
        assert sum(server.rejected.values()) == 0
        body = server.bodies["req-n1"]
    assert (out[0].text, out[0].reasoning) == ("answer to req-n1", "The user wants req-n1; I will answer briefly.")
    assert out[1].text == "answer to req-n2" and out[1].reasoning is not None
    assert "Let me think about req-n2." in out[1].reasoning and "answer" not in out[1].reasoning.replace(
        "answer briefly", "")
    assert body["max_completion_tokens"] == 116 and body["reasoning_effort"] == "low"
    assert not {"max_tokens", "temperature", "top_p", "seed"} & set(body)
    assert identity == {"adapter": "openai", "base_url": server.url, "model": "fault-model", "tool_protocol": "text",
                        "token_limit_param": "max_completion_tokens", "send_sampling_params": False,
                        "reasoning_token_budget": 100, "reasoning_effort": "low",
                        "served_model": "fault-model-2025-08-07"}


def test_a_run_with_the_wrong_settings_stops_before_any_task(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             no_env_url: None) -> None:
    suite = tmp_path / "tiny.yaml"
    suite.write_text("name: tiny\nversion: 1\ncheck: letter_counts\nitems:\n  - id: t1\n    lang: en\n"
                     "    prompt: \"[req-t1] How many r's are in 'rr'?\"\n    expect: {kind: number, value: 2}\n")
    with FaultServer(reasoning_rules=True) as server:
        prof = tmp_path / "reasoner.yaml"
        prof.write_text(f"name: reasoner\nadapter: openai\nmodel: fault-model\nbase_url: {server.url}\n")
        assert main(["run", str(suite), "--provider", str(prof), "--out", str(tmp_path / "runs"), "--no-cache"]) == 2
        assert server.attempts["req-t1"] == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"probity: profile reasoner: {server.url} rejects the request ({UNSUPPORTED_MAX_TOKENS}); "
                   "set token_limit_param: max_completion_tokens in the profile"]


# -- secrets ----------------------------------------------------------------------------------------
HEADER_SECRET = "hv-Custom0HeaderValue9876"
PASSWORD = "pw-Basic7PasswordXYZ"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _squeezed(text: str) -> str:
    """The text without separators and case: an echoed secret, however broken up, shows as itself."""
    return re.sub(r"[\s\u200b-\u200f\u2060\ufeff.\-]", "", text).lower()


def assert_no_secret(data: object, secrets: list[str]) -> None:
    for text in _strings(data):
        for secret in secrets:
            assert _squeezed(secret) not in _squeezed(text), (secret, text)


ECHO_FAULTS = ["echo-auth", "echo-auth-upper", "echo-auth-split", "echo-auth-zw", "echo-headers", "echo-error"]


def test_echoed_secrets_never_reach_a_response(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    with FaultServer(api_key=SECRET) as server:
        p = OpenAIProvider(profile(server.url, api_key_env=KEY_ENV, headers={"X-Team-Secret": HEADER_SECRET,
                                                                              "X-Route": "blue-cluster-7"}))
        out = p.generate([ask(f"[req-x{i}] [faults: {fault}]") for i, fault in enumerate(ECHO_FAULTS)])
        identity = p.identity()
        p.close()
        sent = server.headers["req-x0"]
    assert sent["authorization"] == f"Bearer {SECRET}" and sent["x-team-secret"] == HEADER_SECRET  # all sent
    # the server really echoed them: the answers say so, with the secret scrubbed in place
    assert out[0].text == "answer to req-x0; you sent Bearer [redacted]"
    assert out[1].text == "answer to req-x1; you sent BEARER [redacted]"
    assert out[2].text == "answer to req-x2; your key:\n[redacted]\nor\n[redacted]"
    assert out[3].text == "answer to req-x3; your key: [redacted]"
    assert "x-team-secret: [redacted]" in out[4].text and "x-route: [redacted]" in out[4].text
    assert out[4].reasoning == "the caller's credential is [redacted]" and out[4].model == "fault-model for [redacted]"
    assert [(c.id, json.loads(c.arguments)) for c in out[4].tool_calls] == [("call-[redacted]",
                                                                           {"expression": "[redacted]"})]
    assert out[5].error_kind == "http_400" and "x-team-secret: [redacted]" in (out[5].error or "")
    assert_no_secret([r.model_dump() for r in out], [SECRET, HEADER_SECRET])
    assert_no_secret(identity, [SECRET, HEADER_SECRET, "blue-cluster-7"])
    # a header that may select a model counts in the identity as a digest; a credential does not count
    route = "sha256:" + hashlib.sha256(b"blue-cluster-7").hexdigest()[:16]
    assert identity["headers"] == {"X-Route": route, "X-Team-Secret": "[redacted]"}


def test_base_url_credentials_are_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    """user:password in base_url becomes HTTP Basic auth; an echo of it (as sent, base64) is scrubbed,
    and neither identity() nor an error line shows it."""
    import base64

    monkeypatch.delenv("PROBITY_BASE_URL", raising=False)
    with FaultServer() as server:
        url = server.url.replace("http://", f"http://probity:{PASSWORD}@")
        p = OpenAIProvider(profile(url))
        out = p.generate([ask("[req-b1] [faults: echo-auth]"), ask("[req-b2] [faults: echo-headers]"),
                          ask("[req-b3] [faults: echo-error]")])
        identity = p.identity()
        p.close()
        token = base64.b64encode(f"probity:{PASSWORD}".encode()).decode()
        assert server.headers["req-b1"]["authorization"] == f"Basic {token}"
    assert out[0].text == "answer to req-b1; you sent Basic [redacted]"
    assert identity["base_url"] == server.url.replace("http://", "http://[redacted]@")
    assert_no_secret([r.model_dump() for r in out] + [identity], [PASSWORD, token])
    # an unreachable one: the error line shows the address without the password
    from servers.llamacpp import free_port

    dead = OpenAIProvider(profile(f"http://probity:{PASSWORD}@127.0.0.1:{free_port()}/v1"))
    with pytest.raises(UserError) as info:
        dead.preflight()
    dead.close()
    assert PASSWORD not in str(info.value) and "http://[redacted]@127.0.0.1:" in str(info.value)


# -- response size limit ----------------------------------------------------------------------------
def test_a_huge_answer_is_cut_at_the_limit() -> None:
    with FaultServer(huge_bytes=40_000_000) as server:
        p = OpenAIProvider(profile(server.url, timeout_s=10))
        tracemalloc.start()
        try:
            (r,) = p.generate([ask("[req-h] [faults: huge]")])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        (small,) = p.generate([ask("[req-h2] hi")])  # the connection pool survives the cut-off answer
        p.close()
    assert r.error is None and r.truncated and r.finish_reason == "length" and r.model == "fault-model"
    assert 3_000_000 < len(r.text) <= 4_000_000 and set(r.text) == {"x"}
    assert peak < 20_000_000  # the 40 MB body was never held whole (about 2 × 4 MB at the peak)
    assert p.stats["truncated"] == 1 and small.text == "answer to req-h2" and not small.truncated


def test_the_limit_is_a_profile_setting() -> None:
    with FaultServer(huge_bytes=300_000) as server:
        p = OpenAIProvider(profile(server.url, max_response_bytes=1000))
        r, plain = p.generate([ask("[req-l1] [faults: huge]"), ask("[req-l2] hi")])
        big = OpenAIProvider(profile(server.url))
        (whole,) = big.generate([ask("[req-l3] [faults: huge]")])
        p.close()
        big.close()
    assert r.truncated and len(r.text) <= 1000 and r.text.startswith("xxx")
    assert plain.text == "answer to req-l2" and not plain.truncated
    assert not whole.truncated and len(whole.text) == 300_000 and whole.finish_reason == "stop"
