"""letter_counts scorer: the committed count against the gold number.

correct/incorrect by the committed number; `abstained` when the answer declines without a number;
`invalid` when it is unusable or commits to no count (e.g. only states the word's length). An answer
that says the letter does not occur ("there is no 'z'", "没有") commits to 0.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from evals.schema import Item, NumberExpect
from evals.scoring.common import invalid, make, retraction
from evals.scoring.final_answer import View, views
from evals.scoring.invalid import Cleaned, clean
from evals.scoring.normalise import normalise
from evals.scoring.numbers import committed_number, several_numbers, zh_to_int
from evals.scoring.outcome import Score, ScoreContext
from evals.scoring.refusal import detect
from evals.scoring.registry import Check, NoDefault, register

_QUOTED = r"['\"‘“「]?([^\s'\"’”」]+?)['\"’”」]?"
# the word qualified in the prompt: "the made-up word 'zazzlewop'", "the invented word", "the nonsense word"
_WORD_ADJ = r"(?:(?:made-up|made up|invented|nonsense|fake|fictional|imaginary|silly|English|long|following)\s+)?"


def _absent(text: str, target: str | None) -> str | None:
    t = re.escape(target) if target else r"[a-z]"
    patterns = [
        rf"\b(?:no|zero|not any)\s+(?:letters?\s+)?['\"‘“]?{t}['\"’”]?(?:'?s)?\b",
        rf"(?:does not|doesn't|do not|don't) (?:contain|have|include)\s+(?:the letter |any )?['\"‘“]?{t}\b",
        rf"['\"‘“]?{t}['\"’”]?\s+(?:does not|doesn't|never) (?:appear|occur)",
        r"\bnot (?:present|found) in\b",
        rf"\b(?:aren't|are not|isn't|is not|there are no|there is no|don't think there (?:are|is))\s+(?:any\s+)?['\"]?{t}\b",
        rf"['\"‘“]?{t}['\"’”]?\s+(?:is a letter that\s+)?(?:does not|doesn't) exist in\b",
        r"(?:没有(?!办法|把握|能力|方法|可靠)|不包含|不含|并不包含|未出现|没有出现)", r"\bnone\b",
    ]
    for p in patterns:
        m = re.search(p, text, re.I)
        if m:
            return m.group(0)
    return None


_VAGUE = re.compile(r"\b(?:appears?|occurs?|shows? up)\s+(?:several|many|a few|multiple|a couple of)\s+times\b|"
                    r"\b(?:several|many|a few|multiple|a couple of|lots of|some)\s+['\"]?[A-Za-z]['\"]?'s\b|"
                    r"\b(?:several|many|a few|multiple) times\b|(?:出现|有)了?(?:好几|很多|多)次|好几个", re.I)


def target_of(item: Item) -> str | None:
    char = item.meta.get("char")
    if isinstance(char, str) and char:
        return char
    parsed = parse_prompt(item.text)
    return parsed[1] if parsed else None


# a quoted phrase of several words is counted as a whole: "How many a's are in the phrase 'banana split'?",
# "How many l's are there in "hello world"?" (the single-word forms below stop at a space)
_PHRASE = re.compile(r"\bhow many\s+(?:letters?\s+)?['\"]?([A-Za-z])['\"]?s?\s+(?:are|is)\s+(?:there\s+)?in\s+"
                     r"(?:the\s+(?:phrase|string|sentence|name|title|words|text|expression)\s+)?"
                     r"(['\"])([A-Za-z][^'\"]*\s[^'\"]*[A-Za-z])\2", re.I)


def parse_prompt(prompt: str) -> tuple[str, str] | None:
    """(text, character) from a letter-count question, in the phrasings the suite and common users use."""
    pats = [
        rf"letter\s+{_QUOTED}\s+(?:appear|occur)s?\s+in\s+(?:the\s+word\s+)?{_QUOTED}[?？.]",
        rf"how many\s+{_QUOTED}(?:'s|s)?\s+(?:are|is)\s+(?:there\s+)?in\s+(?:the\s+{_WORD_ADJ}word\s+)?{_QUOTED}[?？.]",
        rf"count the letter\s+{_QUOTED}\s+in\s+{_QUOTED}\.",
        rf"in the word\s+{_QUOTED},\s+how many times does\s+{_QUOTED}\s+occur",
        rf"how many\s+{_QUOTED}(?:'s|s)?\s+(?:are|is)\s+in\s+(?:the\s+{_WORD_ADJ}word\s+)?{_QUOTED}",
        rf"单词\s*{_QUOTED}\s*(?:里|中)有(?:几|多少)个字母\s*{_QUOTED}",
        rf"{_QUOTED}\s*这个单词中字母\s*{_QUOTED}\s*出现",
        rf"单词\s*{_QUOTED}\s*中有多少个字母\s*{_QUOTED}",
        r"[“\"]([^”\"]+)[”\"]中有几个字母[“\"]?([^”\"])",
        r"[“\"]([^”\"]+)[”\"](?:里|中)有几个[“\"]?([^”\"])[”\"]?字?",
        r"[“\"]([^”\"]+)[”\"](?:中|里)，?[“\"]([^”\"])[”\"]出现",
        r"[“\"]([^”\"]+)[”\"]中有多少个[“\"]([^”\"])[”\"]",
    ]
    prompt = re.sub(r"\b([A-Za-z])'s\b", r"\1s", normalise(prompt))  # "a's" -> "as": the apostrophe is no quote
    phrase = _PHRASE.search(prompt)
    if phrase:
        return phrase.group(3), phrase.group(1)
    for i, p in enumerate(pats):
        m = re.search(p, prompt, re.I)
        if not m:
            continue
        a, b = m.group(1), m.group(2)
        # in the first and fourth English forms the word comes second; elsewhere the letter is the short one
        word, char = (b, a) if len(a) == 1 and len(b) > 1 else (a, b)
        if i == 3:
            word, char = a, b
        if len(char) == 1 and len(word) > 1 and not re.search(r"\s", word):  # a lazy match of one letter is no word
            return word, char
    return _loose_prompt(prompt)


def _loose_prompt(prompt: str) -> tuple[str, str] | None:
    """Other phrasings: the letter is the quoted single character, "letter X", "X's", "字母X" or "几个X";
    the counted text is a quoted string, "the word W", "W里/中", or the last word before "?"."""
    quoted = re.findall(r"[\"'「]([^\"'」]+)[\"'」]", prompt)
    letters = [q for q in quoted if len(q) == 1]
    for pat in (r"\bletters?\s+([A-Za-z])(?![A-Za-z])", r"\bmany\s+(?:letters?\s+)?([A-Za-z])'?s\b", r"字母\s*([A-Za-z])",
                r"\bcount(?:ing)?\s+(?:up\s+)?(?:the\s+|all\s+(?:the\s+)?)?(?:number of\s+)?([A-Za-z])'?s\b",
                r"(?:几个|多少个)\s*([A-Za-z\u4e00-\u9fff])(?![A-Za-z])"):
        letters += re.findall(pat, prompt, re.I)
    if not letters:
        return None
    char = letters[0]
    words = [q for q in quoted if len(q) > 1]
    for pat in (r"\b(?:the word|word|单词)\s+([A-Za-z]{2,})", r"([A-Za-z]{2,})\s*(?:里|中|这个单词)",
                r"\bin\s+([A-Za-z]{2,})\s*[?.]"):
        words += re.findall(pat, prompt, re.I)
    if char.isascii():
        words = [w for w in words if w.isascii()] or words
    words = [w for w in words if w.lower() != char.lower()]
    return (words[0], char) if words else None


def gold_count(word: str, char: str) -> int:
    return word.lower().count(char.lower()) if char.isascii() else word.count(char)


def score_letters(item: Item, answer: str, ctx: ScoreContext) -> Score:
    if not isinstance(item.expect, NumberExpect):
        raise ValueError(f"{item.id}: letter_counts expects `number`, got {item.expect.kind}")
    gold = Decimal(item.expect.value)
    cleaned = clean(answer, item.text, item.system)
    if cleaned.invalid:
        return invalid(cleaned)
    text, target = cleaned.text, target_of(item)
    parsed = parse_prompt(item.text)
    counted = item.meta.get("text") if isinstance(item.meta.get("text"), str) else (parsed[0] if parsed else None)
    for view in views(text, answer):
        verdict = _read_view(view, text, target, counted, gold, cleaned)
        if verdict is not None:
            return verdict
    cue = detect(text)
    if cue:
        return make("abstained", False, f"abstains ({cue.kind}: {cue.phrase!r}); gold {gold}", None, cleaned)
    vague = _VAGUE.search(re.sub(r"[^.!?。！？]*[?？]", " ", text))  # not in a question put back
    if vague and not cleaned.degenerate:
        return make("incorrect", False, f"a vague count ({vague.group(0)!r}) instead of a number; gold {gold}",
                    None, cleaned)
    return make("invalid", False, "invalid: commits to no count (numbers seen are lengths, positions or none)",
                None, cleaned)


# Occurrences listed one by one after the count ("has 2 m: one at the start and one at the end", "2 r's, one
# in 'straw' and one in 'berry'"): each "one" is a pronoun for an occurrence, not a count of one, so it is
# blanked before the count is read.
_ONE_EACH = re.compile(r"\bone\s+(?:at|in|near|on|before|after|towards?|of|from|right|is|comes|appears|sits)\b"
                       r"(?=[^.;!?\n]{0,60}?\b(?:and|,)\s+(?:one|another|the other)\b)"
                       r"|(?<=\band )one\s+(?:at|in|near|on|before|after|towards?|of|from|right|is|comes|appears|sits)\b"
                       r"|(?<=, )one\s+(?:at|in|near|on|before|after|towards?|of|from)\b", re.I)
# Chinese count verbs: "“天”字被使用了一次", "用了两次", "重复了三次", "只写了一次" state the count as often as
# the character is used; 一 there is a number, not an article, so the numeral is written as digits
_ZH_USED = re.compile(r"((?:被)?(?:使用|用|出现|重复|写|书写|运用|提到|提及)(?:了|过)?\s*)"
                      r"([一二两三四五六七八九十]{1,3})(\s*(?:次|回))")


# class: a count given only as a markdown table's total row ("| **Total** | **3** |", "| 合计 | 3 |"): the
# total row is the answer, written as "Total: 3" so the answer readers see it
_TOTAL_ROW = re.compile(r"(?m)^\s*\|\s*(total|sum|in total|合计|总计|共计|总数)\s*\|\s*(?:[^|\n]*\|\s*)*?(\d+)\s*\|?\s*$",
                        re.I)
# class: financial (anti-fraud) number words 壹贰叁 ("答：叁个。") are the plain numerals 一二三
_FINANCIAL = str.maketrans("壹贰叁肆伍陆柒捌玖拾", "一二三四五六七八九十")
# class: a count of something other than the letter, in an off-topic advice or tips list ("以下是通往成功的
# 五个建议", "here are five tips"): the number counts the advice, it is no letter count
_ADVICE_COUNT = re.compile(r"([一二两三四五六七八九十]|\d+)\s*(?:个|条|种|点|步)\s*(?:建议|方法|秘诀|技巧|步骤|原因|要点|办法|"
                           r"习惯|好处|小贴士|诀窍|途径|方面)|\b(\d+|three|four|five|six|seven|eight|nine|ten)\s+"
                           r"(?:\w+\s+)?(?:tips|ways|ideas|steps|reasons|habits|tricks|secrets)\b", re.I)
# class: a clause about another letter ("committee有3个t，m也是两个", "and the m is also two"): its count is
# not the asked letter's, so the clause is blanked when the asked letter is not in it
_OTHER_SUBJECT = re.compile(r"(?:(?<=[，,;；。])|(?<=\band )|(?<=\bthe ))\s*['\"“]?([A-Za-z])['\"”]?\s*"
                            r"(?:也|还|则|呢|的话)?\s*(?:也|还)?(?:是|有|出现|is also|also has|is|has)[^，,;；。.!?\n]*")


def occurrences_read(text: str, target: str | None = None) -> str:
    """The text with the enumerating "one"s blanked and Chinese count verbs' numerals as digits; a table's
    total row as "Total: N"; financial numerals as plain ones; advice counts and other letters' clauses blanked."""
    text = _TOTAL_ROW.sub(lambda m: f"Total: {m.group(2)}", text.translate(_FINANCIAL))
    text = _ADVICE_COUNT.sub(lambda m: "\u2022" * len(m.group(0)), text)
    if target and len(target) == 1 and target.isascii():
        text = _OTHER_SUBJECT.sub(lambda m: m.group(0) if m.group(1).lower() == target.lower()
                                  else "\u2022" * len(m.group(0)), text)
    def blank(m: re.Match[str]) -> str:
        if re.match(r"one\s+in\s+(?:total|all)\b", text[m.start():], re.I):
            return m.group(0)  # "one in total" is a count
        return "\u2022" * 3 + m.group(0)[3:]

    text = _ONE_EACH.sub(blank, text)

    def digits(m: re.Match[str]) -> str:
        value = zh_to_int(m.group(2))
        return f"{m.group(1)}{value}{m.group(3)}" if value is not None else m.group(0)

    return _ZH_USED.sub(digits, text)


