"""The step-limit rule: a tools-mode answer whose last allowed turn still asks for a tool is `invalid`,
at run time (Runner.record), when rescoring, and counted in the tool-assisted table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evals.manifest import read_manifest
from evals.records import iter_records
from evals.rescore import rescore_run
from evals.runner import RunConfig, start_run
from evals.scoring.outcome import Score
from evals.tools.step_limit import step_limit_score
from evals.tooltable import tool_table
from evals.types import Request, Response

SUITE = """\
name: letter_counts
version: '1'
check: letter_counts
tools: [calculator]
items:
- id: w1
  prompt: How many r's are in strawberry?
  expect: {kind: number, value: '3'}
- id: w2
  prompt: How many b's are in blueberry?
  expect: {kind: number, value: '2'}
"""

# tools mode (text protocol): w1 asks for the calculator on every turn, and its unrun call even holds the
# right number; w2 uses the calculator once and then answers plainly at the last allowed step
TOOL_TURNS = {"How many r's are in strawberry?": ["calculator: 1 + 2", "calculator: 3"],
              "How many b's are in blueberry?": ["calculator: 1 + 1", "There are 2 b's in blueberry."]}
PLAIN = {"How many r's are in strawberry?": "3", "How many b's are in blueberry?": "1"}


class ScriptedTurns:
    """Plain requests get a fixed answer; tools-mode requests (they carry the tools system message)
    get their conversation's next scripted turn."""

    chunk_size = 8

    def __init__(self) -> None:
        self.turns = {k: list(v) for k, v in TOOL_TURNS.items()}

    def generate(self, requests: list[Request]) -> list[Response]:
        out = []
        for r in requests:
            question = next(m.content for m in r.messages if m.role == "user")
            tools_mode = any(m.role == "system" and "calculator" in m.content for m in r.messages)
            text = self.turns[question].pop(0) if tools_mode else PLAIN[question]
            out.append(Response(text=text, finish_reason="stop"))
        return out

    def identity(self) -> dict[str, Any]:
        return {"adapter": "scripted-turns"}

    def close(self) -> None:
        pass


def run(tmp_path: Path) -> Path:
    suite = tmp_path / "letter_counts.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    profile = tmp_path / "scripted.yaml"
    profile.write_text("name: scripted\nadapter: scripted\nmodel: unused\ntool_protocol: text\n"
                       "identity: {names: [Tester], makers: [Nobody]}\n")
    config = RunConfig(suite_args=[str(suite)], provider=str(profile), modes=["plain", "tools"], max_steps=2,
                       cache=False)
    provider = ScriptedTurns()
    result = start_run(config, tmp_path / "runs", provider=provider)  # type: ignore[arg-type]
    assert all(not turns for turns in provider.turns.values())  # every scripted turn was asked for
    return result.run_dir


def by_key(run_dir: Path) -> dict[tuple[str, str], Any]:
    return {(r.item_id, r.mode): r for r in iter_records(run_dir)}


def test_last_turn_still_asking_for_a_tool_is_invalid(tmp_path: Path) -> None:
    run_dir = run(tmp_path)
    records = by_key(run_dir)
    limited = records[("w1", "tools")]
    assert limited.response.text == "calculator: 3" and limited.transcript[-1].type == "step_limit"
    assert limited.score == Score(outcome="invalid", passed=False, extracted=None, flags=["step_limit"],
                                  why="invalid: step limit reached: the last turn still asks for a tool "
                                      "(1 call(s) not run)")
    assert limited.tool_stats.steps == 2 and limited.tool_stats.tool_calls == 1
    assert read_manifest(run_dir).counts["invalid"] == 1


def test_a_plain_answer_at_the_last_step_is_scored_normally(tmp_path: Path) -> None:
    records = by_key(run(tmp_path))
    answered = records[("w2", "tools")]
    assert [e.type for e in answered.transcript] == ["model", "tool", "model"]
    assert answered.score.outcome == "correct" and answered.score.passed
    assert "step_limit" not in answered.score.flags
    assert records[("w1", "plain")].score.passed and not records[("w2", "plain")].score.passed


def test_rescore_keeps_the_step_limit_verdict(tmp_path: Path) -> None:
    run_dir = run(tmp_path)
    result = rescore_run(run_dir)
    assert result.changed == 0
    limited = by_key(result.run_dir)[("w1", "tools")]
    assert limited.score.outcome == "invalid" and limited.score.flags == ["step_limit"]


def test_rescore_applies_the_rule_to_records_scored_as_answers(tmp_path: Path) -> None:
    """A record an older runner scored from the unrun tool call becomes invalid, even if its item is gone."""
    run_dir = run(tmp_path)
    path = run_dir / "records.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for data in lines:
        if data["mode"] == "tools" and data["item_id"] == "w1":
            data["score"] = {"outcome": "correct", "passed": True, "extracted": "3", "why": "old"}
            gone = {**data, "item_id": "gone", "key": data["key"].replace("w1", "gone")}
    path.write_text("".join(json.dumps(d) + "\n" for d in [*lines, gone]))
    result = rescore_run(run_dir)
    assert result.changed == 2 and result.transitions[("correct", "invalid")] == 2 and result.kept == 0
    records = by_key(result.run_dir)
    assert records[("w1", "tools")].score.flags == records[("gone", "tools")].score.flags == ["step_limit"]


def test_tool_table_counts_step_limits(tmp_path: Path) -> None:
    df = tool_table(iter_records(run(tmp_path)))
    row = df.iloc[0]
    assert row["n pairs"] == 2 and row["step limit"] == "0.50 (1/2)" and row["tools pass"] == "0.50 (1/2)"


def test_report_shows_the_step_limit_column(tmp_path: Path) -> None:
    from evals.report import render_report

    md = render_report([run(tmp_path)])
    section = md[md.index("## Tool-assisted accuracy"):]
    header = next(line for line in section.splitlines() if line.startswith("| suite"))
    assert "step limit" in header and "0.50 (1/2)" in section


def test_step_limit_score_rule() -> None:
    assert step_limit_score(None) is None and step_limit_score([]) is None
    model = {"type": "model", "step": 1, "text": "4", "tool_calls": []}
    assert step_limit_score([model]) is None
    # a transcript stored before step_limit entries carried "calls": counted from the last model turn
    calls = [{"name": "calculator", "arguments": "{}"}, {"name": "python", "arguments": "{}"}]
    old = [{**model, "tool_calls": calls}, {"type": "step_limit", "note": "2 tool call(s) not run"}]
    sc = step_limit_score(old)
    assert sc is not None and sc.why.endswith("(2 call(s) not run)") and sc.outcome == "invalid"
    assert not sc.passed and sc.extracted is None and sc.flags == ["step_limit"]

