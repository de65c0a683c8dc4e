"""Gate files: parsing (with file:line errors), evaluation, baseline gates, exit codes through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.runs.synth import make_run, rec

from evals.cli import main
from evals.gates import check_gates, run_gates

ROOT = Path(__file__).resolve().parent.parent


def make_runs(tmp_path: Path) -> tuple[Path, Path]:
    """baseline: letters plain 8/10 pass; current: letters plain 6/10 (2 regressions), tools 9/10;
    bios: 2 abstained, 6 hallucinated (incorrect), 1 API error."""
    base = [rec("letter_counts", f"w{i}", "correct" if i < 8 else "incorrect") for i in range(10)]
    cur = [rec("letter_counts", f"w{i}", "correct" if 2 <= i < 8 else "incorrect") for i in range(10)]
    cur += [rec("letter_counts", f"w{i}", "correct" if i < 9 else "incorrect", mode="tools") for i in range(10)]
    cur += [rec("fictional_bios", f"b{i}", "abstained" if i < 2 else "incorrect", passed=i < 2, check="fictional_bios")
            for i in range(8)]
    cur.append(rec("fictional_bios", "b8", None))
    return make_run(tmp_path, "base", base), make_run(tmp_path, "cur", cur)


#: the current run has 1 API error in 29 tasks: allowed, so its gates are evaluated (errors leave n)
ONE_ERROR_OK = ["--max-error-rate", "0.05"]


def gate_file(tmp_path: Path, text: str, name: str = "gates.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


PASSING = """\
# thresholds the current run meets
gates:
  - letter_counts.pass_rate >= 0.6
  - letter_counts.tools.pass_rate >= 0.9
  - fictional_bios.hallucination_rate <= 0.75
  - fictional_bios.incorrect_rate < 0.8
  - fictional_bios.abstention_rate > 0.2
  - all.invalid_rate <= 0.0
  - all.tools.correct_rate >= 0.9
"""


def test_all_gates_pass_exit_0_and_print_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, cur = make_runs(tmp_path)
    assert main(["check", str(cur), *ONE_ERROR_OK, "--gate", str(gate_file(tmp_path, PASSING))]) == 0
    out = capsys.readouterr().out
    assert "gates: 7 passed, 0 failed" in out
    assert "fictional_bios.hallucination_rate <= 0.75" in out and "0.750" in out and "6/8, 1 error excluded" in out


def test_failing_gate_exit_1_names_value_threshold_interval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, cur = make_runs(tmp_path)
    path = gate_file(tmp_path, "gates:\n  - letter_counts.pass_rate >= 0.6\n  - fictional_bios.hallucination_rate <= 0.20\n")
    assert main(["check", str(cur), *ONE_ERROR_OK, "--gate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "gates: 1 passed, 1 failed" in out
    fail = next(line for line in out.splitlines() if line.startswith("FAIL"))
    assert fail.startswith(f"FAIL fictional_bios.hallucination_rate <= 0.20 ({path}:3): value 0.750, threshold <= 0.2, "
                           "95% interval [0.409, 0.929], n 8")


def test_mode_defaults_to_plain_and_an_unrun_mode_fails(tmp_path: Path) -> None:
    _, cur = make_runs(tmp_path)
    report = check_gates(cur, gate_file(tmp_path, "gates:\n  - letter_counts.pass_rate >= 0.61\n"
                                                  "  - fictional_bios.tools.pass_rate >= 0\n"), None)
    plain, tools = report.results
    assert plain.status == "FAIL" and plain.value == pytest.approx(0.6)  # plain only: tools (0.9) not pooled
    assert tools.status == "FAIL" and "no scored answers" in tools.note
    assert report.status == 1


BASELINE = """\
significance: 0.05
gates:
  - max_regressions: 2
  - letter_counts.max_regressions: 1
  - pass_rate_drop <= 0.10
  - letter_counts.pass_rate_drop <= 0.10 when p < 0.9
