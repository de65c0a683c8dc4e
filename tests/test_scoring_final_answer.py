"""The final-answer extractor (evals/scoring/final_answer.py) and the two scorers that read through it."""

from __future__ import annotations

import pytest

from evals.profiles import Identity
from evals.schema import Item
from evals.scoring import ScoreContext, score
from evals.scoring.final_answer import is_bare, views, without_reasoning
from evals.scoring.invalid import clean

CTX = ScoreContext(identity=Identity(names=["SmolLM2"], makers=["Hugging Face"]), knowledge_cutoff="2024-06")


def first(answer: str) -> tuple[str, str]:
    """(rule, text) of the strongest view of a reply, after the scorers' normalisation."""
    text = clean(answer, "q").text
    v = views(text, answer)[0]
    return v.rule, v.span


@pytest.mark.parametrize("answer, rule, span", [
    ("Let me think. The digits differ at the tenths.\nFinal answer: 9.9", "answer marker", "Final answer: 9.9"),
    ("比较十分位。\n答案是 9.9。", "answer marker", "答案是 9.9。"),
    (r"We compare digit by digit, so \boxed{9.9}", "boxed", "9.9"),
    ("十分位 9 > 1，所以 9.9 更大。", "conclusion", "所以 9.9 更大。"),
    ("**Yes.**\n\n- 6.3 = **6.30**\n- 6.25 = 6.25", "bold verdict", "Yes."),
    ("Write both to two places. 0.80 against 0.75: the tenths digit settles it. 0.8.", "last line", "0.8."),
    ("Total: 3", "answer marker", "Total: 3"),
    ("'r' appears 2 times... wait, actually it appears 3 times", "text after a self-correction",
     "it appears 3 times"),
    ("So 2 - wait, no, I listed three positions: 3 l's.", "text after a self-correction",
     "I listed three positions: 3 l's."),
])
def test_the_strongest_view(answer: str, rule: str, span: str) -> None:
    assert first(answer) == (rule, span)


def test_a_marker_that_ends_its_line_takes_the_next_line() -> None:
    v = views("Let me count.\nAnswer:\n3\nHope that helps")[0]
    assert (v.rule, v.span) == ("answer marker", "Answer:\n3")


def test_the_ladder_is_climbed_after_a_correction_first() -> None:
    text = "9.11 更大……等等，不对。应该按位比较：所以 9.9 更大。\n答：9.9"
    rules = [v.rule for v in views(text)]
    assert rules[0] == "answer marker after a self-correction"
    assert rules[-1] == "whole reply" and "answer marker" in rules


@pytest.mark.parametrize("answer, kept, gone", [
    ("9.9 is larger. Many people think 9.11 is larger because it has more digits.", "9.9 is larger.", "9.11"),
    ("8.65有三位数字，看起来更大，所以8.7更小。", "所以8.7更小", "看起来"),
    ("At first glance 9.11 looks bigger, but 9.9 is bigger.", "but 9.9 is bigger", "9.11"),
    ("有些人会说有四个，但其实只有三个。", "只有三个", "四个"),  # "有些人会说": what others say
])
def test_a_reported_belief_is_never_the_verdict(answer: str, kept: str, gone: str) -> None:
    text = views(answer)[-1].text
    assert kept in text and gone not in text


def test_a_reported_belief_does_not_decide_the_choice() -> None:
    for answer in ("9.9 is larger. Actually, many people think 9.11 is larger because it has more digits.",
                   "**Note:** people often think 9.11 is larger. But 9.9 is larger."):
        assert verdict("decimal_compare", "Which is larger, 9.11 or 9.9?", LARGER, answer)[0] == "correct"


def test_without_reasoning_blanks_code_spellings_and_enumerations() -> None:
    raw = "```python\nprint('coffee'.count('e'))  # 2\n```\nb-a-l-l-o-o-n\n1. s\n2. t\nSo it is 2 (one at 5, one at 6)."
    text = clean(raw, "q").text
    bare = without_reasoning(text, raw)
    assert "count" not in bare and "b-a-l" not in bare and "1. s" not in bare and "one at 5" not in bare
    assert "So it is 2" in bare


@pytest.mark.parametrize("line, bare", [
    ("0.8.", True), ("Total 6.", True), ("3 r's", True), ("答:是", True), ("Yes.", True),
    ("9.11 and 9.9", False),  # restating both numbers is no answer
    ("- e: 2", False),  # a list item is reasoning
    ("The party gains 50 XP!", False), ("蕉 is 5。", False), ("我是一个小模型。", False),
])
def test_a_bare_answer_line(line: str, bare: bool) -> None:
    assert is_bare(line) is bare


