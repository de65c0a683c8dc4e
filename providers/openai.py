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

`PROBITY_BASE_URL`, when set, replaces the profile's `base_url` (e.g. a llama.cpp server on another
port). The API key is read from the variable named by `api_key_env`. The key, every header value and
any password in the base URL are scrubbed from every response field and error text (evals/secrets.py),
so neither a record nor the cache can hold them; none of them appears in `identity()` (a header that
is not a credential shows there as a digest of its value).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import math
import os
import queue
import re
import socket
import ssl
import threading
import time
from collections import Counter
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
from evals.types import Message, Request, Response, ToolCall
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
    problem = url_problem(url)
    if problem is None:
        try:
            httpx.URL(url)
        except Exception as exc:  # whatever the HTTP library cannot use (its exception types vary)
            problem = f"not a usable URL ({scrub(_one_line(str(exc), 120), url_secrets(url))})"
    if problem:
        raise UserError(f"profile {profile.name}: {setting} {redact_url(url)!r}: {problem}")
    return url.rstrip("/")


def read_api_key(profile: Profile) -> str | None:
    if not profile.api_key_env:
        return None
    key = os.environ.get(profile.api_key_env, "").strip()
    if not key:
        raise UserError(f"{profile.api_key_env} is not set: profile {profile.name} reads its API key from it")
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
    return body


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
                    model=_clean(model) if isinstance(model, str) else None)


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


