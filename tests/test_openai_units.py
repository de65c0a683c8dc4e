"""Fast unit tests of the OpenAI adapter's pure parts: reasoning split, completion parsing (total: any JSON),
the request body, base_url and profile checks, retry policy."""

from __future__ import annotations

import email.utils
import json
import random
from pathlib import Path

import pytest

from evals.errors import UserError
from evals.profiles import Profile, load_profile, url_problem
from evals.secrets import redact_url
from evals.types import GenParams, Message, Request
from providers.openai import (
    Failure,
    parse_completion,
    parse_truncated,
    resolve_base_url,
    split_reasoning,
    wire_body,
)
from providers.retry import (
    MAX_BACKOFF_S,
    MAX_RETRY_AFTER_S,
    Backoff,
    fatal_status,
    retry_after_s,
    retryable_status,
)


@pytest.mark.parametrize(("content", "text", "reasoning"), [
    ("Paris.", "Paris.", None),
    ("<think>France → Paris</think>\n\nParis.", "Paris.", "France → Paris"),
    ("France → Paris</think>Paris.", "Paris.", "France → Paris"),  # the opening tag was in the prompt
    ("<think>a</think>x<think>b</think>y", "xy", "a\n\nb"),
    ("Answer first <think>still going", "Answer first", "still going"),  # cut off by max_tokens
    ("<think></think>Paris.", "Paris.", None),
])
def test_split_reasoning(content: str, text: str, reasoning: str | None) -> None:
    assert split_reasoning(content) == (text, reasoning)


