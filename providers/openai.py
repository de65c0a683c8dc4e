"""OpenAI-compatible chat-completions adapter (OpenAI, vLLM, llama.cpp, Ollama, TGI, ...).

`generate` is synchronous for the caller and runs the batch on a private asyncio event loop with
`AsyncOpenAI`: at most `profile.concurrency` requests in flight, each attempt bounded by
`profile.timeout_s`, retried by the policy in providers/retry.py (the SDK's own retries are off).
An API failure is a `Response` with `error` and `error_kind` (an unreachable server too: `--resume`
retries those records); only a rejected key (401/403) raises, as FatalProviderError, so the whole
batch (and the run) stops at once.

`PROBITY_BASE_URL`, when set, replaces the profile's `base_url` (e.g. a llama.cpp server on another
port). The API key is read from the variable named by `api_key_env`; it is never put in a response,
an error text or an identity.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import openai

try:  # the HTTP library under the openai SDK: httpx2 in recent releases, httpx before
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]

from evals.errors import FatalProviderError, UserError
from evals.profiles import Profile
from evals.types import Message, Request, Response, ToolCall
from providers.retry import Backoff, fatal_status, retry_after_s, retryable_status

ENV_BASE_URL = "PROBITY_BASE_URL"
NO_KEY = "not-needed"  # sent as the bearer token when the profile names no api_key_env (local servers)
_THINK = re.compile(r"<think>(.*?)</think>", re.S)
_TIMEOUT_CM = getattr(asyncio, "timeout", None)  # asyncio.timeout (3.11+); wait_for before that


@dataclass
class Failure:
    """One failed attempt: what went wrong, and whether another attempt may succeed."""

    kind: str  # error_kind: http_<code>, timeout, connection, malformed, empty_choices, error_body
    message: str
    retryable: bool
    retry_after: float | None = None


# -- configuration ----------------------------------------------------------------------------------
def resolve_base_url(profile: Profile) -> str:
    url = os.environ.get(ENV_BASE_URL) or profile.base_url
    if not url:
        raise UserError(f"profile {profile.name}: no base_url (set it in the profile or in ${ENV_BASE_URL})")
    if not url.startswith(("http://", "https://")):
        raise UserError(f"profile {profile.name}: base_url {url!r} must start with http:// or https://")
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


def wire_body(model: str, request: Request) -> dict[str, Any]:
    """The chat-completions request body. `tool_choice: auto` is explicit because some servers
    (llama.cpp's chatml-function-calling) ignore `tools` without it."""
    p = request.params
    body: dict[str, Any] = {"model": model, "messages": [wire_message(m) for m in request.messages],
                            "max_tokens": p.max_new_tokens, "temperature": p.temperature}
    if p.top_p != 1.0:
        body["top_p"] = p.top_p
    if p.seed is not None:
        body["seed"] = p.seed
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


def _tool_calls(message: dict[str, Any]) -> list[ToolCall]:
    calls = []
    for tc in message.get("tool_calls") or []:
        fn = (tc or {}).get("function") or {}
        args = fn.get("arguments", "{}")
        calls.append(ToolCall(id=str(tc.get("id") or ""), name=str(fn.get("name") or ""),
                              arguments=args if isinstance(args, str) else json.dumps(args)))
    return calls


def _server_message(data: Any) -> str:
    """The human part of an error body: OpenAI `{"error": {"message"}}`, FastAPI `{"detail"}`, ..."""
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        for field in ("error", "message", "detail"):
            if data.get(field):
                value = data[field]
                return value if isinstance(value, str) else json.dumps(value)
    if isinstance(data, (bytes, bytearray)):
        data = data.decode("utf-8", "replace")
    return str(data) if data else "(empty body)"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def parse_completion(content: bytes) -> Response | Failure:
    """A 200 body → Response; a body that is not a chat completion → Failure (retryable)."""
    try:
        data = json.loads(content)
    except ValueError:
        snippet = content[:120].decode("utf-8", "replace")
        return Failure("malformed", f"the answer is not JSON: {snippet!r}", True)
    if not isinstance(data, dict):
        return Failure("malformed", f"the answer is JSON {type(data).__name__}, not an object", True)
    choices = data.get("choices")
    if not choices:
        if data.get("error"):
            return Failure("error_body", f"HTTP 200 with an error: {_server_message(data)}", True)
        return Failure("empty_choices", "the answer has no choices", True)
    choice = choices[0]
    if not isinstance(choice, dict) or not isinstance(choice.get("message") or {}, dict):
        return Failure("malformed", "the first choice has no message object", True)
    message = choice.get("message") or {}
    text, think = split_reasoning(message.get("content") or "")
    reasoning = message.get("reasoning_content") or message.get("reasoning") or None
    if think:
        reasoning = f"{reasoning}\n\n{think}" if reasoning else think
    usage = data.get("usage") or {}
    return Response(text=text, reasoning=reasoning, tool_calls=_tool_calls(message),
                    finish_reason=choice.get("finish_reason"), prompt_tokens=int(usage.get("prompt_tokens") or 0),
                    completion_tokens=int(usage.get("completion_tokens") or 0), model=data.get("model"))


# -- the adapter ------------------------------------------------------------------------------------
class OpenAIProvider:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.base_url = resolve_base_url(profile)
        self._key = read_api_key(profile)
        self.chunk_size = max(64, profile.concurrency * 16)  # a chunk boundary drains the pipe once
        self.backoff = Backoff(profile.backoff_s)
        self.stats: Counter[str] = Counter()  # attempts, retries and failures by kind, this session
        self._loop = asyncio.new_event_loop()
        self._client: openai.AsyncOpenAI | None = None
        self._sem: asyncio.Semaphore | None = None
        self._fatal: FatalProviderError | None = None  # once set, no further request is sent

    # -- Provider protocol ------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        return {"adapter": "openai", "base_url": self.base_url, "model": self.profile.model,
                "tool_protocol": self.profile.tool_protocol}

    def generate(self, requests: list[Request]) -> list[Response]:
        if not requests:
            return []
        if self._loop.is_closed():
            raise RuntimeError("OpenAIProvider.generate after close()")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._run(requests)
        with ThreadPoolExecutor(1) as pool:  # called from inside an event loop (a notebook)
            return pool.submit(self._run, requests).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            if self._client is not None:
                self._loop.run_until_complete(self._client.close())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    # -- internals --------------------------------------------------------------------------------
    def _run(self, requests: list[Request]) -> list[Response]:
        task = self._loop.create_task(self._generate(requests))
        try:
            return self._loop.run_until_complete(task)
        finally:
            if not task.done():  # interrupted (Ctrl-C): cancel what is still in flight
                task.cancel()
                with suppress(BaseException):
                    self._loop.run_until_complete(task)

    def _client_and_sem(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        if self._client is None or self._sem is None:
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=self._key or NO_KEY, max_retries=0,
                default_headers=dict(self.profile.headers) or None,
                timeout=self.profile.timeout_s + 5.0)  # the attempt deadline below is what governs
            self._sem = asyncio.Semaphore(self.profile.concurrency)
        return self._client, self._sem

    async def _generate(self, requests: list[Request]) -> list[Response]:
        tasks = [asyncio.ensure_future(self._one(r)) for r in requests]
        try:
            out = await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return out

    async def _one(self, request: Request) -> Response:
        client, sem = self._client_and_sem()
        body = wire_body(self.profile.model, request)
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
                    return self._scrub(result)
                self.stats[result.kind] += 1
                if not result.retryable or retries >= self.profile.max_retries:
                    attempts = f" (after {retries + 1} attempts)" if retries else ""
                    return Response(error=self._redact(f"{result.message}{attempts}"), error_kind=result.kind,
                                    retries=retries, latency_s=latency, model=self.profile.model)
                await asyncio.sleep(self.backoff.delay(retries, result.retry_after))
                retries += 1
                self.stats["retries"] += 1

    async def _attempt(self, client: openai.AsyncOpenAI, body: dict[str, Any]) -> Response | Failure:
        timeout = self.profile.timeout_s
        try:
            # client.post is the SDK's documented raw request: auth, headers, base_url and connection pool
            # as for chat.completions.create, without its per-request TypedDict transform and pydantic
            # parse (about 1 ms of CPU per request); parse_completion reads the body instead.
            post = client.post("/chat/completions", body=body, cast_to=httpx.Response)
            if _TIMEOUT_CM is not None:  # Python 3.11+: a deadline without an extra task per attempt
                async with _TIMEOUT_CM(timeout):
                    raw = await post
            else:
                raw = await asyncio.wait_for(post, timeout)
        except (asyncio.TimeoutError, openai.APITimeoutError):
            return Failure("timeout", f"no answer within {timeout:g} s", True)
        except openai.APIStatusError as exc:
            status = exc.status_code
            if fatal_status(status):
                self._fatal = FatalProviderError(self._fatal_line(status))
                raise self._fatal from None
            message = _one_line(self._redact(_server_message(exc.body if exc.body is not None
                                                             else exc.response.content)))
            return Failure(f"http_{status}", f"HTTP {status}: {message}", retryable_status(status),
                           retry_after_s(exc.response.headers))
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc.__context__
            detail = f"{type(cause).__name__}: {cause}" if cause is not None and str(cause) else str(exc)
            return Failure("connection", f"connection failed: {_one_line(detail, 160)}", True)
        return parse_completion(raw.content)

    def _fatal_line(self, status: int) -> str:
        """One line, naming the variable and never its value (a 401 body may echo the key)."""
        return f"{self.profile.api_key_env or 'the API key'} is not accepted by {self.base_url} (HTTP {status})"

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "[redacted]") if self._key and text else text

    def _scrub(self, r: Response) -> Response:
        """A server that echoes the Authorization header must not put the key in a record."""
        key = self._key
        if not key:
            return r
        if key in r.text or key in (r.reasoning or "") or any(key in c.arguments for c in r.tool_calls):
            r.text = self._redact(r.text)
            r.reasoning = self._redact(r.reasoning or "") or None
            r.tool_calls = [c.model_copy(update={"arguments": self._redact(c.arguments)}) for c in r.tool_calls]
        return r