# -- the adapter ------------------------------------------------------------------------------------
class OpenAIProvider:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.base_url = resolve_base_url(profile)
        self.display_url = redact_url(self.base_url)  # what messages and identity() show
        self._key = read_api_key(profile)
        self._secrets = list(dict.fromkeys([*profile_secrets(profile, self._key), *url_secrets(self.base_url)]))
        try:
            self._host = urlsplit(self.base_url).hostname or self.display_url
        except ValueError:  # pragma: no cover - resolve_base_url has checked the URL
            self._host = self.display_url
        self.chunk_size = max(64, profile.concurrency * 16)  # a chunk boundary drains the pipe once
        self.backoff = Backoff(profile.backoff_s)
        self.stats: Counter[str] = Counter()  # attempts, retries and failures by kind, this session
        #: the model id the endpoint reports (a dated snapshot), learned by preflight(); in identity()
        self.served_model: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._start_lock = threading.Lock()
        self._client: openai.AsyncOpenAI | None = None
        self._sem: asyncio.Semaphore | None = None
        self._fatal: FatalProviderError | None = None  # once set, no further request is sent

    # -- Provider protocol ------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        p = self.profile
        out: dict[str, Any] = {"adapter": "openai", "base_url": self.display_url, "model": p.model,
                               "tool_protocol": p.tool_protocol}
        # settings that change what is sent (only when not the default: existing cache keys stay valid)
        for name, default in (("token_limit_param", "max_tokens"), ("send_sampling_params", True),
                              ("reasoning_token_budget", 0), ("reasoning_effort", None)):
            if getattr(p, name) != default:
                out[name] = getattr(p, name)
        if p.headers:
            # a header may select a model or a deployment, so its value is part of the identity, as a
            # digest (identity() is written to the manifest); a credential's is not (a new key, same model)
            out["headers"] = {name: REDACTED if is_credential_header(name)
                              else "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]
                              for name, value in sorted(p.headers.items())}
        if self.served_model:
            out["served_model"] = self.served_model
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
        """One 1-token request with the profile's settings. Raises UserError when the endpoint cannot
        be reached (refused, DNS, TLS, no answer in time), does not know the model, or rejects a
        setting; FatalProviderError for a rejected key. A reachable endpoint that is busy (429, 5xx)
        passes: the run's own retries deal with it. Records the model id the endpoint reports."""
        _Job(self._ensure_loop(), self._preflight()).result()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if self._client is not None:
                job = _Job(loop, self._client.close())
                job.done.wait(CANCEL_WAIT_S)
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

    def _client_and_sem(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        if self._client is None or self._sem is None:
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=self._key or NO_KEY, max_retries=0,
                default_headers=dict(self.profile.headers) or None,
                timeout=self.profile.timeout_s + 5.0)  # the attempt deadline below is what governs
            self._sem = asyncio.Semaphore(self.profile.concurrency)
        return self._client, self._sem

    async def _produce(self, requests: list[Request],
                       out: queue.SimpleQueue[tuple[int, Response] | BaseException]) -> None:
        """Run every request; each one hands its answer to `out` as it completes (a done callback:
        no per-answer scan of what is pending). A FatalProviderError goes to `out` too, and the
        consumer's exit cancels this coroutine, which cancels the rest."""

        def deliver(index: int, task: asyncio.Future[Response]) -> None:
            if not task.cancelled():
                exc = task.exception()
                out.put(exc if exc is not None else (index, task.result()))

        tasks = []
        for i, request in enumerate(requests):
            task = asyncio.ensure_future(self._one(request))
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
        client, sem = self._client_and_sem()
        body = self._body(request)
        retries = 0
        async with sem:  # held while backing off too: a 429 slows this endpoint down, as it should
            while True:
                if self._fatal is not None:
                    raise self._fatal
                t0 = time.perf_counter()
                result = await self._attempt(client, body)
                latency = time.perf_counter() - t0
                self.stats["attempts"] += 1
                if isinstance(result, Response):
                    result.retries, result.latency_s = retries, latency
                    if result.truncated:
                        self.stats["truncated"] += 1
                    return self._scrub(result)
                self.stats[result.kind] += 1
                if not result.retryable or retries >= self.profile.max_retries:
                    attempts = f" (after {retries + 1} attempts)" if retries else ""
                    return self._scrub(Response(error=f"{result.message}{attempts}", error_kind=result.kind,
                                                retries=retries, latency_s=latency, model=self.profile.model))
                await asyncio.sleep(self.backoff.delay(retries, result.retry_after))
                retries += 1
                self.stats["retries"] += 1

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

    async def _attempt(self, client: openai.AsyncOpenAI, body: dict[str, Any], timeout: float | None = None,
                       options: dict[str, Any] | None = None) -> Response | Failure:
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
                self._fatal = FatalProviderError(self._fatal_line(status))
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

    async def _preflight(self) -> None:
        client, _ = self._client_and_sem()
        params = self.profile.params.model_copy(update={"max_new_tokens": 1, "stop": []})
        body = self._body(Request(messages=[Message(role="user", content=PREFLIGHT_PROMPT)], params=params))
        body[self.profile.token_limit_param] = 1
        timeout = min(self.profile.timeout_s, PREFLIGHT_TIMEOUT_S)
        # the connection gets at most half the time: a timeout after it is a server that does not answer
        options = {"timeout": httpx.Timeout(timeout + 5.0, connect=self._preflight_connect_s(timeout))}
        result = await self._attempt(client, body, timeout, options)
        if isinstance(result, Failure) and any(isinstance(e, ConnectionRefusedError) for e in _chain(result.cause)):
            await asyncio.sleep(PREFLIGHT_RETRY_S)  # a server that is just starting gets a second chance
            result = await self._attempt(client, body, timeout, options)
        self.stats["preflight"] += 1
        if isinstance(result, Response):
            self.served_model = self._scrub(result).model or None
            return
        problem = self._preflight_problem(result, timeout)
        if problem:
            raise UserError(f"profile {self.profile.name}: {scrub(problem, self._secrets)}")

    @staticmethod
    def _preflight_connect_s(timeout: float) -> float:
        return min(PREFLIGHT_CONNECT_S, timeout / 2)

    def _preflight_problem(self, failure: Failure, timeout: float) -> str | None:
        """The UserError text for a preflight failure that no run could get past, else None."""
        where = self.display_url
        setting = f"${ENV_BASE_URL}" if os.environ.get(ENV_BASE_URL, "").strip() else "base_url"
        if failure.kind == "connection":
            if not any(isinstance(e, httpx.ConnectError) for e in _chain(failure.cause)):
                return None  # connected, then reset or cut off: reachable, the run's retries deal with it
            reason, hint = _unreachable(failure.cause, self._host, setting)
            return f"cannot reach {where} ({reason}); {hint}"
        if failure.kind == "timeout":
            if any(isinstance(e, httpx.ConnectTimeout) for e in _chain(failure.cause)):
                return (f"cannot reach {where} (no connection within {self._preflight_connect_s(timeout):g} s); "
                        f"check {setting} and the network")
            return (f"{where} accepted the connection but did not answer within {timeout:g} s (timeout); "
                    "check that the server is serving, or raise timeout_s")
        message = failure.message.partition(": ")[2]
        if failure.kind == "http_404":
            if self.profile.model in message or "model" in message.lower():
                return (f"{where} does not serve model {self.profile.model!r} (HTTP 404: {message}); "
                        "check the profile's model")
            return f"{where}/chat/completions was not found (HTTP 404: {message}); check {setting} (often …/v1)"
        if failure.kind == "http_400" and re.search(r"unsupported (parameter|value)", message, re.I):
            if "max_tokens" in message:
                hint = "set token_limit_param: max_completion_tokens in the profile"
            elif re.search(r"temperature|top_p|seed", message):
                hint = "set send_sampling_params: false in the profile"
            else:
                hint = "check the profile's settings"
            return f"{where} rejects the request (HTTP 400: {message}); {hint}"
        return None

    def _fatal_line(self, status: int) -> str:
        """One line, naming the variable and never its value (a 401 body may echo the key)."""
        return f"{self.profile.api_key_env or 'the API key'} is not accepted by {self.display_url} (HTTP {status})"

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
    said. `setting` is where the URL came from (base_url or $PROBITY_BASE_URL)."""
    chain = list(_chain(cause))
    fix = f"set ${ENV_BASE_URL}" if setting == "base_url" else f"fix ${ENV_BASE_URL}"
    for exc in chain:
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused", f"start the server or {fix}"
        if isinstance(exc, socket.gaierror):
            where = "the host name in base_url" if setting == "base_url" else f"${ENV_BASE_URL}"
            return f"cannot resolve host {host!r}", f"check {where}" + (f" or {fix}" if setting == "base_url" else "")
        if isinstance(exc, ssl.SSLError):
            reason = getattr(exc, "reason", None) or str(exc)
            return (f"TLS failure: {_one_line(str(reason), 120)}",
                    "check http:// versus https:// and that the server's certificate is trusted")
    last = chain[-1] if chain else None
    text = f"{type(last).__name__}: {last}" if last is not None and str(last) else "connection failed"
    return _one_line(text, 160), f"check that the server is up, or {fix}"
