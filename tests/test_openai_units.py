"""Fast unit tests of the OpenAI adapter's pure parts: reasoning split, completion parsing, retry policy."""

from __future__ import annotations

import email.utils
import json
import random

import pytest

from evals.types import GenParams, Message, Request
from providers.openai import Failure, parse_completion, split_reasoning, wire_body
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
