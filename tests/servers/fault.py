"""A real local HTTP server that speaks OpenAI chat completions and injects faults.

Every request is identified by a marker in its messages, `[req-<id>]` or `[item-<id>]`; the server counts attempts per
marker. Whether an attempt fails, and how, is decided by `random.Random(f"{seed}/{marker}/{attempt}")`,
so a run is reproducible whatever order the requests arrive in. A prompt can also script its own
faults: `[faults: 429,500]` fails the first two attempts that way and answers the third;
`[always: 404]` fails every attempt.

Fault kinds: 429 (with Retry-After), 500, 503, hang (no answer before `hang_s`), reset (TCP RST),
malformed (a 200 body that is not JSON), empty (a 200 with `choices: []`); scripted only: any other
HTTP status, `think` (content with a <think> block), `reasoning` (a `reasoning_content` field),
`tool` (a tool call), `echo-auth` (the Authorization header inside the answer).
A healthy answer is `answer to <marker>`.
"""

from __future__ import annotations

import json
import random
import re
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


class _ThreadingServer(ThreadingHTTPServer):
    request_queue_size = 256  # a deep listen backlog: 32+ concurrent connects must not be refused
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # resets and hangs are deliberate
        pass


class FaultServer:
    def __init__(self, fault_rate: float = 0.0, seed: int = 0, *, hang_s: float = 2.0, retry_after: str = "0",
                 api_key: str | None = None, delay_s: float = 0.0) -> None:
        self.fault_rate = fault_rate
        self.seed = seed
        self.hang_s = hang_s
        self.retry_after = retry_after
        self.api_key = api_key
        self.delay_s = delay_s
        self.lock = threading.Lock()
        self.requests = 0  # every HTTP request received
        self.attempts: Counter[str] = Counter()  # marker -> attempts
        self.faults: Counter[str] = Counter()  # fault kind -> times injected
        self.answered: Counter[str] = Counter()  # marker -> healthy answers sent
        self.bodies: dict[str, dict[str, Any]] = {}  # marker -> the last request body
        self.headers: dict[str, dict[str, str]] = {}  # marker -> the last request headers
        self._stopping = threading.Event()
        self._httpd = _ThreadingServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- decisions --------------------------------------------------------------------------------
    def decide(self, marker: str, attempt: int, text: str) -> str:
        """The fault for this attempt (0-based), or "ok"."""
        script = _SCRIPT.search(text)
        if script:
            kinds = script.group(2).split(",")
            if script.group(1) == "always":
                return kinds[attempt % len(kinds)]
            return kinds[attempt] if attempt < len(kinds) else "ok"
        rng = random.Random(f"{self.seed}/{marker}/{attempt}")
        return rng.choice(RANDOM_FAULTS) if rng.random() < self.fault_rate else "ok"


def _completion(marker: str, content: str, message_extra: dict[str, Any] | None = None,
                finish: str = "stop") -> dict[str, Any]:
    message = {"role": "assistant", "content": content, **(message_extra or {})}
    return {"id": f"chatcmpl-{marker}", "object": "chat.completion", "created": int(time.time()),
            "model": "fault-model", "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
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
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
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
            kind = server.decide(marker, attempt, text)
            if kind != "ok":
                with server.lock:
                    server.faults[kind] += 1
            if server.delay_s:
                time.sleep(server.delay_s)
            self._answer(kind, marker, auth)

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
            elif kind == "429":
                self._send(429, {"error": {"message": "Rate limit reached", "type": "requests"}},
                           {"Retry-After": server.retry_after})
            elif kind.isdigit():
                status = int(kind)
                self._send(status, {"error": {"message": f"injected HTTP {status} for {marker}"}})
            else:
                self._healthy(kind, marker, auth)

        def _healthy(self, kind: str, marker: str, auth: str) -> None:
            content, extra, finish = f"answer to {marker}", None, "stop"
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
            with server.lock:
                server.answered[marker] += 1
            self._send(200, _completion(marker, content, extra, finish))

    return Handler
