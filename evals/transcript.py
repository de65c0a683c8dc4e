"""The tools-mode transcript: every model turn, tool call and the step limit, as typed entries.

A record's `transcript` is a list of these (discriminated by `type`), so the agent loop that writes
them and `rescore`, the step-limit rule and reports that read them share one definition. Every
field but `type` has a default: transcripts stored by older versions still read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from evals.types import ToolCall


class ModelTurn(BaseModel):
    type: Literal["model"] = "model"
    step: int = 0
    text: str = ""
    reasoning: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)  # the calls read from this turn
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    error: str | None = None
    error_kind: str | None = None


class ToolRun(BaseModel):
    type: Literal["tool"] = "tool"
    step: int = 0
    id: str = ""
    name: str = ""
    arguments: str = "{}"  # raw JSON text as the model wrote it
    output: str = ""
    error: str | None = None
    duration_s: float = 0.0


class StepLimit(BaseModel):
    type: Literal["step_limit"] = "step_limit"
    step: int = 0
    calls: int | None = None  # tool calls of the last turn that were not run
    note: str = ""


TranscriptEntry = Annotated[ModelTurn | ToolRun | StepLimit, Field(discriminator="type")]
_ENTRIES: TypeAdapter[list[TranscriptEntry]] = TypeAdapter(list[TranscriptEntry])


def entries(transcript: Iterable[TranscriptEntry | dict[str, Any]] | None) -> list[TranscriptEntry]:
    """Typed entries from entries or plain dicts (JSON read back from a record)."""
    items = list(transcript or [])
    if all(isinstance(e, (ModelTurn, ToolRun, StepLimit)) for e in items):
        return items  # type: ignore[return-value]
    return _ENTRIES.validate_python([e.model_dump() if isinstance(e, BaseModel) else e for e in items])
