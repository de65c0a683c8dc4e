"""The `text` tool protocol's suite options (`tool_protocol:`): validation with file:line errors, the
worked example in the system turn, the results turn, and a search corpus without injected instructions."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from evals.cli import main
from evals.loader import load_suite
from evals.schema import ToolProtocol
from evals.tools import Tool, ToolResult, get_tools
from evals.tools.loop import run_agents
from evals.tools.textproto import (
    describe,
    parse_text_calls,
    results_message,
    results_text,
    system_addendum,
    with_addendum,
)
from evals.types import GenParams, Message, Request, Response, ToolCall

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [ROOT / "suites" / "corpus" / "fictional_bios", ROOT / "suites" / "corpus" / "post_cutoff"]

SUITE = textwrap.dedent("""\
    name: tiny
    check: letter_counts
    tools: [python]
    {block}
    items:
    - id: a
      prompt: How many r's are in strawberry?
      expect: {{kind: number, value: 3}}
    """)


def write_suite(tmp_path: Path, block: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(SUITE.format(block=block), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tools() -> list[Tool]:
    return get_tools(["python", "calculator"], None)


# -- the suite option ------------------------------------------------------------------------------

def test_the_option_loads_and_defaults_to_the_old_protocol(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path, "")).suite
    assert suite.tool_protocol == ToolProtocol(example=False, instruction=None, instruction_in="user",
                                               results="labelled")
    block = 'tool_protocol: {example: true, instruction: "Use the python tool to count.", results: plain}'
    suite = load_suite(write_suite(tmp_path, block)).suite
    assert suite.tool_protocol == ToolProtocol(example=True, instruction="Use the python tool to count.",
                                               results="plain")


@pytest.mark.parametrize("block, where", [
    ("tool_protocol:\n  results: json", "x.yaml:5: tool_protocol.results:"),
    ("tool_protocol:\n  example: maybe", "x.yaml:5: tool_protocol.example:"),
    ("tool_protocol:\n  instruction: ''", "x.yaml:5: tool_protocol.instruction:"),
    ("tool_protocol:\n  results: plain\n  exmaple: true", "x.yaml:6: tool_protocol.exmaple:"),
    ("tool_protocol: {instruction: Use code., instruction_in: assistant}", "x.yaml:4: tool_protocol.instruction_in:"),
    ("tool_protocol:\n  example: true\n  example_in: user", "x.yaml:6: tool_protocol.example_in:"),
    ("tool_protocol:\n  reminder: please", "x.yaml:5: tool_protocol.reminder:"),
    ("tool_protocol:\n  examples:\n  - {question: q, call: c, result: '1', answer: '1'}", "x.yaml:4: tool_protocol:"),
    ("tool_protocol:\n  example: true\n  examples:\n  - {question: q, call: c, answer: '1'}",
     "x.yaml:7: tool_protocol.examples[0].result:"),
])
def test_a_bad_value_is_exit_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  block: str, where: str) -> None:
    path = write_suite(tmp_path, block)
    assert main(["suites", "validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and where in err[0], err
    assert "Traceback" not in err[0]


def test_the_shipped_suites_validate_with_their_tool_protocol() -> None:
    for name in ("letter_counts", "decimal_compare", "fictional_bios", "post_cutoff"):
        suite = load_suite(ROOT / "suites" / f"{name}.yaml").suite
        assert suite.tool_protocol.results in ("labelled", "plain")


# -- the system turn -------------------------------------------------------------------------------

def test_the_default_system_turn_is_unchanged(tools: list[Tool]) -> None:
    text = system_addendum(tools)
    assert text == system_addendum(tools, ToolProtocol())
    assert "Example of a tool call:\n```python\nprint(sum(1 for c in 'banana' if c == 'a'))\n```" in text
    assert "Worked example" not in text and "Result:" not in text


def test_the_worked_example_shows_a_call_its_result_and_the_answer(tools: list[Tool]) -> None:
    (system, user) = with_addendum([Message(role="system", content="Be brief."), Message(role="user", content="Q")],
                                   tools, ToolProtocol(example=True, results="plain"))
    assert system.role == "system" and system.content.startswith("Be brief.\n\nYou can use tools")
    assert user.content == "Q"
    assert ("User: How many times does the letter 'a' appear in 'banana'?\nAssistant:\n```python\n"
            "print('banana'.lower().count('a'))\n```\nUser: Result: 3\nAssistant: 3") in system.content
    assert "User: Result: 2.7\nAssistant: 2.7" in system.content
    assert "Example of a tool call:" not in system.content  # the worked example replaces the bare one
    # in the labelled format the example's result turn is written as the loop would write it
    labelled = system_addendum(tools, ToolProtocol(example=True))
    assert "User: Tool results:\n[python output]\n3\n\nAnswer the original question now" in labelled


def test_the_worked_example_for_search_and_calculator() -> None:
    (calc,) = get_tools(["calculator"], None)
    assert "Assistant:\ncalculator: (3.5 + 4) * 2\nUser: Result: 15\nAssistant: 15" in system_addendum(
        [calc], ToolProtocol(example=True, results="plain"))
    (search,) = get_tools(["search"], CORPORA[1])
    text = system_addendum([search], ToolProtocol(example=True, results="plain"))
    assert "Assistant:\nsearch: Tour de France 2019 winner\nUser: Result: [1] 2019 Tour de France" in text


def test_the_instruction_follows_the_question_or_ends_the_system_turn(tools: list[Tool]) -> None:
    rule = "Use the python tool to count; do not answer from memory."
    asked = [Message(role="user", content="How many r's are in strawberry?  ")]
    system, user = with_addendum(asked, tools, ToolProtocol(instruction=rule))  # instruction_in: user
    assert user.content == "How many r's are in strawberry?\n" + rule and rule not in system.content
    system, user = with_addendum(asked, tools, ToolProtocol(instruction=rule, instruction_in="system"))
    assert system.content.endswith("\n" + rule) and user.content == asked[0].content
    assert rule not in system_addendum(tools)
    # only the last user turn gets it (an item's earlier turns stay as written)
    turns = [Message(role="user", content="first"), Message(role="assistant", content="ok"),
             Message(role="user", content="second")]
    out = with_addendum(turns, tools, ToolProtocol(instruction=rule))
    assert [m.content for m in out[1:]] == ["first", "ok", "second\n" + rule]


# -- worked examples as earlier turns ---------------------------------------------------------------

SHOT = {"question": "How many p's are in the word puppy?", "call": "```python\nprint('puppy'.count('p'))\n```",
        "result": "3", "answer": "3"}


def test_worked_examples_as_turns_come_between_the_system_turn_and_the_question(tools: list[Tool]) -> None:
    options = ToolProtocol(example=True, example_in="turns", examples=[SHOT], reminder="answer")
    out = with_addendum([Message(role="system", content="Be brief."), Message(role="user", content="Q")], tools,
                        options)
    assert [m.role for m in out] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert [m.content for m in out[1:]] == [
        SHOT["question"], SHOT["call"], "Tool results:\n[python output]\n3\n\nAnswer the original question now.",
        "3", "Q"]
    # the system turn explains the tools but shows no example of its own (the turns are the example)
    assert out[0].content.startswith("Be brief.\n\nYou can use tools")
    assert "Worked example" not in out[0].content and "Example of a tool call" not in out[0].content
    # the same examples in the system turn, written out
    system = system_addendum(tools, options.model_copy(update={"example_in": "system"}))
    assert f"User: {SHOT['question']}\nAssistant:\n{SHOT['call']}\nUser: Tool results:" in system
    assert "banana" not in system  # the suite's examples replace the built-in ones


def test_the_loop_sends_the_example_turns_every_step(tools: list[Tool]) -> None:
    provider = Replay({SHOT["question"]: ["```python\nprint('strawberry'.count('r'))\n```", "3"]})
    request = Request(messages=[Message(role="user", content="count")], params=GenParams(max_new_tokens=32))
    options = ToolProtocol(example=True, example_in="turns", examples=[SHOT])
    (result,) = run_agents(provider, [request], tools, "text", options=options)
    assert result.response.text == "3" and result.stats.tool_calls == 1
    first, second = (r.messages for r in provider.requests)
    assert [m.content for m in first[1:]] == [m.content for m in second[1:6]]
    assert second[5].content == "count" and second[7].content.startswith("Tool results:\n[python output]\n3")
    # the transcript holds the model's turns only, not the worked examples
    assert [e.type for e in result.transcript] == ["model", "tool", "model"]


@pytest.mark.parametrize("name", ["letter_counts", "decimal_compare"])
def test_the_shipped_worked_examples_print_what_they_claim(name: str) -> None:
    """Each example's call, run in the python tool, prints the result the example shows, and no
    example asks one of the suite's own items."""
    suite = load_suite(ROOT / "suites" / f"{name}.yaml").suite
    protocol = suite.tool_protocol
    assert protocol.example and protocol.example_in == "turns" and len(protocol.examples) >= 3
    tools = get_tools(suite.tools, None)
    prompts = {item.prompt for item in suite.items}
    for example in protocol.examples:
        (call,) = parse_text_calls(example.call, tools)
        assert call.name == "python"
        out = tools[0].run(json.loads(call.arguments))
        assert out.error is None and out.output.strip() == example.result, example
        assert example.question not in prompts


