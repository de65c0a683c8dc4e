"""The agent loop with scripted model turns (and one real SmolLM2 run, marked `model`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evals.records import ToolStats
from evals.tools import Tool, ToolResult, get_tools
from evals.tools.loop import run_agents
from evals.transcript import ModelTurn, StepLimit, ToolRun
from evals.types import GenParams, Message, Request, Response, ToolCall


class ReplayProvider:
    """Replies to each conversation (keyed by its first user message) with its next scripted turn."""

    chunk_size = 8

    def __init__(self, script: dict[str, list[Response | str]]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.batches: list[list[Request]] = []

    def generate(self, requests: list[Request]) -> list[Response]:
        self.batches.append(requests)
        out = []
        for r in requests:
            turn = self.script[next(m.content for m in r.messages if m.role == "user")].pop(0)
            out.append(Response(text=turn, finish_reason="stop") if isinstance(turn, str) else turn)
        return out

    def identity(self) -> dict[str, Any]:
        return {"adapter": "replay"}

    def close(self) -> None:
        pass


def req(question: str, system: str | None = None) -> Request:
    msgs = ([Message(role="system", content=system)] if system else []) + [Message(role="user", content=question)]
    return Request(messages=msgs, params=GenParams(max_new_tokens=64))


@pytest.fixture(scope="module")
def tools() -> list[Tool]:
    return get_tools(["python", "calculator"], None)


def test_text_protocol_runs_code_and_batches_active_conversations(tools):
    provider = ReplayProvider({
        "count": ["```python\nprint('strawberry'.count('r'))\n```", "There are 3 r's in strawberry."],
        "compare": ["9.9 is larger."],
        "both": ["calculator: 9.11 > 9.9", "calculator: 9.9 > 9.11", "So 9.9 is larger."],
    })
    results = run_agents(provider, [req("count", "Be brief."), req("compare"), req("both")], tools, "text")
    assert [len(b) for b in provider.batches] == [3, 2, 1]  # one generate() per step, active ones only
    count, compare, both = results
    assert count.response.text == "There are 3 r's in strawberry."
    assert count.stats == ToolStats(steps=2, tool_calls=1, tool_errors=0)
    assert [e.type for e in count.transcript] == ["model", "tool", "model"]
    tool_entry = count.transcript[1]
    assert isinstance(tool_entry, ToolRun)
    assert tool_entry.name == "python" and tool_entry.output.strip() == "3" and tool_entry.error is None
    assert json.loads(tool_entry.arguments)["code"].startswith("print(") and tool_entry.duration_s > 0
    second = provider.batches[1][0]
    assert second.tools == [] and second.messages[0].content.startswith("Be brief.\n\nYou can use tools")
    assert [m.role for m in second.messages] == ["system", "user", "assistant", "user"]
    assert second.messages[-1].content.startswith("Tool results:\n[python output]\n3")
    assert compare.stats == ToolStats(steps=1) and compare.transcript[0].text == "9.9 is larger."
    assert both.stats == ToolStats(steps=3, tool_calls=2) and both.response.text == "So 9.9 is larger."
    json.dumps([[e.model_dump(mode="json") for e in r.transcript] for r in results])


def test_native_protocol_uses_response_tool_calls(tools):
    call = ToolCall(id="abc", name="calculator", arguments='{"expression": "9.11 > 9.9"}')
    provider = ReplayProvider({"q": [Response(text="", tool_calls=[call], finish_reason="tool_calls"),
                                     "No: 9.11 is smaller than 9.9."]})
    (result,) = run_agents(provider, [req("q")], tools, "native")
    first, second = provider.batches[0][0], provider.batches[1][0]
    assert [t["function"]["name"] for t in first.tools] == ["python", "calculator"]
    assert second.messages[1].tool_calls == [call]
    assert second.messages[2].role == "tool" and second.messages[2].tool_call_id == "abc"
    assert second.messages[2].content == "False"
    assert result.response.text == "No: 9.11 is smaller than 9.9."
    assert result.stats == ToolStats(steps=2, tool_calls=1)


def test_native_protocol_parses_calls_written_as_text(tools):
    provider = ReplayProvider({"q": [
        '<tool_call>[{"name": "calculator", "arguments": {"expression": "2 ** 10"}}]</tool_call>', "1024"]})
    (result,) = run_agents(provider, [req("q")], tools, "native")
    assert provider.batches[1][0].messages[-1].content == "1024"
    assert result.transcript[0].tool_calls[0].name == "calculator"
    assert result.stats.tool_calls == 1 and result.response.text == "1024"


def test_malformed_calls_go_back_as_counted_errors(tools):
    provider = ReplayProvider({"q": [
        "<tool_call>{bad json</tool_call>",
        Response(tool_calls=[ToolCall(name="weather", arguments="{}")]),
        Response(tool_calls=[ToolCall(name="calculator", arguments='{"expr": "1"}'),
                             ToolCall(name="calculator", arguments='{"expression": "1 +"')]),
        "I give up.",
    ]})
    (result,) = run_agents(provider, [req("q")], tools, "native")
    assert result.stats == ToolStats(steps=4, tool_calls=4, tool_errors=4)
    errors = [e.error for e in result.transcript if isinstance(e, ToolRun)]
    assert errors[0].startswith("malformed tool call") and errors[1].startswith("unknown tool 'weather'")
    assert "missing required argument" in errors[2] and "invalid JSON" in errors[3]
    last_request = provider.batches[-1][0]
    assert last_request.messages[-1].role == "tool" and last_request.messages[-1].content.startswith("Error:")
    assert result.response.text == "I give up."


def test_step_limit_ends_the_conversation_with_its_calls_unrun(tools):
    provider = ReplayProvider({"q": ["calculator: 1 + 1", "calculator: 2 + 2", "calculator: 3 + 3"]})
    (result,) = run_agents(provider, [req("q")], tools, "text", max_steps=2)
    assert len(provider.batches) == 2
    assert result.response.text == "calculator: 2 + 2"
    assert result.stats == ToolStats(steps=2, tool_calls=1, tool_errors=0)
    assert isinstance(result.transcript[-1], StepLimit) and result.transcript[-1].calls == 1


def test_provider_error_ends_only_that_conversation(tools):
    provider = ReplayProvider({
        "bad": ["calculator: 1 + 1", Response(error="HTTP 500: upstream", error_kind="http_500")],
        "good": ["calculator: 2 + 2", "4"],
    })
    bad, good = run_agents(provider, [req("bad"), req("good")], tools, "text")
    assert bad.response.error == "HTTP 500: upstream" and bad.stats == ToolStats(steps=2, tool_calls=1)
    assert bad.transcript[-1].error == "HTTP 500: upstream"
    assert good.response.text == "4" and good.response.error is None


def test_a_crashing_tool_is_a_tool_error():
    class Broken(Tool):
        name = "broken"
        description = "always fails"
        parameters = {"type": "object", "properties": {}}
        text_syntax = "`broken:`"

        def _run(self, arguments: dict[str, Any]) -> ToolResult:
            raise RuntimeError("boom")

    provider = ReplayProvider({"q": [Response(tool_calls=[ToolCall(name="broken")]), "ok"]})
    (result,) = run_agents(provider, [req("q")], [Broken()], "native")
    assert result.stats.tool_errors == 1 and "internal error: RuntimeError: boom" in (result.transcript[1].error or "")


def test_no_tools_means_one_plain_turn():
    provider = ReplayProvider({"q": ["Paris."]})
    (result,) = run_agents(provider, [req("q")], [], "text")
    assert result.response.text == "Paris." and provider.batches[0][0].messages[0].role == "user"


@pytest.mark.model
def test_smollm2_text_protocol_transcripts_are_recorded(smollm2, tools):
    questions = ["How many times does the letter r appear in the word strawberry? Use a tool.",
                 "Which is larger, 9.11 or 9.9? Use the calculator.",
                 "What is 17 * 23?"]
    requests = [Request(messages=[Message(role="user", content=q)], params=GenParams(max_new_tokens=64))
                for q in questions]
    results = run_agents(smollm2, requests, tools, "text", max_steps=3)
    assert len(results) == 3
    for result in results:
        assert result.response.error is None
        models = [e for e in result.transcript if isinstance(e, ModelTurn)]
        assert len(models) == result.stats.steps >= 1
        assert result.response.text == models[-1].text
        tool_entries = [e for e in result.transcript if isinstance(e, ToolRun)]
        assert len(tool_entries) == result.stats.tool_calls
        json.dumps([e.model_dump(mode="json") for e in result.transcript])
