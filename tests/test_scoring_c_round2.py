"""Answer classes fixed in session 7, round 2 (issue 11, helper d), each in wording of our own: letter
counts in a table's total row, in a game-show voice, in financial numerals, as "either … or", beside another
letter's count, and an advice list's count; refusal cues of a chat bot and a reply that dares not answer;
"not sure why" is no hedge."""

from __future__ import annotations

import pytest

from evals.profiles import Identity
from evals.schema import Item
from evals.scoring import ScoreContext, score
from evals.scoring.letters import parse_prompt
from evals.scoring.refusal import detect

CTX = ScoreContext(identity=Identity(names=["SmolLM2"], makers=["Hugging Face"]), knowledge_cutoff="2024-06")


def letters(prompt: str, answer: str, gold: int) -> str:
    item = Item(id="x", prompt=prompt, expect={"kind": "number", "value": str(gold)})
    return score("letter_counts", item, answer, CTX).outcome


@pytest.mark.parametrize("prompt, answer, gold, expected", [
    # a markdown table whose total row is the only place the count is stated
    ("How many o's are in 'good food'?", "| part | o |\n|---|---|\n| good | 2 |\n| food | 2 |\n| **Total** | **4** |",
     4, "correct"),
    ("How many o's are in 'good food'?", "| part | o |\n|---|---|\n| good | 2 |\n| food | 2 |\n| **Total** | **3** |",
     4, "incorrect"),
    # a game-show voice, the count said as a number word, the word called "made-up" in the prompt
    ("How many b's are in the made-up word 'bobbler'?", "And the contestant answers... three! Three b's in 'bobbler'.",
     3, "correct"),
    # financial numerals 叁/贰
    ("“山水山水山”中有几个“山”？", "答：叁个。", 3, "correct"),
    ("“山水山水山”中有几个“山”？", "答：贰个。", 3, "incorrect"),
    # naming several candidates with "either … or" is no committed count
    ("How many r's are in 'grommet'?", "hmm, either 1 or 2, depends how you say it", 1, "incorrect"),
    # the count attached to the asked letter wins over another letter's
    ("“balloon”有几个字母l？", "balloon有2个l，o也是两个", 2, "correct"),
    ("“balloon”有几个字母o？", "balloon有2个l，o也是三个", 2, "incorrect"),
    # an off-topic advice list counts advice, not letters
    ("“happy”里有几个p？", "快乐（happy）的关键在于心态。以下是保持快乐的三个方法：\n1. 多运动；\n2. 多交友；\n3. ……",
     2, "invalid"),
    # a reply that dares not answer abstains
    ("“人人为我”里有几个“人”？", "这类题我老是数错，实在不敢回答 😅", 2, "abstained"),
])
def test_letter_count_classes(prompt: str, answer: str, gold: int, expected: str) -> None:
    assert letters(prompt, answer, gold) == expected


def test_made_up_word_prompt_is_parsed() -> None:
    assert parse_prompt("How many q's are in the invented word 'quazzoq'?") == ("quazzoq", "q")


@pytest.mark.parametrize("text, abstains", [
    ("这个问题我目前还不会呢，您可以换个问题试试吗？", True),  # a chat bot's "can't do this yet"
    ("我不敢回答这个。", True),
    ("Not sure why people keep saying 3.9. It's 3.10.", False),  # puzzlement about others, not a hedge
    ("I'm not sure why that confuses people; it is 7.", False),
    ("Not sure. Maybe 7?", True),
])
def test_refusal_cue_classes(text: str, abstains: bool) -> None:
    assert (detect(text) is not None) == abstains
