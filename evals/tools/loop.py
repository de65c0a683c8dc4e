"""The agent loop: model turn → tool calls → tool results → model turn ..., for a batch of
conversations at once. Every step sends all still-active conversations to the provider in one call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Literal

from evals.records import ToolStats
from evals.schema import ToolProtocol
from evals.tools.base import Tool, ToolResult
from evals.tools.parse import parse_arguments, parse_tool_calls
from evals.tools.textproto import parse_text_calls, results_message, with_addendum
from evals.transcript import ModelTurn, StepLimit, ToolRun, TranscriptEntry
from evals.types import Message, Request, Response, ToolCall
from providers.base import Provider, stream

Protocol = Literal["native", "text"]
MAX_CALLS_PER_TURN = 4


@dataclass
class AgentResult:
    response: Response  # the final model turn: its text is what gets scored (error set or step limit: not)
    transcript: list[TranscriptEntry] = field(default_factory=list)  # every model turn and tool call
    stats: ToolStats = field(default_factory=ToolStats)


@dataclass
class _Conversation:
    request: Request
    messages: list[Message]
    result: AgentResult | None = None
    transcript: list[TranscriptEntry] = field(default_factory=list)
    stats: ToolStats = field(default_factory=lambda: ToolStats(steps=0))

    def finish(self, response: Response) -> None:
        self.result = AgentResult(response=response, transcript=self.transcript, stats=self.stats)


def _model_entry(step: int, r: Response, calls: list[ToolCall]) -> ModelTurn:
    return ModelTurn(step=step, text=r.text, reasoning=r.reasoning, tool_calls=list(calls),
                     finish_reason=r.finish_reason, prompt_tokens=r.prompt_tokens,
                     completion_tokens=r.completion_tokens, latency_s=round(r.latency_s, 4), error=r.error,
                     error_kind=r.error_kind)


def _run_call(call: ToolCall, tools: dict[str, Tool]) -> ToolResult:
    """Run one call; malformed JSON, unknown tools and bad arguments become tool errors."""
    args, problem = parse_arguments(call)
    if problem:
        return ToolResult(error=problem)
    if call.name not in tools:
        return ToolResult(error=f"unknown tool {call.name!r}; available: {', '.join(tools) or 'none'}")
    assert args is not None
    try:
        return tools[call.name].run(args)
    except Exception as exc:  # a tool bug must not end the run; it is recorded as the call's error
        return ToolResult(error=f"{call.name}: internal error: {type(exc).__name__}: {exc}")


def _extract_calls(r: Response, protocol: Protocol, tools: list[Tool]) -> tuple[list[ToolCall], str]:
    if protocol == "text":
        return parse_text_calls(r.text, tools), r.text
    if r.tool_calls:
        calls = [c if c.id else c.model_copy(update={"id": f"call_{i}"}) for i, c in enumerate(r.tool_calls, 1)]
        return calls, r.text
    return parse_tool_calls(r.text)


def _step(conv: _Conversation, step: int, r: Response, protocol: Protocol, tools: list[Tool],
          by_name: dict[str, Tool], last_step: bool, options: ToolProtocol | None = None) -> None:
    conv.stats.steps = step
    calls, text = ([], r.text) if r.error else _extract_calls(r, protocol, tools)
    conv.transcript.append(_model_entry(step, r, calls))
    if r.error or not calls:
        conv.finish(r)
        return
    if last_step:
        conv.transcript.append(StepLimit(step=step, calls=len(calls),
                                         note=f"{len(calls)} tool call(s) not run: the step limit was reached"))
        conv.finish(r)
        return
    results = []
    for i, call in enumerate(calls):
        result = (_run_call(call, by_name) if i < MAX_CALLS_PER_TURN else
                  ToolResult(error=f"too many tool calls in one turn (at most {MAX_CALLS_PER_TURN})"))
        results.append(result)
        conv.stats.tool_calls += 1
        conv.stats.tool_errors += result.error is not None
        conv.transcript.append(ToolRun(step=step, id=call.id, name=call.name, arguments=call.arguments,
                                       output=result.output, error=result.error,
                                       duration_s=round(result.duration_s, 4)))
    if protocol == "text":
        conv.messages += [Message(role="assistant", content=r.text), results_message(calls, results, options)]
    else:
        conv.messages.append(Message(role="assistant", content=text, tool_calls=calls))
        conv.messages += [Message(role="tool", tool_call_id=c.id, name=c.name or "invalid", content=res.for_model())
                          for c, res in zip(calls, results, strict=True)]


def run_agents(provider: Provider, requests: list[Request], tools: list[Tool], protocol: Protocol,
               max_steps: int = 4, options: ToolProtocol | None = None) -> list[AgentResult]:
    """Run every request as a tool-using conversation; results are in request order (see stream_agents)."""
    out: list[AgentResult | None] = [None] * len(requests)
    for i, result in stream_agents(provider, requests, tools, protocol, max_steps, options=options):
        out[i] = result
    assert all(r is not None for r in out)
    return [r for r in out if r is not None]


def stream_agents(provider: Provider, requests: list[Request], tools: list[Tool], protocol: Protocol,
                  max_steps: int = 4, options: ToolProtocol | None = None) -> Iterator[tuple[int, AgentResult]]:
    """Run every request as a tool-using conversation; yield (index, result) as each one ends.

    A step is one model turn. A turn without tool calls is the answer; a provider error ends that
    conversation with the error response; at `max_steps` a turn that still asks for tools ends the
    conversation with a `step_limit` transcript entry (its calls are not run; the record is scored
    `invalid`, see evals/tools/step_limit.py). Tool problems are returned to the model as tool errors
    and counted. Every step sends the still-active conversations to the provider in one batch, and a
    conversation is handed back the moment its last turn arrives. `options` (the suite's
    `tool_protocol:` block) shape the `text` protocol's system turn and results turn; None is the default."""
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    by_name = {t.name: t for t in tools}
    specs = [t.spec() for t in tools] if protocol == "native" else []
    convs = [_Conversation(request=r, messages=with_addendum(r.messages, tools, options) if protocol == "text" and tools
                           else list(r.messages)) for r in requests]
    for step in range(1, max_steps + 1):
        active = [i for i, c in enumerate(convs) if c.result is None]
        if not active:
            break
        batch = [convs[i].request.model_copy(update={"messages": list(convs[i].messages), "tools": specs})
                 for i in active]
        seen = 0
        with closing(stream(provider, batch)) as answers:
            for j, response in answers:
                seen += 1
                conv = convs[active[j]]
                _step(conv, step, response, protocol, tools, by_name, last_step=step == max_steps, options=options)
                if conv.result is not None:
                    yield active[j], conv.result
        if seen != len(batch):
            raise RuntimeError(f"provider returned {seen} responses for {len(batch)} requests")