def completion(message: dict, **extra: object) -> bytes:
    return json.dumps({"model": "m", "choices": [{"message": message, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 3, "completion_tokens": 2}, **extra}).encode()


def test_parse_completion() -> None:
    r = parse_completion(completion({"content": "<think>hm</think>Yes.", "reasoning_content": "first"}))
    assert not isinstance(r, Failure)
    assert (r.text, r.reasoning, r.prompt_tokens, r.completion_tokens, r.model) == ("Yes.", "first\n\nhm", 3, 2, "m")
    r = parse_completion(completion({"content": None, "tool_calls": [
        {"id": "c", "function": {"name": "calc", "arguments": {"expression": "1+1"}}}]}))  # an object, not text
    assert not isinstance(r, Failure) and r.text == ""
    assert [(c.id, c.name, json.loads(c.arguments)) for c in r.tool_calls] == [("c", "calc", {"expression": "1+1"})]


@pytest.mark.parametrize(("body", "kind"), [
    (b'{"choices": [', "malformed"),
    (b"<html>Bad gateway</html>", "malformed"),
    (b"[1, 2]", "malformed"),
    (b'{"choices": []}', "empty_choices"),
    (b'{"id": "x"}', "empty_choices"),
    (b'{"error": {"message": "overloaded"}}', "error_body"),
    (b'{"choices": ["text"]}', "malformed"),
])
def test_bodies_that_are_not_answers(body: bytes, kind: str) -> None:
    failure = parse_completion(body)
    assert isinstance(failure, Failure) and failure.kind == kind and failure.retryable


def test_wire_body_minimal() -> None:
    body = wire_body("m", Request(messages=[Message(role="user", content="hi")], params=GenParams()))
    assert body == {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 256,
                    "temperature": 0.0}


def test_status_classes() -> None:
    assert [s for s in (400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 504) if retryable_status(s)] == [
        408, 409, 429, 500, 502, 503, 504]
    assert [s for s in (400, 401, 403, 404) if fatal_status(s)] == [401, 403]


def test_retry_after_parsing() -> None:
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert retry_after_s({"retry-after": "0.25"}) == 0.25
    assert retry_after_s({"retry-after-ms": "150", "retry-after": "9"}) == 0.15
    assert retry_after_s({"retry-after": "-3"}) == 0.0
    assert retry_after_s({"retry-after": "86400"}) == MAX_RETRY_AFTER_S
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({}) is None and retry_after_s(None) is None
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_s({"retry-after": date}, now=1_000_000) == pytest.approx(30)


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    b = Backoff(0.5, random.Random(1))
    for attempt in range(8):
        exp = min(0.5 * 2 ** attempt, MAX_BACKOFF_S)
        delays = [b.delay(attempt) for _ in range(50)]
        assert all(0 <= d <= exp for d in delays) and len(set(delays)) > 1  # full jitter
        assert min(delays) < exp / 4 and max(delays) > exp * 3 / 4
    assert b.delay(0, retry_after=7.0) == 7.0
    assert Backoff(0.0).delay(3) == 0.0


# -- parse_completion is total ----------------------------------------------------------------------
def body(**top: object) -> bytes:
    data: dict[str, object] = {"model": "m", "choices": [{"message": {"content": "Yes."}, "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
    data.update(top)
    return json.dumps(data).encode()


def msg(message: object, **choice: object) -> bytes:
    return body(choices=[{"message": message, "finish_reason": "stop", **choice}])


HOSTILE: list[tuple[str, bytes, object]] = [  # (what, body, expected text | failure kind)
    ("content parts", msg({"content": [{"type": "text", "text": "Par"}, {"type": "text", "text": "is."}]}), "Paris."),
    ("parts with an image and a reasoning part", msg({"content": [
        {"type": "image_url", "image_url": {"url": "x"}}, {"type": "reasoning", "text": "hm"},
        {"type": "text", "text": "Yes."}, {"type": "text", "text": 5}]}), "Yes."),
    ("one part as an object", msg({"content": {"type": "text", "text": "Yes."}}), "Yes."),
    ("content a number", msg({"content": 42}), "malformed"),
    ("content true", msg({"content": True}), "malformed"),
    ("a refusal", msg({"content": None, "refusal": "I can't help with that."}), "I can't help with that."),
    ("usage strings and negatives", body(usage={"prompt_tokens": "12", "completion_tokens": -4}), "Yes."),
    ("usage not numbers", body(usage={"prompt_tokens": [1], "completion_tokens": {"n": 1}}), "Yes."),
    ("usage a list", body(usage=[1, 2]), "Yes."),
    ("usage infinite", b'{"choices": [{"message": {"content": "Yes."}}], "usage": {"prompt_tokens": Infinity,'
                       b' "completion_tokens": NaN}}', "Yes."),
    ("choices an object", body(choices={"message": {"content": "Yes."}}), "malformed"),
    ("choices a string", body(choices="Yes."), "malformed"),
    ("choice a list", body(choices=[[{"message": {"content": "Yes."}}]]), "malformed"),
    ("message a list", msg([{"content": "Yes."}]), "malformed"),
    ("message a string", msg("Yes."), "malformed"),
    ("no message, legacy text", body(choices=[{"text": "Yes.", "finish_reason": "stop"}]), "Yes."),
    ("tool_calls an object", msg({"content": "", "tool_calls": {"function": {"name": "f"}}}), "malformed"),
    ("tool call a string", msg({"content": "", "tool_calls": ["f()"]}), "malformed"),
    ("tool call function a string", msg({"content": "", "tool_calls": [{"id": "c", "function": "f"}]}), "malformed"),
    ("tool call name a number", msg({"content": "", "tool_calls": [{"function": {"name": 7}}]}), "malformed"),
    ("tool call id a number, args a list", msg({"content": "", "tool_calls": [
        {"id": 7, "function": {"name": "f", "arguments": [1, 2]}}]}), ""),
    ("model and finish_reason not strings", body(model={"id": "m"}, choices=[
        {"message": {"content": "Yes."}, "finish_reason": 1}]), "Yes."),
    ("reasoning fields not strings", msg({"content": "Yes.", "reasoning_content": ["a", {"type": "text", "text": "b"}],
                                          "reasoning": {"summary": 1}}), "Yes."),
    ("a lone surrogate", msg({"content": "caf\ud800e"}), "caf\ufffde"),
    ("error not a dict", body(choices=[], error=["overloaded"]), "error_body"),
    ("deeply nested", b"[" * 100_000, "malformed"),
    ("not UTF-8", b'{"choices": [{"message": {"content": "\xff\xfe"}}]}', "malformed"),
    ("a huge number", b'{"choices": [{"message": {"content": "Yes."}}], "usage": {"prompt_tokens": 1e999}}', "Yes."),
]


@pytest.mark.parametrize(("what", "raw", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies(what: str, raw: bytes, expected: object) -> None:
    r = parse_completion(raw)
    if expected in ("malformed", "error_body", "empty_choices"):
        assert isinstance(r, Failure) and r.kind == expected and r.retryable, (what, r)
        assert "could not be read" not in r.message  # a foreseen shape, not the last-resort guard
        return
    assert not isinstance(r, Failure), (what, r)
    assert r.text == expected
    assert r.prompt_tokens >= 0 and r.completion_tokens >= 0
    assert r.model is None or isinstance(r.model, str)
    assert r.finish_reason is None or isinstance(r.finish_reason, str)
    json.dumps(r.model_dump(), ensure_ascii=False).encode("utf-8")  # storable in a UTF-8 record


def test_hostile_details() -> None:
    r = parse_completion(HOSTILE[1][1])
    assert not isinstance(r, Failure) and r.reasoning == "hm"
    r = parse_completion(body(usage={"prompt_tokens": "12", "completion_tokens": -4}))
    assert not isinstance(r, Failure) and (r.prompt_tokens, r.completion_tokens) == (12, 0)
    r = parse_completion(msg({"content": "", "tool_calls": [{"id": 7, "function": {"name": "f", "arguments": [1, 2]}}]}))
    assert not isinstance(r, Failure) and [(c.id, c.name, c.arguments) for c in r.tool_calls] == [("7", "f", "[1, 2]")]
    r = parse_completion(body(model={"id": "m"}, choices=[{"message": {"content": "Yes."}, "finish_reason": 1}]))
    assert not isinstance(r, Failure) and r.model is None and r.finish_reason is None
    r = parse_completion(msg({"content": "Yes.", "reasoning_content": ["a", {"type": "text", "text": "b"}]}))
    assert not isinstance(r, Failure) and r.reasoning == "ab"
    r = parse_completion(msg({"content": "Yes.", "reasoning": "thinking"}))  # Ollama, OpenRouter
    assert not isinstance(r, Failure) and (r.text, r.reasoning) == ("Yes.", "thinking")


def _random_json(rng: random.Random, depth: int = 0) -> object:
    kinds = ["null", "bool", "int", "float", "str", "list", "dict"] if depth < 3 else ["null", "bool", "int", "str"]
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 1, 7, -(10**30), 10**30, 2**63])
    if kind == "float":
        return rng.choice([0.5, -2.5, 1e308, float("inf"), float("nan")])
    if kind == "str":
        return rng.choice(["", "x", "text", "<think>a", "</think>", "\ud800", "tool_calls", "\x00"])
    if kind == "list":
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["type", "text", "content", "function", "name", "arguments", "id", "message"]):
            _random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every position in a JSON value (the root included)."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _replace(value: object, path: tuple[object, ...], new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    assert isinstance(value, list) and isinstance(head, int)
    return [_replace(v, rest, new) if i == head else v for i, v in enumerate(value)]


VALID = {"id": "c", "model": "m", "object": "chat.completion",
         "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
             "role": "assistant", "content": [{"type": "text", "text": "<think>hm</think>Yes."}],
             "reasoning_content": "first",
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "calc", "arguments": "{}"}}]}}],
         "usage": {"prompt_tokens": 3, "completion_tokens": 2}}


