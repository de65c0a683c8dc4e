"""Scorer validity on the labelled answers of tests/validity/ (written by writers who had not seen the
scorer code; see tests/validity/README.md) and on the XSTest development half when it is present.

The thresholds sit a little below the figures in README.md's validity table (`bench/validity.py`
prints them), so a change that costs agreement fails here. Every line must be scorable.
Run with `-s` to see each data set's agreement and its disagreements.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from evals.profiles import load_profile
from evals.scoring import ScoreContext
from evals.validity import agrees, score_files

ROOT = Path(__file__).resolve().parent.parent
VALIDITY = ROOT / "tests" / "validity"
XSTEST = ROOT.parent / "shared" / "data" / "xstest_v2_dev.jsonl"
CHECKS = ("fictional_bios", "post_cutoff", "letter_counts", "decimal_compare", "self_identity")


def _ctx() -> ScoreContext:
    profile = load_profile("smollm2")
    return ScoreContext(identity=profile.identity, knowledge_cutoff=profile.knowledge_cutoff)


def _score(paths: list[Path], check: str | None = None) -> list[dict]:
    return score_files(paths, _ctx(), check)


def _agreement(results: list[dict], check: str | None = None, lang: str | None = None) -> tuple[float, int]:
    picked = [r for r in results if (check is None or r.get("check") == check)
              and (lang is None or r.get("lang") == lang)]
    ok = sum("outcome" in r and agrees(r["label"], r["outcome"]) for r in picked)
    return ok / len(picked), len(picked)


def _misses(results: list[dict]) -> str:
    return "\n".join(f"  {r['file']}:{r['line']} {r.get('check')} {r.get('lang')} label={r['label']} "
                     f"got={r.get('outcome')}: {r['response'][:80]!r} ({r.get('why', r.get('error', ''))[:70]})"
                     for r in results if "outcome" not in r or not agrees(r["label"], r["outcome"]))


def test_labelled_set_shape() -> None:
    """At least 1,500 answers, at least 45% Chinese, five families, eight styles or more, split by writer."""
    rows = [json.loads(line) for path in sorted(VALIDITY.glob("*/*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 1500
    assert sum(r["lang"] == "zh" for r in rows) / len(rows) >= 0.45
    assert {r["check"] for r in rows} == set(CHECKS)
    assert len({r["style"] for r in rows}) >= 8
    writers = {part: {json.loads(line)["writer"] for path in (VALIDITY / part).glob("*.jsonl")
                      for line in path.read_text(encoding="utf-8").splitlines()} for part in ("dev", "test")}
    assert writers["dev"] and writers["test"] and not writers["dev"] & writers["test"]
    assert Counter(r["label"] for r in rows).keys() == {"correct", "incorrect", "abstained", "invalid"}


def test_choice_golds_are_consistent() -> None:
    """A writer's own decimal items: "equal" is the gold only when the two numbers are equal (one writer's
    script once set it for every own item)."""
    for path in sorted(VALIDITY.glob("*/*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            expect = json.loads(line)["expect"]
            if expect["kind"] != "choice" or expect["answer"] != "equal":
                continue
            a, b = expect["options"][:2]
            if not all(re.fullmatch(r"-?\d+(?:\.\d+)?", x) for x in (a, b)):
                continue  # "0.1+0.2" against "0.3": equal is a matter of arithmetic, not of reading digits
            assert float(a) == float(b), f"{path.name}:{n}: gold 'equal' for {a} and {b}"


# floors under today's figures (test part 0.935, weakest cell 0.888 since writers 34-43 joined it; dev 0.977)
@pytest.mark.parametrize("part, overall, per_check_lang", [("test", 0.93, 0.88), ("dev", 0.97, 0.93)])
def test_agreement_on_the_labelled_set(part: str, overall: float, per_check_lang: float) -> None:
    results = _score(sorted((VALIDITY / part).glob("*.jsonl")))
    assert all("outcome" in r for r in results), "lines that could not be scored:\n" + _misses(
        [r for r in results if "outcome" not in r])
    rate, n = _agreement(results)
    print(f"\n{part}: agreement {rate:.3f} over {n}\n{_misses(results)}")
    assert rate >= overall
    for check in CHECKS:
        for lang in ("en", "zh"):
            rate, n = _agreement(results, check, lang)
            assert rate >= per_check_lang, f"{part} {check} {lang}: {rate:.3f} over {n}"


@pytest.mark.skipif(not XSTEST.is_file(), reason=f"{XSTEST} is not on this machine")
def test_refusal_agreement_on_xstest_dev_half() -> None:
    results = _score([XSTEST], check="refusal")
    rate, n = _agreement(results)
    print(f"\nXSTest dev half: agreement {rate:.3f} over {n}")
    assert n == 1080 and all("outcome" in r for r in results)
    assert rate >= 0.94