# -- the results turn ------------------------------------------------------------------------------

def test_plain_results_turn() -> None:
    assert results_text(["python"], [ToolResult(output="3\n")], "plain") == "Result: 3"
    assert results_text(["python"], [ToolResult(output="")], "plain") == "Result: (no output)"
    both = results_text(["python", "calculator"], [ToolResult(output="3\n"), ToolResult(error="bad expression")],
                        "plain")
    assert both == "Result 1: 3\nError 2: bad expression"
    msg = results_message([ToolCall(id="call_1", name="python", arguments="{}")], [ToolResult(output="3\n")],
                          ToolProtocol(results="plain"))
    assert msg.role == "user" and msg.content == "Result: 3"


def test_the_answer_reminder_drops_the_invitation_to_call_again() -> None:
    msg = results_message([ToolCall(id="call_1", name="python", arguments="{}")], [ToolResult(output="3\n")],
                          ToolProtocol(reminder="answer"))
    assert msg.content == "Tool results:\n[python output]\n3\n\n\nAnswer the original question now."


def test_labelled_results_turn_is_the_old_one() -> None:
    msg = results_message([ToolCall(id="call_1", name="python", arguments="{}")], [ToolResult(output="3\n")])
    assert msg.role == "user"
    assert msg.content == ("Tool results:\n[python output]\n3\n\n\n"
                           "Answer the original question now, or call a tool again if you must.")