def test_parse_completion_fuzz() -> None:
    """Every position of a valid body replaced by random JSON values (fixed seed): always a Response
    or a Failure, never an exception, and never the last-resort guard."""
    rng = random.Random(20240531)
    assert not isinstance(parse_completion(json.dumps(VALID).encode()), Failure)
    seen = {"response": 0, "failure": 0}
    paths = _paths(VALID)
    assert len(paths) == 25
    for path in paths:
        for _ in range(40):
            mutated = _replace(VALID, path, _random_json(rng))
            raw = json.dumps(mutated).encode()
            r = parse_completion(raw)
            if isinstance(r, Failure):
                seen["failure"] += 1
                assert r.retryable and r.kind in {"malformed", "empty_choices", "error_body"}, (path, mutated, r)
                assert "could not be read" not in r.message, (path, mutated, r)
            else:
                seen["response"] += 1
                json.dumps(r.model_dump(), ensure_ascii=False).encode("utf-8")
                assert r.prompt_tokens >= 0 and r.completion_tokens >= 0
    assert seen["response"] > 500 and seen["failure"] > 100  # both outcomes are exercised


def test_the_guard_turns_an_unforeseen_crash_into_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    import providers.openai as mod

    def broken(raw: object) -> object:
        raise KeyError("a shape nobody foresaw")

    monkeypatch.setattr(mod, "_tool_calls", broken)
    r = parse_completion(body())
    assert isinstance(r, Failure) and r.kind == "malformed" and r.retryable and "KeyError" in r.message


