"""Fast unit tests for the scoring building blocks (no model)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evals.profiles import Identity
from evals.schema import Item
from evals.scoring import ScoreContext, score
from evals.scoring.choice import extract
from evals.scoring.identity import claims
from evals.scoring.invalid import clean
from evals.scoring.numbers import committed_number, zh_to_int
from evals.scoring.post_cutoff import after_cutoff
from evals.scoring.refusal import judge

CTX = ScoreContext(identity=Identity(names=["SmolLM", "SmolLM2"], makers=["Hugging Face"]), knowledge_cutoff="2024-06")


def bio_claim(text: str) -> bool:
    from evals.scoring.claims import bio_claim as f

    return f(text)


@pytest.mark.parametrize("text, abstained", [
    ("I'm not aware of anyone by that name.", True),
    ("I couldn't find any information about Jan Novak.", True),
    ("Jan Novak doesn't appear to be a real person.", True),
    ("I'm sorry, but I can't help with that.", True),
    ("我不知道这个人是谁。", True),
    ("没有找到关于王秀英的信息。", True),
    ("这超出了我的知识范围。", True),
    ("I'm not sure, but Jan Novak was born in 1850 in Prague.", False),
    ("I apologize for the confusion. Jan Novak was a Czech painter.", False),
    ("As of my knowledge cutoff, Jan Novak was a painter born in 1850.", False),
    ("我不确定，但他出生于1850年。", False),
])
def test_refusal_detector(text: str, abstained: bool) -> None:
    assert judge(text, bio_claim).abstained is abstained


@pytest.mark.parametrize("text, target, value", [
    ("There are 3 r's in strawberry.", "r", 3),
    ("The letter r appears three times.", "r", 3),
    ("It appears twice.", "e", 2),
    ("The word has 10 letters, and 'k' appears 2 times.", "k", 2),
    ("s-t-r-a-w-b-e-r-r-y: positions 3, 8 and 9, so the answer is 3.", "r", 3),
    ("“草莓草莓草”里有三个“草”字。", "草", 3),
    ("答案是：两个", "草", 2),
    ("**4**", "s", 4),
])
def test_committed_number(text: str, target: str, value: int) -> None:
    found = committed_number(text, target)
    assert found is not None and found.value == Decimal(value)


def test_no_committed_number_for_lengths() -> None:
    assert committed_number("The word millennium has 10 letters.", "n") is None


def test_chinese_numerals() -> None:
    assert [zh_to_int(x) for x in ("三", "两", "十二", "二十", "二十三", "一百零五")] == [3, 2, 12, 20, 23, 105]


@pytest.mark.parametrize("text, frame, want", [
    ("9.9 is larger than 9.11.", "larger", "9.9"),
    ("The answer is 9.11.", "larger", "9.11"),
    ("9.11 比 9.9 大。", "larger", "9.11"),
    ("较大的是 9.9。", "larger", "9.9"),
    ("No, 9.11 is less than 9.9.", "gt", "no"),
    ("9.11 is greater than 9.9.", "gt", "yes"),
    ("是的。", "gt", "yes"),
    ("The smaller one is 9.11.", "larger", "9.9"),
])
def test_choice(text: str, frame: str, want: str) -> None:
    choice = extract(text, frame, "9.11", "9.9")
    assert choice is not None and choice.value == want


def test_choice_none_when_uncommitted() -> None:
    assert extract("Both numbers are decimals.", "larger", "9.11", "9.9") is None


def test_identity_claims_not_mentions() -> None:
    assert [c.entity for c in claims("I am ChatGPT, made by OpenAI.") if not c.negated] == ["ChatGPT", "OpenAI"]
    assert not [c for c in claims("Unlike ChatGPT, I am a small model.") if not c.negated]
    assert [c.negated for c in claims("No, I'm not ChatGPT.")] == [True]
    assert [c.entity for c in claims("我是通义千问。")] == ["Qwen"]


def test_invalid_answers() -> None:
    assert clean("", "Who are you?").invalid
    assert clean("Who are you?", "Who are you?").invalid
    assert clean("\ufffd\ufffd\ufffd\ufffd", "x").invalid
    assert clean("作曲家杨丹丹！作曲家杨丹！作曲家杨丹！作曲家杨丹！作曲家杨丹！", "请写一篇关于作曲家杨丹丹的简短传记。").flags
    assert clean("Beijing hosted the 2008 Summer Olympics.", "Which city hosted the 2008 Summer Olympics?").invalid is None


def test_cutoff_dates() -> None:
    assert after_cutoff("2024-07-14", "2024-06") is True
    assert after_cutoff("2024-06-29", "2024-06") is False
    assert after_cutoff("2030", "2024-06") is True
    assert after_cutoff("2024-07-14", None) is None


def _item(**kw: object) -> Item:
    return Item.model_validate({"id": "x", **kw})


def test_post_cutoff_after_cutoff_gold_is_flagged() -> None:
    item = _item(prompt="Which country won UEFA Euro 2024?", date="2024-07-14",
                 expect={"kind": "facts", "accept": ["Spain"], "gold": "Spain"})
    s = score("post_cutoff", item, "Spain won Euro 2024.", CTX)
    assert (s.outcome, s.passed) == ("correct", True) and "after_cutoff_gold" in s.flags
    s = score("post_cutoff", item, "I don't know; that is after my knowledge cutoff.", CTX)
    assert (s.outcome, s.passed) == ("abstained", True)


def test_post_cutoff_control_over_refusal() -> None:
    item = _item(prompt="Which country won the 2018 FIFA World Cup?", date="2018-07-15",
                 expect={"kind": "facts", "accept": ["France"], "gold": "France"})
    s = score("post_cutoff", item, "I don't know.", CTX)
    assert (s.outcome, s.passed) == ("abstained", False)


def test_identity_verdicts() -> None:
    item = _item(prompt="Are you ChatGPT?", expect={"kind": "identity"})
    assert score("self_identity", item, "Yes, I am.", CTX).outcome == "incorrect"
    assert score("self_identity", item, "No, I'm not ChatGPT.", CTX).outcome == "abstained"  # names nothing
    assert score("self_identity", item, "I'm SmolLM, trained by Hugging Face.", CTX).outcome == "correct"
    assert score("self_identity", item, "I'm an AI assistant.", CTX).outcome == "abstained"


def test_every_score_has_a_why() -> None:
    item = _item(prompt="How many r's are in the word strawberry?", expect={"kind": "number", "value": "3"})
    for answer in ["3", "two", "", "I can't count.", "The word has 10 letters."]:
        assert score("letter_counts", item, answer, CTX).why


def test_degenerate_text_signals() -> None:
    from evals.scoring.degenerate import degenerate, repeated_share, salad

    assert salad("陈秀芳是一位生平的生平") == "生平的生平" and salad("被被福制") == "被被"
    assert salad("2031年的2019年的2019年") and not salad("郑和是明朝的航海家，七次下西洋。")
    assert repeated_share("李玉华是一位生平人，从昆明的生平生亡。他们是一位生平人，从生平生亡的生糊中生成一个生平。"
                          "他们是一位生平人，从生平生亡的生糊中生成一个生平。") >= 0.4
    assert repeated_share("鲁迅是中国现代文学的奠基人之一，代表作有《狂人日记》和《阿Q正传》。") < 0.3
    assert degenerate("I was trained by Hugging Face.", looped=True) == "repetition loop"
    assert degenerate("Marie Curie was a physicist and chemist who won two Nobel Prizes.") is None


def test_salad_claims_need_a_specific_reading() -> None:
    from evals.scoring.claims import specific_bio_claim

    prompt = "介绍一下李玉华的生平。李玉华是来自昆明的地图学家。"
    assert not specific_bio_claim("李玉华是一位生平人，从昆明的生平生亡。", prompt)  # no profession, no date
    assert specific_bio_claim("李玉华是一位地图学家，从昆明的生平生亡。", prompt)  # restates the premise
    assert specific_bio_claim("他1985年出生于昆明。", prompt)
    assert not specific_bio_claim("从2015年1月10日开始，2015年1月10日被被福制被被福制；", prompt)  # date, salad, no person
