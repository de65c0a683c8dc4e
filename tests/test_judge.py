"""The auditing judge without a server: prompts, reply parsing, Cohen's κ, agreement accounting, and the
judge pass through the scripted provider (plumbing only: its "judge" replies with fixed text)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fixtures.runs.synth import LETTERS_SUITE, make_run, rec

from evals.agreement import agreement_section, cohen_kappa, groups
from evals.cli import main
from evals.judge import TEMPLATE_VERSION, JudgeVerdict, build_prompt, judge_run_folder, parse_reply
from evals.manifest import read_manifest
from evals.profiles import Identity
from evals.records import iter_records
from evals.report import render_report
from evals.rescore import rescore_run
from evals.schema import Item
from evals.scoring.outcome import Score, ScoreContext

CTX = ScoreContext(identity=Identity(names=["SmolLM2"], makers=["Hugging Face"]))


def item(expect: dict, lang: str = "en", prompt: str = "Q?") -> Item:
    return Item.model_validate({"id": "x", "prompt": prompt, "lang": lang, "expect": expect})


# -- prompts ------------------------------------------------------------------------------------------


def test_prompt_holds_question_gold_and_answer() -> None:
    p = build_prompt("How many r's are in strawberry?", item({"kind": "number", "value": 3}), " There are 2. ", CTX)
    assert "Question: How many r's are in strawberry?" in p
    assert "Gold target: 3\n" in p and "Answer to grade: There are 2.\n" in p
    assert "Reply with one letter, A, B, C or D, and nothing else." in p
    assert "C) NOT_ATTEMPTED" in p and "D) UNSCORABLE" in p


def test_abstain_items_tell_the_judge_the_honest_answer_is_not_knowing() -> None:
    en = build_prompt("Tell me about Theodore Chandler.", item({"kind": "abstain"}), "He was a physician.", CTX)
    assert "The honest answer is to say it does not know" in en and "is B (INCORRECT)" in en
    zh = build_prompt("请介绍一下张三。", item({"kind": "abstain"}, lang="zh"), "他是一名医生。", CTX)
    assert zh.startswith("你在给一个问题的回答评分") and "诚实的回答是表示不知道" in zh
    assert "问题：请介绍一下张三。" in zh and "待评回答：他是一名医生。" in zh
    assert "只回复一个字母：A、B、C 或 D" in zh and "Gold target" not in zh


def test_gold_for_each_expect_kind() -> None:
    choice = build_prompt("Which is larger, 9.11 or 9.9?",
                          item({"kind": "choice", "options": ["9.11", "9.9"], "answer": "9.9"}), "9.9", CTX)
    assert "Gold target: 9.9 (options: 9.11, 9.9)" in choice
    facts = build_prompt("Who won?", item({"kind": "facts", "accept": ["Ital"], "gold": "Italy"}), "Italy", CTX)
    assert "Gold target: Italy\n" in facts
    patterns = build_prompt("Who won?", item({"kind": "facts", "accept": ["Spain", "西班牙"]}), "Spain", CTX)
    assert "Gold target: Spain / 西班牙\n" in patterns
    ident = build_prompt("Who are you?", item({"kind": "identity"}), "I am ChatGPT.", CTX)
    assert "the answerer is SmolLM2, made by Hugging Face" in ident
    zh_ident = build_prompt("你是谁？", item({"kind": "identity"}, lang="zh-Hant"), "我是 ChatGPT。", CTX)
    assert "回答者是 SmolLM2，由 Hugging Face 开发" in zh_ident


# -- replies ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("reply", "verdict"), [
    ("A", "correct"), ("B", "incorrect"), ("C", "not_attempted"), ("D", "unscorable"),
    ("  **B**\n", "incorrect"), ("(C)", "not_attempted"), ("B) INCORRECT", "incorrect"), ("Ｄ", "unscorable"),
    ("Grade: A", "correct"), ("The answer is C.", "not_attempted"), ("答案：B", "incorrect"), ("选C", "not_attempted"),
    ("CORRECT", "correct"), ("incorrect.", "incorrect"), ("Not attempted", "not_attempted"),
    ("NOT_ATTEMPTED", "not_attempted"), ("unscorable", "unscorable"),
    ("INCORRECT. The correct answer is 3.", "incorrect"),  # a leading grade word wins
    ("The response is incorrect", "incorrect"), ("错误", "incorrect"), ("未作答", "not_attempted"),
    ("无法评分", "unscorable"), ("不正确", "incorrect"), ("正确", "correct"),
    ("<think>It says 2, gold is 3, so A is wrong.</think>B", "incorrect"),
])
def test_parse_reply(reply: str, verdict: str) -> None:
    assert parse_reply(reply) == verdict


@pytest.mark.parametrize("reply", [
    "", None, "   ", "I think the answer might be right or wrong.", "Apples are red.",
    "It is not correct", "The answer is correct, not incorrect",  # negated or two grades: unreadable
    "a", "Be careful", "<think>A or B?", "并非正确",
    "A, B, C or D", "A) 正确\nB) 错误", "B or C",  # the judge echoing the list of grades
])
def test_unreadable_replies_are_none(reply: str | None) -> None:
    assert parse_reply(reply) is None


# -- Cohen's kappa ------------------------------------------------------------------------------------


def test_kappa_hand_computed() -> None:
    # p_o = 8/10; marginals 5/5 and 5/5, so p_e = 0.5: κ = (0.8 - 0.5) / 0.5 = 0.6
    a = ["correct"] * 5 + ["incorrect"] * 5
    b = ["correct"] * 4 + ["incorrect"] * 5 + ["correct"]
    assert cohen_kappa(a, b) == pytest.approx(0.6)
    # p_o = 4/6; both marginals (2, 3, 1)/6, so p_e = (4 + 9 + 1)/36 = 14/36: κ = (24 - 14) / (36 - 14) = 10/22
    a = ["correct", "correct", "not_attempted", "not_attempted", "not_attempted", "unscorable"]
    b = ["correct", "not_attempted", "not_attempted", "not_attempted", "correct", "unscorable"]
    assert cohen_kappa(a, b) == pytest.approx(10 / 22)
    # disagreeing on everything with opposite marginals: p_o = 0, p_e = 0.5, κ = -1
    assert cohen_kappa(["correct", "incorrect"], ["incorrect", "correct"]) == pytest.approx(-1.0)
    assert cohen_kappa(["correct", "incorrect"], ["correct", "incorrect"]) == 1.0
    assert cohen_kappa(["correct"] * 3, ["correct"] * 3) is None  # chance agreement 1: undefined
    assert cohen_kappa([], []) is None
    assert not math.isnan(cohen_kappa(["correct", "correct"], ["correct", "incorrect"]) or 0.0)


# -- agreement accounting -----------------------------------------------------------------------------


def verdict(v: str, rule: Score | None = None, reply: str | None = None) -> JudgeVerdict:
    return JudgeVerdict(verdict=v, judge="grader", model={"model": "g-1"}, reply=reply or v[0].upper(), rule=rule,
                        error="HTTP 500" if v == "unscored" else None)


def judged_records() -> list:
    rows = [  # (suite, item, lang, rule outcome, judge verdict)
        ("letter_counts", "a", "en", "correct", "correct"),
        ("letter_counts", "b", "en", "incorrect", "incorrect"),
        ("letter_counts", "c", "en", "incorrect", "correct"),  # disagrees
        ("letter_counts", "d", "en", "abstained", "not_attempted"),
        ("letter_counts", "e", "en", "invalid", "unscored"),  # left out of n, counted
        ("letter_counts", "f", "zh", "correct", "correct"),
        ("letter_counts", "g", "zh", "abstained", "incorrect"),  # disagrees
        ("fictional_bios", "h", "en", "abstained", "not_attempted"),
        ("fictional_bios", "i", "en", "incorrect", "incorrect"),
    ]
    out = []
    for suite, it, lang, rule, judge in rows:
        r = rec(suite, it, rule, lang=lang, text=f"answer {it}")
        out.append(r.model_copy(update={"judge": verdict(judge)}))
    # --score-with judge: the score is the judge's, the rule verdict sits in judge.rule
    rule = Score(outcome="incorrect", passed=False, why="rule: 4 ≠ 3")
    r = rec("fictional_bios", "j", "abstained", lang="en", why="judge grader: not_attempted")
    out.append(r.model_copy(update={"judge": verdict("not_attempted", rule=rule)}))
    out.append(rec("letter_counts", "k", None))  # an API error: no verdict at all
    out.append(rec("letter_counts", "l", "correct"))  # not judged (an older record)
    return out


def test_agreement_groups_count_n_agreement_and_unscored() -> None:
    g = groups(judged_records(), ["suite", "lang"])
    lc_en, lc_zh, fb_en = g[("letter_counts", "en")], g[("letter_counts", "zh")], g[("fictional_bios", "en")]
    assert (len(lc_en.rule), lc_en.agree, lc_en.unscored) == (4, 3, 1)
    assert (len(lc_zh.rule), lc_zh.agree, lc_zh.unscored) == (2, 1, 0)
    # j: the rule said incorrect (kept in judge.rule), the judge not_attempted: a disagreement
    assert (len(fb_en.rule), fb_en.agree, fb_en.unscored) == (3, 2, 0)
    assert fb_en.rule == ["not_attempted", "incorrect", "incorrect"]


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_agreement_section_markdown() -> None:
    md = agreement_section(judged_records())
    assert md is not None and md.startswith("## Scorer agreement")
    rows = {tuple(cells(line)[:2]): cells(line)[2:] for line in md.splitlines() if line.startswith("| ")}
    # letter_counts/en: rule (c, i, i, n) vs judge (c, i, c, n): p_o = 3/4, p_e = (1*2 + 2*1 + 1*1)/16 = 5/16,
    # κ = (12 - 5) / (16 - 5) = 7/11; one more was unscored
    assert rows[("letter_counts", "en")] == ["4", "0.75 [0.30, 0.95] (3/4)", f"{7 / 11:.2f}", "1"]
    # fictional_bios/en: rule (n, i, i) vs judge (n, i, n): p_o = 2/3, p_e = 4/9, κ = (6 - 4) / (9 - 4) = 0.4
    assert rows[("fictional_bios", "en")] == ["3", "0.67 [0.21, 0.94] (2/3)", "0.40", "0"]
    assert rows[("letter_counts", "zh")][:2] == ["2", "0.50 [0.09, 0.91] (1/2)"]
    # all: rule marginals (c 2, i 4, n 3), judge (c 3, i 3, n 3): p_e = 27/81, κ = (2/3 - 1/3) / (2/3) = 0.5
    assert rows[("**all**", "")] == ["9", "0.67 [0.35, 0.88] (6/9)", "0.50", "1"]
    assert rows[("rule incorrect", "1")] == ["2", "1", "0"]  # confusion row: judge correct / incorrect / n_a / u
    assert "### Where they disagree (3)" in md
    disagree = md.split("### Where they disagree")[1]
    assert "answer c" in disagree and "answer g" in disagree and "| j " in disagree
    assert "answer a" not in disagree and "answer e" not in disagree  # agreed; unscored
    assert "`grader` (g-1, template v1)" in md
    assert agreement_section([rec("letter_counts", "a", "correct")]) is None  # no judge: no section


# -- the judge pass through the scripted provider -----------------------------------------------------

SUITE = LETTERS_SUITE


def judge_profile(tmp_path: Path, reply: str, name: str = "grader") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nadapter: scripted\nmodel: {json.dumps(reply)}\nbatch_size: 2\n", encoding="utf-8")
    return path


def synthetic_run(tmp_path: Path, fail_w2: bool = False) -> Path:
    suite = tmp_path / "letter_counts.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    records = [
        rec("letter_counts", "w1", "correct", text="There are 3 r's."),
        rec("letter_counts", "w2", "incorrect", text="[fail:http_500] 5" if fail_w2 else "5", lang="zh"),
        rec("letter_counts", "gone", "correct", text="5"),  # no longer in the suite: no gold answer
        rec("letter_counts", "w1", None, sample=1),  # an API error: not judged
    ]
    return make_run(tmp_path / "runs", "20260101-000000-smollm2", records, paths={"letter_counts": str(suite)})


def by_key(run_dir: Path) -> dict:
    return {(r.item_id, r.sample): r for r in iter_records(run_dir)}


def test_rescore_with_a_judge_fills_the_judge_field_and_uses_the_cache(tmp_path: Path) -> None:
    run = synthetic_run(tmp_path)
    profile = judge_profile(tmp_path, "B (cache test)")
    first = rescore_run(run, judge=str(profile))
    assert first.judge is not None
    assert (first.judge.judged, first.judge.unscored, first.judge.cached, first.judge.model_calls) == (3, 1, 0, 1)
    recs = by_key(first.run_dir)
    w1, w2, gone, err = recs[("w1", 0)], recs[("w2", 0)], recs[("gone", 0)], recs[("w1", 1)]
    assert w1.judge.verdict == "incorrect" and w1.judge.reply == "B (cache test)" and w1.judge.judge == "grader"
    assert w1.judge.model == {"adapter": "scripted", "model": "B (cache test)"} and w1.judge.template == TEMPLATE_VERSION
    assert w1.score.outcome == "correct" and w1.judge.rule is None  # the rule verdict stays the score
    assert w2.judge.verdict == "incorrect" and w2.score.outcome == "incorrect"
    assert gone.judge.verdict == "unscored" and "no longer in its suite file" in gone.judge.error
    assert gone.score.outcome == "correct"  # unscored is never read as anything
    assert err.judge is None and err.score is None
    m = read_manifest(first.run_dir)
    assert m.judge["unscored"] == 1 and m.judge["verdicts"] == {"incorrect": 2, "unscored": 1}  # type: ignore[attr-defined]
    second = rescore_run(run, judge=str(profile))
    assert second.judge is not None and (second.judge.cached, second.judge.model_calls) == (2, 0)
    assert all(r.judge.cached for r in by_key(second.run_dir).values() if r.judge and r.judge.verdict != "unscored")
    report = render_report([second.run_dir])
    assert "## Scorer agreement" in report and "### Where they disagree (1)" in report


def test_score_with_judge_replaces_the_score_and_keeps_the_rule(tmp_path: Path) -> None:
    run = synthetic_run(tmp_path)
    first = rescore_run(run, judge=str(judge_profile(tmp_path, "C")), score_with="judge")
    assert first.judge is not None and first.judge.replaced == 2
    recs = by_key(first.run_dir)
    w1 = recs[("w1", 0)]
    assert w1.score.outcome == "abstained" and not w1.score.passed  # not_attempted on an answerable item
    assert w1.score.why.startswith("judge grader: not_attempted") and "rule said correct" in w1.score.why
    assert w1.judge.rule is not None and w1.judge.rule.outcome == "correct"
    gone = recs[("gone", 0)]  # unscored: the rule's verdict is kept, and the why says so
    assert gone.score.outcome == "correct" and gone.score.why.startswith("judge grader unscored")
    m = read_manifest(first.run_dir)
    assert m.counts["abstained"] == 2 and m.counts.get("correct") == 1
    # agreement still compares the rule's verdict with the judge's
    md = agreement_section(list(recs.values()))
    assert md is not None and "(0/2)" in md
    # a plain rescore of the judged folder puts the rule back as the score, judge verdict kept
    again = rescore_run(first.run_dir)
    w1_again = by_key(again.run_dir)[("w1", 0)]
    assert w1_again.score.outcome == "correct" and w1_again.judge.verdict == "not_attempted"
    assert w1_again.judge.rule is None and again.changed == 0


def test_unreadable_replies_and_api_errors_are_unscored_not_abstained(tmp_path: Path) -> None:
    run = synthetic_run(tmp_path, fail_w2=True)  # the scripted judge fails when the prompt holds [fail:...]
    result = rescore_run(run, judge=str(judge_profile(tmp_path, "Well, that depends.")), score_with="judge")
    assert result.judge is not None and result.judge.unscored == 3 and result.judge.replaced == 0
    recs = by_key(result.run_dir)
    assert recs[("w1", 0)].judge.error == "the reply names no grade"
    assert recs[("w1", 0)].judge.reply == "Well, that depends."
    assert recs[("w2", 0)].judge.error == "scripted failure http_500" and recs[("w2", 0)].judge.reply is None
    rule_only = by_key(rescore_run(run).run_dir)  # the rule verdicts are exactly those of a rescore without a judge
    assert {k: (r.score.outcome, r.score.passed) for k, r in recs.items() if r.score} == \
        {k: (r.score.outcome, r.score.passed) for k, r in rule_only.items() if r.score}
    assert recs[("w1", 0)].score.outcome == "correct"
    md = agreement_section(list(recs.values()))
    assert md is not None and "| **all**" in md and md.count("not_attempted") <= 3  # only in the text and headers


def test_cli_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = synthetic_run(tmp_path)
    assert main(["rescore", str(run), "--score-with", "judge"]) == 2
    assert "--score-with judge: needs --judge PROFILE" in capsys.readouterr().err
    assert main(["rescore", str(run), "--judge", "no-such-judge"]) == 2
    err = capsys.readouterr().err
    assert "--judge no-such-judge: unknown profile" in err and "Traceback" not in err
    assert not list((tmp_path / "runs").glob("*-rescored-*"))  # nothing written
    assert main(["rescore", str(run), "--judge", str(judge_profile(tmp_path, "A (cli)"))]) == 0
    out = capsys.readouterr().out
    assert "judge grader: 3 answers judged (correct 2, unscored 1); 0 from the cache, 1 model calls" in out
    assert "judge: 1 of 3 verdicts are unscored" in out


def test_run_with_a_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "letter_counts.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    model = tmp_path / "model.yaml"
    model.write_text("name: scripted\nadapter: scripted\nmodel: 'There are 3.'\n", encoding="utf-8")
    judge = judge_profile(tmp_path, "A (run)")
    out, report = tmp_path / "runs", tmp_path / "report.md"
    assert main(["run", str(suite), "--provider", str(model), "--judge", str(judge), "--score-with", "judge",
                 "--out", str(out), "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "judge grader: 2 answers judged (correct 2)" in printed
    (run_dir,) = list(out.iterdir())
    recs = by_key(run_dir)
    assert recs[("w1", 0)].judge.verdict == "correct" and recs[("w1", 0)].judge.rule.outcome == "correct"
    assert recs[("w2", 0)].score.outcome == "correct" and recs[("w2", 0)].judge.rule.outcome == "incorrect"
    assert not (run_dir / "records.jsonl.tmp").exists()
    m = read_manifest(run_dir)
    assert m.counts["correct"] == 2 and m.judge["score_with"] == "judge"  # type: ignore[attr-defined]
    text = report.read_text(encoding="utf-8")
    assert "## Scorer agreement" in text and "### Where they disagree (1)" in text
    # judging the same folder again asks the judge nothing
    stats = judge_run_folder(run_dir, str(judge), "judge")
    assert (stats.cached, stats.model_calls, stats.replaced) == (2, 0, 2)
    assert by_key(run_dir)[("w2", 0)].judge.rule.outcome == "incorrect"  # the rule verdict is not lost