# -- a body over max_response_bytes -----------------------------------------------------------------
def test_parse_truncated() -> None:
    full = json.dumps({"id": "c", "model": "m-2024", "choices": [{"message": {
        "role": "assistant", "content": "<think>hm</think>" + "é" * 50 + "\\n\"q\"" + "x" * 1000}}]}).encode()
    for cut in range(120, 200):  # cut anywhere, inside a two-byte é or an escape too
        r = parse_truncated(full[:cut], cut)
        assert not isinstance(r, Failure) and r.truncated and r.finish_reason == "length"
        assert r.model == "m-2024" and r.reasoning == "hm" and r.text.startswith("é")
        assert len(r.text) <= cut and set(r.text) <= set('é\\n"qx')
    r = parse_truncated(b'{"id": "c", "usage": {"prompt_tokens": 1}, "choices": [{"message": {"tool_calls": [', 80)
    assert isinstance(r, Failure) and r.kind == "too_large" and not r.retryable


# -- the request body for reasoning models --------------------------------------------------------
def test_wire_body_for_a_reasoning_model() -> None:
    reasoning = Profile(name="r", adapter="openai", model="gpt-5-mini", base_url="https://api.openai.com/v1",
                        token_limit_param="max_completion_tokens", send_sampling_params=False,
                        reasoning_token_budget=1000, reasoning_effort="minimal")
    req = Request(messages=[Message(role="user", content="hi")],
                  params=GenParams(max_new_tokens=64, temperature=0.7, top_p=0.9, seed=3, stop=["END"]))
    assert wire_body("gpt-5-mini", req, reasoning) == {
        "model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 1064,
        "reasoning_effort": "minimal", "stop": ["END"]}
    default = Profile(name="d", adapter="openai", model="m", base_url="http://h/v1")
    assert wire_body("m", req, default) == {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                                            "max_tokens": 64, "temperature": 0.7, "top_p": 0.9, "seed": 3,
                                            "stop": ["END"]}


# -- base_url and profile settings -----------------------------------------------------------------
BAD_URLS = [
    ("http://127.0.0.1:99999/v1", "port 99999 out of range (1-65535)"),
    ("http://127.0.0.1:0/v1", "port 0 out of range (1-65535)"),
    ("http://127.0.0.1:80a/v1", "port '80a' is not a number"),
    ("http://[::1/v1", "malformed IPv6 address (no closing ])"),
    ("http://[zz::1]:80/v1", "malformed IPv6 address '[zz::1]'"),
    ("http://[::1]x/v1", "unexpected 'x' after the IPv6 address"),
    ("http:///v1", "no host"),
    ("http://:8080/v1", "no host"),
    ("http://user:pw@/v1", "no host"),
    ("http://host name/v1", "contains whitespace or a control character"),
    ("ftp://host/v1", "must start with http:// or https://"),
    ("127.0.0.1:8080", "must start with http:// or https://"),
]


