"""A scripted provider for testing loop logic without a model: it replies with fixed text.

`model: echo` repeats the last user message; any other `model` text is the reply to every request
(`{n}` in it is replaced by the request's position in its batch). It is never evidence that an
adapter works — only that the runner, scoring and reports handle what comes back.
"""

from __future__ import annotations

import time
from typing import Any

from evals.profiles import Profile
from evals.types import Request, Response


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
            if self.profile.model == "echo":
                text = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
            else:
                text = self.profile.model.replace("{n}", str(n))
            out.append(Response(text=text, finish_reason="stop", latency_s=time.perf_counter() - t0,
                                model="scripted"))
        return out
