"""Degenerate text: the word salad and phrase loops a small model falls into, above all in Chinese.

Exact loops are collapsed by `text.collapse_loops`; what is left can still be salad ("李玉华是一位生平人，
从昆明的生平生亡。他们在生平生亡…"): a handful of fragments recombined again and again. Three cheap,
language-agnostic signals, each a regex or one pass over the text:

- `repeated_share`: the share of the answer's units (a CJK character, a digit run or a Latin word) covered
  by 4-grams that occur at least twice. Fluent answers stay well under 0.3; salad and loops sit above 0.4.
- `salad`: a fragment repeated back to back, at most one character between ("生平的生平", "来自来自",
  "被福制被被福制", "2019年的2019年"), or a doubled function character ("被被", "的的").
- a loop found by `collapse_loops`.

A degenerate answer is not invalid by itself (a loop of a real claim is still that claim); the check
scorers read it more strictly: only clauses that are not salad and make a specific claim count.
"""

from __future__ import annotations

import re
from collections import Counter

_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|\d+|[A-Za-z]+(?:'[a-z]+)?")
_SALAD = re.compile(
    r"([0-9]+[\u3400-\u9fff][\u3400-\u9fff0-9]{0,6}?|[\u3400-\u9fff][\u3400-\u9fff0-9]{1,7}?)[\u3400-\u9fff]?\1"  # "生平的生平", "2019年的2019年"
    r"|([的被是从])\2")  # "被被", "的的"

MIN_UNITS = 12
REPEATED_SHARE = 0.4


def units(text: str) -> list[str]:
    return [u.lower() for u in _UNIT.findall(text)]


def repeated_share(text: str, n: int = 4) -> float:
    """Share of units covered by n-grams that occur at least twice (0.0 for short answers)."""
    us = units(text)
    if len(us) < MIN_UNITS:
        return 0.0
    grams = [tuple(us[i:i + n]) for i in range(len(us) - n + 1)]
    counts = Counter(grams)
    covered = [False] * len(us)
    for i, gram in enumerate(grams):
        if counts[gram] >= 2:
            covered[i:i + n] = [True] * n
    return sum(covered) / len(us)


# tokens strewn with spaces ("1.2 1.19 大 big the number 的 是 1 1 1"), articles before function words
# ("the of", "the the"), a word three times in a row ("rocks rocks rocks")
_STREWN = re.compile(r"(?:(?:^|\s)[\u4e00-\u9fff]{1,2}(?=\s)){4,}|(?:(?:^|\s)(?:[.,]|\d)(?=\s)){4,}|"
                     r"(?:(?:^|\s)\d{1,4}(?=\s)){7,}")  # "1963 1964 1965 1966 …": a run of numbers
_BROKEN_EN = re.compile(r"\b(?:the|a|an) (?:the|a|an|of|and|is|to|in)\b|\b(\w{2,})\s+\1\s+\1\b|"
                        r"\b(?!that\b|have\b|been\b)([A-Za-z]{4,})\s+\2\b", re.I)


def salad(text: str) -> str | None:
    """The first back-to-back repeated fragment in the text, if any."""
    m = _SALAD.search(text)
    return m.group(0) if m else None


_LONE_CJK = re.compile(r"(?:^|\s)[\u4e00-\u9fff]{1,2}(?=\s|$)")


def strewn(text: str) -> str | None:
    """Words strewn without grammar: space-separated Chinese characters, broken English."""
    m = _STREWN.search(text) or _BROKEN_EN.search(text)
    if m:
        return m.group(0).strip()
    lone = _LONE_CJK.findall(text)
    return " ".join(x.strip() for x in lone[:4]) if len(lone) >= 5 else None


# a reasoning block with nothing in it and nothing after it ("<think>\n\n</think>"): the model stopped
# before it wrote anything (normalise drops a think block only when an answer follows it)
_EMPTY_THINK = re.compile(r"^\s*(?:<(think|thinking|reasoning)>\s*</\1>\s*)+$", re.I)


def empty_reasoning(text: str) -> bool:
    """The reply is only empty reasoning tags."""
    return bool(_EMPTY_THINK.match(text))


def degenerate(text: str, looped: bool = False) -> str | None:
    """Why the text reads as degenerate (loop, repeated fragments, salad), or None."""
    if empty_reasoning(text):
        return "an empty reasoning block and no answer"
    if looped:
        return "repetition loop"
    share = repeated_share(text)
    if share >= REPEATED_SHARE:
        return f"{share:.0%} of the text is repeated phrases"
    marker = salad(text)
    if marker:
        return f"word salad {marker!r}"
    marker = strewn(text)
    return f"words without grammar {marker!r}" if marker else None
