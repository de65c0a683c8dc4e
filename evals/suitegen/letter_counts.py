"""letter_counts: count a letter in a word, or a character in a Chinese string. Gold is `str.count`.

Models see tokens, not characters, so they miscount ("strawberry" has 3 r's). The suite mixes
real English words (the classic strawberry/r among them), pseudo-words no model can have
memorised, mixed case (counted case-insensitively, as the prompt says), letters that do not
occur (gold 0), and Chinese strings in which one character is counted.
"""

from __future__ import annotations

import random
from typing import Any

from evals.suitegen.dump import item

SEED = 3101

# (word, letter) pairs with doubled or tripled letters that tokenisers hide
CLASSIC = [
    ("strawberry", "r"), ("raspberry", "r"), ("blueberry", "b"), ("blueberry", "r"), ("cranberry", "r"),
    ("banana", "a"), ("banana", "n"), ("Mississippi", "s"), ("Mississippi", "i"), ("Mississippi", "p"),
    ("bookkeeper", "o"), ("bookkeeper", "e"), ("bookkeeper", "k"), ("committee", "m"), ("committee", "t"),
    ("committee", "e"), ("occurrence", "c"), ("occurrence", "r"), ("necessary", "s"), ("embarrassment", "r"),
    ("embarrassment", "s"), ("parallel", "l"), ("assessment", "s"), ("possession", "s"), ("millennium", "n"),
    ("millennium", "l"), ("accommodation", "c"), ("accommodation", "m"), ("accommodation", "o"),
    ("successful", "s"), ("address", "d"), ("coffee", "f"), ("coffee", "e"), ("balloon", "l"),
    ("balloon", "o"), ("tomorrow", "r"), ("tomorrow", "o"), ("referrer", "r"), ("engineering", "e"),
    ("engineering", "n"), ("programming", "m"), ("programming", "g"), ("pepper", "p"), ("letter", "t"),
    ("hippopotamus", "p"), ("hippopotamus", "o"), ("onomatopoeia", "o"), ("independence", "e"),
    ("abracadabra", "a"), ("abracadabra", "b"), ("nevertheless", "e"), ("unnecessary", "n"),
    ("sassafras", "s"), ("peppermint", "p"), ("grasshopper", "s"), ("giraffe", "f"), ("mammal", "m"),
    ("cucumber", "c"), ("broccoli", "c"), ("spaghetti", "t"),
]

ABSENT = [
    ("strawberry", "z"), ("banana", "e"), ("python", "a"), ("computer", "s"), ("keyboard", "x"),
    ("elephant", "r"), ("mountain", "e"), ("chocolate", "i"), ("umbrella", "o"), ("rhythm", "a"),
    ("giraffe", "o"), ("sandwich", "e"), ("pineapple", "o"), ("orange", "i"), ("library", "e"),
    ("window", "a"), ("guitar", "e"), ("tomato", "i"), ("dolphin", "a"), ("lemon", "a"),
]

MIXED = [
    "StRawBerRy", "MiSSiSSiPPi", "BaNaNa", "bOoKkEePeR", "CoMMiTTeE", "RaSpBeRrY", "PaRaLLeL",
    "AcCoMmOdAtIoN", "HiPpOpOtAmUs", "TeNnEsSeE", "SuCcEsSfUl", "ApPlE", "BaLlOoN", "GrAsShOpPeR",
    "AbRaCaDaBrA", "PePpErMiNt", "CoFfEe", "ToMoRrOw", "LeTtEr", "AdDrEsS",
]

SYLLABLES = ["br", "rr", "ap", "ple", "zo", "oo", "qu", "ix", "ss", "an", "nn", "el", "ll", "tr", "ee", "ka",
             "mm", "op", "pp", "ur", "gl", "ff", "ib", "rrr", "lo", "ni", "sk", "ww", "ar", "ot"]

ZH_CHARS = ["草", "莓", "苹", "果", "香", "蕉", "水", "火", "山", "木", "人", "大", "天", "中", "花", "月"]
ZH_PHRASES = [
    ("我爱北京天安门", "天"), ("人山人海", "人"), ("一心一意", "一"), ("大大小小", "大"),
    ("天天向上好好学习", "天"), ("你好你好你好", "你"), ("三人行必有我师", "人"), ("十全十美", "十"),
    ("花好月圆花开花落", "花"), ("日日夜夜", "日"), ("山外有山天外有天", "山"), ("水水水水火", "水"),
    ("明明白白我的心", "明"), ("风风火火", "风"), ("是是非非", "是"), ("千千万万", "千"),
]

EN_TEMPLATES = [
    "How many times does the letter '{c}' appear in the word '{w}'?",
    "How many {c}'s are in the word \"{w}\"?",
    "Count the letter '{c}' in '{w}'. Answer with a number.",
    "How many '{c}' are there in {w}?",
    "In the word \"{w}\", how many times does '{c}' occur?",
]
EN_MIXED = [
    "How many times does the letter '{c}' appear in '{w}'? Count upper and lower case alike.",
    "Ignoring case, how many {c}'s are in \"{w}\"?",
]
ZH_WORD_TEMPLATES = [
    "单词“{w}”里有几个字母“{c}”？",
    "“{w}”这个单词中字母{c}出现了几次？",
    "请数一数单词 {w} 中有多少个字母 {c}。",
]
ZH_MIXED = ["不区分大小写，“{w}”中有几个字母“{c}”？"]
ZH_CHAR_TEMPLATES = [
    "“{s}”里有几个“{c}”字？",
    "字符串“{s}”中，“{c}”出现了几次？",
    "请数一数“{s}”中有多少个“{c}”。",
]