# class: naming several candidates with "either … or" ("it's either 1 or 2 depending on how you spell it"):
# no committed count, scored incorrect like "1个或2个"
_EITHER = re.compile(r"\beither\s+(\d+|one|two|three|four|five|six|zero)\s+or\s+(\d+|one|two|three|four|five|six|zero)\b"
                     r"|(\d+|[一二两三四五六])\s*(?:个)?\s*(?:或者?|还是|或是)\s*(\d+|[一二两三四五六])\s*(?:个|吧|$)", re.I)


def _either(text: str) -> str | None:
    for m in _EITHER.finditer(text):
        a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if a.lower() != b.lower():
            return m.group(0)
    return None


def _read_view(view: View, text: str, target: str | None, counted: str | None, gold: Decimal,
               cleaned: Cleaned) -> Score | None:
    """The verdict one view of the reply gives (see final_answer.py), or None when it states no count."""
    where = f"in the {view.rule}" if view.rule != "whole reply" else "in the whole reply"
    read = occurrences_read(view.text, target)
    several = several_numbers(read) or _either(read)
    if several:
        return make("incorrect", False, f"offers several counts ({several!r}) without committing, {where}; "
                    f"gold {gold}", None, cleaned)
    found = committed_number(read, target, counted)
    if found is not None:
        ok = found.value == gold
        return make("correct" if ok else "incorrect", ok,
                    f"committed {found.value} by rule {found.rule!r} ({found.raw!r}) {where}; gold {gold}",
                    str(found.value), cleaned)
    absent = _absent(view.text, target)
    if absent:
        ok = gold == 0
        return make("correct" if ok else "incorrect", ok, f"says the letter is absent ({absent!r}) {where} -> 0; "
                    f"gold {gold}", "0", cleaned)
    return retraction(view, gold, cleaned)


def default_expect(row: dict[str, Any], cutoff: str | None) -> dict[str, Any]:
    """The count computed from the prompt ("How many r's are in strawberry?")."""
    parsed = parse_prompt(str(row.get("prompt", "")))
    if parsed is None:
        raise NoDefault("cannot read the word and the letter from the prompt: give `expect`")
    return {"kind": "number", "value": str(gold_count(*parsed))}


CHECK = register(Check(
    name="letter_counts", scorer=score_letters, kinds=("number",), default_expect=default_expect,
    summary="count a letter in a word (the committed count against the gold number)"))
