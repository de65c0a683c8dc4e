"""A real local HTTP server that speaks OpenAI chat completions and injects faults.

Every request is identified by a marker in its messages, `[req-<id>]` or `[item-<id>]`; the server counts attempts per
marker. Whether an attempt fails, and how, is decided by `random.Random(f"{seed}/{marker}/{attempt}")`,
so a run is reproducible whatever order the requests arrive in. A prompt can also script its own
faults: `[faults: 429,500]` fails the first two attempts that way and answers the third;
`[always: 404]` fails every attempt; `fault_all="hang"` does that for every request without a script
(the adapter's preflight too). `[delay: 0.5]` answers after half a second; a client that disconnects
before then is counted in `cancelled`, not in `answered`.

Fault kinds: 429 (with Retry-After), 500, 503, hang (no answer before `hang_s`), reset (TCP RST),
malformed (a 200 body that is not JSON), empty (a 200 with `choices: []`); scripted only: any other
HTTP status, `think` (content with a <think> block), `reasoning` (a `reasoning_content` field),
`tool` (a tool call), `huge` (a `huge_bytes` answer, streamed), and echoes of what the client sent:
`echo-auth` (the Authorization header inside the answer), `echo-auth-upper` (upper-cased),
`echo-auth-split` (the credential broken up by spaces and newlines), `echo-auth-zw` (by zero-width
characters, `-` and `.`), `echo-headers` (every header in the text, the credential in the reasoning,
a tool call's arguments and the `model` field), `echo-error` (a 400 whose message quotes every header).
A healthy answer is `answer to <marker>`; its `model` is `served_model`.

`stop()` is a real outage: the listening socket is closed (new connections are refused) and every open
connection is shut down, so a request in flight there gets no answer; an answer counted in `answered`
has been written whole before that. `port` binds a given port (a server started again on the port of
one that was stopped: the same endpoint coming back). `peak` is the most chat-completion requests it
was handling at once.

`models`, when given, is the set of model ids served: any other gets OpenAI's 404. `reasoning_rules=True`
behaves like an OpenAI reasoning model (o-series, GPT-5): `max_tokens` and a temperature or top_p other
than 1 are a 400 with OpenAI's error body, and answers carry a `reasoning` field.
"""

from __future__ import annotations

import json
import random
import re
import select
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RANDOM_FAULTS = ("429", "500", "503", "hang", "reset", "malformed", "empty")
_MARKER = re.compile(r"\[((?:req|item)-[\w.-]+)\]")
_SCRIPT = re.compile(r"\[(faults|always):\s*([\w,-]+)\]")
_DELAY = re.compile(r"\[delay:\s*([\d.]+)\]")
_STANDARD_HEADERS = ("host", "accept", "accept-encoding", "connection", "content-length", "content-type",
                     "user-agent")


class _ThreadingServer(ThreadingHTTPServer):
    request_queue_size = 256  # a deep listen backlog: 32+ concurrent connects must not be refused
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # resets and hangs are deliberate
        pass


