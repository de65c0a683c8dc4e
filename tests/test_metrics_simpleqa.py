"""SimpleQA's metrics, over-refusal and sample consistency: values against hand counts, which items
count as answerable, intervals (Wilson, bootstrap, cluster bootstrap) and the tables that show them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from fixtures.runs.synth import make_run, rec

from evals.manifest import read_manifest
from evals.metrics import expect_kinds, records_frame, scope_metrics
from evals.stats import wilson
from evals.tables import simpleqa_table, summary_tables

ABSTAIN = "fictional_bios"


def bios() -> list:
    """10 fictional people (the honest answer is to abstain): 5 abstained, 4 invented a life, 1 invalid;
    10 real people (controls): 6 correct, 2 wrong, 2 abstained (over-refusals)."""
    out = [rec(ABSTAIN, f"fict-{i}", "abstained", passed=True, check=ABSTAIN) for i in range(5)]
    out += [rec(ABSTAIN, f"fict-{i}", "incorrect", check=ABSTAIN) for i in range(5, 9)]
    out.append(rec(ABSTAIN, "fict-9", "invalid", check=ABSTAIN))
    outcomes = ["correct"] * 6 + ["incorrect"] * 2 + ["abstained"] * 2
    out += [rec(ABSTAIN, f"real-{i}", o, control=True, check=ABSTAIN, lang="zh" if i % 2 else "en")
            for i, o in enumerate(outcomes)]
    return out


def test_simpleqa_metrics_match_hand_counts() -> None:
    m = scope_metrics(records_frame(bios()))
    acc, given = 6 / 10, 6 / 8
    assert (m["accuracy"].value, m["accuracy"].k, m["accuracy"].n) == (acc, 6, 10)  # controls only: probes abstain
    assert (m["accuracy_given_attempted"].value, m["accuracy_given_attempted"].n) == (given, 8)
    assert m["f_score"].value == pytest.approx(2 * acc * given / (acc + given))
    # every attempt on a fictional person is wrong: 4 + 2 incorrect among 4 + 2 + 6 attempted
    assert (m["attempted_hallucination_rate"].k, m["attempted_hallucination_rate"].n) == (6, 12)
    assert (m["over_refusal_rate"].value, m["over_refusal_rate"].n) == (0.2, 10)
    assert (m["invalid_rate"].k, m["invalid_rate"].n) == (1, 20)
    assert (m["hallucination_rate"].k, m["hallucination_rate"].n) == (6, 20)  # today's rate is unchanged


def test_counted_rates_get_wilson_and_the_f_score_a_seeded_bootstrap() -> None:
    df = records_frame(bios())
    m = scope_metrics(df)
    for name in ("accuracy", "accuracy_given_attempted", "attempted_hallucination_rate", "over_refusal_rate"):
        assert m[name].method == "wilson" and (m[name].lo, m[name].hi) == wilson(m[name].k, m[name].n)
    f = m["f_score"]
    assert f.method == "bootstrap" and f.lo < f.value < f.hi
    assert scope_metrics(df, ["f_score"])["f_score"] == f  # seeded: the same interval every time


def test_metrics_undefined_without_answerable_items_or_controls() -> None:
    probes = records_frame([r for r in bios() if not r.control])
    m = scope_metrics(probes)
    for name in ("accuracy", "accuracy_given_attempted", "f_score"):
        assert not m[name].defined and "every item expects an abstention" in m[name].undefined
    assert not m["over_refusal_rate"].defined and m["over_refusal_rate"].undefined == "no control items"
    assert m["attempted_hallucination_rate"].value == 1.0  # any attempt on a fictional person is one


def test_nothing_attempted_gives_f_score_zero_and_no_accuracy_given_attempted() -> None:
    df = records_frame([rec("letter_counts", f"w{i}", "abstained") for i in range(4)])
    m = scope_metrics(df)
    assert not m["accuracy_given_attempted"].defined and "no attempted answers" in m["accuracy_given_attempted"].undefined
    assert m["accuracy"].value == 0 and m["f_score"].value == 0  # SimpleQA's convention


def test_which_items_have_an_answer() -> None:
    """Without the suite file: a check that scores no `abstain` items has answers; controls have answers;
    a probe of a mixed check has one only if an answer shows it (correct, or a failed abstention)."""
    records = [rec("letter_counts", "w0", "incorrect"), rec(ABSTAIN, "fict-0", "incorrect", check=ABSTAIN),
               rec(ABSTAIN, "real-0", "incorrect", control=True, check=ABSTAIN),
               rec("post_cutoff", "dated-0", "abstained", passed=False, check="post_cutoff"),
               rec("post_cutoff", "future-0", "abstained", passed=True, check="post_cutoff")]
    df = records_frame(records)
    assert df.set_index("item_id")["answerable"].to_dict() == {
        "w0": True, "fict-0": False, "real-0": True, "dated-0": True, "future-0": False}
    # the suite file, when given, decides
    df = records_frame(records, {(ABSTAIN, "fict-0"): "facts", ("post_cutoff", "dated-0"): "abstain"})
    assert df.set_index("item_id")["answerable"].to_dict()["fict-0"] is True
    assert df.set_index("item_id")["answerable"].to_dict()["dated-0"] is False


def test_expect_kinds_come_from_the_suite_files_the_manifest_names(tmp_path: Path) -> None:
    suite = tmp_path / "bios.yaml"
    suite.write_text("name: fictional_bios\ncheck: fictional_bios\nitems:\n"
                     "  - {id: p0, prompt: Who is Ann Zed?, expect: {kind: abstain}}\n"
                     "  - {id: p1, prompt: Who is Bo Yu?, expect: {kind: facts, accept: [poet]}}\n", encoding="utf-8")
    run = make_run(tmp_path, "r", [rec(ABSTAIN, "p0", "incorrect", check=ABSTAIN),
                                   rec(ABSTAIN, "p1", "incorrect", check=ABSTAIN)],
                   paths={ABSTAIN: str(suite)})
    kinds = expect_kinds(read_manifest(run))
    assert kinds == {(ABSTAIN, "p0"): "abstain", (ABSTAIN, "p1"): "facts"}
    missing = make_run(tmp_path, "gone", [rec(ABSTAIN, "p0", "incorrect", check=ABSTAIN)],
                       paths={ABSTAIN: str(tmp_path / "nowhere.yaml")})
    assert expect_kinds(read_manifest(missing)) == {}


def sampled(k: int = 5) -> list:
    """20 items x k samples: items 0-9 pass every sample, 10-14 fail every sample, 15-19 pass only sample 0."""
    out = []
    for i in range(20):
        for s in range(k):
            ok = i < 10 or (i >= 15 and s == 0)
            out.append(rec("letter_counts", f"w{i}", "correct" if ok else "incorrect", sample=s))
    return out


def test_pass_hat_k_pass_at_1_and_flip_rate() -> None:
    m = scope_metrics(records_frame(sampled()))
    assert (m["pass_hat_k"].k, m["pass_hat_k"].n) == (10, 20)
    assert m["pass_at_1"].value == pytest.approx((10 * 1.0 + 5 * 0.2) / 20)
    assert (m["flip_rate"].k, m["flip_rate"].n) == (5, 20)
    assert m["pass_hat_k"].lo < 0.5 < m["pass_hat_k"].hi


def test_samples_widen_the_interval_through_the_cluster_bootstrap() -> None:
    """Five identical samples per item carry the information of one: the cluster bootstrap over 20 items
    must be about as wide as 20 answers' interval, not as narrow as 100 independent answers'."""
    records = [rec("letter_counts", f"w{i}", "correct" if i < 10 else "incorrect", sample=s)
               for i in range(20) for s in range(5)]
    df = records_frame(records)
    v = scope_metrics(df, ["accuracy"])["accuracy"]
    assert v.method == "cluster bootstrap" and (v.k, v.n) == (50, 100)
    naive_lo, naive_hi = wilson(50, 100)
    items_lo, items_hi = wilson(10, 20)
    assert v.hi - v.lo > 1.5 * (naive_hi - naive_lo)
    assert v.hi - v.lo == pytest.approx(items_hi - items_lo, abs=0.1)
    assert scope_metrics(df, ["accuracy"])["accuracy"] == v  # seeded, deterministic


def test_simpleqa_table_shows_a_dash_where_a_metric_is_undefined() -> None:
    from evals.tables import with_split

    table = simpleqa_table(with_split(records_frame(bios())), ["suite", "split"])
    probe = next(line for line in table.splitlines() if "| probe" in line)
    control = next(line for line in table.splitlines() if "| control" in line)
    cells = [c.strip() for c in probe.strip("|").split("|")]
    assert cells[2:5] == ["–", "–", "–"] and cells[5].startswith("1.00")  # accuracy, given attempted, F; halluc.
    assert "0.60 [" in control and "(6/10)" in control and "(6/8)" in control and "(2/10)" in control


def test_summary_tables_add_consistency_only_for_sampled_runs() -> None:
    single = summary_tables(records_frame(bios()))
    assert any(t.startswith("SimpleQA metrics (95% intervals: Wilson") for t in single)
    assert "Consistency across samples" not in single
    many = summary_tables(records_frame(sampled()))
    assert any("cluster bootstrap over items, 5 samples per item" in t for t in many)
    table = many["Consistency across samples"]
    assert "pass^K" in table and "0.50 [" in table and "(10/20)" in table and "(5/20)" in table
    simpleqa = next(v for t, v in many.items() if t.startswith("SimpleQA metrics (")).splitlines()[-1]
    assert "(55/100)" in simpleqa and "(n 100)" in simpleqa and "(0/100)" in simpleqa  # F-score is not a count


def test_report_has_the_simpleqa_section(tmp_path: Path) -> None:
    from evals.report import render_report

    text = render_report([make_run(tmp_path, "r", bios())])
    assert "## SimpleQA metrics" in text and "accuracy given attempted" in text
    assert "(6/8)" in text and "over-refusal (of controls)" in text
    assert not math.isnan(scope_metrics(records_frame(bios()))["f_score"].lo)
