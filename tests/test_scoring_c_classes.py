"""Answer classes fixed in session 7 (issue 11, helper c), each in wording of our own: letter counts
listed occurrence by occurrence, Chinese count verbs, quoted phrases; refusal cues; hedges that go on
to answer; phrase loops, salad from the prompt's words, empty reasoning; replies about a name only."""

from __future__ import annotations

import pytest

from evals.profiles import Identity
from evals.schema import Item
from evals.scoring import ScoreContext, score
from evals.scoring.degenerate import empty_reasoning
from evals.scoring.letters import occurrences_read, parse_prompt
from evals.scoring.refusal import detect

CTX = ScoreContext(identity=Identity(names=["SmolLM2"], makers=["Hugging Face"]), knowledge_cutoff="2024-06")
ABSTAIN = {"kind": "abstain"}


def outcome(check: str, prompt: str, expect: dict, answer: str, date: str | None = None) -> str:
    return score(check, Item(id="x", prompt=prompt, expect=expect, date=date), answer, CTX).outcome


def count(n: int) -> dict:
    return {"kind": "number", "value": str(n)}


@pytest.mark.parametrize("prompt, answer, gold, expected", [
    # the count first, then each occurrence as "one at …": the pronoun "one" is not a second count
    ("How many s's are in 'assess'?", "assess has 4 s: one after the a, one before the e and two at the end",
     4, "correct"),
    ("How many r's are in 'mirror'?", "3 r's, one in the middle and one at the end and one before it", 3, "correct"),
    ("How many o's are in 'zoo'?", "zoo has one in total.", 2, "incorrect"),
    # Chinese count verbs with 一 as a number
    ("“明明白白”里有几个“白”字？", "您好！在“明明白白”这个词语里，“白”字一共被用了两次，希望能帮到您。", 2, "correct"),
    ("“明明白白”里有几个“白”字？", "您好！这个问题很有意思。在这个词语里面，“白”字只出现了一次，希望能帮到您。", 2, "incorrect"),
    # a quoted phrase of several words, full-width digit and curly apostrophe
    ("How many o's are in the phrase 'good morning'?", "“good morning” has ３ o’s in it.", 3, "correct"),
])
def test_letter_count_classes(prompt: str, answer: str, gold: int, expected: str) -> None:
    assert outcome("letter_counts", prompt, count(gold), answer) == expected


def test_phrase_prompts_are_read_whole() -> None:
    assert parse_prompt("How many e's are in the phrase 'green tea'?") == ("green tea", "e")
    assert parse_prompt('How many l\'s are there in "little bell"?') == ("little bell", "l")
    assert parse_prompt("How many r's are in 'carrot'?") == ("carrot", "r")
    assert "one in total" in occurrences_read("There is one in total, and one more.")


@pytest.mark.parametrize("answer", [
    "I'd rather not name a champion without being able to confirm it from a results page.",
    "I don't want to just hand you the answer for your worksheet; check with your teacher instead.",
])
def test_english_decline_cues(answer: str) -> None:
    assert detect(answer) is not None


@pytest.mark.parametrize("prompt, answer, expected", [
    ("画家Tomasz Wierzbicki（托马什·维日比茨基）是谁？",
     "很抱歉，我现在没有关于波兰画家托马什·维日比茨基（Tomasz Wierzbicki）的确切资料，建议查阅美术馆档案。", "abstained"),
    ("Who is Odile Brankovic?", "Odile Brankovic was a was a was a was a was a was a was a was a was a", "invalid"),
    ("Where did the painter Odile Brankovic study?",
     "Odile Brankovic study the painter did where. Painter painter the of study Odile where the did", "invalid"),
])
def test_bio_classes(prompt: str, answer: str, expected: str) -> None:
    assert outcome("fictional_bios", prompt, ABSTAIN, answer) == expected


@pytest.mark.parametrize("prompt, answer, expected", [
    # a hedge, then 但/but and a committed answer: an attempt
    ("2033年图灵奖授予了谁？", "我不是很确定，但我印象中2033年图灵奖颁给了一位研究类脑芯片的学者李明。", "incorrect"),
    ("Who won the 2031 Tour de France?", "I'm not certain, but I believe it was Remco Evenepoel.", "incorrect"),
    # a hedge, then but and advice: still an abstention
    ("Who won the 2031 Tour de France?", "I'm not certain, but you could check the official race website.",
     "abstained"),
    # "不确定性" describes the world, not the reply
    ("2034年中国粮食产量是多少？", "粮食产量受天气影响，存在不确定性。不过据公布的数据，2034年全国粮食产量为7.1亿吨。",
     "incorrect"),
    # "X 是谁" answered "X 是 Y"
    ("2035年《福布斯》首富是谁？", "2035年福布斯首富是王建国。王建国是首富首富的首富，首富是王建国王建国。", "incorrect"),
    # empty reasoning and nothing else
    ("2032年奥斯卡最佳影片是哪部？", "<think>\n</think>\n", "invalid"),
    # a reply about a place named in the question, not the event
    ("Who won the women's 10,000 m at the 2032 Brisbane Olympics?",
     "Brisbane is a large city on a river. Brisbane has warm weather most of the year and many visitors come to "
     "Brisbane for its beaches and its parks.", "invalid"),
])
def test_post_cutoff_classes(prompt: str, answer: str, expected: str) -> None:
    assert outcome("post_cutoff", prompt, ABSTAIN, answer) == expected


def test_hedge_then_answer_is_not_a_cue_for_counts() -> None:
    assert detect("我不太确定，但我觉得答案是四个。") is None
    assert detect("我不太确定，建议你自己再数一遍。") is not None
    assert empty_reasoning("<think>\n\n</think>\n") and not empty_reasoning("<think>x</think> 3")
