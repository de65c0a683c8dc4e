"""Read tool calls that a model wrote as text (local models under the native protocol).

Recognised: `<tool_call>JSON</tool_call>` (SmolLM2, Qwen, Hermes; the JSON is one call or a list,
the closing tag may be missing when generation stopped), and a reply that is nothing but a JSON
call, optionally in a ```json fence. A call is `{"name": ..., "arguments": {...}}`; `parameters`
instead of `arguments` and the OpenAI `{"function": {...}}` wrapper are accepted too.

A block that cannot be read becomes a ToolCall with `name == ""` and the raw text as `arguments`:
the agent loop returns it to the model as a malformed-call error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from evals.types import ToolCall

_TAGGED = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.S)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.S)


def _unfence(text: str) -> str:
    text = text.strip()
    m = _FENCE.match(text)
    return m.group(1).strip() if m else text


def _to_call(item: Any, raw: str) -> ToolCall:
    if isinstance(item, dict) and isinstance(item.get("function"), dict):
        item = item["function"]
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        return ToolCall(name="", arguments=raw)
    args = item.get("arguments", item.get("parameters", {}))
    return ToolCall(name=item["name"], arguments=args if isinstance(args, str) else json.dumps(args))


def _calls_from_json(raw: str) -> list[ToolCall] | None:
    """Calls in a JSON text, or None if it is not JSON at all."""
    try:
        data = json.loads(_unfence(raw))
    except json.JSONDecodeError:
        return None
    items = data if isinstance(data, list) else [data]
    return [_to_call(item, json.dumps(item)) for item in items]


def parse_tool_calls(text: str, *, bare_json: bool = True) -> tuple[list[ToolCall], str]:
    """Return (tool calls, the text with the call markup removed). Call ids are `call_1`, `call_2`, ...
    With `bare_json=False` only `<tool_call>` blocks count (a JSON answer stays an answer)."""
    calls: list[ToolCall] = []
    if "<tool_call>" in text:
        for m in _TAGGED.finditer(text):
            raw = m.group(1).strip()
            found = _calls_from_json(raw)
            calls.extend(found if found else [ToolCall(name="", arguments=raw)])
        rest = _TAGGED.sub("", text).strip()
    elif bare_json and text.strip()[:1] in "{[`" and text.strip():
        found = _calls_from_json(text)
        if not found or all(c.name == "" for c in found):
            return [], text.strip()  # ordinary JSON, not a call
        calls, rest = found, ""
    else:
        return [], text.strip()
    return [c.model_copy(update={"id": f"call_{i}"}) for i, c in enumerate(calls, 1)], rest


def parse_arguments(call: ToolCall) -> tuple[dict[str, Any] | None, str | None]:
    """(arguments as a dict, None) or (None, a one-line problem for the model)."""
    if not call.name:
        return None, f"malformed tool call: could not read {call.arguments[:200]!r} as a JSON call with a name"
    try:
        args = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        return None, f"malformed arguments for {call.name}: invalid JSON ({exc.msg})"
    if not isinstance(args, dict):
        return None, f"malformed arguments for {call.name}: expected a JSON object"
    return args, None
