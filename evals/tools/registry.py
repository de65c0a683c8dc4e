"""Tool registry: names in a suite's `tools:` list → Tool objects."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from pathlib import Path

from evals.errors import UserError
from evals.tools.base import Tool
from evals.tools.sandbox import SandboxLimits


def _python(corpus_dir: Path | None, limits: SandboxLimits | None, secrets: Sequence[str] = ()) -> Tool:
    from evals.tools.python import PythonTool

    # isolation "auto": the best level the machine has (sandbox.isolation_available()); a run that must
    # not use a weak one checks sandbox.require_sandbox() before it starts
    return PythonTool(limits, secrets=secrets)


def _calculator(corpus_dir: Path | None, limits: SandboxLimits | None) -> Tool:
    from evals.tools.calculator import CalculatorTool

    return CalculatorTool()


def _search(corpus_dir: Path | None, limits: SandboxLimits | None) -> Tool:
    from evals.tools.search import SearchTool

    if corpus_dir is None:
        raise UserError("tool search: the suite must name a `corpus:` folder of documents")
    return SearchTool(corpus_dir)


TOOLS: dict[str, Callable[[Path | None, SandboxLimits | None], Tool]] = {
    "python": _python,
    "calculator": _calculator,
    "search": _search,
}


def get_tools(names: list[str], corpus_dir: Path | None = None, *,
              limits: SandboxLimits | None = None, secrets: Sequence[str] = ()) -> list[Tool]:
    """Build the named tools in order. Unknown names (or search without a corpus) are a UserError.
    `secrets` (e.g. the profile's API key) are scrubbed from the python tool's outputs."""
    tools: list[Tool] = []
    for name in dict.fromkeys(names):
        if name not in TOOLS:
            close = difflib.get_close_matches(name, list(TOOLS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(f"unknown tool {name!r}{hint}; known: {', '.join(TOOLS)}")
        tools.append(_python(corpus_dir, limits, secrets) if name == "python" else TOOLS[name](corpus_dir, limits))
    return tools