class FaultServer:
    def __init__(self, fault_rate: float = 0.0, seed: int = 0, *, hang_s: float = 2.0, retry_after: str = "0",
                 api_key: str | None = None, delay_s: float = 0.0, served_model: str = "fault-model",
                 models: set[str] | None = None, reasoning_rules: bool = False, fault_all: str | None = None,
                 huge_bytes: int = 20_000_000, port: int = 0) -> None:
        self.fault_rate = fault_rate
        self.seed = seed
        self.hang_s = hang_s
        self.retry_after = retry_after
        self.api_key = api_key
        self.delay_s = delay_s
        self.served_model = served_model  # the `model` of every answer (a snapshot name, say)
        self.models = models
        self.reasoning_rules = reasoning_rules
        self.fault_all = fault_all
        self.huge_bytes = huge_bytes
        self.lock = threading.Lock()
        self._sent = threading.Condition(self.lock)  # stop() waits for the answers being written
        self._sending = 0
        self._connections: set[socket.socket] = set()
        self.requests = 0  # every HTTP request received
        self.in_flight = 0  # chat-completion requests being handled now
        self.peak = 0  # the most handled at once
        self.attempts: Counter[str] = Counter()  # marker -> attempts
        self.faults: Counter[str] = Counter()  # fault kind -> times injected
        self.answered: Counter[str] = Counter()  # marker -> healthy answers sent
        self.cancelled: Counter[str] = Counter()  # marker -> clients gone before their delayed answer
        self.rejected: Counter[str] = Counter()  # marker -> 400s of the reasoning rules
        self.bodies: dict[str, dict[str, Any]] = {}  # marker -> the last request body
        self.headers: dict[str, dict[str, str]] = {}  # marker -> the last request headers
        self._stopping = threading.Event()
        self._httpd = _ThreadingServer(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def stop(self) -> None:
        with self._sent:
            self._stopping.set()  # no answer is counted from now on
            self._sent.wait_for(lambda: self._sending == 0, timeout=5)
        self._httpd.shutdown()
        self._httpd.server_close()  # new connections are refused
        with self.lock:
            open_now = list(self._connections)
        for conn in open_now:  # requests waiting on an open connection get no answer
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- decisions --------------------------------------------------------------------------------
    def decide(self, marker: str, attempt: int, text: str) -> str:
        """The fault for this attempt (0-based), or "ok"."""
        script = _SCRIPT.search(text)
        if script is None and self.fault_all:
            script = _SCRIPT.search(f"[always: {self.fault_all}]")
        if script:
            kinds = script.group(2).split(",")
            if script.group(1) == "always":
                return kinds[attempt % len(kinds)]
            return kinds[attempt] if attempt < len(kinds) else "ok"
        rng = random.Random(f"{self.seed}/{marker}/{attempt}")
        return rng.choice(RANDOM_FAULTS) if rng.random() < self.fault_rate else "ok"


def _completion(marker: str, content: str, message_extra: dict[str, Any] | None = None,
                finish: str = "stop", model: str = "fault-model") -> dict[str, Any]:
    message = {"role": "assistant", "content": content, **(message_extra or {})}
    return {"id": f"chatcmpl-{marker}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}


def _openai_error(message: str, param: str | None, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}


def reasoning_rule_error(body: dict[str, Any]) -> dict[str, Any] | None:
    """OpenAI's 400 body for a request a reasoning model rejects, or None when it is acceptable."""
    if "max_tokens" in body:
        return _openai_error("Unsupported parameter: 'max_tokens' is not supported with this model. "
                             "Use 'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter")
    for name in ("temperature", "top_p"):
        if name in body and body[name] != 1:
            return _openai_error(f"Unsupported value: '{name}' does not support {json.dumps(body[name])} with this "
                                 "model. Only the default (1) value is supported.", name, "unsupported_value")
    return None


def _split(text: str, seps: str) -> str:
    """`text` with a separator (cycling through `seps`) after every third character."""
    out = []
    for i, ch in enumerate(text):
        out.append(ch)
        if i % 3 == 2:
            out.append(seps[(i // 3) % len(seps)])
    return "".join(out)


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()
            with server.lock:
                server._connections.add(self.connection)

        def finish(self) -> None:
            with server.lock:
                server._connections.discard(self.connection)
            try:
                super().finish()
            except OSError:
                pass

        def _send(self, status: int, payload: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> None:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                self.close_connection = True

        def _reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": "fault-model", "object": "model"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:  # noqa: N802
            with server.lock:
                server.in_flight += 1
                server.peak = max(server.peak, server.in_flight)
            try:
                self._post()
            finally:
                with server.lock:
                    server.in_flight -= 1

        def _post(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.split("?", 1)[0] != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._send(400, {"error": {"message": "the request body is not JSON"}})
                return
            text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
            found = _MARKER.search(text)
            marker = found.group(1) if found else "req-unmarked"
            with server.lock:
                server.requests += 1
                attempt = server.attempts[marker]
                server.attempts[marker] += 1
                server.bodies[marker] = body
                server.headers[marker] = {k.lower(): v for k, v in self.headers.items()}
            auth = self.headers.get("Authorization", "")
            if server.api_key is not None and auth != f"Bearer {server.api_key}":
                given = auth.removeprefix("Bearer ")
                self._send(401, {"error": {"message": f"Incorrect API key provided: {given}",
                                           "type": "invalid_request_error", "code": "invalid_api_key"}})
                return
            if server.models is not None and body.get("model") not in server.models:
                self._send(404, _openai_error(f"The model `{body.get('model')}` does not exist or you do not "
                                              "have access to it.", None, "model_not_found"))
                return
            if server.reasoning_rules and (error := reasoning_rule_error(body)) is not None:
                with server.lock:
                    server.rejected[marker] += 1
                self._send(400, error)
                return
            kind = server.decide(marker, attempt, text)
            if kind != "ok":
                with server.lock:
                    server.faults[kind] += 1
            delay = server.delay_s + sum(float(d) for d in _DELAY.findall(text))
            if delay and not self._client_waits(delay):
                with server.lock:
                    server.cancelled[marker] += 1
                self.close_connection = True
                return
            self._answer(kind, marker, auth)

        def _client_waits(self, seconds: float) -> bool:
            """Sleep `seconds`; False as soon as the client hangs up (it cancelled the request)."""
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                readable, _, _ = select.select([self.connection], [], [], min(left, 0.02))
                if readable:
                    try:
                        if not self.connection.recv(1, socket.MSG_PEEK):
                            return False
                    except OSError:
                        return False
                    time.sleep(min(left, 0.02))  # a pipelined request waits its turn
            return True

        def _echoed(self) -> dict[str, str]:
            return {k.lower(): v for k, v in self.headers.items() if k.lower() not in _STANDARD_HEADERS
                    and not k.lower().startswith("x-stainless")}

        def _answer(self, kind: str, marker: str, auth: str) -> None:
            if kind == "hang":
                server._stopping.wait(server.hang_s)
                self._reset()
            elif kind == "reset":
                self._reset()
            elif kind == "malformed":
                self._send(200, b'{"id": "chatcmpl-x", "choices": [{"message": {"content": "trunc')
            elif kind == "empty":
                self._send(200, {**_completion(marker, ""), "choices": []})
            elif kind == "huge":
                self._huge(marker)
            elif kind == "echo-error":
                listed = "; ".join(f"{k}: {v}" for k, v in self._echoed().items())
                self._send(400, _openai_error(f"Invalid request from {marker}; headers were {listed}", None,
                                              "invalid_request"))
            elif kind == "429":
                self._send(429, {"error": {"message": "Rate limit reached", "type": "requests"}},
                           {"Retry-After": server.retry_after})
            elif kind.isdigit():
                status = int(kind)
                self._send(status, {"error": {"message": f"injected HTTP {status} for {marker}"}})
            else:
                self._healthy(kind, marker, auth)

        def _huge(self, marker: str) -> None:
            """A 200 whose content is `huge_bytes` of "x", written in chunks (the server never holds it)."""
            head = json.dumps(_completion(marker, "", model=server.served_model))
            before, after = head.split('"content": ""', 1)
            prefix, suffix = (before + '"content": "').encode(), ('"' + after).encode()
            chunk = b"x" * 65536
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(prefix) + server.huge_bytes + len(suffix)))
                self.end_headers()
                self.wfile.write(prefix)
                left = server.huge_bytes
                while left > 0:
                    self.wfile.write(chunk[:left])
                    left -= len(chunk)
                self.wfile.write(suffix)
            except OSError:
                self.close_connection = True
                return
            with server.lock:
                server.answered[marker] += 1

        def _healthy(self, kind: str, marker: str, auth: str) -> None:
            content, extra, finish = f"answer to {marker}", None, "stop"
            model = server.served_model
            credential = auth.partition(" ")[2] or auth
            if server.reasoning_rules:
                extra = {"reasoning": f"The user wants {marker}; I will answer briefly."}
            if kind == "think":
                content = f"<think>Let me think about {marker}.</think>\n\nanswer to {marker}"
            elif kind == "reasoning":
                extra = {"reasoning_content": f"thinking about {marker}"}
            elif kind == "tool":
                content, finish = "", "tool_calls"
                extra = {"tool_calls": [{"id": "call_1", "type": "function", "function": {
                    "name": "calculator", "arguments": json.dumps({"expression": "2+2"})}}]}
            elif kind == "echo-auth":
                content = f"answer to {marker}; you sent {auth}"
            elif kind == "echo-auth-upper":
                content = f"answer to {marker}; you sent {auth.upper()}"
            elif kind == "echo-auth-split":
                content = f"answer to {marker}; your key:\n{_split(credential, ' ')}\nor\n{_split(credential, chr(10))}"
            elif kind == "echo-auth-zw":
                content = f"answer to {marker}; your key: {_split(credential, chr(0x200B) + '-.' + chr(0xFEFF))}"
            elif kind == "echo-headers":
                content = f"answer to {marker}; headers: " + "; ".join(f"{k}: {v}" for k, v in self._echoed().items())
                model = f"{model} for {credential}"
                extra = {"reasoning_content": f"the caller's credential is {credential}",
                         "tool_calls": [{"id": f"call-{credential}", "type": "function", "function": {
                             "name": "calculator", "arguments": json.dumps({"expression": credential})}}]}
            with server.lock:
                if server._stopping.is_set():  # stopped while it was getting ready: no answer
                    self._reset()
                    return
                server.answered[marker] += 1
                server._sending += 1
            try:
                self._send(200, _completion(marker, content, extra, finish, model))
            finally:
                with server._sent:
                    server._sending -= 1
                    server._sent.notify_all()

    return Handler