def verdict(check: str, prompt: str, expect: dict, answer: str) -> tuple[str, str]:
    s = score(check, Item(id="x", prompt=prompt, expect=expect), answer, CTX)
    return s.outcome, s.why


LARGER = {"kind": "choice", "options": ["9.11", "9.9", "equal"], "answer": "9.9"}
YES = {"kind": "choice", "options": ["yes", "no"], "answer": "yes"}


@pytest.mark.parametrize("prompt, expect, answer, outcome, rule", [
    ("Which is larger, 9.11 or 9.9?", LARGER, "9.11 has more digits, so 9.11 is larger... wait, no: 9.9 is larger "
     "than 9.11.", "correct", "after a self-correction"),
    ("9.11和9.9哪个大？", LARGER, "9.11 的小数部分是11，所以9.11更大……等等，不对，应该先补齐位数：9.90 和 9.11，所以 9.9 更大。",
     "correct", "after a self-correction"),
    ("Is 21.5 greater than 21.45? Answer yes or no.", YES,
     "21.45 has more digits... so is it bigger? No wait: 21.5 = 21.50, and 50 > 45. Yes.", "correct",
     "after a self-correction"),
    ("Which is larger, 9.11 or 9.9?", LARGER, "Pad both to two places and compare the tenths. 9.90 vs 9.11.\n9.9.",
     "correct", "last line"),
    ("Which is larger, 9.11 or 9.9?", LARGER, "Comparing 9.11 and 9.9.", "invalid", ""),  # restating is no choice
    ("Which Django version is newer, 1.9 or 1.11?", {"kind": "choice", "options": ["1.9", "1.11"], "answer": "1.11"},
     "That said: Django 1.11 (April 2017, an LTS) is newer than 1.9 (December 2015).", "correct",
     "without reasoning"),
    ("Is 7.0 greater than 7? Answer yes or no.", {"kind": "choice", "options": ["yes", "no"], "answer": "no"},
     "No. They are equal, so 7.0 is not greater.", "correct", ""),  # a negated designation names nothing
    ("8.88 和 8.9 哪个更大？", {"kind": "choice", "options": ["8.88", "8.9", "equal"], "answer": "8.9"},
     "8.88 更大……等等，我不确定这样比对不对。抱歉，这道题我没法给你可靠的答案。", "abstained", "self-correction"),
])
def test_decimal_scorer_reads_the_final_answer(prompt: str, expect: dict, answer: str, outcome: str,
                                               rule: str) -> None:
    got, why = verdict("decimal_compare", prompt, expect, answer)
    assert got == outcome, why
    assert rule in why


def count(value: int) -> dict:
    return {"kind": "number", "value": str(value)}


@pytest.mark.parametrize("prompt, value, answer, outcome, rule", [
    ("How many l's are in the word \"parallel\"?", 3,
     "p-a-r-a-l-l-e-l. l at positions 5, 6... and 8. So 2 - wait, no, I listed three positions: 3 l's.", "correct",
     "after a self-correction"),
    ("Ignoring case, how many I's are in \"MiSSiSSiPPi\"?", 4,
     "M-i-S-S-i-S-S-i-P-P-i. i's at 2, 5, 8... so 3 - wait, there's one more at 11. 4.", "correct",
     "after a self-correction"),
    ("“coffee”里有几个e？", 2, "```python\nprint('coffee'.count('e'))  # 输出: 2\n```\n答：2 个 e。", "correct",
     "answer marker"),
    ("In the word \"rrrrrsszour\", how many times does 'r' occur?", 6,
     "rrrrr at the start = 5, then s, s, z, o, u, r → one more r. Total 6.", "correct", "last line"),
    ("How many times does the letter 'f' appear in the word 'giraffe'?", 2, "g-i-r-a-f-f-e: two f's.", "correct",
     "without reasoning"),
    ("How many r's are in the word 'strawberry'?", 3,
     "Spell it: s-t-r-a-w-b-e-r-r-y.\n- r at position 3 (st**r**aw)\n- r at positions 8 and 9 (be**rr**y)\n\nTotal: 3.",
     "correct", "answer marker"),
    ("How many r's are in the word 'strawberry'?", 3,
     "s-t-r... wait, I'm not able to count letters reliably, sorry.", "abstained", "self-correction"),
])
def test_letter_scorer_reads_the_final_answer(prompt: str, value: int, answer: str, outcome: str,
                                              rule: str) -> None:
    got, why = verdict("letter_counts", prompt, count(value), answer)
    assert got == outcome, why
    assert rule in why
