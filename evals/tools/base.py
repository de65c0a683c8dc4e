"""The tool interface: a name, a JSON schema for the arguments, and `run(arguments) -> ToolResult`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass(frozen=True)
class ToolResult:
    output: str = ""
    error: str | None = None  # set when the call failed: the model sees it as a tool error
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def for_model(self) -> str:
        """The text the model sees for this call."""
        if self.error is None:
            return self.output if self.output.strip() else "(no output)"
        return f"Error: {self.error}" + (f"\nOutput before the error:\n{self.output}" if self.output.strip() else "")


def check_arguments(schema: dict[str, Any], arguments: Any) -> str | None:
    """Check arguments against the subset of JSON schema our tools use (an object of typed
    properties, `required`, `additionalProperties: false`). Returns a one-line problem or None."""
    if not isinstance(arguments, dict):
        return f"arguments must be a JSON object, got {type(arguments).__name__}"
    props: dict[str, Any] = schema.get("properties", {})
    missing = [k for k in schema.get("required", []) if k not in arguments]
    if missing:
        return f"missing required argument(s): {', '.join(missing)}"
    for key, value in arguments.items():
        if key not in props:
            if schema.get("additionalProperties", True) is False:
                return f"unknown argument {key!r} (expected: {', '.join(props) or 'none'})"
            continue
        want = props[key].get("type")
        types = _JSON_TYPES.get(want) if isinstance(want, str) else None
        if types and (not isinstance(value, types) or (want != "boolean" and isinstance(value, bool))):
            return f"argument {key!r} must be a {want}, got {type(value).__name__}"
    return None


def string_argument(name: str, description: str) -> dict[str, Any]:
    """The JSON schema of a tool that takes one required string argument."""
    return {
        "type": "object",
        "properties": {name: {"type": "string", "description": description}},
        "required": [name],
        "additionalProperties": False,
    }


class Tool:
    """Base class: subclasses set name/description/parameters and implement `_run`."""

    name: str = ""
    description: str = ""
    parameters: dict[str, Any] = {}  # JSON schema of the arguments object
    text_syntax: str = ""  # how the text protocol asks for a call (shown in the system prompt)

    def spec(self) -> dict[str, Any]:
        """OpenAI-style function spec, for `Request.tools`."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def run(self, arguments: dict[str, Any]) -> ToolResult:
        """Validate the arguments and run the tool; never raises for bad input."""
        t0 = time.perf_counter()
        problem = check_arguments(self.parameters, arguments)
        if problem:
            return ToolResult(error=f"{self.name}: {problem}", duration_s=time.perf_counter() - t0)
        result = self._run(arguments)
        if result.duration_s:
            return result
        return ToolResult(result.output, result.error, time.perf_counter() - t0)

    def _run(self, arguments: dict[str, Any]) -> ToolResult:  # pragma: no cover - abstract
        raise NotImplementedError
