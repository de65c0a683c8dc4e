"""probity rescore: current scorers on stored answers, into a new run folder, without a model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.runs.synth import make_run, rec

from evals.cli import main
from evals.manifest import read_manifest
from evals.records import iter_records
from evals.rescore import rescore_run
from evals.scoring import SCORER_VERSION

SUITE = """\
name: letter_counts
version: '1'
check: letter_counts
items:
- id: w1
  prompt: How many r's are in strawberry?
  expect: {kind: number, value: '3'}
- id: w2
  prompt: How many b's are in blueberry?
  expect: {kind: number, value: '2'}
"""


def make(tmp_path: Path) -> Path:
    suite = tmp_path / "letter_counts.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    records = [
        # stored verdict is wrong (as if by an old scorer): "3" is correct for w1
        rec("letter_counts", "w1", "incorrect", text="There are 3 r's."),
        rec("letter_counts", "w2", "correct", text="2"),  # unchanged
        rec("letter_counts", "w2", "incorrect", text="2", mode="tools"),  # tools: the final answer is rescored
        rec("letter_counts", "gone", "correct", text="5"),  # no longer in the suite: old score kept
        rec("letter_counts", "w1", None, sample=1),  # an API error stays an error
    ]
    return make_run(tmp_path / "runs", "20260101-000000-smollm2", records, paths={"letter_counts": str(suite)},
                    scorer_version="0")


def test_rescore_writes_a_new_run_folder(tmp_path: Path) -> None:
    old = make(tmp_path)
    before = (old / "records.jsonl").read_bytes()
    result = rescore_run(old)
    assert result.run_dir == old.parent / "20260101-000000-smollm2-rescored-1"
    assert (result.total, result.changed, result.passed_flips, result.kept) == (4, 2, 2, 1)
    assert result.transitions[("incorrect", "correct")] == 2
    assert (old / "records.jsonl").read_bytes() == before  # the original run is untouched
    records = {(r.item_id, r.mode, r.sample): r for r in iter_records(result.run_dir)}
    assert records[("w1", "plain", 0)].score.passed and records[("w1", "plain", 0)].scorer_version == SCORER_VERSION
    assert records[("w2", "tools", 0)].score.outcome == "correct"
    assert records[("gone", "plain", 0)].score.why == "rule"  # kept
    assert records[("w1", "plain", 1)].score is None and records[("w1", "plain", 1)].error
    assert {r.run_id for r in records.values()} == {result.run_dir.name}
    m = read_manifest(result.run_dir)
    assert m.rescored_from == "20260101-000000-smollm2" and m.scorer_version == SCORER_VERSION
    assert m.previous_scorer_version == "0" and (m.rescore or {})["changed"] == 2
    assert m.counts["correct"] == 4 and m.counts["errors"] == 1
    assert any("no longer in the suite file" in n for n in result.notes)


def test_second_rescore_gets_the_next_number_and_out_dir(tmp_path: Path) -> None:
    old = make(tmp_path)
    assert rescore_run(old).run_dir.name.endswith("-rescored-1")
    assert rescore_run(old).run_dir.name.endswith("-rescored-2")
    assert rescore_run(old, tmp_path / "elsewhere").run_dir == tmp_path / "elsewhere" / "20260101-000000-smollm2-rescored-1"


def test_missing_suite_file_keeps_old_scores(tmp_path: Path) -> None:
    old = make(tmp_path)
    (tmp_path / "letter_counts.yaml").unlink()
    result = rescore_run(old)
    assert result.changed == 0 and result.kept == 4
    assert any("not found" in n for n in result.notes)


def test_changed_suite_file_is_noted(tmp_path: Path) -> None:
    old = make(tmp_path)
    (tmp_path / "letter_counts.yaml").write_text(SUITE.replace("version: '1'", "version: '2'"), encoding="utf-8")
    result = rescore_run(old)
    assert result.changed == 2 and any("changed since the run (v1 → v2)" in n for n in result.notes)


def test_identity_comes_from_the_stored_profile(tmp_path: Path) -> None:
    suite = tmp_path / "self_identity.yaml"
    suite.write_text("name: self_identity\ncheck: self_identity\nitems:\n- id: who\n  prompt: Who are you?\n"
                     "  expect: {kind: identity}\n", encoding="utf-8")
    records = [rec("self_identity", "who", "incorrect", check="self_identity", text="I am Zyntrax, made by Quorbel Labs.")]
    run = make_run(tmp_path, "id-run", records, paths={"self_identity": str(suite)},
                   identity={"names": ["Zyntrax"], "makers": ["Quorbel Labs"]})
    result = rescore_run(run)
    new = next(iter_records(result.run_dir))
    assert new.score is not None and new.score.passed, new.score


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = make(tmp_path)
    assert main(["rescore", str(old)]) == 0
    out = capsys.readouterr().out
    assert "2 of 4 verdicts changed (2 pass/fail flips); 1 kept their old score" in out
    assert "incorrect → correct: 2" in out
    assert main(["rescore", str(tmp_path / "nope")]) == 2
    assert json.loads((old.parent / f"{old.name}-rescored-1" / "manifest.json").read_text())["status"] == "finished"