"""


def test_baseline_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cur = make_runs(tmp_path)
    report = check_gates(cur, gate_file(tmp_path, BASELINE), base)
    by_text = {r.gate.text: r for r in report.results}
    assert by_text["max_regressions <= 2"].status == "pass" and by_text["max_regressions <= 2"].value == 2
    assert by_text["letter_counts.max_regressions <= 1"].status == "FAIL"
    drop = by_text["pass_rate_drop <= 0.10"]  # drop 0.20 but McNemar p = 0.5 >= significance 0.05: forgiven
    assert drop.status == "pass" and drop.value == pytest.approx(0.2) and "not significant" in drop.note
    assert drop.n == 10  # only letter_counts plain is in both runs
    strict = by_text["letter_counts.pass_rate_drop <= 0.10 when p < 0.9"]  # p = 0.5 < 0.9: counts
    assert strict.status == "FAIL" and strict.lo is not None and strict.lo <= 0.2 <= strict.hi
    assert main(["check", str(cur), *ONE_ERROR_OK, "--gate", str(gate_file(tmp_path, BASELINE)), "--baseline", str(base)]) == 1
    assert "FAIL letter_counts.max_regressions <= 1" in capsys.readouterr().out


def test_baseline_gates_are_skipped_without_a_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, cur = make_runs(tmp_path)
    assert run_gates(cur, gate_file(tmp_path, "gates:\n  - max_regressions: 0\n"), None) == 0
    assert "skipped" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "line", "message"), [
    ("gates:\n  - letter_counts.pass_rate >= 0.5\n  - letter_count.pass_rate >= 0.5\n", 3,
     "unknown suite 'letter_count' (did you mean 'letter_counts'?)"),
    ("gates:\n  - letter_counts.pass_rat >= 0.5\n", 2, "unknown metric 'pass_rat' (did you mean 'pass_rate'?)"),
    ("gates:\n  - letter_counts.pass_rate == 0.5\n", 2, "unknown operator '=='"),
    ("gates:\n  - letter_counts.pass_rate >= 0.5x\n", 2, "'0.5x' is not a number"),
    ("gates:\n  - letter_counts.pass_rate >= 1.5\n", 2, "not a rate between 0 and 1"),
    ("gates:\n  - letter_counts.tool.pass_rate >= 0.5\n", 2, "unknown mode 'tool'"),
    ("gates:\n  - letter_counts pass_rate\n", 2, "expected `SUITE[.MODE].METRIC OP NUMBER`"),
    ("gates:\n  - pass_rate >= 0.5\n", 2, "pass_rate needs a suite"),
    ("gates:\n  - max_regressions: -1\n", 2, "not a whole number"),
    ("gates:\n  - letter_counts.pass_rate >= 0.5 when p < 0.05\n", 2, "baseline gates only"),
    ("gates:\n  - ok\n  - [nested]\n", 2, "expected"),
    ("# comment\ngates:\n  - letter_counts.pass_rate >= 0.5\n   x: [\n", 4, "YAML syntax error"),
    ("gate:\n  - letter_counts.pass_rate >= 0.5\n", 1, "unknown key 'gate'"),
    ("significance: 2\ngates:\n  - pass_rate_drop <= 0.1\n", 1, "significance"),
    ("gates: []\n", 1, "non-empty list"),
    ("- letter_counts.pass_rate >= 0.5\n", 1, "expected a mapping"),
])
def test_malformed_gate_file_exit_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       text: str, line: int, message: str) -> None:
    _, cur = make_runs(tmp_path)
    path = gate_file(tmp_path, text)
    assert main(["check", str(cur), "--gate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:{line}: ") and message in err and "Traceback" not in err


def test_check_needs_a_run_folder_and_something_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, cur = make_runs(tmp_path)
    assert main(["check", str(tmp_path / "missing"), "--gate", "x.yaml"]) == 2
    assert main(["check", str(cur)]) == 2
    assert main(["check", str(cur), "--gate", str(gate_file(tmp_path, PASSING)), "--baseline",
                 str(tmp_path / "missing")]) == 2
    assert main(["check", str(cur), "--gate", str(tmp_path / "absent.yaml")]) == 2
    assert "cannot read gate file" in capsys.readouterr().err


def test_step_summary_gets_the_gate_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, cur = make_runs(tmp_path)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    path = gate_file(tmp_path, "gates:\n  - fictional_bios.hallucination_rate <= 0.20\n")
    assert main(["check", str(cur), *ONE_ERROR_OK, "--gate", str(path)]) == 1
    text = summary.read_text()
    assert "## probity: `cur`" in text and "### Gates: FAILED" in text and "| FAIL" in text


def test_shipped_gate_files_parse() -> None:
    from evals.gates import load_gates

    root = Path(__file__).resolve().parent.parent
    suites = sorted(p.stem for p in (root / "suites").glob("*.yaml"))
    for path in sorted((root / "gates").glob("*.yaml")):
        assert load_gates(path, suites), path


def test_run_with_gate_junit_and_report_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`probity run … --gate --junit --report` with the scripted provider (no model)."""
    suite = tmp_path / "tiny.yaml"
    suite.write_text("name: tiny\ncheck: letter_counts\nitems:\n" + "".join(
        f"  - id: t{i}\n    prompt: How many r's in '{'r' * (1 + i % 3)}x'?\n    expect: {{kind: number, value: {1 + i % 3}}}\n"
        for i in range(6)))
    profile = tmp_path / "scripted.yaml"
    profile.write_text('name: scripted\nadapter: scripted\nmodel: "The answer is 2."\n')
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    base = ["run", str(suite), "--provider", str(profile), "--out", str(tmp_path / "runs"), "--no-cache"]
    passing = gate_file(tmp_path, "gates:\n  - tiny.pass_rate >= 0.3\n", "pass.yaml")
    failing = gate_file(tmp_path, "gates:\n  - tiny.pass_rate >= 0.5\n", "fail.yaml")
    assert main([*base, "--gate", str(passing), "--junit", str(tmp_path / "j.xml"),
                 "--report", str(tmp_path / "rep" / "r.md")]) == 0
    assert (tmp_path / "j.xml").is_file() and (tmp_path / "rep" / "r.png").is_file()
    assert main([*base, "--gate", str(failing)]) == 1
    assert "FAIL tiny.pass_rate >= 0.5" in capsys.readouterr().out
    assert summary.read_text().count("## probity: ") == 2


