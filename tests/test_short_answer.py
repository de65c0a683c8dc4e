"""The `short_answer` check on the README's worked example suite (suites/examples/my_questions.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.loader import load_suite
from evals.scoring import ScoreContext, score

SUITE = load_suite(Path(__file__).resolve().parent.parent / "suites" / "examples" / "my_questions.yaml").suite
ITEMS = {item.id: item for item in SUITE.items}


@pytest.mark.parametrize("item_id, answer, outcome, passed", [
    ("capital-au-en", "The capital is Canberra.", "correct", True),
    ("capital-au-en", "Sydney, obviously.", "incorrect", False),
    ("capital-au-en", "It's either Canberra or Sydney.", "incorrect", False),
    ("capital-au-en", "I’m not sure.", "abstained", False),
    ("capital-au-zh", "澳大利亚的首都是堪培拉。", "correct", True),
    ("capital-au-zh", "是悉尼。", "incorrect", False),
    ("tour-2040-en", "Nobody can know that yet; it hasn't happened.", "abstained", True),
    ("tour-2040-en", "Probably Tadej Pogačar.", "incorrect", False),
    ("tour-2040-zh", "这是未来的事情，我无法知道。", "abstained", True),
    ("tour-2040-zh", "应该是波加查吧。", "incorrect", False),
    ("spider-legs-en", "A spider has eight legs.", "correct", True),
    ("spider-legs-en", "6… wait, no: 8.", "correct", True),
    ("spider-legs-en", "Spiders have 6 legs.", "incorrect", False),
    ("mammal-en", "The dolphin.", "correct", True),
    ("mammal-en", "A shark is a mammal.", "incorrect", False),
    ("mammal-en", "", "invalid", False),
])
def test_worked_example(item_id: str, answer: str, outcome: str, passed: bool) -> None:
    result = score(SUITE.check, ITEMS[item_id], answer, ScoreContext())
    assert (result.outcome, result.passed) == (outcome, passed), result.why