@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_resolve_base_url_rejects_with_one_line(url: str, reason: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBITY_BASE_URL", url)
    p = Profile(name="x", adapter="openai", model="m", base_url="http://127.0.0.1:8080/v1")
    with pytest.raises(UserError) as info:
        resolve_base_url(p)
    assert info.value.lines == [f"profile x: $PROBITY_BASE_URL {redact_url(url)!r}: {reason}"]
    assert url_problem(url) == reason


def test_resolve_base_url_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROBITY_BASE_URL", raising=False)
    for url, resolved in [("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1"), ("https://[::1]:443/v1", None),
                          ("http://[fe80::1%25eth0]:8080/v1", None), ("https://api.openai.com/v1", None),
                          ("http://localhost/v1", None), ("http://user:pass@host:65535/v1", None)]:
        p = Profile(name="x", adapter="openai", model="m", base_url=url)
        assert resolve_base_url(p) == (resolved or url)
    monkeypatch.setenv("PROBITY_BASE_URL", "  http://127.0.0.1:9/v1\n")  # pasted with a newline
    assert resolve_base_url(p) == "http://127.0.0.1:9/v1"


def test_a_bad_port_in_the_profile_names_the_setting() -> None:
    # a Profile built in code is checked by the same rule (resolve_base_url then never sees it)
    with pytest.raises(ValueError, match="port 99999 out of range"):
        Profile(name="x", adapter="openai", model="m", base_url="http://127.0.0.1:99999/v1")
    unchecked = Profile.model_construct(name="x", adapter="openai", model="m", base_url="http://user:pw@[::1/v1")
    with pytest.raises(UserError, match=r"^profile x: base_url 'http://\[redacted\]@\[::1/v1': malformed IPv6"):
        resolve_base_url(unchecked)


PROFILE_HEAD = "name: p\nadapter: transformers\nmodel: some/folder\n"


@pytest.mark.parametrize(("line", "problem"), [
    ("threads: 0", "threads: Input should be greater than 0"),
    ("threads: -2", "threads: Input should be greater than 0"),
    ("device: gpu", "device: 'gpu' is not a device: use auto, cpu, cuda, cuda:N (N = 0, 1, ...) or mps"),
    ("device: 'cuda:'", "device: 'cuda:' is not a device"),
    ("device: CUDA", "device: 'CUDA' is not a device"),
    ("base_url: 'http://127.0.0.1:99999/v1'", "base_url: port 99999 out of range (1-65535)"),
    ("base_url: 'http://[zz::1]:80/v1'", "base_url: malformed IPv6 address '[zz::1]'"),
    ("max_response_bytes: 0", "max_response_bytes: Input should be greater than 0"),
    ("token_limit_param: max_output_tokens", "token_limit_param: Input should be 'max_tokens' or"),
    ("reasoning_token_budget: -1", "reasoning_token_budget: Input should be greater than or equal to 0"),
])
def test_profile_settings_are_checked_with_file_and_line(line: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE_HEAD + "description: a profile\n" + line + "\n")
    with pytest.raises(UserError) as info:
        load_profile(str(path))
    (message,) = info.value.lines
    assert message.startswith(f"{path}:5: {problem}"), message


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps"])
def test_valid_devices(device: str, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE_HEAD + f"device: '{device}'\nthreads: 2\n")
    p = load_profile(str(path))
    assert (p.device, p.threads) == (device, 2)


def test_the_reasoning_example_profile() -> None:
    p = load_profile("openai-gpt-5-mini")
    assert (p.adapter, p.model, p.base_url, p.api_key_env) == ("openai", "gpt-5-mini", "https://api.openai.com/v1",
                                                               "OPENAI_API_KEY")
    assert p.token_limit_param == "max_completion_tokens" and not p.send_sampling_params
    assert p.knowledge_cutoff == "2024-05" and "OpenAI" in p.identity.makers and "GPT-5 mini" in p.identity.names
