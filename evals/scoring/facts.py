"""Gold answers for `facts` expectations: accept/reject patterns matched at word starts, and
answers that name several candidates without committing to one.

A pattern that begins with a letter or digit only matches at the start of a word ("Ital" is found
in "Italy", not in "capital"; "Rio" not in "Ontario"); one that names a country is not found inside
a longer name ("Korea" not in "North Korea"). Chinese patterns match anywhere.
"""

from __future__ import annotations

import re
from functools import lru_cache

from evals.schema import FactsExpect

_LONGER_NAME = r"(?<!North )(?<!South )(?<!East )(?<!West )(?<!New )(?<!Northern )(?<!Southern )"
_HEDGED_PAIR = re.compile(
    r"\beither\b[^.!?]{1,60}?\bor\b|\b(?:it|this|that) (?:was|is|could be|might be|may be) (?:\w+ ){0,3}?or\b"
    r"|\bor (?:maybe|perhaps|possibly)\b|(?:或者|或是|也可能是|要么)", re.I)


@lru_cache(maxsize=4096)
def anchored(pattern: str) -> re.Pattern[str]:
    head = r"(?<![A-Za-z0-9])" + _LONGER_NAME if re.match(r"[A-Za-z0-9\\(]", pattern) else ""
    return re.compile(f"{head}(?:{pattern})", re.I)


def first_match(patterns: list[str], text: str) -> str | None:
    for pattern in patterns:
        m = anchored(pattern).search(text)
        if m:
            return m.group(0)
    return None


def gold_match(expect: FactsExpect, text: str) -> tuple[str | None, str | None]:
    """(accepted match, rejected match) in the text."""
    return first_match(expect.accept, text), first_match(expect.reject, text)


def several_candidates(text: str, accepted: str) -> bool:
    """The answer offers the gold among other candidates ("either Argentina or France")."""
    for sentence in re.split(r"(?<=[.!?。！？])\s*", text):
        if accepted.lower() in sentence.lower() and _HEDGED_PAIR.search(sentence):
            return True
    return False