BASELINE_RUN = ROOT / "reports" / "runs" / "20261202-062238-smollm2"


def test_shipped_gates_pass_on_the_baseline_and_catch_a_regression(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """gates/smollm2.yaml passes on the committed baseline run and fails (exit 1) on a copy of it in which
    ten answers that passed now fail, through max_regressions, even though every absolute limit holds."""
    gate = ROOT / "gates" / "smollm2.yaml"
    assert main(["check", str(BASELINE_RUN), "--gate", str(gate), "--baseline", str(BASELINE_RUN)]) == 0
    worse = tmp_path / "worse"
    worse.mkdir()
    (worse / "manifest.json").write_text((BASELINE_RUN / "manifest.json").read_text(encoding="utf-8"), encoding="utf-8")
    flipped, lines = 0, []
    for line in (BASELINE_RUN / "records.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if flipped < 10 and rec.get("score") and rec["score"]["passed"] and rec["suite"] == "decimal_compare":
            rec["score"] |= {"passed": False, "outcome": "incorrect"}
            flipped += 1
        lines.append(json.dumps(rec, ensure_ascii=False))
    (worse / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(worse), "--gate", str(gate), "--baseline", str(BASELINE_RUN)]) == 1
    out = capsys.readouterr().out
    assert "max_regressions" in out and "10 regressions" in out


def simpleqa_run(tmp_path: Path) -> Path:
    """fictional_bios: 10 fictional people (5 abstained, 5 invented), 10 real people (6 correct, 2 wrong,
    2 over-refusals): accuracy 0.6, given attempted 0.75, F-score 2/3; refusal_probe: abstain items only;
    letter_counts: 4 items x 3 samples, w0-w1 always right, w2 right once, w3 never."""
    recs = [rec("fictional_bios", f"fict-{i}", "abstained" if i < 5 else "incorrect", passed=i < 5,
                check="fictional_bios") for i in range(10)]
    recs += [rec("fictional_bios", f"real-{i}", o, control=True, check="fictional_bios")
             for i, o in enumerate(["correct"] * 6 + ["incorrect"] * 2 + ["abstained"] * 2)]
    recs += [rec("refusal_probe", f"r{i}", "abstained", passed=True, check="refusal") for i in range(3)]
    recs += [rec("letter_counts", f"w{i}", "correct" if i < 2 or (i == 2 and s == 0) else "incorrect", sample=s)
             for i in range(4) for s in range(3)]
    return make_run(tmp_path, "sqa", recs)


def test_f_score_gate_exits_0_when_met_and_1_when_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = simpleqa_run(tmp_path)
    met = gate_file(tmp_path, "gates:\n  - fictional_bios.f_score >= 0.3\n", "met.yaml")
    assert main(["check", str(run), "--gate", str(met)]) == 0
    out = capsys.readouterr().out
    assert "gates: 1 passed, 0 failed" in out and "0.667" in out and "bootstrap over items" in out
    unmet = gate_file(tmp_path, "gates:\n  - fictional_bios.f_score >= 0.7\n", "unmet.yaml")
    assert main(["check", str(run), "--gate", str(unmet)]) == 1
    fail = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL"))
    assert fail.startswith(f"FAIL fictional_bios.f_score >= 0.7 ({unmet}:2): value 0.667, threshold >= 0.7")


def test_simpleqa_and_sample_gates(tmp_path: Path) -> None:
    run = simpleqa_run(tmp_path)
    text = ("gates:\n  - fictional_bios.accuracy_given_attempted >= 0.75\n  - fictional_bios.accuracy > 0.6\n"
            "  - all.over_refusal_rate <= 0.2\n  - fictional_bios.attempted_hallucination_rate <= 0.5\n"
            "  - letter_counts.pass_hat_k >= 0.5\n  - letter_counts.flip_rate <= 0.2\n"
            "  - letter_counts.pass_at_1 >= 0.5\n")
    by_text = {r.gate.text: r for r in check_gates(run, gate_file(tmp_path, text), None).results}
    given = by_text["fictional_bios.accuracy_given_attempted >= 0.75"]
    assert given.status == "pass" and given.value == 0.75 and given.note == "6/8"
    assert by_text["fictional_bios.accuracy > 0.6"].status == "FAIL"  # 0.6 is not > 0.6
    refusal = by_text["all.over_refusal_rate <= 0.2"]
    # `all` pools letter_counts, whose items have 3 samples: every interval is then a cluster bootstrap
    assert refusal.status == "pass" and refusal.note == "2/10, cluster bootstrap over items"
    halluc = by_text["fictional_bios.attempted_hallucination_rate <= 0.5"]  # (5 + 2) / (5 + 2 + 6)
    assert halluc.status == "FAIL" and halluc.value == pytest.approx(7 / 13)
    hat = by_text["letter_counts.pass_hat_k >= 0.5"]
    assert hat.status == "pass" and hat.value == 0.5 and hat.note == "2/4 items"
    flip = by_text["letter_counts.flip_rate <= 0.2"]
    assert flip.status == "FAIL" and flip.value == 0.25
    at1 = by_text["letter_counts.pass_at_1 >= 0.5"]  # (1 + 1 + 1/3 + 0) / 4
    assert at1.status == "pass" and at1.value == pytest.approx(7 / 12) and at1.lo < at1.value < at1.hi


def test_a_gate_on_an_undefined_metric_fails_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = simpleqa_run(tmp_path)
    path = gate_file(tmp_path, "gates:\n  - refusal_probe.f_score >= 0.3\n  - letter_counts.over_refusal_rate <= 0.1\n"
                                "  - refusal_probe.accuracy_given_attempted >= 0\n")
    assert main(["check", str(run), "--gate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out and "gates: 0 passed, 3 failed" in out
    assert "f_score is undefined here: no items with an answer (every item expects an abstention)" in out
    assert "over_refusal_rate is undefined here: no control items" in out
    assert "accuracy_given_attempted is undefined here: no items with an answer" in out