def _pseudo_words(rng: random.Random, n: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = [("brrrapple", "r"), ("zoobbbat", "b"), ("quissstel", "s")]
    seen = {w for w, _ in out}
    while len(out) < n:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 5)))
        if word in seen or not 6 <= len(word) <= 14:
            continue
        counts = {c: word.count(c) for c in set(word)}
        letter = max(sorted(counts), key=lambda c: (counts[c], rng.random()))
        if counts[letter] < 2:
            continue
        seen.add(word)
        out.append((word, letter))
    return out


def _zh_strings(rng: random.Random, n: int) -> list[tuple[str, str]]:
    out = list(ZH_PHRASES)
    seen = {s for s, _ in out}
    while len(out) < n:
        a, b = rng.sample(ZH_CHARS, 2)
        s = "".join(rng.choice([a, a, b]) for _ in range(rng.randint(4, 9)))
        if s in seen or s.count(a) < 2:
            continue
        seen.add(s)
        out.append((s, a))
    return out


def _number(value: int) -> dict[str, Any]:
    return {"kind": "number", "value": str(value)}


def build() -> dict[str, Any]:
    rng = random.Random(SEED)
    items: list[dict[str, Any]] = []

    def add(kind: str, n: int, word: str, letter: str, lang: str, template: str, gold: int) -> None:
        prompt = template.format(w=word, c=letter, s=word)
        items.append(item(f"{kind}-{lang}-{n:03d}", prompt, _number(gold), lang=lang, tags=[kind],
                          meta={"text": word, "char": letter}))

    for n, (word, letter) in enumerate(CLASSIC):
        gold = word.lower().count(letter)
        if n % 3 == 2:
            add("word", n, word, letter, "zh", ZH_WORD_TEMPLATES[n % len(ZH_WORD_TEMPLATES)], gold)
        else:
            add("word", n, word, letter, "en", EN_TEMPLATES[n % len(EN_TEMPLATES)], gold)
    for n, (word, letter) in enumerate(_pseudo_words(rng, 52)):
        lang = "zh" if n % 4 == 3 else "en"
        templates = ZH_WORD_TEMPLATES if lang == "zh" else EN_TEMPLATES
        add("pseudo", n, word, letter, lang, templates[n % len(templates)], word.count(letter))
    for n, word in enumerate(MIXED):
        letter = max(sorted(set(word.lower())), key=lambda c: word.lower().count(c))
        shown = letter.upper() if n % 2 else letter
        lang = "zh" if n % 4 == 3 else "en"
        templates = ZH_MIXED if lang == "zh" else EN_MIXED
        add("mixed", n, word, shown, lang, templates[n % len(templates)], word.lower().count(letter))
    for n, (word, letter) in enumerate(ABSENT):
        lang = "zh" if n % 4 == 3 else "en"
        templates = ZH_WORD_TEMPLATES if lang == "zh" else EN_TEMPLATES
        add("absent", n, word, letter, lang, templates[n % len(templates)], word.count(letter))
    for n, (text, char) in enumerate(_zh_strings(rng, 50)):
        add("hanzi", n, text, char, "zh", ZH_CHAR_TEMPLATES[n % len(ZH_CHAR_TEMPLATES)], text.count(char))
    return {
        "name": "letter_counts",
        "version": "1",
        "description": "Count a letter in a word or a character in a Chinese string (gold by str.count; "
                       "mixed case counted case-insensitively).",
        "check": "letter_counts",
        "tools": ["python", "calculator"],
        "defaults": {"max_new_tokens": 80},
        "tool_protocol": tool_protocol(items),
        "items": items,
    }


#: worked examples for tools mode (question, text, character): words and strings no item counts in
TOOL_EXAMPLES = [
    ("How many p's are in the word puppy?", "puppy", "p"),
    ("“大大小小大”里有几个“大”字？", "大大小小大", "大"),
    ("How many times does the letter 'a' appear in 'papaya'?", "papaya", "a"),
]


def tool_protocol(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite's `tool_protocol:` block: worked examples as earlier turns (bench/tools_protocol.py
    measured it against the other options on the embedded model), each answer computed by str.count."""
    counted = {str(it["meta"]["text"]).lower() for it in items}
    examples = []
    for question, text, char in TOOL_EXAMPLES:
        if text.lower() in counted:
            raise ValueError(f"letter_counts: worked example {text!r} is also an item")
        method = ".lower().count" if char.isascii() else ".count"  # Chinese has no case
        code = f"print({text!r}{method}({char!r}))"
        examples.append({"question": question, "call": f"```python\n{code}\n```",
                         "result": str(text.lower().count(char)), "answer": str(text.lower().count(char))})
    return {"example": True, "example_in": "turns", "examples": examples, "reminder": "answer"}
