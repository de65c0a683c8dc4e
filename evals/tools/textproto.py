"""The text tool protocol, for models without function calling: the system prompt explains the
tools; the model writes a ```python block or a `calculator: EXPR` / `search: QUERY` line; the
results come back as the next user message."""

from __future__ import annotations

import json
import re

from evals.tools.base import Tool, ToolResult
from evals.tools.parse import parse_tool_calls
from evals.types import Message, ToolCall

_PY_FENCE = re.compile(r"```[ \t]*(?:python3?|py)[ \t]*\n(.*?)(?:```|\Z)", re.S | re.I)
_LINE = re.compile(r"^[ \t>*`-]*(calculator|search)[ \t*`]*:[ \t*`]*(.*?)[ \t`*]*$", re.M | re.I)
_EXAMPLES = {
    "python": "```python\nprint(sum(1 for c in 'banana' if c == 'a'))\n```",
    "calculator": "calculator: (3.5 + 4) * 2",
    "search": "search: Tour de France 2019 winner",
}
_ARG = {"python": "code", "calculator": "expression", "search": "query"}


def system_addendum(tools: list[Tool]) -> str:
    lines = ["You can use tools before you answer. To use a tool, write:"]
    for tool in tools:
        lines.append(f"- {tool.name}: {tool.text_syntax}\n  {tool.description}")
    lines.append("The results come back in the next message. When you know the answer, reply with the "
                 "answer only and no tool call. If the tools do not give you the answer, say that you do not know.")
    example = _EXAMPLES.get(tools[0].name) if tools else None
    if example:
        lines.append(f"Example of a tool call:\n{example}")
    return "\n".join(lines)


def with_addendum(messages: list[Message], tools: list[Tool]) -> list[Message]:
    """The conversation with the tool instructions appended to (or added as) the system message."""
    addendum = system_addendum(tools)
    if messages and messages[0].role == "system":
        first = messages[0].model_copy(update={"content": f"{messages[0].content}\n\n{addendum}".strip()})
        return [first, *messages[1:]]
    return [Message(role="system", content=addendum), *messages]


def parse_text_calls(text: str, tools: list[Tool]) -> list[ToolCall]:
    """Tool calls written in the text protocol, in the order they appear. Only offered tools count;
    a `<tool_call>` JSON block is accepted as well (small models often write one)."""
    offered = {t.name for t in tools}
    found: list[tuple[int, ToolCall]] = []
    if "python" in offered:
        for m in _PY_FENCE.finditer(text):
            found.append((m.start(), ToolCall(name="python", arguments=json.dumps({"code": m.group(1)}))))
    for m in _LINE.finditer(text):
        name = m.group(1).lower()
        if name in offered:
            found.append((m.start(), ToolCall(name=name, arguments=json.dumps({_ARG[name]: m.group(2)}))))
    calls = [call for _, call in sorted(found, key=lambda pair: pair[0])]
    if not calls:
        calls, _ = parse_tool_calls(text, bare_json=False)
    return [c.model_copy(update={"id": f"call_{i}"}) for i, c in enumerate(calls, 1)]


def results_message(calls: list[ToolCall], results: list[ToolResult]) -> Message:
    parts = []
    for call, result in zip(calls, results, strict=True):
        label = call.name or "tool"
        parts.append(f"[{label} {'error' if result.error else 'output'}]\n{result.for_model()}")
    parts.append("Answer the original question now, or call a tool again if you must.")
    return Message(role="user", content="Tool results:\n" + "\n\n".join(parts))