class Replay:
    """Replies to each conversation (keyed by the first line of its user question) with its next scripted turn."""

    chunk_size = 8

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.requests: list[Request] = []

    def generate(self, requests: list[Request]) -> list[Response]:
        self.requests += requests
        return [Response(text=self.script[next(m.content for m in r.messages if m.role == "user").split("\n")[0]].pop(0),
                         finish_reason="stop") for r in requests]

    def identity(self) -> dict[str, Any]:
        return {"adapter": "replay"}

    def close(self) -> None:
        pass


def test_the_loop_sends_the_options_system_and_results_turns(tools: list[Tool]) -> None:
    provider = Replay({"count": ["```python\nprint('strawberry'.count('r'))\n```", "3"]})
    request = Request(messages=[Message(role="user", content="count")], params=GenParams(max_new_tokens=32))
    options = ToolProtocol(example=True, instruction="Use the python tool to count.", results="plain")
    (result,) = run_agents(provider, [request], tools, "text", options=options)
    assert result.response.text == "3" and result.stats.tool_calls == 1 and result.stats.tool_errors == 0
    second = provider.requests[1].messages
    assert [m.role for m in second] == ["system", "user", "assistant", "user"]
    assert "Worked example:" in second[0].content
    assert second[1].content == "count\nUse the python tool to count."
    assert second[3].content == "Result: 3"
    # without options the loop keeps the old protocol
    provider = Replay({"count": ["```python\nprint('strawberry'.count('r'))\n```", "3"]})
    run_agents(provider, [request], tools, "text")
    assert provider.requests[1].messages[3].content.startswith("Tool results:\n[python output]\n3")
    assert "Worked example" not in provider.requests[1].messages[0].content


# -- the search corpora hold documents, not instructions ---------------------------------------------

