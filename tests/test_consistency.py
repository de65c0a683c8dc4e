"""evals/consistency.py: answer keys, item consistency, per-answer agreement and its AUROC."""

from __future__ import annotations

import pytest
from fixtures.runs.synth import rec

from evals.consistency import (
    ABSTAINED,
    agreements,
    answer_key,
    consistency_groups,
    item_consistency,
    normalise,
)


def sample(item: str, k: int, outcome: str, extracted: str | None, check: str = "letter_counts", **kw):
    r = rec("s", item, outcome, sample=k, check=check, **kw)
    if r.score is not None:
        r.score.extracted = extracted
    return r


def test_normalise() -> None:
    assert normalise("  Paris. ") == "paris"
    assert normalise("３") == "3" and normalise("3.0") == "3" and normalise("9.90") == "9.9"
    assert normalise("“Argentina”") == "argentina"
    assert normalise("New   York") == "new york"


def test_answer_keys() -> None:
    assert answer_key(sample("a", 0, "correct", " 3 ")) == "3"
    assert answer_key(sample("a", 0, "abstained", "I don't know")) == ABSTAINED
    assert answer_key(sample("a", 0, "invalid", "x")) is None
    assert answer_key(rec("s", "a", None)) is None
    assert answer_key(sample("a", 0, "incorrect", None)) is None
    bio = "She was born in 1961 in Lyon and became a painter"
    assert answer_key(sample("b", 0, "incorrect", bio, check="fictional_bios")) == "years:1961"
    assert answer_key(sample("b", 0, "incorrect", "A painter from Lyon.", check="fictional_bios")) == \
        "a painter from lyon"


def test_item_consistency_and_agreements() -> None:
    keys = ["3", "3", "4", None, "3"]
    assert item_consistency(keys) == pytest.approx(3 / 4)
    assert agreements(keys) == [pytest.approx(2 / 3), pytest.approx(2 / 3), 0.0, None, pytest.approx(2 / 3)]
    assert item_consistency(["3", None]) is None and agreements(["3", None]) == [None, None]


def test_groups_and_auroc_by_hand() -> None:
    records = [
        # item a: a known fact, all five samples say 3 (correct)
        *(sample("a", k, "correct", "3") for k in range(5)),
        # item b: invented, samples vary: 1, 2, 2, abstain, invalid
        sample("b", 0, "incorrect", "1"), sample("b", 1, "incorrect", "2"), sample("b", 2, "incorrect", "2"),
        sample("b", 3, "abstained", None), sample("b", 4, "invalid", None),
        # a Chinese item in its own group
        sample("c", 0, "correct", "7", lang="zh"), sample("c", 1, "incorrect", "8", lang="zh"),
    ]
    groups = {g.key: g for g in consistency_groups(records)}
    en = groups[("s", "en")]
    # a: 5/5; b: keys 1, 2, 2, abstained -> 2/4
    assert en.items == 2 and en.mean_consistency == pytest.approx((1 + 0.5) / 2)
    # agreements: a's five answers 1.0 each (correct); b: "1" -> 0, "2" -> 1/3 twice (incorrect)
    assert (en.attempted, en.correct) == (8, 5)
    assert en.auroc == 1.0
    zh = groups[("s", "zh")]
    assert zh.items == 1 and zh.mean_consistency == 0.5 and zh.auroc == 0.5  # both agree 0: a tie


def test_consistency_that_misleads_is_reported_as_such() -> None:
    # a model that always says the same wrong number and varies on the right one: AUROC 0
    records = [*(sample("a", k, "incorrect", "5") for k in range(3)),
               sample("b", 0, "correct", "1"), sample("b", 1, "correct", "1"), sample("b", 2, "incorrect", "2")]
    g = consistency_groups(records)[0]
    # agreements: a 1,1,1 (incorrect); b 1/2, 1/2 (correct), 0 (incorrect): correct beat 1 of 4 incorrect
    assert g.auroc == pytest.approx(0.25)
