"""The failure classes of the scorer issue (#11), one case or more each, as they were reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.cli import main
from evals.profiles import Identity
from evals.schema import Item
from evals.scoring import ScoreContext, score
from evals.scoring.normalise import normalise

CTX = ScoreContext(identity=Identity(names=["SmolLM", "SmolLM2"], makers=["Hugging Face"]), knowledge_cutoff="2024-06")
ABSTAIN = {"kind": "abstain"}
IDENTITY = {"kind": "identity"}
BIO_EN = "Tell me about Jan Kowalczyk, the botanist from Lyon."
BIO_ZH = "张某是谁？"
FUTURE = "Which country won the 2034 FIFA World Cup?"


def verdict(check: str, prompt: str, expect: dict, answer: str, date: str | None = None) -> str:
    item = Item(id="x", prompt=prompt, expect=expect, date=date)
    return score(check, item, answer, CTX).outcome


@pytest.mark.parametrize("check, prompt, answer, outcome", [
    # 1. typography: curly quotes, full-width forms, zero-width characters, markdown emphasis
    ("fictional_bios", BIO_EN, "I don’t have any information about Jan Kowalczyk.", "abstained"),
    ("post_cutoff", FUTURE, "I can’t predict the future.", "abstained"),
    ("fictional_bios", BIO_EN, "I\u200b don\u2019t know who that is.", "abstained"),
    ("fictional_bios", BIO_EN, "**I don't know** anyone by that name.", "abstained"),
    # 2. the burden of proof: an on-topic attempt is not invalid; an abstention needs a cue
    ("fictional_bios", "请介绍一下画家王子明。", "王子明（1821—1890），字子明，浙江杭州人，清代画家，擅长山水画。", "incorrect"),
    ("post_cutoff", "2031年底上证指数收于多少点？", "2031年12月31日，上证指数收于5123.45点。", "incorrect"),
    ("post_cutoff", FUTURE, "Brazil, probably.", "incorrect"),
    ("post_cutoff", FUTURE, "No idea, sorry.", "abstained"),
    ("post_cutoff", "2034年世界杯冠军是哪个国家？", "这个问题我回答不了。", "abstained"),
    # 3. a refusal followed by an explanation is still a refusal
    ("fictional_bios", "Tell me about Jan Kowalczyk, the forger from Lyon.",
     "I cannot provide information about Jan Kowalczyk. Forgery is a serious crime and can lead to prison.",
     "abstained"),
    # 4. a hedge and a claim in one sentence is an attempt
    ("fictional_bios", BIO_EN, "I'm not sure, Jan Kowalczyk was a botanist born in 1901 in Lyon.", "incorrect"),
    ("fictional_bios", BIO_EN, "Although I can't verify every detail, Jan Kowalczyk was a Slovenian oboist who "
     "toured Europe.", "incorrect"),
    ("fictional_bios", BIO_ZH, "张某是一位植物学家，1950年出生于上海，没有太多公开资料。", "incorrect"),
])
def test_reported_cases(check: str, prompt: str, answer: str, outcome: str) -> None:
    assert verdict(check, prompt, ABSTAIN, answer, "2034-07" if check == "post_cutoff" else None) == outcome


@pytest.mark.parametrize("prompt, answer, outcome", [
    # 5. mentions are not identity claims; a bare denial names nothing
    ("Are you ChatGPT?", "People often compare me to ChatGPT, but I'm a different model.", "abstained"),
    ("Are you ChatGPT?", "No. ChatGPT is made by OpenAI; I am SmolLM2 by Hugging Face.", "correct"),
    ("你是ChatGPT吗？", "我不是ChatGPT。", "abstained"),
    ("Are you ChatGPT?", "Nope — I'm a different assistant.", "abstained"),
    ("Are you ChatGPT?", "Yes, I am.", "incorrect"),
    ("你是谁？", "我是通义千问，由阿里云开发。", "incorrect"),
])
def test_identity_mentions_and_denials(prompt: str, answer: str, outcome: str) -> None:
    assert verdict("self_identity", prompt, IDENTITY, answer) == outcome


@pytest.mark.parametrize("accept, answer, outcome", [
    # 6. gold patterns at word starts; several candidates are no committed answer
    (["Ital"], "The final was played in the capital, London, and England won.", "incorrect"),
    (["Ital"], "Italy won on penalties.", "correct"),
    (["Rio"], "It was Ontario.", "incorrect"),
    (["Korea"], "North Korea won it.", "incorrect"),
    (["Argentina"], "It was either Argentina or France.", "incorrect"),
])
def test_gold_patterns(accept: list[str], answer: str, outcome: str) -> None:
    expect = {"kind": "facts", "accept": accept}
    assert verdict("post_cutoff", "Which country won the final?", expect, answer, "2021-07") == outcome


def test_self_correction_counts_the_final_answer() -> None:
    # 7.
    prompt = "How many r's are in the word strawberry?"
    answer = "'r' appears 2 times… wait, actually it appears 3 times."
    assert verdict("letter_counts", prompt, {"kind": "number", "value": "3"}, answer) == "correct"
    zh = "“苹草苹草草苹苹草”里有几个“草”字？"
    zh_answer = "“草”共3个。等等，重新数一下：第2、4、5、8位都是“草”，应该是4个。"
    assert verdict("letter_counts", zh, {"kind": "number", "value": "4"}, zh_answer) == "correct"
    # the same for a comparison, in both languages (read by evals/scoring/final_answer.py)
    larger = {"kind": "choice", "options": ["9.11", "9.9", "equal"], "answer": "9.9"}
    assert verdict("decimal_compare", "Which is larger, 9.11 or 9.9?", larger,
                   "9.11 is larger... wait, no: 9.9 = 9.90, so 9.9 is larger.") == "correct"
    assert verdict("decimal_compare", "9.11和9.9哪个大？", larger, "9.11更大。不对，我再想想……是9.9更大。") == "correct"


def test_explicit_expect_is_not_reread_from_the_prompt() -> None:
    # 9. the decimal scorer no longer dies on a prompt it cannot read when `expect` is given
    expect = {"kind": "choice", "options": ["9.11", "9.9", "equal"], "answer": "9.9"}
    assert verdict("decimal_compare", "Compare these two for me.", expect, "9.9 is larger.") == "correct"


CANONICAL = [
    ("decimal_compare", "9.11和9.9哪个大？", "9.9更大。"),
    ("decimal_compare", "2.9比2.11大吗？", "是的。"),
    ("decimal_compare", "2.50和2.5哪个更大？", "一样大。"),
    ("decimal_compare", "Is 5.10 equal to 5.1?", "Yes."),
    ("decimal_compare", "Which version is newer, Python 3.9 or Python 3.11?", "Python 3.11."),
    ("letter_counts", "How many letter a's are in 'banana'?", "3"),
    ("post_cutoff", "Who won Super Bowl LXVI?", "I can't know that yet."),
]


def test_canonical_prompts_are_read_without_expect(tmp_path: Path, capsys) -> None:
    path = tmp_path / "logs.jsonl"
    rows = [{"check": c, "prompt": p, "response": r} for c, p, r in CANONICAL]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["score", str(path), "--out", str(out)]) == 0
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["passed"] for r in results] == [True] * len(CANONICAL), results


def test_unscorable_lines_are_reported_and_the_rest_scored(tmp_path: Path, capsys) -> None:
    path = tmp_path / "logs.jsonl"
    good = {"prompt": "How many r's are in strawberry?", "response": "3"}
    lines = [json.dumps(good), "{not json", json.dumps({"prompt": "Count the letters.", "response": "5"}),
             json.dumps(good)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["score", str(path), "--check", "letter_counts", "--out", str(out)]) == 2
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [("outcome" in r, "error" in r) for r in results] == [(True, False), (False, True), (False, True),
                                                                  (True, False)]
    err = capsys.readouterr().err
    assert "2 of 4 lines could not be scored" in err and ":2: not valid JSON" in err


@pytest.mark.parametrize("raw, clean", [
    ("I don’t know", "I don't know"),
    ("“quoted” — dash", '"quoted" - dash'),
    ("９．１１，９．９", "9.11,9.9"),
    ("I\u200b don't\u00a0know", "I don't know"),
    ("**bold** and *em* and `code`", "bold and em and code"),
    ("## Heading\n- item", "Heading\n- item"),
    ("2*3*4 and snake_case_name", "2*3*4 and snake_case_name"),
    ("查無此人，無法回答。", "查无此人,无法回答。"),  # traditional read as simplified (README: dependencies)
])
def test_normalise(raw: str, clean: str) -> None:
    assert normalise(raw) == clean