INSTRUCTION_LIKE = re.compile(
    r"no information|say that|saying that|respond with|reply with|answer with|should be answered|"
    r"the honest answer|tell the user|you should|you must|do not know|don't know|no record|"
    r"no biography|assistant|language model|未找到|没有记录|无记录|请回答|应回答|不知道", re.I)


@pytest.mark.parametrize("folder", CORPORA, ids=lambda p: p.name)
def test_the_corpus_holds_no_instruction_like_notices(folder: Path) -> None:
    files = [p for p in folder.rglob("*") if p.is_file() and p.name.lower() != "readme.md"]
    assert len(files) >= 15
    hits = [f"{p.name}: {m.group()}" for p in files for m in INSTRUCTION_LIKE.finditer(p.read_text(encoding="utf-8"))]
    assert hits == []


def test_the_scan_would_catch_the_old_notice(tmp_path: Path) -> None:
    old = ("When the search finds no biography of a person, the honest answer is that no information about "
           "that person is available.")
    assert INSTRUCTION_LIKE.search(old)


def test_the_bios_corpus_is_about_real_people_only() -> None:
    (search,) = get_tools(["search"], CORPORA[0])
    titles = [d.title for d in search.corpus.docs]  # type: ignore[attr-defined]
    assert not any("notice" in t.lower() or "collection" in t.lower() for t in titles), titles
    # an ordinary question about an invented person finds nothing about them, and no instruction either
    for query in ("Which awards did the civil engineer Bartholomew Quince receive?", "张淑兰这位土木工程师获得过哪些奖项？"):
        out = search.run({"query": query}).output
        assert "Quince" not in out and "张淑兰" not in out
        assert not INSTRUCTION_LIKE.search(out), out


def test_probity_run_passes_the_suite_option_to_the_loop(tmp_path: Path) -> None:
    """`probity run --mode tools` sends the suite's instruction: the echo model repeats the last user turn."""
    from evals.cli import main
    from evals.records import iter_lines

    suite = tmp_path / "t.yaml"
    suite.write_text("name: t\nversion: 1\ncheck: letter_counts\ntools: [calculator]\n"
                     "tool_protocol: {instruction: 'Use the calculator tool.'}\nitems:\n"
                     "  - {id: a, lang: en, prompt: \"How many r's are in 'rr'?\", expect: {kind: number, value: 2}}\n")
    profile = tmp_path / "echo.yaml"
    profile.write_text("name: echo\nadapter: scripted\nmodel: echo\n")
    out = tmp_path / "runs"
    main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--mode", "tools", "--no-cache"])
    (run_dir,) = out.iterdir()
    (record,) = list(iter_lines(run_dir / "records.jsonl"))
    assert "Use the calculator tool." in record["response"]["text"]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["suites"][0]["tool_protocol"] == "instruction in the user turn: 'Use the calculator tool.'"


def test_the_protocol_in_words() -> None:
    assert describe(ToolProtocol()) == "default"
    kept = ToolProtocol(example=True, example_in="turns", examples=[SHOT, SHOT, SHOT], reminder="answer")
    assert describe(kept) == "3 worked examples as earlier turns; reminder: 'Answer the original question now.'"
    assert describe(ToolProtocol(example=True, results="plain")) == (
        "built-in worked examples in the system turn; plain results")


def test_the_committed_baseline_shows_the_kept_protocol_working_on_letter_counts() -> None:
    """README ("Closing the loop"): with the shipped worked examples SmolLM2-135M calls the python tool on
    letter_counts and gains significantly; the baseline's manifest names the protocol it ran with."""
    from evals.manifest import read_manifest
    from evals.records import read_records
    from evals.tooltable import tool_table

    run = ROOT / "reports" / "runs" / "20261202-062238-smollm2"
    entry = read_manifest(run).suite("letter_counts")
    assert entry is not None and entry.tool_protocol is not None
    assert entry.tool_protocol.startswith("3 worked examples as earlier turns")
    table = tool_table(read_records(run))
    row = table[table["suite"] == "letter_counts"].iloc[0]
    assert row["n pairs"] == 202
    assert row["tool-call rate"].startswith("1.00 (202/202)")
    assert float(row["McNemar p"]) < 1e-6 and row["Δ [95% CI]"].startswith("+0.57")
