"""evals/calibration.py on hand-computed values: AUROC with ties, ECE bins, risk-coverage, record grouping."""

from __future__ import annotations

import math

import pytest
from fixtures.runs.synth import rec

from evals.calibration import (
    auroc,
    calibration_bins,
    calibration_groups,
    ece,
    risk_coverage,
    verbal_counts,
)
from evals.types import Confidence


def test_auroc_perfect_inverted_and_chance() -> None:
    assert auroc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert auroc([0.5, 0.5, 0.5, 0.5], [True, False, True, False]) == 0.5  # all tied: one half each


def test_auroc_counts_ties_one_half() -> None:
    # positives 3, 2; negatives 2, 1. Pairs: (3,2)=1, (3,1)=1, (2,2)=1/2, (2,1)=1 -> 3.5 / 4
    assert auroc([3, 2, 2, 1], [True, True, False, False]) == pytest.approx(0.875)
    # positives 1, 3; negatives 2, 2, 0: (1,2)=0 (1,2)=0 (1,0)=1 (3,*)=3 -> 4 / 6
    assert auroc([1, 3, 2, 2, 0], [True, True, False, False, False]) == pytest.approx(4 / 6)


def test_auroc_needs_both_classes() -> None:
    assert auroc([0.3, 0.4], [True, True]) is None
    assert auroc([], []) is None


def test_ece_bins_by_hand() -> None:
    probs = [0.05, 0.15, 0.15, 0.95, 1.0, 0.1]
    correct = [False, True, False, True, True, False]
    bins = calibration_bins(probs, correct)
    assert [b.n for b in bins] == [1, 3, 0, 0, 0, 0, 0, 0, 0, 2]  # 0.1 opens bin 1; 1.0 closes the last bin
    assert bins[1].accuracy == pytest.approx(1 / 3) and bins[1].confidence == pytest.approx(0.4 / 3)
    assert bins[2].accuracy is None
    # bin0: 1/6*|0-0.05|; bin1: 3/6*|1/3-0.4/3|; bin9: 2/6*|1-0.975|
    expected = 0.05 / 6 + 0.5 * (0.6 / 3) + (2 / 6) * 0.025
    assert ece(probs, correct) == pytest.approx(expected)


