"""The text tool protocol, for models without function calling: the system prompt explains the
tools; the model writes a ```python block or a `calculator: EXPR` / `search: QUERY` line; the
results come back as the next user message (a user turn, not a `tool` one: SmolLM2's chat template
writes any role verbatim, and `<|im_start|>tool` is a turn the model was never trained to read).

A suite's `tool_protocol:` block (evals.schema.ToolProtocol) switches on, one by one: worked
examples (the suite's own or built-in ones) in the system turn or as earlier conversation turns, an
explicit instruction, and a plain `Result: ...` results turn."""

from __future__ import annotations

import json
import re

from evals.schema import ToolProtocol, WorkedExample
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


#: worked examples (question, call, result, answer) per tool, for `tool_protocol.example`
_WORKED: dict[str, list[tuple[str, str, str, str]]] = {
    "python": [
        ("How many times does the letter 'a' appear in 'banana'?",
         "```python\nprint('banana'.lower().count('a'))\n```", "3", "3"),
        ("Which is bigger, 2.7 or 2.65?", "```python\nprint(max(2.7, 2.65))\n```", "2.7", "2.7"),
    ],
    "calculator": [("What is (3.5 + 4) * 2?", "calculator: (3.5 + 4) * 2", "15", "15")],
    "search": [("Who won the 2019 Tour de France?", "search: Tour de France 2019 winner",
                "[1] 2019 Tour de France (2019-07-28; source: Sports Wire)\nEgan Bernal won the 2019 Tour de France.", "Egan Bernal")],
}


def _examples(tools: list[Tool], options: ToolProtocol) -> list[WorkedExample]:
    """The suite's worked examples, else the built-in ones for the first offered tool."""
    if options.examples:
        return list(options.examples)
    name = tools[0].name if tools else ""
    return [WorkedExample(question=q, call=c, result=r, answer=a) for q, c, r, a in _WORKED.get(name, [])]


def _results_turn(example: WorkedExample, tools: list[Tool], options: ToolProtocol) -> str:
    """The results turn of a worked example, as the loop would write it for its call."""
    calls = parse_text_calls(example.call, tools)
    name = calls[0].name if calls else (tools[0].name if tools else "")
    return results_text([name], [ToolResult(output=example.result)], options.results, options.reminder)


def worked_example(tools: list[Tool], options: ToolProtocol | None = None) -> str:
    """The worked examples written out for the system turn: each a conversation in which a tool is
    called and its result read, as the model would see it (the results turn as the suite asks)."""
    options = options or ToolProtocol(example=True)
    lines = ["Worked example:"]
    for ex in _examples(tools, options):
        turn = _results_turn(ex, tools, options)
        lines += [f"User: {ex.question}", f"Assistant:\n{ex.call}", f"User: {turn}", f"Assistant: {ex.answer}", ""]
    return "\n".join(lines).strip() if len(lines) > 1 else ""


def example_turns(tools: list[Tool], options: ToolProtocol) -> list[Message]:
    """The worked examples as earlier turns of the conversation (`example_in: turns`): for each, the
    question, the assistant's call, the results turn and the assistant's answer; none otherwise."""
    turns: list[Message] = []
    if not (options.example and options.example_in == "turns"):
        return turns
    for ex in _examples(tools, options):
        turns += [Message(role="user", content=ex.question), Message(role="assistant", content=ex.call),
                  Message(role="user", content=_results_turn(ex, tools, options)),
                  Message(role="assistant", content=ex.answer)]
    return turns


def system_addendum(tools: list[Tool], options: ToolProtocol | None = None) -> str:
    options = options or ToolProtocol()
    lines = ["You can use tools before you answer. To use a tool, write:"]
    for tool in tools:
        lines.append(f"- {tool.name}: {tool.text_syntax}\n  {tool.description}")
    lines.append("The results come back in the next message. When you know the answer, reply with the "
                 "answer only and no tool call. If the tools do not give you the answer, say that you do not know.")
    as_turns = bool(example_turns(tools, options))
    written = worked_example(tools, options) if options.example and not as_turns else ""
    if written:
        lines.append(written)
    elif not as_turns:  # with worked examples as earlier turns, the system turn shows none
        example = _EXAMPLES.get(tools[0].name) if tools else None
        if example:
            lines.append(f"Example of a tool call:\n{example}")
    if options.instruction and options.instruction_in == "system":
        lines.append(options.instruction)
    return "\n".join(lines)


def with_addendum(messages: list[Message], tools: list[Tool], options: ToolProtocol | None = None) -> list[Message]:
    """The conversation with the tool instructions appended to (or added as) the system message, the
    worked examples as earlier turns when `example_in: turns`, and the suite's instruction (if any)
    after the user's question or in the system message."""
    options = options or ToolProtocol()
    addendum = system_addendum(tools, options)
    if options.instruction and options.instruction_in == "user":
        last = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
        if last is not None:
            asked = messages[last].content.rstrip()
            messages = [*messages[:last], messages[last].model_copy(update={"content": f"{asked}\n{options.instruction}"}),
                        *messages[last + 1:]]
    shots = example_turns(tools, options)
    if messages and messages[0].role == "system":
        first = messages[0].model_copy(update={"content": f"{messages[0].content}\n\n{addendum}".strip()})
        return [first, *shots, *messages[1:]]
    return [Message(role="system", content=addendum), *shots, *messages]


def describe(options: ToolProtocol) -> str:
    """The `tool_protocol:` block in words, for the manifest and the report (`default`: none set)."""
    parts = []
    if options.example:
        count = f"{len(options.examples)} worked examples" if options.examples else "built-in worked examples"
        parts.append(f"{count} as earlier turns" if options.example_in == "turns" else f"{count} in the system turn")
    if options.instruction:
        parts.append(f"instruction in the {options.instruction_in} turn: {options.instruction!r}")
    if options.results != "labelled":
        parts.append(f"{options.results} results")
    if options.reminder != "answer-or-call":
        parts.append(f"reminder: {REMINDERS[options.reminder]!r}")
    return "; ".join(parts) or "default"


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


#: the last line of a `labelled` results turn, by `ToolProtocol.reminder`
REMINDERS = {
    "answer-or-call": "Answer the original question now, or call a tool again if you must.",
    "answer": "Answer the original question now.",
}


def results_text(names: list[str], results: list[ToolResult], style: str = "labelled",
                 reminder: str = "answer-or-call") -> str:
    """The text of the results turn. `labelled`: every result under `[name output]` / `[name error]`
    and a reminder (REMINDERS); `plain`: `Result: 3` (`Error: ...`), numbered when there are several."""
    if style == "plain":
        parts = []
        for i, result in enumerate(results, 1):
            label = ("Error" if result.error else "Result") + (f" {i}" if len(results) > 1 else "")
            body = result.for_model().strip()
            body = body.removeprefix("Error: ") if result.error else body
            parts.append(f"{label}: {body}")
        return "\n".join(parts)
    parts = [f"[{name or 'tool'} {'error' if result.error else 'output'}]\n{result.for_model()}"
             for name, result in zip(names, results, strict=True)]
    parts.append(REMINDERS[reminder])
    return "Tool results:\n" + "\n\n".join(parts)


def results_message(calls: list[ToolCall], results: list[ToolResult], options: ToolProtocol | None = None) -> Message:
    options = options or ToolProtocol()
    return Message(role="user", content=results_text([c.name for c in calls], results, options.results,
                                                     options.reminder))
