"""The OpenAI adapter against a real local HTTP server that injects faults (tests/servers/fault.py).

Timeouts and backoff are tiny so the whole file runs in seconds."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from servers.fault import FaultServer

from evals.cli import main
from evals.errors import FatalProviderError, UserError
from evals.profiles import Profile
from evals.records import iter_lines, read_manifest
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
        assert main(["run", str(suite), "--provider", str(prof), "--out", str(out), "--no-cache"]) == 0
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
    assert manifest["status"] == "finished"
    retries = manifest["retries"]
    assert retries == sum(r["response"]["retries"] for r in records)
    # every retry is an attempt the client made; the server counts the ones it read. An attempt the client
    # abandons at its 0.3 s deadline before the server's thread reads it (a loaded CI machine) is in the first
    # count only, so the two may differ by a few, never the other way round
    assert 0 <= retries - (server.requests - 300) <= max(3, retries // 20)
    assert server.requests > 300
    assert manifest["counts"]["records"] == 300
    assert manifest["counts"].get("errors", 0) == sum(1 for r in records if r["error"])
