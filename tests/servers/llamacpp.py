"""Start a real llama.cpp server (`python -m llama_cpp.server`) on a free loopback port.

Chat formats that matter for SmolLM2 (a ChatML model) in llama-cpp-python 0.3.36:
- `chatml-function-calling` is the only built-in format that turns `tools` into OpenAI `tool_calls`
  for a ChatML model. It needs `tool_choice` (the adapter sends "auto"), lists the tools only when
  the conversation has a system message, does not render `role: tool` turns (a second native turn
  never sees the tool's result) and ignores `seed`.
- `chatml` renders plain chats and honours `seed`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MODEL_ALIAS = "SmolLM2-135M-Instruct"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


class LlamaCppServer:
    """One llama.cpp server process. `launch()` starts it, `wait()` returns once it answers (launch
    several, then wait for each: they load at the same time), `stop()` ends it: SIGTERM (the server
    finishes what it is answering) or, with `kill=True`, SIGKILL (a crash: what is in flight is lost)."""

    def __init__(self, gguf: Path, chat_format: str = "chatml-function-calling", n_ctx: int = 2048,
                 threads: int = 1, startup_s: float = 90.0, log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.startup_s = startup_s
        self.log = log
        self.cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_ALIAS,
                    "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(n_ctx), "--chat_format",
                    chat_format, "--n_threads", str(threads), "--n_threads_batch", str(threads), "--verbose", "False"]
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: Any = None

    def launch(self) -> LlamaCppServer:
        self._out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.cmd, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return self

    def wait(self) -> str:
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + self.startup_s
        while not _ready(self.url):
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}: {' '.join(self.cmd)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not answer /v1/models within {self.startup_s:g} s")
            time.sleep(0.2)
        return self.url

    def stop(self, kill: bool = False) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self.log and self._out is not None:
            self._out.close()
            self._out = None

    def __enter__(self) -> LlamaCppServer:
        self.launch()
        try:
            self.wait()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def llamacpp_server(gguf: Path, chat_format: str = "chatml-function-calling", n_ctx: int = 2048,
                    threads: int = 1, startup_s: float = 90.0, log: Path | None = None) -> Iterator[str]:
    """Yield the base URL (`http://127.0.0.1:PORT/v1`) of a running server; stop it afterwards."""
    with LlamaCppServer(gguf, chat_format, n_ctx, threads, startup_s, log) as server:
        yield server.url
