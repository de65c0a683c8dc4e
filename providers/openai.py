"""OpenAI-compatible chat-completions adapter (OpenAI, vLLM, llama.cpp, Ollama, TGI, ...).

The requests run on a private asyncio event loop in a thread of their own, with `AsyncOpenAI`: at
most `profile.concurrency` in flight, each attempt bounded by `profile.timeout_s`, retried by the
policy in providers/retry.py (the SDK's own retries are off). `stream` hands each answer back as it
completes; `generate` is that stream collected in order (it works inside a running event loop too,
a notebook). Closing a stream early (or Ctrl-C while it waits) cancels the requests still in flight.
An API failure is a `Response` with `error` and `error_kind` (an unreachable server too: `--resume`
retries those records); only a rejected key (401/403) raises, as FatalProviderError, so the whole
batch (and the run) stops at once.

`preflight` sends one 1-token request before a run: an endpoint that cannot be reached, a model it
does not serve or a setting it rejects is a UserError naming the profile and the address. It also
learns the snapshot the endpoint reports (`gpt-4o-mini` answers as `gpt-4o-mini-2024-07-18`), which
`identity()` then includes, so the response cache never mixes the answers of two snapshots.

A 200 body is read up to `profile.max_response_bytes`; a longer one is cut there (`truncated`).

Several endpoints (`endpoints:` or `base_url: [URL, ...]`: replicas of one model) share the work: each
attempt goes to the in-service endpoint with the fewest requests in flight (ties: round-robin), within
each endpoint's concurrency. An endpoint that fails (a connection that cannot be made, or
FAILOVER_STREAK retryable failures in a row) is out of service for `failover_s` seconds, doubling at
each further take-out up to MAX_OUT_S, then takes one request at a time until one succeeds. A retry
goes to another in-service endpoint at once if there is one (else it backs off as with one endpoint);
when every endpoint is out a request waits for the first to come back; each failed attempt and each
such wait uses one of `max_retries`. Every Response names the endpoint that answered it (`endpoint`,
credentials redacted) and `endpoint_usage()` counts answers, failed attempts and take-outs per
endpoint. With several endpoints `identity()` holds no URL (the cache is shared by any list of the
same replicas); the preflight checks every endpoint: an unreachable one is a warning and starts out of
service, replicas that report different snapshots are a UserError, and an endpoint that later answers
as another model is left out for the rest of the session. With one endpoint nothing of this applies:
its requests and its identity are as they always were.

`PROBITY_BASE_URL`, when set, replaces the profile's `base_url` or endpoints (e.g. a llama.cpp server
on another port); several URLs separated by commas make several endpoints, each with the profile's
settings. The API key is read from the variable named by `api_key_env` (an endpoint may name its own).
Every key, every header value and any password in a base URL are scrubbed from every response field
and error text (evals/secrets.py), so neither a record nor the cache can hold them; none of them
appears in `identity()` (a profile header that is not a credential shows there as a digest of its value).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import math
import os
import queue
import re
import socket
import ssl
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import openai

try:  # the HTTP library under the openai SDK: httpx2 in recent releases, httpx before
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from evals.errors import FatalProviderError, UserError
from evals.profiles import Profile, url_problem
from evals.secrets import REDACTED, is_credential_header, profile_secrets, redact_url, scrub, url_secrets
from evals.types import ENTROPY_TOKENS, Confidence, Message, Request, Response, ToolCall
from providers.retry import Backoff, fatal_status, retry_after_s, retryable_status

ENV_BASE_URL = "PROBITY_BASE_URL"
NO_KEY = "not-needed"  # sent as the bearer token when the profile names no api_key_env (local servers)
#: the preflight: its whole answer, its TCP/TLS connection, and one retry of a refused connection
PREFLIGHT_TIMEOUT_S = 30.0
PREFLIGHT_CONNECT_S = 5.0
PREFLIGHT_RETRY_S = 0.5
PREFLIGHT_PROMPT = "Reply with OK."
#: how long closing a stream waits for its cancelled requests to wind down
CANCEL_WAIT_S = 5.0
_THINK = re.compile(r"<think>(.*?)</think>", re.S)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_TIMEOUT_CM = getattr(asyncio, "timeout", None)  # asyncio.timeout (3.11+); wait_for before that


@dataclass
class Failure:
    """One failed attempt: what went wrong, and whether another attempt may succeed."""

    kind: str  # error_kind: http_<code>, timeout, connection, malformed, empty_choices, error_body, too_large
    message: str
    retryable: bool
    retry_after: float | None = None
    cause: BaseException | None = field(default=None, repr=False)  # the transport error, for the preflight


# -- configuration ----------------------------------------------------------------------------------
def resolve_base_url(profile: Profile) -> str:
    """The endpoint: $PROBITY_BASE_URL or the profile's base_url, checked (one UserError line naming
    the profile and the setting, never a traceback), without a trailing slash."""
    from_env = (os.environ.get(ENV_BASE_URL) or "").strip()
    url = from_env or (profile.base_url or "").strip()
    setting = f"${ENV_BASE_URL}" if from_env else "base_url"
    if not url:
        raise UserError(f"profile {profile.name}: no base_url (set it in the profile or in ${ENV_BASE_URL})")
    return _checked_url(profile, url, setting)


def _checked_url(profile: Profile, url: str, setting: str) -> str:
    problem = url_problem(url)
    if problem is None:
        try:
            httpx.URL(url)
        except Exception as exc:  # whatever the HTTP library cannot use (its exception types vary)
            problem = f"not a usable URL ({scrub(_one_line(str(exc), 120), url_secrets(url))})"
    if problem:
        raise UserError(f"profile {profile.name}: {setting} {redact_url(url)!r}: {problem}")
    return url.rstrip("/")


@dataclass
class EndpointSpec:
    """One endpoint as configured: its URL (checked, no trailing slash) and its effective settings."""

    url: str
    #: where the URL came from, for hints: base_url, $PROBITY_BASE_URL or the profile's endpoints
    setting: str
    concurrency: int
    api_key_env: str | None
    headers: dict[str, str]


def resolve_endpoints(profile: Profile) -> list[EndpointSpec]:
    """The endpoints to send to. $PROBITY_BASE_URL (one URL, or several separated by commas) replaces
    the profile's base_url or endpoints, each URL with the profile-level settings; else the profile's
    `endpoints` (an entry's settings default to the profile's, its headers are added to the profile's);
    else its base_url. A bad URL is one UserError line naming the setting."""
    from_env = (os.environ.get(ENV_BASE_URL) or "").strip()
    env = f"${ENV_BASE_URL}"

    def spec(url: str, setting: str) -> EndpointSpec:
        return EndpointSpec(url, setting, profile.concurrency, profile.api_key_env, dict(profile.headers))

    if from_env and "," in from_env:
        urls = [u.strip() for u in from_env.split(",") if u.strip()]
        if not urls:
            raise UserError(f"profile {profile.name}: ${ENV_BASE_URL} {from_env!r}: no URL")
        checked = [_checked_url(profile, u, f"{env} entry {i + 1}") for i, u in enumerate(urls)]
        if len({redact_url(u) for u in checked}) < len(checked):
            raise UserError(f"profile {profile.name}: ${ENV_BASE_URL} names an endpoint twice")
        return [spec(u, env) for u in checked]
    if from_env or not profile.endpoints:
        return [spec(resolve_base_url(profile), env if from_env else "base_url")]
    where = "the profile's endpoints"
    return [EndpointSpec(_checked_url(profile, e.base_url.strip(), f"endpoints[{i}].base_url"), where,
                         e.concurrency or profile.concurrency, e.api_key_env or profile.api_key_env,
                         {**profile.headers, **(e.headers or {})})
            for i, e in enumerate(profile.endpoints)]


def read_api_key(profile: Profile, env: str | None = None, endpoint: str | None = None) -> str | None:
    """The key in the variable `env` names (default: the profile's api_key_env); None when none is named."""
    env = profile.api_key_env if env is None else env
    if not env:
        return None
    key = os.environ.get(env, "").strip()
    if not key:
        whose = f"the API key of endpoint {endpoint}" if endpoint else "its API key"
        raise UserError(f"{env} is not set: profile {profile.name} reads {whose} from it")
    return key


# -- wire format ------------------------------------------------------------------------------------
def wire_message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.role == "assistant" and m.tool_calls:
        out["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                             for c in m.tool_calls]
    if m.role == "tool":
        out["tool_call_id"] = m.tool_call_id or ""
    return out


def wire_body(model: str, request: Request, profile: Profile | None = None) -> dict[str, Any]:
    """The chat-completions request body. `tool_choice: auto` is explicit because some servers
    (llama.cpp's chatml-function-calling) ignore `tools` without it. The profile decides the name of
    the token-limit field, whether sampling settings are sent, and the reasoning settings."""
    p = request.params
    limit_param = profile.token_limit_param if profile else "max_tokens"
    extra_tokens = profile.reasoning_token_budget if profile else 0
    body: dict[str, Any] = {"model": model, "messages": [wire_message(m) for m in request.messages],
                            limit_param: p.max_new_tokens + extra_tokens}
    if profile is None or profile.send_sampling_params:
        body["temperature"] = p.temperature
        if p.top_p != 1.0:
            body["top_p"] = p.top_p
        if p.seed is not None:
            body["seed"] = p.seed
    if profile is not None and profile.reasoning_effort:
        body["reasoning_effort"] = profile.reasoning_effort
    if p.stop:
        body["stop"] = list(p.stop)
    if request.tools:
        body["tools"] = request.tools
        body["tool_choice"] = "auto"
    if profile is not None and profile.logprobs:
        body["logprobs"] = True
        body["top_logprobs"] = profile.top_logprobs
    return body


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value > 0:
        return None
    return float(value)


def truncated_entropy(top: Any) -> float | None:
    """Entropy (nats) of a token's distribution known only by its top alternatives: the mass they leave
    is counted as one more outcome, so this is a lower bound of the true entropy."""
    if not isinstance(top, list):
        return None
    probs = [math.exp(lp) for t in top if isinstance(t, dict) and (lp := _finite(t.get("logprob"))) is not None]
    if not probs:
        return None
    rest = max(0.0, 1.0 - sum(probs))
    return -sum(p * math.log(p) for p in probs if p > 0) - (rest * math.log(rest) if rest > 0 else 0.0)


def logprobs_confidence(raw: Any) -> Confidence | None:
    """A choice's `logprobs` (`{"content": [{"token", "logprob", "top_logprobs": [...]}, ...]}`) as a
    Confidence; None when it holds no usable token log-probability."""
    content = raw.get("content") if isinstance(raw, dict) else None
    if not isinstance(content, list):
        return None
    lps, hs = [], []
    for entry in content:
        lp = _finite(entry.get("logprob")) if isinstance(entry, dict) else None
        if lp is None:
            continue
        lps.append(lp)
        if len(lps) <= ENTROPY_TOKENS:
            h = truncated_entropy(entry.get("top_logprobs"))
            if h is not None:
                hs.append(h)
    if not lps:
        return None
    return Confidence(source="logprobs", n_tokens=len(lps), mean_logprob=sum(lps) / len(lps), min_logprob=min(lps),
                      first_token_entropy=sum(hs) / len(hs) if hs else None)


def split_reasoning(content: str) -> tuple[str, str | None]:
    """Move `<think>…</think>` out of the answer. Handles a closing tag whose opening tag was part of
    the prompt (DeepSeek-R1 templates) and an unclosed block cut off by max_tokens."""
    parts: list[str] = []
    head, sep, tail = content.partition("</think>")
    if sep and "<think>" not in head:
        parts.append(head)
        content = tail

    def keep(m: re.Match[str]) -> str:
        parts.append(m.group(1))
        return ""

    content = _THINK.sub(keep, content)
    start = content.find("<think>")
    if start != -1:
        parts.append(content[start + len("<think>"):])
        content = content[:start]
    if not parts:
        return content, None
    return content.strip(), "\n\n".join(p.strip() for p in parts if p.strip()) or None


def _server_message(data: Any) -> str:
    """The human part of an error body: OpenAI `{"error": {"message"}}`, FastAPI `{"detail"}`, ..."""
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        for name in ("error", "message", "detail"):
            if data.get(name):
                value = data[name]
                return value if isinstance(value, str) else _dumps(value)
    if isinstance(data, (bytes, bytearray)):
        data = data.decode("utf-8", "replace")
    return str(data) if data else "(empty body)"


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return repr(value)[:300]


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def _clean(text: str) -> str:
    """A JSON string may hold a lone surrogate (`"\\ud800"`): no UTF-8 file could store it."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def _count(value: Any) -> int:
    """A usage figure: a non-negative whole number, or 0 for anything else."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return 0
    if isinstance(value, int):
        return min(max(value, 0), 2**63 - 1)
    if isinstance(value, float) and math.isfinite(value):
        return min(max(int(value), 0), 2**63 - 1)
    return 0


_TEXT_PARTS = ("text", "output_text", None)
_THINK_PARTS = ("reasoning", "thinking", "reasoning_text")


def _parts(value: Any) -> tuple[str, str] | None:
    """(answer text, reasoning text) of a message `content`: a string, null, or a list of parts
    (`{"type": "text", "text": ...}`; reasoning/thinking parts go to the reasoning, a refusal is
    text, images and other parts are ignored). None when it is neither (a number, a boolean)."""
    if value is None:
        return "", ""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return None
    text: list[str] = []
    think: list[str] = []
    for part in value:
        if isinstance(part, str):
            text.append(part)
        elif isinstance(part, dict):
            kind = part.get("type")
            if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
                text.append(part["text"])
            elif kind == "refusal" and isinstance(part.get("refusal"), str):
                text.append(part["refusal"])
            elif kind in _THINK_PARTS:
                found = next((part[k] for k in ("text", "thinking", "reasoning") if isinstance(part.get(k), str)), "")
                think.append(found)
    return "".join(text), "\n\n".join(t for t in think if t)


def _reasoning_field(value: Any) -> str | None:
    """`reasoning_content` / `reasoning` as text: a string, a list of parts, or the JSON of anything else."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, str):
        return value
    found = _parts(value)
    if found is not None and (found[0] or found[1]):
        return "\n\n".join(t for t in found if t)
    return _dumps(value)


def _tool_calls(raw: Any) -> list[ToolCall] | str:
    """The message's tool calls, or why they cannot be read (the answer is then malformed)."""
    if not raw:
        return []
    if not isinstance(raw, list):
        return f"`tool_calls` is a JSON {_json_type(raw)}, not a list"
    calls = []
    for tc in raw:
        if not isinstance(tc, dict):
            return f"a tool call is a JSON {_json_type(tc)}, not an object"
        fn = tc.get("function")
        if not isinstance(fn, dict):
            return f"a tool call's `function` is a JSON {_json_type(fn)}, not an object"
        name, args, call_id = fn.get("name"), fn.get("arguments"), tc.get("id")
        if not isinstance(name, str):
            return f"a tool call's name is a JSON {_json_type(name)}, not a string"
        arguments = args if isinstance(args, str) else ("{}" if args is None else _dumps(args))
        ident = call_id if isinstance(call_id, str) else (str(call_id) if isinstance(call_id, int) else "")
        calls.append(ToolCall(id=_clean(ident), name=_clean(name), arguments=_clean(arguments)))
    return calls


def parse_completion(content: bytes) -> Response | Failure:
    """A 200 body → Response; a body that is not a chat completion → Failure (retryable). Total:
    never raises, whatever the body (any JSON value in any place)."""
    try:
        return _parse_completion(content)
    except Exception as exc:  # a shape not foreseen below is an unusable answer, never a crash
        return Failure("malformed", f"the answer could not be read ({type(exc).__name__})", True)


def _parse_completion(content: bytes) -> Response | Failure:
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        snippet = content[:120].decode("utf-8", "replace")
        return Failure("malformed", f"the answer is not JSON: {snippet!r}", True)
    if not isinstance(data, dict):
        return Failure("malformed", f"the answer is JSON {_json_type(data)}, not an object", True)
    choices = data.get("choices")
    if not choices:
        if data.get("error"):
            return Failure("error_body", f"HTTP 200 with an error: {_one_line(_server_message(data))}", True)
        return Failure("empty_choices", "the answer has no choices", True)
    if not isinstance(choices, list):
        return Failure("malformed", f"`choices` is a JSON {_json_type(choices)}, not a list", True)
    choice = choices[0]
    if not isinstance(choice, dict):
        return Failure("malformed", f"the first choice is a JSON {_json_type(choice)}, not an object", True)
    message = choice.get("message")
    if message is None and isinstance(choice.get("text"), str):  # a legacy completions-style choice
        message = {"content": choice["text"]}
    if not isinstance(message, dict):
        return Failure("malformed", "the first choice has no message object", True)
    parts = _parts(message.get("content"))
    if parts is None:
        return Failure("malformed", f"the message content is a JSON {_json_type(message.get('content'))}", True)
    calls = _tool_calls(message.get("tool_calls"))
    if isinstance(calls, str):
        return Failure("malformed", calls, True)
    raw_text, part_reasoning = parts
    refusal = message.get("refusal")
    if not raw_text.strip() and isinstance(refusal, str):
        raw_text = refusal
    text, think = split_reasoning(raw_text)
    found = [r for r in (_reasoning_field(message.get("reasoning_content")), _reasoning_field(message.get("reasoning")),
                         part_reasoning or None, think) if r]
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    model, finish = data.get("model"), choice.get("finish_reason")
    return Response(text=_clean(text), reasoning=_clean("\n\n".join(dict.fromkeys(found))) if found else None,
                    tool_calls=calls, finish_reason=_clean(finish) if isinstance(finish, str) else None,
                    prompt_tokens=_count(usage.get("prompt_tokens")),
                    completion_tokens=_count(usage.get("completion_tokens")),
                    model=_clean(model) if isinstance(model, str) else None,
                    confidence=logprobs_confidence(choice.get("logprobs")))


_CONTENT_START = re.compile(rb'(?<!\\)"content"\s*:\s*"')
_MODEL_FIELD = re.compile(rb'(?<!\\)"model"\s*:\s*"((?:[^"\\]|\\.){0,300})"')
#: complete pieces of a JSON string's body: plain characters and whole escapes
_STRING_PIECES = re.compile(r'(?:[^\\"]+|\\u[0-9a-fA-F]{4}|\\[^u])*')


def _json_string_prefix(s: str) -> str:
    """Decode the JSON string whose body starts at s[0] (after its opening quote) as far as it goes:
    a body cut at the size limit ends inside it, maybe inside an escape. Copies the text at most
    once more (it may be megabytes)."""
    if '"' in s:
        try:
            return json.decoder.scanstring(s, 0, False)[0]  # it ends before the cut
        except ValueError:
            pass
    if "\\" not in s and '"' not in s:
        return s  # no escapes: the text is the value
    pieces: list[str] = []
    pos = 0
    while pos < len(s):
        whole = _STRING_PIECES.match(s, pos, min(pos + 65536, len(s))).end()  # never cuts an escape
        if whole == pos:
            break  # a quote, an invalid escape, or an escape cut by the limit: the string ends here
        try:
            pieces.append(json.decoder.scanstring(s[pos:whole] + '"', 0, False)[0])
        except ValueError:  # an invalid escape (`\\x`): the readable text ends before it
            break
        pos = whole
    return "".join(pieces)


def parse_truncated(prefix: bytes, limit: int) -> Response | Failure:
    """The first `limit` bytes of a 200 body that is longer: the answer text as far as it goes, cut to
    `limit` characters, flagged `truncated` with finish_reason "length". Total, as parse_completion."""
    try:
        return _parse_truncated(prefix, limit)
    except Exception as exc:
        return Failure("too_large", f"the answer is larger than max_response_bytes ({limit} bytes) and could "
                                    f"not be read ({type(exc).__name__})", False)


def _parse_truncated(prefix: bytes, limit: int) -> Response | Failure:
    start = _CONTENT_START.search(prefix)
    if start is None:
        return Failure("too_large", f"the answer is larger than max_response_bytes ({limit} bytes) and no "
                                    "answer text was found before the limit", False)
    value = _json_string_prefix(str(memoryview(prefix)[start.end():], "utf-8", "ignore"))
    content, think = split_reasoning(value[:limit] if len(value) > limit else value)
    model = _MODEL_FIELD.search(prefix)
    name = _json_string_prefix(model.group(1).decode("utf-8", "ignore") + '"') if model else None
    return Response(text=_clean(content), reasoning=_clean(think) if think else None, finish_reason="length",
                    model=_clean(name) if name else None, truncated=True)


def _take(chunks: list[bytes]) -> bytes:
    """The chunks joined, and the list emptied (the body is then held once, not twice)."""
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    chunks.clear()
    return body


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


# -- the event loop thread --------------------------------------------------------------------------
class _Job:
    """A coroutine running on the adapter's loop thread, awaited from the calling thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> None:
        self.loop = loop
        self.done = threading.Event()
        self.task: asyncio.Future[Any] | None = None
        loop.call_soon_threadsafe(self._start, coro)

    def _start(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.task = asyncio.ensure_future(coro, loop=self.loop)
        self.task.add_done_callback(lambda _: self.done.set())

    def _cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def cancel(self, wait_s: float = CANCEL_WAIT_S) -> None:
        """Cancel it and wait (bounded) until it has wound down."""
        if not self.done.is_set() and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._cancel)
            self.done.wait(wait_s)

    def result(self) -> Any:
        try:
            self.done.wait()  # interruptible: Ctrl-C lands here
        except BaseException:
            self.cancel()
            raise
        assert self.task is not None
        return self.task.result()


# -- several endpoints -----------------------------------------------------------------------------
#: this many retryable failures in a row (5xx, 429, timeouts, resets, unusable bodies) take an endpoint
#: out of service; a connection that cannot be made at all takes it out at once
FAILOVER_STREAK = 3
#: the longest an endpoint stays out: failover_s doubles at each take-out without a success in between
MAX_OUT_S = 30.0


class _Endpoint:
    """One endpoint: its settings, its client, and (several endpoints) its routing state and usage.
    The state is touched on the adapter's loop thread only; endpoint_usage() reads the counters."""

    def __init__(self, index: int, spec: EndpointSpec, key: str | None) -> None:
        self.index = index
        self.url = spec.url
        self.display = redact_url(spec.url)
        self.setting = spec.setting
        self.concurrency = spec.concurrency
        self.api_key_env = spec.api_key_env
        self.key = key
        self.headers = spec.headers
        try:
            self.host = urlsplit(spec.url).hostname or self.display
        except ValueError:  # pragma: no cover - resolve_endpoints has checked the URL
            self.host = self.display
        self.client: openai.AsyncOpenAI | None = None
        self.in_flight = 0
        self.streak = 0  # retryable failures in a row
        self.level = 0  # take-outs without a success in between: the next one lasts failover_s × 2^level
        self.out = False  # taken out of service until its timer brings it back
        self.back_at = 0.0  # loop time at which it comes back
        self.probing = False  # back after a take-out: one request at a time until one succeeds
        self.disabled = False  # out for good: it answers as another model
        self.answered = 0
        self.failed = 0  # failed attempts
        self.taken_out = 0

    @property
    def in_service(self) -> bool:
        return not self.out and not self.disabled

    @property
    def capacity(self) -> int:
        return 1 if self.probing else self.concurrency


def _cannot_connect(failure: Failure) -> bool:
    """Nothing answered at all (refused, DNS, TLS, no connection in time): not a busy server."""
    return any(isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout, ConnectionRefusedError))
               for e in _chain(failure.cause))


class _Router:
    """Which endpoint serves the next attempt: the in-service endpoint with the fewest requests in
    flight (ties: round-robin) that has a free slot; a request avoids the endpoints it failed on while
    another is in service. Waiters are served first come, first served. An endpoint that fails
    (FAILOVER_STREAK retryable failures in a row, or a connection that cannot be made) is out for
    failover_s × 2^n (n: take-outs without a success in between; at most MAX_OUT_S), then takes one
    request at a time until one succeeds. Runs on the adapter's loop thread only."""

    def __init__(self, endpoints: list[_Endpoint], failover_s: float, loop: asyncio.AbstractEventLoop) -> None:
        self.endpoints = endpoints
        self.failover_s = failover_s
        self.loop = loop
        self._waiters: deque[tuple[asyncio.Future[_Endpoint | None], frozenset[int]]] = deque()
        self._returns: list[asyncio.Future[None]] = []
        self._next = 0  # where the round-robin among equally loaded endpoints starts

    def all_out(self) -> bool:
        return not any(e.in_service for e in self.endpoints)

    def elsewhere(self, avoid: set[int]) -> bool:
        """Whether an in-service endpoint this request has not failed on exists."""
        return any(e.in_service and e.index not in avoid for e in self.endpoints)

    def _pick(self, avoid: frozenset[int] | set[int]) -> _Endpoint | None:
        live = [e for e in self.endpoints if e.in_service]
        preferred = [e for e in live if e.index not in avoid] or live
        n = len(self.endpoints)
        best: _Endpoint | None = None
        best_key = (0, 0)
        for e in preferred:
            if e.in_flight >= e.capacity:
                continue
            key = (e.in_flight, (e.index - self._next) % n)
            if best is None or key < best_key:
                best, best_key = e, key
        if best is not None:
            best.in_flight += 1
            self._next = best.index + 1
        return best

    def _has_room(self) -> bool:
        return any(e.in_service and e.in_flight < e.capacity for e in self.endpoints)

    async def acquire(self, avoid: set[int]) -> _Endpoint | None:
        """A slot on an endpoint (release it after the attempt); None when every endpoint is out of
        service, at once or while waiting for a slot."""
        if self.all_out():
            return None
        if not self._waiters:
            found = self._pick(avoid)
            if found is not None:
                return found
        future: asyncio.Future[_Endpoint | None] = self.loop.create_future()
        entry = (future, frozenset(avoid))
        self._waiters.append(entry)
        self._dispatch()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                given = future.result()
                if given is not None:  # handed a slot just before the cancellation: give it back
                    self.release(given)
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(entry)
            raise

    def _dispatch(self) -> None:
        if not self._waiters:
            return
        if self.all_out():
            while self._waiters:
                future, _ = self._waiters.popleft()
                if not future.done():
                    future.set_result(None)
            return
        skipped = []
        while self._waiters and self._has_room():
            future, avoid = self._waiters.popleft()
            if future.done():
                continue
            found = self._pick(avoid)
            if found is None:  # its preferred endpoints are busy: it waits for one of them
                skipped.append((future, avoid))
            else:
                future.set_result(found)
        self._waiters.extendleft(reversed(skipped))

    def release(self, ep: _Endpoint) -> None:
        ep.in_flight -= 1
        self._dispatch()

    def succeeded(self, ep: _Endpoint) -> None:
        ep.answered += 1
        if ep.in_service:
            ep.streak = ep.level = 0
            ep.probing = False

    def failed(self, ep: _Endpoint, failure: Failure) -> float | None:
        """Count a failed attempt against `ep`; the back-off in seconds when it is taken out by it."""
        ep.failed += 1
        if not ep.in_service or not failure.retryable:
            return None  # already out; or a request the server rejected (400, 404): it is up
        ep.streak += 1
        if ep.probing or ep.streak >= FAILOVER_STREAK or _cannot_connect(failure):
            return self.take_out(ep)
        return None

    def take_out(self, ep: _Endpoint) -> float:
        delay = min(self.failover_s * 2 ** min(ep.level, 30), max(MAX_OUT_S, self.failover_s))
        ep.level += 1
        ep.out, ep.probing, ep.streak = True, False, 0
        ep.taken_out += 1
        ep.back_at = self.loop.time() + delay
        self.loop.call_later(delay, self._back, ep)
        self._dispatch()
        return delay

    def disable(self, ep: _Endpoint) -> None:
        ep.disabled = True
        self._dispatch()

    def _back(self, ep: _Endpoint) -> None:
        if ep.disabled:
            return
        ep.out, ep.probing = False, True
        returns, self._returns = self._returns, []
        for future in returns:
            if not future.done():
                future.set_result(None)
        self._dispatch()

    async def wait_for_return(self) -> bool:
        """Wait until an endpoint is back in service; False at once when none ever will be."""
        if not self.all_out():
            return True
        if not any(e.out and not e.disabled for e in self.endpoints):
            return False
        future: asyncio.Future[None] = self.loop.create_future()
        self._returns.append(future)
        await future
        return True


def _warn(line: str) -> None:
    print(f"probity: warning: {line}", file=sys.stderr, flush=True)


# -- the adapter ------------------------------------------------------------------------------------
class OpenAIProvider:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        specs = resolve_endpoints(profile)
        keys: dict[str | None, str | None] = {}
        for spec in specs:
            if spec.api_key_env not in keys:
                own = spec.api_key_env != profile.api_key_env and len(specs) > 1
                keys[spec.api_key_env] = read_api_key(profile, spec.api_key_env or "",
                                                      redact_url(spec.url) if own else None)
        self._endpoints = [_Endpoint(i, spec, keys[spec.api_key_env]) for i, spec in enumerate(specs)]
        #: several endpoints: routing, failover, and an identity() without any URL
        self.multi = len(self._endpoints) > 1
        first = self._endpoints[0]
        self.base_url = first.url  # the (first) endpoint
        self.display_url = first.display  # what messages and identity() show
        secrets = profile_secrets(profile)
        for e in profile.endpoints or []:  # also when $PROBITY_BASE_URL replaces them
            secrets += [*url_secrets(e.base_url), *(e.headers or {}).values()]
        for ep in self._endpoints:
            secrets += [ep.key or "", *ep.headers.values(), *url_secrets(ep.url)]
        self._secrets = [s for s in dict.fromkeys(secrets) if s]
        total = sum(ep.concurrency for ep in self._endpoints)
        self.chunk_size = max(64, total * 16)  # a chunk boundary drains the pipe once
        self.backoff = Backoff(profile.backoff_s)
        self.stats: Counter[str] = Counter()  # attempts, retries and failures by kind, this session
        #: the model id the endpoint reports (a dated snapshot), learned by preflight(); in identity()
        self.served_model: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._start_lock = threading.Lock()
        self._sem: asyncio.Semaphore | None = None
        self._router: _Router | None = None
        self._fatal: FatalProviderError | None = None  # once set, no further request is sent

    # -- Provider protocol ------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What the response cache keys on. With several endpoints no URL is part of it: they are
        replicas of one model (preflight checks that they report one snapshot), so an answer is the
        same whichever served it, and profiles listing other replicas share the cache."""
        p = self.profile
        out: dict[str, Any] = {"adapter": "openai"}
        if not self.multi:
            out["base_url"] = self.display_url
        out.update({"model": p.model, "tool_protocol": p.tool_protocol})
        # settings that change what is sent (only when not the default: existing cache keys stay valid)
        for name, default in (("token_limit_param", "max_tokens"), ("send_sampling_params", True),
                              ("reasoning_token_budget", 0), ("reasoning_effort", None), ("logprobs", False)):
            if getattr(p, name) != default:
                out[name] = getattr(p, name)
        if p.logprobs:  # the confidence in each answer depends on how many alternatives come back
            out["top_logprobs"] = p.top_logprobs
        if p.headers:
            # a header may select a model or a deployment, so its value is part of the identity, as a
            # digest (identity() is written to the manifest); a credential's is not (a new key, same model).
            # An endpoint's own headers are not: they route to or authenticate with that replica
            out["headers"] = {name: REDACTED if is_credential_header(name)
                              else "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]
                              for name, value in sorted(p.headers.items())}
        if self.served_model:
            out["served_model"] = self.served_model
        return out

    def endpoint_usage(self) -> dict[str, dict[str, int]]:
        """Per endpoint (its URL, credentials redacted), this session: `answered` requests, `failed`
        attempts, and `taken_out`: how often it was taken out of service after failures."""
        out: dict[str, dict[str, int]] = {}
        for ep in self._endpoints:
            name = ep.display if ep.display not in out else f"{ep.display} (#{ep.index + 1})"
            out[name] = {"answered": ep.answered, "failed": ep.failed, "taken_out": ep.taken_out}
        return out

    def stream(self, requests: list[Request]) -> Iterator[tuple[int, Response]]:
        """Yield `(index, response)` for each request as it completes, each index once. Closing the
        generator (or an exception in the caller while it waits, Ctrl-C) cancels what is in flight;
        a FatalProviderError ends the iteration by propagating."""
        if not requests:
            return
        loop = self._ensure_loop()
        results: queue.SimpleQueue[tuple[int, Response] | BaseException] = queue.SimpleQueue()
        job = _Job(loop, self._produce(requests, results))
        try:
            for _ in range(len(requests)):
                item = results.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            job.cancel()

    def generate(self, requests: list[Request]) -> list[Response]:
        out: list[Response | None] = [None] * len(requests)
        for i, response in self.stream(requests):
            out[i] = response
        return cast(list[Response], out)

    def preflight(self) -> None:
        """One 1-token request with the profile's settings (to every endpoint, at once). Raises
        UserError when the endpoint cannot be reached (refused, DNS, TLS, no answer in time), does not
        know the model, or rejects a setting; FatalProviderError for a rejected key. A reachable
        endpoint that is busy (429, 5xx) passes: the run's own retries deal with it. Records the model
        id the endpoint reports. Several endpoints: an unreachable one is a warning on stderr and starts
        out of service, as long as another can be reached; one that rejects the request, or reports
        another model than the rest, is a UserError."""
        _Job(self._ensure_loop(), self._preflight_all() if self.multi else self._preflight()).result()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            for ep in self._endpoints:
                if ep.client is not None:
                    _Job(loop, ep.client.close()).done.wait(CANCEL_WAIT_S)
            _Job(loop, loop.shutdown_asyncgens()).done.wait(CANCEL_WAIT_S)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CANCEL_WAIT_S)
            if not thread.is_alive():
                loop.close()

    # -- internals --------------------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise RuntimeError("OpenAIProvider used after close()")
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=f"probity-openai-{self.profile.name}",
                                          daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _client_for(self, ep: _Endpoint) -> openai.AsyncOpenAI:
        if ep.client is None:
            ep.client = openai.AsyncOpenAI(
                base_url=ep.url, api_key=ep.key or NO_KEY, max_retries=0, default_headers=dict(ep.headers) or None,
                timeout=self.profile.timeout_s + 5.0)  # the attempt deadline below is what governs
        return ep.client

    def _client_and_sem(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self._endpoints[0].concurrency)
        return self._client_for(self._endpoints[0]), self._sem

    def _routes(self) -> _Router:
        if self._router is None:
            self._router = _Router(self._endpoints, self.profile.failover_s, asyncio.get_running_loop())
        return self._router

    async def _produce(self, requests: list[Request],
                       out: queue.SimpleQueue[tuple[int, Response] | BaseException]) -> None:
        """Run every request; each one hands its answer to `out` as it completes (a done callback:
        no per-answer scan of what is pending). A FatalProviderError goes to `out` too, and the
        consumer's exit cancels this coroutine, which cancels the rest."""

        def deliver(index: int, task: asyncio.Future[Response]) -> None:
            if not task.cancelled():
                exc = task.exception()
                out.put(exc if exc is not None else (index, task.result()))

        one = self._routed if self.multi else self._one
        tasks = []
        for i, request in enumerate(requests):
            task = asyncio.ensure_future(one(request))
            task.add_done_callback(functools.partial(deliver, i))
            tasks.append(task)
        try:
            await asyncio.gather(*tasks)
        except BaseException as exc:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if isinstance(exc, asyncio.CancelledError):
                raise
            # a FatalProviderError: already handed over by deliver(); the consumer raises it

    def _body(self, request: Request) -> dict[str, Any]:
        return wire_body(self.profile.model, request, self.profile)

    async def _one(self, request: Request) -> Response:
        """One endpoint: at most its concurrency in flight, each request retried on the same one."""
        client, sem = self._client_and_sem()
        ep = self._endpoints[0]
        body = self._body(request)
        retries = 0
        async with sem:  # held while backing off too: a 429 slows this endpoint down, as it should
            while True:
                if self._fatal is not None:
                    raise self._fatal
                t0 = time.perf_counter()
                result = await self._attempt(client, body, ep)
                latency = time.perf_counter() - t0
                self.stats["attempts"] += 1
                if isinstance(result, Response):
                    ep.answered += 1
                    result.retries, result.latency_s, result.endpoint = retries, latency, ep.display
                    if result.truncated:
                        self.stats["truncated"] += 1
                    return self._scrub(result)
                ep.failed += 1
                self.stats[result.kind] += 1
                if not result.retryable or retries >= self.profile.max_retries:
                    attempts = f" (after {retries + 1} attempts)" if retries else ""
                    return self._scrub(Response(error=f"{result.message}{attempts}", error_kind=result.kind,
                                                retries=retries, latency_s=latency, model=self.profile.model,
                                                endpoint=ep.display))
                await asyncio.sleep(self.backoff.delay(retries, result.retry_after))
                retries += 1
                self.stats["retries"] += 1

    async def _routed(self, request: Request) -> Response:
        """Several endpoints: each attempt on the endpoint the router picks, a retry preferably on
        another in-service endpoint (then without waiting); when every endpoint is out, the request
        waits for the first to come back. A failed attempt and a wait each use one of max_retries."""
        router = self._routes()
        body = self._body(request)
        budget, used, attempts = self.profile.max_retries, 0, 0
        avoid: set[int] = set()
        last: Failure | None = None
        last_ep: _Endpoint | None = None
        latency = 0.0
        while True:
            if self._fatal is not None:
                raise self._fatal
            ep = await router.acquire(avoid)
            if ep is None:  # every endpoint is out of service
                if used >= budget or not await router.wait_for_return():
                    return self._given_up(last, last_ep, max(attempts - 1, 0), latency, all_out=True)
                used += 1
                continue
            if attempts:
                self.stats["retries"] += 1
            attempts += 1
            t0 = time.perf_counter()
            try:
                result = await self._attempt(self._client_for(ep), body, ep)
                latency = time.perf_counter() - t0
                self.stats["attempts"] += 1
                if isinstance(result, Response):
                    result = self._same_model(ep, self._scrub(result))
                if isinstance(result, Response):
                    router.succeeded(ep)
                else:
                    self.stats[result.kind] += 1
                    delay = router.failed(ep, result)
                    if delay is not None:
                        self.stats["taken_out"] += 1
            finally:
                router.release(ep)
            if isinstance(result, Response):
                result.retries, result.latency_s, result.endpoint = attempts - 1, latency, ep.display
                if result.truncated:
                    self.stats["truncated"] += 1
                return result
            last, last_ep = result, ep
            if not result.retryable or used >= budget:
                return self._given_up(last, last_ep, attempts - 1, latency)
            used += 1
            avoid.add(ep.index)
            if not router.elsewhere(avoid) and not router.all_out():
                await asyncio.sleep(self.backoff.delay(attempts - 1, result.retry_after))

    def _given_up(self, last: Failure | None, ep: _Endpoint | None, retries: int, latency: float,
                  all_out: bool = False) -> Response:
        notes = [f"after {retries + 1} attempts"] if retries else []
        if all_out:
            notes.append(f"all {len(self._endpoints)} endpoints out of service")
        suffix = f" ({'; '.join(notes)})" if notes else ""
        if last is None:
            message, kind = "no endpoint in service", "connection"
        else:
            message, kind = last.message, last.kind
        return self._scrub(Response(error=f"{message}{suffix}", error_kind=kind, retries=retries, latency_s=latency,
                                    model=self.profile.model, endpoint=ep.display if ep else None))

    def _same_model(self, ep: _Endpoint, r: Response) -> Response | Failure:
        """An answer from a replica that reports another model than the preflight learned is not used:
        that endpoint is left out for the rest of the session (it serves another model)."""
        if not self.served_model or not r.model or r.model == self.served_model:
            return r
        if not ep.disabled:
            self._routes().disable(ep)
            _warn(f"profile {self.profile.name}: {ep.display} answers as model {r.model!r}, not "
                  f"{self.served_model!r}; it is left out for the rest of the run")
        return Failure("wrong_model", f"{ep.display} answered as model {r.model!r}, not {self.served_model!r}", True)

    async def _exchange(self, client: openai.AsyncOpenAI, body: dict[str, Any],
                        options: dict[str, Any]) -> Response | Failure:
        # client.post is the SDK's documented raw request: auth, headers, base_url and connection pool
        # as for chat.completions.create, without its per-request TypedDict transform and pydantic
        # parse (about 1 ms of CPU per request); parse_completion reads the body instead. stream=True
        # hands back the response before its body, which is then read up to max_response_bytes.
        raw = await client.post("/chat/completions", body=body, cast_to=httpx.Response, stream=True,
                                options=cast(Any, options))
        limit = self.profile.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in raw.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:  # stop reading: the rest of the body is never held
                    chunks[-1] = chunk[:len(chunk) - (size - limit)]
                    return parse_truncated(_take(chunks), limit)
        finally:
            await raw.aclose()
        return parse_completion(_take(chunks))

    async def _attempt(self, client: openai.AsyncOpenAI, body: dict[str, Any], ep: _Endpoint,
                       timeout: float | None = None, options: dict[str, Any] | None = None) -> Response | Failure:
        timeout = self.profile.timeout_s if timeout is None else timeout
        try:
            exchange = self._exchange(client, body, options or {})
            if _TIMEOUT_CM is not None:  # Python 3.11+: a deadline without an extra task per attempt
                async with _TIMEOUT_CM(timeout):
                    return await exchange
            return await asyncio.wait_for(exchange, timeout)
        except (asyncio.TimeoutError, openai.APITimeoutError) as exc:
            return Failure("timeout", f"no answer within {timeout:g} s", True, cause=exc)
        except openai.APIStatusError as exc:
            status = exc.status_code
            if fatal_status(status):
                self._fatal = FatalProviderError(self._fatal_line(status, ep))
                raise self._fatal from None
            message = _one_line(_server_message(exc.body if exc.body is not None else exc.response.content))
            return Failure(f"http_{status}", f"HTTP {status}: {message}", retryable_status(status),
                           retry_after_s(exc.response.headers))
        except httpx.DecodingError as exc:  # a body its Content-Encoding does not decode
            return Failure("malformed", f"the answer cannot be decoded: {_one_line(str(exc), 160)}", True, cause=exc)
        except (openai.OpenAIError, httpx.HTTPError, httpx.StreamError) as exc:
            # APIConnectionError wraps the transport error; one while reading the body arrives bare
            cause = (exc.__cause__ or exc.__context__) if isinstance(exc, openai.APIConnectionError) else exc
            detail = f"{type(cause).__name__}: {cause}" if cause is not None and str(cause) else str(exc)
            return Failure("connection", f"connection failed: {_one_line(detail, 160)}", True, cause=exc)

    async def _preflight_one(self, ep: _Endpoint) -> tuple[Response | Failure, float]:
        """The preflight request to one endpoint, and the timeout it had."""
        client = self._client_for(ep)
        params = self.profile.params.model_copy(update={"max_new_tokens": 1, "stop": []})
        body = self._body(Request(messages=[Message(role="user", content=PREFLIGHT_PROMPT)], params=params))
        body[self.profile.token_limit_param] = 1
        timeout = min(self.profile.timeout_s, PREFLIGHT_TIMEOUT_S)
        # the connection gets at most half the time: a timeout after it is a server that does not answer
        options = {"timeout": httpx.Timeout(timeout + 5.0, connect=self._preflight_connect_s(timeout))}
        result = await self._attempt(client, body, ep, timeout, options)
        if isinstance(result, Failure) and any(isinstance(e, ConnectionRefusedError) for e in _chain(result.cause)):
            await asyncio.sleep(PREFLIGHT_RETRY_S)  # a server that is just starting gets a second chance
            result = await self._attempt(client, body, ep, timeout, options)
        self.stats["preflight"] += 1
        return result, timeout

    async def _preflight(self) -> None:
        ep = self._endpoints[0]
        result, timeout = await self._preflight_one(ep)
        if isinstance(result, Response):
            self.served_model = self._scrub(result).model or None
            return
        problem = self._preflight_problem(result, timeout, ep)
        if problem:
            raise UserError(f"profile {self.profile.name}: {scrub('; '.join(problem), self._secrets)}")

    async def _preflight_all(self) -> None:
        """Several endpoints, all at once: see preflight()."""
        router = self._routes()
        outcomes = await asyncio.gather(*(self._preflight_one(ep) for ep in self._endpoints),
                                        return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # a rejected key
        name = self.profile.name
        served: dict[str, str] = {}
        unreachable: list[tuple[_Endpoint, str, str]] = []
        for ep, outcome in zip(self._endpoints, outcomes, strict=True):
            result, timeout = cast(tuple[Response | Failure, float], outcome)
            if isinstance(result, Response):
                model = self._scrub(result).model
                if model:
                    served[ep.display] = model
                continue
            problem = self._preflight_problem(result, timeout, ep)
            if problem is None:
                continue  # reachable and busy: the run's retries deal with it
            what, hint = (scrub(text, self._secrets) for text in problem)
            if result.kind not in ("connection", "timeout"):  # it answers, but not as its replicas would
                raise UserError(f"profile {name}: {what}; {hint}")
            unreachable.append((ep, what, hint))
        if len(unreachable) == len(self._endpoints):
            hints = "; ".join(dict.fromkeys(hint for _, _, hint in unreachable))
            raise UserError(f"profile {name}: none of its {len(self._endpoints)} endpoints can be reached: "
                            + "; ".join(what for _, what, _ in unreachable) + f"; {hints}")
        if len(set(served.values())) > 1:
            listing = ", ".join(f"{url} serves {model!r}" for url, model in served.items())
            raise UserError(f"profile {name}: the endpoints report different models ({listing}); an endpoints "
                            "list is for replicas of one model")
        self.served_model = next(iter(served.values()), None)
        for ep, what, _ in unreachable:
            delay = router.take_out(ep)
            self.stats["taken_out"] += 1
            _warn(f"profile {name}: {what}; it starts out of service and is tried again in {delay:g} s")

    @staticmethod
    def _preflight_connect_s(timeout: float) -> float:
        return min(PREFLIGHT_CONNECT_S, timeout / 2)

    def _preflight_problem(self, failure: Failure, timeout: float, ep: _Endpoint) -> tuple[str, str] | None:
        """(what went wrong, what to do) for a preflight failure that no run could get past, else None."""
        where = ep.display
        setting = ep.setting
        if failure.kind == "connection":
            if not any(isinstance(e, httpx.ConnectError) for e in _chain(failure.cause)):
                return None  # connected, then reset or cut off: reachable, the run's retries deal with it
            reason, hint = _unreachable(failure.cause, ep.host, setting)
            return f"cannot reach {where} ({reason})", hint
        if failure.kind == "timeout":
            if any(isinstance(e, httpx.ConnectTimeout) for e in _chain(failure.cause)):
                return (f"cannot reach {where} (no connection within {self._preflight_connect_s(timeout):g} s)",
                        f"check {setting} and the network")
            return (f"{where} accepted the connection but did not answer within {timeout:g} s (timeout)",
                    "check that the server is serving, or raise timeout_s")
        message = failure.message.partition(": ")[2]
        if failure.kind == "http_404":
            if self.profile.model in message or "model" in message.lower():
                return (f"{where} does not serve model {self.profile.model!r} (HTTP 404: {message})",
                        "check the profile's model")
            return f"{where}/chat/completions was not found (HTTP 404: {message})", f"check {setting} (often …/v1)"
        if failure.kind == "http_400" and re.search(r"unsupported (parameter|value)", message, re.I):
            if "max_tokens" in message:
                hint = "set token_limit_param: max_completion_tokens in the profile"
            elif re.search(r"temperature|top_p|seed", message):
                hint = "set send_sampling_params: false in the profile"
            else:
                hint = "check the profile's settings"
            return f"{where} rejects the request (HTTP 400: {message})", hint
        return None

    def _fatal_line(self, status: int, ep: _Endpoint) -> str:
        """One line, naming the variable and never its value (a 401 body may echo the key)."""
        return f"{ep.api_key_env or 'the API key'} is not accepted by {ep.display} (HTTP {status})"

    def _scrub(self, r: Response) -> Response:
        """No secret in any field: a server may echo the Authorization header or a profile header,
        in another letter case or broken up (evals/secrets.py scrub)."""
        secrets = self._secrets
        if not secrets:
            return r
        r.text = scrub(r.text, secrets)
        for name in ("reasoning", "error", "model", "finish_reason"):
            value = getattr(r, name)
            if value:
                setattr(r, name, scrub(value, secrets))
        if r.tool_calls:
            r.tool_calls = [c.model_copy(update={"id": scrub(c.id, secrets), "name": scrub(c.name, secrets),
                                                 "arguments": scrub(c.arguments, secrets)}) for c in r.tool_calls]
        return r


def _unreachable(cause: BaseException | None, host: str, setting: str) -> tuple[str, str]:
    """(reason, hint) for a connection that could not be made: refused, DNS, TLS, or what the library
    said. `setting` is where the URL came from (base_url, $PROBITY_BASE_URL or the profile's endpoints)."""
    chain = list(_chain(cause))
    env = f"${ENV_BASE_URL}"
    fix = f"set {env}" if setting == "base_url" else f"fix {setting}"
    for exc in chain:
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused", f"start the server or {fix}"
        if isinstance(exc, socket.gaierror):
            where = setting if setting == env else f"the host name in {setting}"
            return f"cannot resolve host {host!r}", f"check {where}" + (f" or {fix}" if setting == "base_url" else "")
        if isinstance(exc, ssl.SSLError):
            reason = getattr(exc, "reason", None) or str(exc)
            return (f"TLS failure: {_one_line(str(reason), 120)}",
                    "check http:// versus https:// and that the server's certificate is trusted")
    last = chain[-1] if chain else None
    text = f"{type(last).__name__}: {last}" if last is not None and str(last) else "connection failed"
    return _one_line(text, 160), f"check that the server is up, or {fix}"
