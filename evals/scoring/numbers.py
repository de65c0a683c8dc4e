"""Number extraction: digits, English number words and Chinese numerals, and the number an answer
commits to ("the answer is 3", "3 r's", "three times", "有3个", a bold number, the last line) rather
than every number it mentions (word length, positions, list numbering).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

WORDS = {
    "zero": 0, "none": 0, "one": 1, "once": 1, "single": 1, "two": 2, "twice": 2, "three": 3, "thrice": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
}
_TIMES_WORDS = {"once": 1, "twice": 2, "thrice": 3}
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
# "一" alone is often not a number ("一下", "一共", "一开始"): it counts only before a counter or the end
_ZH_NUM = r"(?:[零〇二两俩三四五六七八九十][零〇一二两三四五六七八九十百]*|一(?=\s*(?:个|次|处|回)|$|[。.,，]))"
_DIGITS = r"-?\d+(?:\.\d+)?"
_WORD = r"\b(?:" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")\b"
NUM = rf"(?:{_DIGITS}|{_WORD}|{_ZH_NUM})"


def zh_to_int(text: str) -> int | None:
    """Chinese numerals up to 999: 三, 两, 十二, 二十, 二十三, 一百零五."""
    if not text or any(c not in ZH_DIGITS and c not in "十百" for c in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch in ZH_DIGITS:
            current = ZH_DIGITS[ch] if current == 0 else current * 10 + ZH_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def to_decimal(raw: str) -> Decimal | None:
    raw = raw.strip().lower()
    if re.fullmatch(_DIGITS, raw):
        return Decimal(raw)
    if raw in WORDS:
        return Decimal(WORDS[raw])
    value = zh_to_int(raw)
    return None if value is None else Decimal(value)


@dataclass(frozen=True)
class Found:
    value: Decimal
    raw: str
    rule: str  # which rule found it
    start: int


def _fmt(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("{N}", f"({NUM})"), re.I)


# numbers that are not the count: word length, positions, list numbering, years
_NOT_COUNT = [
    _fmt(r"{N}\s*(?:letters|characters|chars)\b(?!\s*['\"‘“]?[a-z]['\"’”]?(?:\W|$))"),
    _fmt(r"{N}\s*-?\s*letter(?:s)?\s+(?:long|word)"),
    _fmt(r"(?:position|index|place|spot)s?\s*(?:#|no\.?)?\s*{N}"),
    _fmt(r"\b{N}(?:st|nd|rd|th)\b"),
    _fmt(r"第\s*{N}"),
    _fmt(r"第[\d、,，和及与\s]*?[、,，和及与]\s*{N}"),  # "第2、4、8位": every position, not only the first
    _fmt(r"\bpositions?\s+(?:[\d,\s]|and)*?{N}"),
    _fmt(r"{N}\s*个字(?:中|里|当中|之中)"),
    _fmt(r"{N}\s*(?:遍|passes)"),  # "我数了两遍": how often it counted
    _fmt(r"{N}\s*个(?:字|汉字|字符)(?!母)(?!\s*[“\"'])"),  # "合计 9 个字": the string's length
    _fmt(r"{N}\s*个(?:字符|字母|汉字|字)(?:长|组成)"),
    _fmt(r"(?:共|总共|一共)有?\s*{N}\s*个(?:字符|字母)(?!\s*[“\"'‘]?[a-zA-Z\u4e00-\u9fff](?![a-zA-Z]))"),
]


def _excluded(text: str) -> set[int]:
    return {m.start(1) for pat in _NOT_COUNT for m in pat.finditer(text)}


def commitments(target: str | None = None) -> list[tuple[str, re.Pattern[str]]]:
    """Patterns (strongest first) that state the answer; `target` is the counted letter/character."""
    t = re.escape(target) if target else r"[a-z\u4e00-\u9fff]"
    return [
        ("answer is", _fmt(r"\b(?:answer|result|count|total)(?:\s+[\w'’]+){0,3}?\s*(?:is|=|:|would be|will be)\s*[:\s]*\**\s*{N}"
                           r"(?!\s+\d+\s+\d+)")),  # not "The answer is: 1 2 3 4 5 …"
        ("number of x is", _fmt(rf"(?:number|count) of\s+(?:the\s+)?(?:letters?\s+)?['\"‘“]?{t}['\"’”]?(?:'?s)?\b[^.\n]{{0,40}}?\b(?:is|=)\s+{{N}}")),
        ("答案是", _fmt(r"(?:答案|结果|(?<![\u4e00-\u9fff])答)\s*(?:是|为)?\s*[：:]?\s*\**\s*{N}")),
        ("so N", _fmt(r"(?:\bso(?: that's| it's| there are| there's)?|\bthere (?:are|is)|\bI (?:get|got|count|counted)|我数(?:到|出|了)?|"
                      r"\bthat(?:'s| is| makes| gives)|\bmakes|\bgives|"
                      r"\bin total|\btotal of|\baltogether|\bit(?:'s| is)|所以(?:是|有)?|一共(?:是|有)?|总共(?:是|有)?|"
                      r"合计|共计|应该是|大概是|是)[:：\s]*(?:just |only |exactly )?{N}(?!\d|\.\d)")),
        ("N times", _fmt(r"{N}\s*(?:times|time|occurrences?|instances?)\b")),
        ("N in total", _fmt(r"\b{N}\s+(?:in total|in all|altogether|total)\b")),
        ("凡N见", _fmt(r"(?:凡|共|计)?\s*{N}\s*(?:见|现)(?![\u4e00-\u9fff])")),  # classical: "“山”字凡二见"
        ("once/twice", re.compile(r"\b(once|twice|thrice)\b", re.I)),
        ("N x's", _fmt(rf"{{N}}\s*(?:lower-?case |upper-?case |capital )?(?:letters? )?['\"‘“]?{t}['\"’”]?(?:'?s)?\b")),
        ("appears N", _fmt(r"(?:appears?|occurs?|shows up|contains?|has|have|are)\s+(?:exactly |only |just )?{N}\b")),
        ("有N个", _fmt(r"(?<!都)(?<!各)(?:有|共|出现了?|包含)\s*\**\s*{N}\s*(?:个|次)")),  # not "每个词都有一个"
        ("N个x", _fmt(rf"{{N}}\s*(?:个|次)\s*(?:字母|字符|字)?\s*['\"‘“]?{t}")),
        ("N个", _fmt(r"{N}\s*(?:个|次|处)(?!字符|字母(?:长|组成)|汉字|字(?!母))")),
        ("table", _fmt(rf"\|\s*['\"]?{t}['\"]?\s*\|\s*{{N}}\s*\|")),
        ("x: N", _fmt(rf"(?<![A-Za-z])['\"]?{t}['\"]?\s*[:：]\s*\**\s*{{N}}(?!\d|\.\d)")),
        ("-> N", _fmt(r"(?:→|⇒|=>|->)\s*{N}(?!\d|\.\d)")),
        (": N.", _fmt(r"[:：]\s*{N}\.?\s*$")),
        ("final N", _fmt(r"(?:^|[.!?。！？\n])\s*\**\s*{N}\s*\**\s*[.!。！]?\s*$")),  # "… at 3, 4, 6, 7 and 11. Five."
        ("x is N", _fmt(rf"(?:^|[.!?。]\s*)(?:the\s+)?(?:letter\s+)?['\"]?{t}['\"]?(?:'?s)?(?:\s+in\b[^.!?\n]{{0,24}}?)?\s+(?:is|are|=)\s+{{N}}"
                        r"(?!\d|\.\d)")),
        ("yes, N", _fmt(r"^\W*(?:yes|yeah|yep|有)[,，!.\s]+(?:there (?:is|are) |just |only )?{N}\b")),
        ("leading", _fmt(r"^\W*(?:(?:probably|maybe|perhaps|I think|I'd say|I believe|about|roughly|大概|应该是?|"
                         r"可能是?)[,，\s]*)?{N}(?=\s*(?:-|,|\.|!|。|，|$|\(|个|次|:))")),
    ]


_BOLD = re.compile(rf"\*\*\s*({NUM})\s*\*\*", re.I)
_ANY = re.compile(NUM, re.I)
_LIST_NUM = re.compile(r"(?m)^\s*\d{1,3}[.)、]\s")


_OTHER_LETTER = re.compile(r"\bletter\s+['\"‘“]?([a-z])['\"’”]?(?![a-z])", re.I)


def _other_letter_spans(text: str, target: str | None) -> list[tuple[int, int]]:
    """Sentences that talk about a different letter than the one asked about: their counts are not the answer."""
    if not target:
        return []
    spans = []
    for m in re.finditer(r"[^.!?\n。！？]+", text):
        letters = {x.lower() for x in _OTHER_LETTER.findall(m.group(0))}
        if letters and target.lower() not in letters:
            spans.append((m.start(), m.end()))
    return spans


_SEVERAL = re.compile(rf"({NUM})\s*(?:个|次)?\s*(?:或者?|还是|\bor\b|~|到)\s*({NUM})\s*(?:个|次|times|[A-Za-z]'?s\b)", re.I)


def several_numbers(text: str) -> str | None:
    """"1个或2个", "2 or 3 times": two different counts offered, none committed."""
    for m in _SEVERAL.finditer(text):
        a, b = to_decimal(m.group(1)), to_decimal(m.group(2))
        if a is not None and b is not None and a != b and a < 100 and b < 100:
            return m.group(0)
    return None


_OTHER_UNIT = re.compile(r"\s*(?:个|次)?\s*(?:字母|字符)?\s*[“\"'‘「]?([a-zA-Z\u4e00-\u9fff])(?![a-zA-Z])[”\"'’」]?")


def _counts_other(text: str, m: re.Match[str], target: str | None) -> bool:
    """"另外还有一个“草”字", "作为一个人工智能": a count of something else, or 一 as an article."""
    after = text[m.end(1):]
    listed = (re.search(r"[“\"']([A-Za-z\u4e00-\u9fff])[”\"']\s*(?:[:：]|有|出现了?)\s*\**\s*$", text[:m.start(1)])
              or re.search(r"(?<![A-Za-z'\u4e00-\u9fff])([A-Za-z\u4e00-\u9fff])\s*[:：]\s*\**\s*$", text[:m.start(1)]))
    if target and listed and listed.group(1).lower() != target.lower():
        return True  # "- 月：3 个" counts another character
    unit = _OTHER_UNIT.match(after)
    if target and unit and re.match(r"\s*(?:个|次)?\s*(?:字母|字符)?\s*[“\"'‘「]", after):
        return unit.group(1).lower() != target.lower()
    letter = re.match(r"\s*([a-zA-Z])'?s\b", after)
    if target and letter and letter.group(1).lower() != target.lower():
        return True  # "There are 2 m's and 1 g"
    if m.group(1) == "一":
        return not (unit and target and unit.group(1).lower() == target.lower())
    return False


_EXPLICIT = {"answer is", "number of x is", "答案是", "so N", "-> N", "x: N", "table", "yes, N", "x is N", ": N.",
             "有N个"}


def _final(found: list[Found]) -> Found:
    """The committed count: an explicit statement ("so it's 3", "一共是3个") over a count in passing
    ("两个l加上一个l"), and of those the last. Self-corrections are read by final_answer.py, which hands
    over only the text from the last correction on."""
    explicit = [f for f in found if f.rule in _EXPLICIT]
    return max(explicit or found, key=lambda f: f.start)


def committed_number(text: str, target: str | None = None, counted: str | None = None) -> Found | None:
    """The number the answer commits to, or None. `counted` (the text being counted) is ignored in the answer."""
    if counted and len(counted) > 1:
        text = text.replace(counted, " " * len(counted))
    excluded = _excluded(text)
    for a, b in _other_letter_spans(text, target):
        excluded |= set(range(a, b))
    list_starts = {m.start() + len(m.group(0)) - len(m.group(0).lstrip()) for m in _LIST_NUM.finditer(text)}
    found: list[Found] = []
    for rule, pat in commitments(target):
        for m in pat.finditer(text):
            if m.start(1) in excluded or to_decimal(m.group(1)) is None or _counts_other(text, m, target):
                continue
            value = _TIMES_WORDS.get(m.group(1).lower())
            found.append(Found(Decimal(value) if value is not None else to_decimal(m.group(1)), m.group(1), rule,
                               m.start(1)))  # type: ignore[arg-type]
    if found:
        return _final(found)
    bold = [m for m in _BOLD.finditer(text) if to_decimal(m.group(1)) is not None]
    if bold:
        return Found(to_decimal(bold[-1].group(1)), bold[-1].group(1), "bold", bold[-1].start(1))  # type: ignore[arg-type]
    if len(re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", text)) > 8:
        return None  # a lone number inside a longer text is not a commitment
    candidates = [m for m in _ANY.finditer(text)
                  if m.start() not in excluded and m.start() not in list_starts and to_decimal(m.group(0)) is not None
                  and m.group(0).lower() not in ("one", "single", "none")]
    values = {to_decimal(m.group(0)) for m in candidates}
    if len(values) == 1:
        m = candidates[-1]
        return Found(to_decimal(m.group(0)), m.group(0), "only number", m.start())  # type: ignore[arg-type]
    return None