def test_ece_of_a_calibrated_and_an_overconfident_model() -> None:
    assert ece([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    assert ece([0.95] * 4, [False, False, True, False]) == pytest.approx(0.7)
    assert ece([], []) is None
    with pytest.raises(ValueError):
        calibration_bins([1.2], [True])


def test_risk_coverage_points() -> None:
    scores = [0.9, 0.8, 0.8, 0.3, 0.1]
    correct = [True, False, True, False, False]
    pts = risk_coverage(scores, correct)
    # keep >= 0.9: 1 kept, 0 wrong; >= 0.8: 3 kept (tie kept together), 1 wrong; >= 0.3: 4, 2; all: 5, 3
    assert pts == [(0.9, 0.2, 0.0), (0.8, 0.6, pytest.approx(1 / 3)), (0.3, 0.8, 0.5), (0.1, 1.0, 0.6)]
    assert risk_coverage([], []) == []


def with_conf(r, **fields):
    r.response.confidence = Confidence(source="logits", n_tokens=3, **fields)
    return r


def test_groups_use_attempted_answers_only() -> None:
    records = [
        with_conf(rec("s", "a", "correct"), mean_logprob=-0.1, min_logprob=-0.5, first_token_entropy=0.2),
        with_conf(rec("s", "b", "correct"), mean_logprob=-0.3, min_logprob=-2.0, first_token_entropy=1.0),
        with_conf(rec("s", "c", "incorrect"), mean_logprob=-0.2, min_logprob=-3.0, first_token_entropy=2.0),
        with_conf(rec("s", "d", "incorrect"), mean_logprob=-2.0, min_logprob=-4.0, first_token_entropy=0.5),
        with_conf(rec("s", "e", "abstained"), mean_logprob=-9.0),  # no attempt: left out
        with_conf(rec("s", "f", "invalid"), mean_logprob=5.0),
        rec("s", "g", None),  # an API error
        rec("s", "h", "correct"),  # attempted, but no confidence: counted in attempted, not in n
        with_conf(rec("s", "z", "correct", lang="zh"), mean_logprob=-0.5),
    ]
    groups = {g.key: g for g in calibration_groups(records)}
    en = groups[("s", "en")]
    assert en.attempted == 5
    mean = en.signals["mean_logprob"]
    assert (mean.n, mean.correct) == (4, 2)
    # correct -0.1, -0.3 vs incorrect -0.2, -2.0: pairs 1, 1, 0, 1 -> 3/4
    assert mean.auroc == pytest.approx(0.75)
    probs = [math.exp(x) for x in (-0.1, -0.3, -0.2, -2.0)]
    assert mean.ece == pytest.approx(ece(probs, [True, True, False, False]))
    assert en.signals["min_logprob"].auroc == 1.0 and en.signals["min_logprob"].ece is None
    # entropy: lower is surer; correct 0.2, 1.0 vs incorrect 2.0, 0.5 -> -0.2 beats both, -1.0 beats -2.0 only
    assert en.signals["neg_first_token_entropy"].auroc == pytest.approx(0.75)
    assert "verbal" not in en.signals
    assert groups[("s", "zh")].signals["mean_logprob"].auroc is None  # only correct answers


def test_verbal_signal_and_counts() -> None:
    records = [
        with_conf(rec("s", "a", "correct"), verbal=90.0, verbal_reply="90"),
        with_conf(rec("s", "b", "incorrect"), verbal=95.0, verbal_reply="95%"),
        with_conf(rec("s", "c", "incorrect"), verbal=None, verbal_reply="I am not sure"),
        rec("s", "d", "correct"),
    ]
    assert verbal_counts(records) == (3, 1)
    verbal = calibration_groups(records)[0].signals["verbal"]
    assert (verbal.n, verbal.auroc) == (2, 0.0)
    # 0.90 and 0.95 share the last bin: accuracy 1/2, mean confidence 0.925
    assert verbal.ece == pytest.approx(0.425)


# -- the report --------------------------------------------------------------------------------------

def test_parse_verbal() -> None:
    from evals.calibration import parse_verbal

    assert parse_verbal("85") == 85.0 and parse_verbal("I'd say 70%.") == 70.0 and parse_verbal("90/100") == 90.0
    assert parse_verbal("８５") == 85.0 and parse_verbal("0") == 0.0 and parse_verbal("100") == 100.0
    assert parse_verbal("150") is None and parse_verbal("not sure") is None and parse_verbal("") is None


def confident_run(tmp_path, samples: int = 1):
    from fixtures.runs.synth import make_run

    records = []
    for i in range(8):
        for k in range(samples):
            ok = i < 4
            r = rec("letter_counts", f"w{i}", "correct" if ok else "incorrect", sample=k, lang="zh" if i % 2 else "en")
            r.score.extracted = str(i if ok else 10 * i + k)  # wrong answers vary between samples
            records.append(with_conf(r, mean_logprob=-0.1 * (i + 1), min_logprob=-0.5 * (i + 1),
                                     first_token_entropy=0.3 * i))
    records.append(rec("fictional_bios", "b0", "abstained", check="fictional_bios"))
    return make_run(tmp_path, "conf", records)


def row_cells(section: str, *first: str) -> list[str]:
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and tuple(cells[:len(first)]) == first:
            return cells
    raise AssertionError(f"no row {first}")


def test_report_sections_and_risk_chart(tmp_path) -> None:
    from evals.report import write_report

    out = write_report([confident_run(tmp_path, samples=3)], tmp_path / "rep" / "r.md")
    md = out.read_text()
    png = tmp_path / "rep" / "r-risk-coverage.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "](r-risk-coverage.png)" in md
    section = md[md.index("## Confidence and calibration"):md.index("## Consistency")]
    # letter_counts, all languages: 24 attempted, 12 correct; higher mean log p for every correct answer
    cells = row_cells(section, "letter_counts", "all")
    assert cells[:4] == ["letter_counts", "all", "24", "24 / 12"] and cells[4:7] == ["1.00", "1.00", "1.00"]
    assert row_cells(section, "letter_counts", "en")[2] == "12"  # two languages: split
    assert "fictional_bios" not in section  # no attempted answer there
    consistency = md[md.index("## Consistency"):md.index("## Failing examples")]
    # 8 items; the right ones agree (1.0), the wrong ones never (1/3): mean 2/3; agreement AUROC 1
    assert row_cells(consistency, "letter_counts", "all") == ["letter_counts", "all", "8", "0.67", "24 / 12", "1.00"]


def test_no_confidence_no_section(tmp_path) -> None:
    from fixtures.runs.synth import make_run

    from evals.report import write_report

    run = make_run(tmp_path, "plain", [rec("letter_counts", "w0", "correct"), rec("letter_counts", "w1", "incorrect")])
    md = write_report([run], tmp_path / "r.md").read_text()
    assert "## Confidence and calibration" not in md and "## Consistency" not in md
    assert not (tmp_path / "r-risk-coverage.png").exists()


def test_ask_confidence_follow_up_never_changes_the_answer(tmp_path, capsys) -> None:
    import json

    from evals.cli import main
    from evals.records import iter_lines

    suite = tmp_path / "tiny.yaml"
    suite.write_text("name: tiny\nversion: 1\ncheck: letter_counts\nitems:\n"
                     "  - {id: a, lang: en, prompt: \"How many r's are in 'rr'?\", expect: {kind: number, value: 2}}\n"
                     "  - {id: b, lang: zh, prompt: \"How many r's are in 'r'?\", expect: {kind: number, value: 1}}\n")
    records = {}
    for reply, flag in (("The answer is 2.", False), ("The answer is 2.", True), ("I think it's 2.", True)):
        profile = tmp_path / "p.yaml"
        profile.write_text(f"name: scripted\nadapter: scripted\nmodel: {json.dumps(reply)}\n")
        out = tmp_path / f"runs-{reply[:5]}-{flag}"
        assert main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache",
                     *(["--ask-confidence"] if flag else [])]) == 0
        (run_dir,) = out.iterdir()
        records[(reply, flag)] = {r["item_id"]: r for r in iter_lines(run_dir / "records.jsonl")}
    plain, asked = records[("The answer is 2.", False)], records[("The answer is 2.", True)]
    for item in ("a", "b"):
        assert asked[item]["response"]["text"] == plain[item]["response"]["text"]
        assert asked[item]["score"] == plain[item]["score"]
        assert plain[item]["response"]["confidence"] is None
        # the scripted model says "The answer is 2." to the follow-up too: 2 out of 100
        assert asked[item]["response"]["confidence"] == {
            "source": "verbal", "mean_logprob": None, "min_logprob": None, "first_token_entropy": None,
            "n_tokens": 0, "verbal": 2.0, "verbal_reply": "The answer is 2."}
    assert records[("I think it's 2.", True)]["a"]["response"]["confidence"]["verbal"] == 2.0


def test_ask_confidence_is_a_stored_setting(tmp_path) -> None:
    """The flag is part of the run's settings in manifest.json, so a resume keeps asking."""
    import json

    from evals.cli import main
    from evals.manifest import read_manifest

    suite = tmp_path / "tiny.yaml"
    suite.write_text("name: tiny\nversion: 1\ncheck: letter_counts\nitems:\n"
                     "  - {id: a, lang: en, prompt: \"How many r's are in 'rr'?\", expect: {kind: number, value: 2}}\n")
    profile = tmp_path / "p.yaml"
    profile.write_text(f"name: scripted\nadapter: scripted\nmodel: {json.dumps('The answer is 2.')}\n")
    for flag in (False, True):
        out = tmp_path / f"runs-{flag}"
        assert main(["run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache",
                     *(["--ask-confidence"] if flag else [])]) == 0
        (run_dir,) = out.iterdir()
        assert read_manifest(run_dir).config.ask_confidence is flag
