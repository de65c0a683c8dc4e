"""The `python` tool: model-written code run in the sandbox (evals/tools/sandbox.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evals.tools.base import Tool, ToolResult, string_argument
from evals.tools.sandbox import Isolation, SandboxLimits, run_python


class PythonTool(Tool):
    name = "python"
    description = ("Run a short Python 3 program in a sandbox (standard library only, no network, no files "
                   "outside its own temporary folder) and return what it prints. A final bare expression "
                   "is printed too, as in a REPL.")
    parameters = string_argument("code", "the Python source to run")
    text_syntax = "a fenced code block:\n```python\nprint(...)\n```"

    def __init__(self, limits: SandboxLimits | None = None, isolation: Isolation = "auto",
                 secrets: Sequence[str] = ()) -> None:
        self.limits = limits or SandboxLimits()
        self.isolation: Isolation = isolation
        #: scrubbed from every output, on top of the harness's credential-like environment values
        self.secrets = list(secrets)

    def _run(self, arguments: dict[str, Any]) -> ToolResult:
        code = arguments["code"]
        if not code.strip():
            return ToolResult(error="python: the code is empty")
        return run_python(code, self.limits, self.isolation, secrets=self.secrets)
