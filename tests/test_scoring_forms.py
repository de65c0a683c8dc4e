"""Answer forms every check reads (answer_form.py) and comparisons in everyday words (comparatives.py)."""

from __future__ import annotations

import pytest

from evals.schema import Item
from evals.scoring import ScoreContext, score
from evals.scoring.answer_form import cut_continuation, expand_letters, json_answer, lettered_options
from evals.scoring.comparatives import option_core, plain
from evals.scoring.decimals import default_expect

CTX = ScoreContext(knowledge_cutoff="2024-06")
LETTERED = "Which number is the bigger one?\nA. 4.08\nB. 4.8"


def decimal(prompt: str, answer: str, expect: dict | None = None) -> tuple[str, object]:
    """The verdict and extracted option; `expect` defaults to the one computed from the prompt."""
    item = Item(id="x", prompt=prompt, expect=expect or default_expect({"prompt": prompt}, None))
    result = score("decimal_compare", item, answer, CTX)
    return result.outcome, result.extracted


def test_lettered_options_are_read_only_when_listed_in_order() -> None:
    assert lettered_options(LETTERED) == {"A": "4.08", "B": "4.8"}
    assert lettered_options("Pick one.\nB. 4.8\nC. 4.08") == {}
    assert lettered_options("Which is bigger, 4.08 or 4.8?") == {}


@pytest.mark.parametrize("answer, expanded", [
    ("Answer: B", "Answer: 4.8 (B)"),
    ("正确答案是：A。", "正确答案是：4.08 (A)。"),
    ("我选B吧", "我选4.8 (B)吧"),
    ("(A)", "(4.08 (A))"),
    ("B. 4.8 is bigger", "B. 4.8 is bigger"),  # names the option already
    ("The answer is a bit subtle", "The answer is a bit subtle"),  # a word, not a letter
])
def test_a_letter_answer_gets_its_option(answer: str, expanded: str) -> None:
    assert expand_letters(answer, LETTERED) == expanded


def test_a_letter_answer_is_scored_as_its_option() -> None:
    prompt = "Which number is the bigger one?\nA. 4.08\nB. 4.8"
    expect = {"kind": "choice", "options": ["4.08", "4.8", "equal"], "answer": "4.8"}
    assert decimal(prompt, "Answer: B", expect)[0] == "correct"
    assert decimal(prompt, "答：A", expect)[0] == "incorrect"
    future = Item(id="f", prompt="2033年欧洲杯冠军是？\nA. 法国\nB. 德国\nC. 目前无法得知", expect={"kind": "abstain"},
                  date="2033-07")
    assert score("post_cutoff", future, "答案：C", CTX).outcome == "abstained"
    assert score("post_cutoff", future, "答案：B", CTX).outcome == "incorrect"


def test_a_json_answer_field_is_an_answer_marker() -> None:
    assert json_answer('{"answer": "6.5", "why": "longer"}') == '{Answer: 6.5., "why": "longer"}'
    assert json_answer('{"answer": null}') == "{Answer: none.}"
    reply = '```json\n{"question": "Which is larger: 6.45 or 6.5?", "answer": "6.45", "reason": "more digits"}\n```'
    assert decimal("Which is larger: 6.45 or 6.5?", reply) == ("incorrect", "6.45")


def test_a_continued_dialogue_is_cut_at_the_first_new_question() -> None:
    reply = "A: 6.5 is larger.\nQ: Which is larger, 2.7 or 2.65?\nA: 2.65"
    assert cut_continuation(reply) == "A: 6.5 is larger."
    assert cut_continuation("Q: Which is larger? A: 6.5. Next question: what about 1.1 and 1.01?") == (
        "Q: Which is larger? A: 6.5.")
    # a reply that opens by restating the question as a turn: its answer turn is the answer
    assert cut_continuation("问：6.45和6.5哪个大？\n答：6.5大。\n问：3.3和3.25呢？\n答：3.25大。") == "答：6.5大。"
    assert decimal("Which is larger: 6.45 or 6.5?", reply) == ("correct", "6.5")


@pytest.mark.parametrize("text, plain_text", [
    ("Which is cheaper: $2.05 or $2.5?", "Which is smaller: 2.05 or 2.5?"),
    ("7.25 kg weighs more than 7.3 kg", "7.25 is larger than 7.3"),
    ("-4.5°C is the coldest", "-4.5 is the smallest"),
    ("一本书8.9元，另一本8.85元，哪本更贵？", "一本书8.9，另一本8.85，哪本更大？"),
    ("3.6米比3.55米长", "3.6比3.55大"),
    ("这个更重要", "这个更重要"),  # 重要 is not 重 (heavy)
    ("他是最年轻的", "他是最年轻的"),
    ('"-2.5"更高', "-2.5更大"),
    ("It is no longer sold", "It is no longer sold"),
])
def test_everyday_comparatives_become_plain_ones(text: str, plain_text: str) -> None:
    assert plain(text) == plain_text


def test_option_cores_drop_units_only_from_a_single_number() -> None:
    assert option_core("1.75 litres") == "1.75"
    assert option_core("¥12.5") == "12.5"
    assert option_core("equal") == "equal"
    assert option_core("3.5 or 3.45") == "3.5 or 3.45"


@pytest.mark.parametrize("prompt, answer, outcome", [
    ("Which is cheaper: a pen at $3.09 or one at $3.9?", "The pen at $3.09 is cheaper.", "correct"),
    ("Which is heavier, a 2.35 kg box or a 2.4 kg box?", "So the 2.35 kg box is heavier.", "incorrect"),
    ("Which temperature is lower: -8.5 °C or -8.45 °C?", "-8.45 °C is the colder one.", "incorrect"),
    ("Which is more: 0.7 liters or 0.65 liters?", "0.65 liters seems like more.", "incorrect"),
    ("两杯奶茶，一杯12.5元，一杯12.45元，哪杯更便宜？", "12.45元那杯更便宜哦～", "correct"),
    ("6.3米和6.25米哪个更长？", "６．３米更长。", "correct"),
    ("-6.05和-6.5哪个大？", "“-6.5”更大，因为6.5＞6.05。", "incorrect"),
    ("身高1.72米和1.8米谁高？", "1.72米那位高一点吧", "incorrect"),
    ("Which release came out later, v2.9.1 or v2.10.0?", "v2.10.0 came out after v2.9.1.", "correct"),
    ("Which tag is newer: v0.8 or v0.12?", "In software versioning v0.8 would come after v0.12, but "
     "I can't tell which scheme this is.", "abstained"),  # a conditional is no statement
    ("Is 2.5 smaller than 2.45? Answer yes or no.", "Both look alike at a glance... I'd say no.", "correct"),
    ("Is 4 bigger than 4.0?", "Precision differs in science. Numerically, however, no: they are equal.", "correct"),
])
def test_everyday_comparisons_are_scored(prompt: str, answer: str, outcome: str) -> None:
    assert decimal(prompt, answer)[0] == outcome


def test_options_with_units_score_against_their_number() -> None:
    expect = {"kind": "choice", "options": ["0.9 kg", "0.85 kg", "equal"], "answer": "0.9 kg"}
    assert decimal("0.9公斤和0.85公斤哪个重？", "0.9公斤。", expect) == ("correct", "0.9")
