"""Scorer agreement with hand-labelled answers (tests/labelled/*.jsonl): real SmolLM2-135M answers and
answers in the style of larger assistants, English and Chinese. Fails below 97% per check.

Run with `-s` to see the per-check table: `.venv/bin/pytest tests/test_scoring_labelled.py -s`.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from evals.commands.score import build_item
from evals.profiles import load_profile
from evals.scoring import ScoreContext, score

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "labelled"
CHECKS = ["fictional_bios", "post_cutoff", "letter_counts", "decimal_compare", "self_identity"]
THRESHOLD = 0.97
EXTRACTED_CHECKED = {"letter_counts", "decimal_compare"}  # checks whose extracted value is compared too


def _ctx() -> ScoreContext:
    profile = load_profile("smollm2")
    return ScoreContext(identity=profile.identity, knowledge_cutoff=profile.knowledge_cutoff)


def _same_value(a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    try:
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    except InvalidOperation:
        return False


def agreement(check: str) -> tuple[int, int, list[str]]:
    ctx = _ctx()
    path = LABELLED / f"{check}.jsonl"
    agree, total, misses = 0, 0, []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        # the item as the answer saw it: prompt, system, date and expect come from the labelled line
        result = score(check, build_item(check, row, n, ctx), row["response"], ctx)
        ok = result.outcome == row["label"]
        if ok and check in EXTRACTED_CHECKED and row["extracted"] not in (None, "*"):
            ok = _same_value(result.extracted, row["extracted"])
        total += 1
        agree += ok
        if not ok:
            misses.append(f"  #{row['n']} {row['id']}: label {row['label']}/{row['extracted']} got "
                          f"{result.outcome}/{result.extracted} ({result.why[:90]})")
    return agree, total, misses


def test_labelled_set_is_large_and_bilingual() -> None:
    rows = [json.loads(line) for check in CHECKS
            for line in (LABELLED / f"{check}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 400
    assert sum(r["lang"] == "zh" for r in rows) >= 100
    assert {r["source"].split(" ")[0] for r in rows} >= {"smollm2-135m-instruct", "hand-written,"}
    assert {r["label"] for r in rows} == {"correct", "incorrect", "abstained", "invalid"}


@pytest.mark.parametrize("check", CHECKS)
def test_agreement(check: str) -> None:
    agree, total, misses = agreement(check)
    rate = agree / total
    print(f"\n{check}: agreement {agree}/{total} = {rate:.1%}")
    print("\n".join(misses))
    assert rate >= THRESHOLD, f"{check}: {rate:.1%} < {THRESHOLD:.0%}\n" + "\n".join(misses)
