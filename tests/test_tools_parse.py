from __future__ import annotations

import json

from evals.tools import get_tools
from evals.tools.parse import parse_arguments, parse_tool_calls
from evals.tools.textproto import parse_text_calls, system_addendum, with_addendum
from evals.types import Message, ToolCall


def test_smollm2_style_list_in_tags():
    text = 'Let me check.\n<tool_call>[{"name": "calculator", "arguments": {"expression": "9.11 > 9.9"}}]</tool_call>'
    calls, rest = parse_tool_calls(text)
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_1", "calculator", {"expression": "9.11 > 9.9"})]
    assert rest == "Let me check."


def test_several_blocks_unclosed_tag_and_variants():
    text = ('<tool_call>{"name": "search", "parameters": {"query": "x"}}</tool_call>'
            '<tool_call>{"type": "function", "function": {"name": "python", "arguments": "{\\"code\\": \\"1\\"}"}}')
    calls, rest = parse_tool_calls(text)
    assert [c.name for c in calls] == ["search", "python"] and rest == ""
    assert json.loads(calls[1].arguments) == {"code": "1"}


def test_bare_json_and_fenced_json():
    calls, rest = parse_tool_calls('```json\n{"name": "search", "arguments": {"query": "nobel"}}\n```')
    assert calls[0].name == "search" and rest == ""
    calls, rest = parse_tool_calls('{"answer": 42}')  # JSON that is not a call stays an answer
    assert calls == [] and rest == '{"answer": 42}'
    calls, _ = parse_tool_calls('{"name": "search", "arguments": {}}', bare_json=False)
    assert calls == []


def test_malformed_blocks_become_nameless_calls():
    calls, _ = parse_tool_calls("<tool_call>{name: calculator, oops</tool_call>")
    assert len(calls) == 1 and calls[0].name == "" and "oops" in calls[0].arguments
    args, problem = parse_arguments(calls[0])
    assert args is None and problem and problem.startswith("malformed tool call")


def test_parse_arguments():
    assert parse_arguments(ToolCall(name="search", arguments='{"query": "a"}')) == ({"query": "a"}, None)
    assert "invalid JSON" in (parse_arguments(ToolCall(name="search", arguments="{bad"))[1] or "")
    assert "JSON object" in (parse_arguments(ToolCall(name="search", arguments="[1]"))[1] or "")


def test_plain_text_has_no_calls():
    assert parse_tool_calls("France won in 2018.") == ([], "France won in 2018.")


def test_text_protocol_calls_in_order():
    tools = get_tools(["python", "calculator"], None)
    text = ("First:\ncalculator: 9.11 > 9.9\nThen\n```python\nprint('strawberry'.count('r'))\n```\n"
            "search: not offered")
    calls = parse_text_calls(text, tools)
    assert [(c.id, c.name) for c in calls] == [("call_1", "calculator"), ("call_2", "python")]
    assert json.loads(calls[0].arguments) == {"expression": "9.11 > 9.9"}
    assert json.loads(calls[1].arguments) == {"code": "print('strawberry'.count('r'))\n"}
    assert parse_text_calls("**Calculator:** `2*3`", tools)[0].arguments == '{"expression": "2*3"}'
    assert parse_text_calls("The answer is 3.", tools) == []
    tagged = parse_text_calls('<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}}</tool_call>',
                              tools)
    assert tagged[0].name == "calculator"


def test_addendum_goes_into_the_system_message():
    tools = get_tools(["calculator"], None)
    assert "calculator: EXPRESSION" in system_addendum(tools)
    msgs = with_addendum([Message(role="system", content="Be brief."), Message(role="user", content="q")], tools)
    assert len(msgs) == 2 and msgs[0].content.startswith("Be brief.\n\nYou can use tools")
    msgs = with_addendum([Message(role="user", content="q")], tools)
    assert [m.role for m in msgs] == ["system", "user"]
