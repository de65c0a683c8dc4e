"""A scripted provider for testing loop logic without a model: it replies with fixed text.

`model: echo` repeats the last user message; any other `model` text is the reply to every request
(`{n}` in it is replaced by the request's position in its batch). A request whose last user message
contains `[fail:KIND]` gets an API error of that kind instead (loop logic: exit 3, the circuit
breaker, resume). It is never evidence that an adapter works — only that the runner, scoring and
reports handle what comes back.
"""

from __future__ import annotations

import re
import time
from typing import Any

from evals.profiles import Profile
from evals.types import Request, Response

_FAIL = re.compile(r"\[fail:(\w+)\]")


class ScriptedProvider:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.chunk_size = profile.batch_size
        self.calls = 0  # generate() calls
        self.requests = 0  # requests answered

    def identity(self) -> dict[str, Any]:
        return {"adapter": "scripted", "model": self.profile.model}

    def close(self) -> None:
        pass

    def generate(self, requests: list[Request]) -> list[Response]:
        self.calls += 1
        time.sleep(self.profile.delay_s)
        self.requests += len(requests)
        out = []
        for n, request in enumerate(requests):
            t0 = time.perf_counter()
            last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
            fail = _FAIL.search(last_user)
            if fail:
                out.append(Response(error=f"scripted failure {fail.group(1)}", error_kind=fail.group(1)))
                continue
            if self.profile.model == "echo":
                text = last_user
            else:
                text = self.profile.model.replace("{n}", str(n))
            out.append(Response(text=text, finish_reason="stop", latency_s=time.perf_counter() - t0,
                                model="scripted"))
        return out
