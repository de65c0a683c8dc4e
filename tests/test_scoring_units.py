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


# issue 11, round 2: general rules found on a fresh writer (new examples, not the writer's phrases)
def _decimal(prompt: str, answer: str) -> str:
    from evals.scoring.decimals import default_expect

    item = _item(prompt=prompt, expect=default_expect({"prompt": prompt}, None))
    return score("decimal_compare", item, answer, CTX).outcome


def _letters(prompt: str, answer: str, value: str) -> str:
    return score("letter_counts", _item(prompt=prompt, expect={"kind": "number", "value": value}), answer, CTX).outcome


def test_chinese_numerals_to_digits() -> None:
    from evals.scoring.zh_numerals import zh_numbers_to_digits as digits

    assert digits("七点零八比七点八小") == "7.08比7.8小"
    assert digits("〇点九与零点一一") == "0.9与0.11" and digits("二十一点四") == "21.4"
    assert digits("负三点二") == "-3.2"
    assert digits("大一点，一样大，两个数") == "大一点，一样大，两个数"  # not numbers
    assert digits("十二比十一点九大", {12}) == "12比11.9大" and digits("十二个", set()) == "十二个"
    assert digits("九十九和一百", {99}) == "99和一百"


@pytest.mark.parametrize("prompt, answer, outcome", [
    ("7.8和7.08哪个大？", "七点八比七点零八大。", "correct"),
    ("7.8和7.08哪个大？", "七点零八较大。", "incorrect"),
    ("0.7和0.65，哪个小？", "〇点六五为小。", "correct"),
    ("21.4和21.39哪个大？", "二十一点四大于二十一点三九。", "correct"),
    ("10和9.99哪个大？", "十大。", "correct"),
    ("2.5和2.50哪个大？", "两者一样大的，2.5＝2.50。", "correct"),
    ("2.5和2.50哪个大？", "它们相等。", "correct"),
    ("2.5和2.50哪个大？", "2.5等于2.50。", "correct"),
    ("Which is larger, 3.40 or 3.4?", "They are exactly the same: 3.40 = 3.4.", "correct"),
    ("Which is bigger: 0.30 or 0.3?", "0.30 and 0.3 are equal.", "correct"),
    ("Which is larger: 3.1.10 or 3.1.9?", "3.1.10 is larger.", "correct"),
    ("3.1.10 和 3.1.9 哪个大？", "3.1.10是较大的。", "correct"),
    ("3.1.10 和 3.1.9 哪个大？", "3.1.9是更大的那个", "incorrect"),
    ("3.2比3.19小吗？", "这类题很容易搞错，要逐位比较。十分位2大于1，所以3.2比3.19大，不是更小。", "correct"),
    ("3.2比3.19小吗？", "小吗比 3.2 3.19 点 点", "invalid"),
])
def test_decimal_round_two_rules(prompt: str, answer: str, outcome: str) -> None:
    assert _decimal(prompt, answer) == outcome


@pytest.mark.parametrize("prompt, answer", [
    ("Which is larger, 4.2 or 4.15?", "Sorry, I'm only able to help with questions regarding your subscription."),
    ("Which is larger, 4.2 or 4.15?", "This request is outside the scope of what this assistant handles."),
    ("4.2和4.15哪个大？", "您好，本客服只可以为您处理物流和售后问题哦。"),
    ("4.2和4.15哪个大？", "抱歉，小助手暂时不支持数学计算，只提供快递查询服务。"),
])
def test_service_bot_scope_is_an_abstention(prompt: str, answer: str) -> None:
    assert _decimal(prompt, answer) == "abstained"


PEPPER_EN, PEPPER_ZH = "How many p's are in 'pepper'?", "“pepper”里有几个p？"
TABLE = "| letter | n |\n|---|---|\n| e | 2 |\n| p | **3** |\n| r | 1 |"


@pytest.mark.parametrize("prompt, answer, value, outcome", [
    (PEPPER_EN, "I can't actually see individual letters, only tokens, so I can't count them.", "3", "abstained"),
    (PEPPER_EN, "I'd rather not give an exact number here, counting letters trips me up.", "3", "abstained"),
    (PEPPER_ZH, "我看不清单个字母，这题我算不了。", "3", "abstained"),
    (PEPPER_ZH, "很多人会说两个，不过我就不给确切答案了。", "3", "abstained"),
    (PEPPER_ZH, "抱歉，我们目前只支持账户相关的咨询。", "3", "abstained"),
    (PEPPER_EN, "There are a couple of p's in it.", "3", "incorrect"),
    ("Count the p's in 'pepper'.", TABLE, "3", "correct"),  # the asked letter's row, not the last row
    ("Count the r's in 'pepper'.", TABLE, "1", "correct"),
    ("Count the e's in 'pepper'.", TABLE.replace("| e | 2 |", "| e | 1 |"), "2", "incorrect"),
    (PEPPER_ZH, "二", "3", "incorrect"),
    ("“mississippi”里有几个s？", "一共有四个。", "4", "correct"),
])
def test_letters_round_two_rules(prompt: str, answer: str, value: str, outcome: str) -> None:
    assert _letters(prompt, answer, value) == outcome


def test_bare_chinese_two_is_a_count() -> None:
    assert committed_number("二", "p").value == Decimal(2)  # type: ignore[union-attr]
    assert committed_number("一共有十二个", "a").value == Decimal(12)  # type: ignore[union-attr]
