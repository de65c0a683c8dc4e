"""Confidence from an OpenAI-compatible endpoint's token logprobs: the request, the parse, and a real
llama.cpp server (`chatml` and `chatml-function-calling` formats) serving the embedded SmolLM2 GGUF."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.profiles import load_profile
from evals.secrets import profile_digest
from evals.types import GenParams, Message, Request
from providers.openai import (
    OpenAIProvider,
    logprobs_confidence,
    parse_completion,
    truncated_entropy,
    wire_body,
)

ASK = Request(messages=[Message(role="user", content="What is the capital of France?")],
              params=GenParams(max_new_tokens=16))


def test_the_request_asks_for_logprobs_only_when_the_profile_says() -> None:
    plain = load_profile("llamacpp-local")
    assert "logprobs" not in wire_body(plain.model, ASK, plain)
    on = plain.model_copy(update={"logprobs": True, "top_logprobs": 3})
    body = wire_body(on.model, ASK, on)
    assert body["logprobs"] is True and body["top_logprobs"] == 3


def test_the_setting_left_at_its_default_keeps_the_profile_digest() -> None:
    """An existing profile dumps, and digests, as before the setting existed: its runs still resume."""
    plain = load_profile("llamacpp-local")
    assert "logprobs" not in plain.model_dump() and "top_logprobs" not in plain.model_dump()
    on = plain.model_copy(update={"logprobs": True})
    assert on.model_dump()["logprobs"] is True and profile_digest(on) != profile_digest(plain)


def test_truncated_entropy_by_hand() -> None:
    # p = 0.5, 0.25 and a leftover 0.25 counted as one outcome: 1.5 * ln 2
    top = [{"token": "a", "logprob": math.log(0.5)}, {"token": "b", "logprob": math.log(0.25)}]
    assert truncated_entropy(top) == pytest.approx(1.5 * math.log(2))
    assert truncated_entropy([{"logprob": 0.0}]) == pytest.approx(0.0)  # a sure token
    assert truncated_entropy([]) is None and truncated_entropy("x") is None


def test_logprobs_parse_by_hand() -> None:
    content = [{"token": t, "logprob": lp, "top_logprobs": [{"token": t, "logprob": lp}]}
               for t, lp in (("Par", -0.1), ("is", -0.3), (".", -2.0), ("!", -0.4))]
    c = logprobs_confidence({"content": content})
    assert c is not None and c.source == "logprobs" and c.n_tokens == 4
    assert c.mean_logprob == pytest.approx(-0.7) and c.min_logprob == -2.0
    first3 = [truncated_entropy([{"logprob": lp}]) for lp in (-0.1, -0.3, -2.0)]
    assert c.first_token_entropy == pytest.approx(sum(first3) / 3)
    # what servers send when they have none, or garbage: no confidence, never a crash
    for raw in (None, {}, {"content": None}, {"content": [{"logprob": "x"}, {"logprob": float("nan")}]}, [1, 2]):
        assert logprobs_confidence(raw) is None


def test_a_completion_body_carries_its_confidence() -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop",
                         "logprobs": {"content": [{"token": "Paris", "logprob": -0.5, "top_logprobs": []},
                                                  {"token": ".", "logprob": -0.25, "top_logprobs": []}]}}],
            "model": "m", "usage": {"prompt_tokens": 5, "completion_tokens": 2}}
    r = parse_completion(json.dumps(body).encode())
    assert r.text == "Paris." and r.confidence is not None
    assert r.confidence.mean_logprob == pytest.approx(-0.375) and r.confidence.first_token_entropy is None
    body["choices"][0]["logprobs"] = None
    assert parse_completion(json.dumps(body).encode()).confidence is None


def test_the_identity_names_the_setting() -> None:
    plain = load_profile("llamacpp-local")
    on = plain.model_copy(update={"logprobs": True})
    a, b = OpenAIProvider(plain), OpenAIProvider(on)
    try:
        assert "logprobs" not in a.identity()
        assert b.identity()["logprobs"] is True and b.identity()["top_logprobs"] == 5
    finally:
        a.close()
        b.close()


# -- a real llama.cpp server -----------------------------------------------------------------------

@pytest.fixture(scope="module", params=["chatml", "chatml-function-calling"])
def server_url(request: pytest.FixtureRequest, smollm2_gguf: Path) -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="the test extra installs llama-cpp-python[server]")
    from servers.llamacpp import llamacpp_server

    with llamacpp_server(smollm2_gguf, request.param) as url:
        yield url


@pytest.mark.server
def test_llamacpp_logprobs_fill_the_confidence(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBITY_BASE_URL", server_url)
    plain_profile = load_profile("llamacpp-local")
    reqs = [ASK, Request(messages=[Message(role="user", content="Write the numbers from 1 to 50.")],
                         params=GenParams(max_new_tokens=8))]
    with_lp, without = OpenAIProvider(plain_profile.model_copy(update={"logprobs": True})), OpenAIProvider(plain_profile)
    try:
        on = with_lp.generate(reqs)
        off = without.generate(reqs)
    finally:
        with_lp.close()
        without.close()
    assert [r.error for r in on + off] == [None] * 4
    assert [r.text for r in on] == [r.text for r in off]  # asking for logprobs changes no greedy answer
    assert all(r.confidence is None for r in off)
    for r in on:
        c = r.confidence
        assert c is not None and c.source == "logprobs", r
        assert c.n_tokens == r.completion_tokens or c.n_tokens == r.completion_tokens - 1  # an end token or not
        assert c.min_logprob <= c.mean_logprob <= 0.0
        assert c.first_token_entropy is not None and c.first_token_entropy >= 0.0
    assert on[1].confidence.n_tokens == 8  # the length-capped answer: every token has a logprob
