"""decimal_compare: which of two decimals is larger or smaller. Gold by `decimal.Decimal`.

Pairs are built to trip a token-wise comparison that reads the digits after the dot as an
integer (9.11 vs 9.9, 3.45 vs 3.5, 10.01 vs 10.1), plus trailing zeros (2.50 vs 2.5 are equal),
negatives and long fractions; each asked as "which is larger", "which is smaller" or a yes/no
"is A greater/less than B?", in both orders, in English and Chinese. Controls ask about version
numbers, where the order flips (Python 3.11 is newer than 3.9): gold by integer tuples.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal
from typing import Any

from evals.suitegen.dump import item

SEED = 4201

TRAP_PAIRS = [
    ("9.11", "9.9"), ("3.45", "3.5"), ("10.01", "10.1"), ("5.125", "5.13"), ("2.19", "2.2"), ("7.08", "7.8"),
    ("1.111", "1.12"), ("4.35", "4.4"), ("8.9", "8.10"), ("6.25", "6.3"), ("12.09", "12.1"), ("0.75", "0.8"),
    ("13.11", "13.9"), ("3.14", "3.2"), ("99.99", "99.100"), ("0.123", "0.13"), ("21.5", "21.45"),
    ("1.05", "1.5"), ("2.718", "2.8"), ("11.009", "11.01"),
    ("4.9", "4.11"), ("15.6", "15.55"), ("0.9", "0.10"), ("1.3", "1.25"),
]
EQUAL_PAIRS = [("2.50", "2.5"), ("3.10", "3.1"), ("0.500", "0.5"), ("7.0", "7"), ("12.300", "12.3"),
               ("1.20", "1.2")]
NEGATIVE_PAIRS = [("-3.2", "-3.15"), ("-9.11", "-9.9"), ("-0.5", "-0.45"), ("-1.01", "-1.1"), ("-2.7", "-2.69"),
                  ("-4.125", "-4.13")]
LONG_PAIRS = [("0.333333", "0.3334"), ("3.14159", "3.1416"), ("2.999999", "3.0"), ("1.4142135", "1.41422"),
              ("0.0909", "0.09"), ("5.000001", "5.00001")]
VERSION_PAIRS = [("Python", "3.9", "3.11"), ("Python", "3.8", "3.10"), ("Node.js", "18.9", "18.10"),
                 ("Linux kernel", "5.9", "5.10"), ("Django", "4.2", "4.10"), ("macOS", "10.9", "10.15"),
                 ("Java", "1.8", "1.11"), ("Ubuntu", "22.4", "22.10"), ("Kotlin", "1.9", "1.10"),
                 ("Rust", "1.9", "1.70"), ("PostgreSQL", "9.6", "9.10"), ("Go", "1.9", "1.21"),
                 ("TensorFlow", "2.9", "2.15"), ("Vue", "3.2", "3.10"), ("numpy", "1.9", "1.26"),
                 ("Swift", "5.9", "5.10"), ("Linux kernel", "4.9", "4.19")]

EN = {
    "larger": ["Which is larger: {a} or {b}?", "Which number is bigger, {a} or {b}?",
               "{a} or {b}: which one is greater? Answer with the number."],
    "smaller": ["Which is smaller: {a} or {b}?", "Which number is less, {a} or {b}?"],
    "gt": ["Is {a} greater than {b}? Answer yes or no.", "Is {a} bigger than {b}?"],
    "lt": ["Is {a} less than {b}? Answer yes or no.", "Is {a} smaller than {b}?"],
}
ZH = {
    "larger": ["{a} 和 {b} 哪个大？", "{a} 与 {b} 相比，哪个数更大？"],
    "smaller": ["{a} 和 {b} 哪个小？", "{a} 与 {b} 中哪个数更小？"],
    "gt": ["{a} 比 {b} 大吗？请回答是或否。", "{a} 大于 {b} 吗？"],
    "lt": ["{a} 比 {b} 小吗？请回答是或否。", "{a} 小于 {b} 吗？"],
}
VERSION_EN = {
    "larger": ["Which {p} version is newer, {a} or {b}?", "Which was released later: {p} {a} or {p} {b}?"],
    "gt": ["Is {p} {a} a newer version than {p} {b}? Answer yes or no."],
}
VERSION_ZH = {
    "larger": ["{p} {a} 和 {p} {b}，哪个版本更新？"],
    "gt": ["{p} {a} 比 {p} {b} 更新吗？请回答是或否。"],
}

EQUAL = "equal"


def _gold(frame: str, cmp: int) -> tuple[list[str], str] | None:
    """Options and answer for a framing given cmp = sign(a - b); None when the framing has no answer."""
    if frame in ("gt", "lt"):
        yes = cmp > 0 if frame == "gt" else cmp < 0
        return ["yes", "no"], "yes" if yes else "no"
    return [], ""  # filled by the caller (needs the option strings)


def _choice(frame: str, a: str, b: str, cmp: int) -> dict[str, Any]:
    if frame in ("gt", "lt"):
        options, answer = _gold(frame, cmp) or ([], "")
        return {"kind": "choice", "options": options, "answer": answer}
    if cmp == 0:
        answer = EQUAL
    elif (cmp > 0) == (frame == "larger"):
        answer = a
    else:
        answer = b
    return {"kind": "choice", "options": [a, b, EQUAL], "answer": answer}


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def build() -> dict[str, Any]:
    rng = random.Random(SEED)
    items: list[dict[str, Any]] = []
    groups = [("trap", TRAP_PAIRS), ("equal", EQUAL_PAIRS), ("negative", NEGATIVE_PAIRS), ("long", LONG_PAIRS)]
    for group, pairs in groups:
        frames = ["larger", "smaller", "gt", "lt"]
        for n, (x, y) in enumerate(pairs):
            for order, (a, b) in enumerate([(x, y), (y, x)]):
                cmp = _sign(int((Decimal(a) - Decimal(b)).compare(Decimal(0))))
                # every pair in both orders, in two framings each; one of the four in Chinese-ish rotation
                for k in range(2):
                    frame = frames[(n + order + 2 * k) % 4]
                    if group == "equal" and frame in ("larger", "smaller") and k == 1:
                        frame = "gt"
                    lang = "zh" if (n + order + k) % 3 == 0 else "en"
                    table = ZH if lang == "zh" else EN
                    template = rng.choice(table[frame])
                    iid = f"{group}-{n:02d}-{'ab'[order]}{k}-{frame}-{lang}"
                    items.append(item(iid, template.format(a=a, b=b), _choice(frame, a, b, cmp), lang=lang,
                                      tags=[group, frame], meta={"a": a, "b": b}))
    for n, (product, x, y) in enumerate(VERSION_PAIRS):
        for order, (a, b) in enumerate([(x, y), (y, x)]):
            va, vb = (tuple(int(p) for p in v.split(".")) for v in (a, b))
            cmp = (va > vb) - (va < vb)
            frame = "larger" if (n + order) % 2 == 0 else "gt"
            lang = "zh" if (n + order) % 3 == 0 else "en"
            table = VERSION_ZH if lang == "zh" else VERSION_EN
            template = rng.choice(table[frame])
            expect = _choice(frame, a, b, cmp)
            if frame == "larger":
                expect["options"] = [a, b]
            iid = f"version-{n:02d}-{'ab'[order]}-{frame}-{lang}"
            items.append(item(iid, template.format(p=product, a=a, b=b), expect, lang=lang, control=True,
                              tags=["version", frame], meta={"a": a, "b": b, "product": product}))
    return {
        "name": "decimal_compare",
        "version": "1",
        "description": "Compare two decimals (9.11 vs 9.9) in both orders and four framings, EN and ZH; "
                       "controls compare version numbers, where the order flips (gold by decimal.Decimal "
                       "and integer tuples).",
        "check": "decimal_compare",
        "tools": ["python", "calculator"],
        "defaults": {"max_new_tokens": 80},
        "tool_protocol": tool_protocol(items),
        "items": items,
    }


#: worked examples for tools mode (question, code, what it prints, answer): the larger and the smaller
#: decimal, a yes/no in Chinese, a version number (compared as integer tuples); pairs no item compares.
#: tests/test_tools_protocol.py runs each call in the python tool and checks the printed result.
TOOL_EXAMPLES = [
    ("Which is larger: 2.7 or 2.65?", "print(max(2.7, 2.65))", "2.7", "2.7"),
    ("Which is smaller, 5.3 or 5.25?", "print(min(5.3, 5.25))", "5.25", "5.25"),
    ("3.4 比 3.25 小吗？请回答是或否。", "print('是' if 3.4 < 3.25 else '否')", "否", "否"),
    ("Is Node 6.3 a newer version than Node 6.12? Answer yes or no.",
     "print('yes' if (6, 3) > (6, 12) else 'no')", "no", "no"),
]


def tool_protocol(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite's `tool_protocol:` block: worked examples as earlier turns (bench/tools_protocol.py
    measured it against the other options on the embedded model)."""
    compared = {frozenset((str(it["meta"]["a"]), str(it["meta"]["b"]))) for it in items}
    examples = []
    for question, code, printed, answer in TOOL_EXAMPLES:
        if frozenset(re.findall(r"\d+\.\d+", question)) in compared:
            raise ValueError(f"decimal_compare: worked example {question!r} compares an item's pair")
        examples.append({"question": question, "call": f"```python\n{code}\n```", "result": printed,
                         "answer": answer})
    return {"example": True, "example_in": "turns", "examples": examples, "reminder": "answer"}
