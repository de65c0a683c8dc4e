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


_GOLD_BORN = re.compile(r"\bborn (\d{3,4})\b|生于(\d{3,4})年")
_SAID_BORN = re.compile(r"\bborn\b(?:(?!died|death|passed)[^.;\d]){0,30}?\b(\d{3,4})\b|^[^.;(]{0,60}\((?:born |b\. )?(\d{3,4})\s*[–—-]|"
                        r"生于[^，。；\d]{0,6}(\d{3,4})|（(\d{3,4})\s*[—–-]|(\d{3,4})年(?:出生|生)", re.I)
_DYNASTY = re.compile(r"(春秋|战国|南北朝|[秦汉晋隋唐宋元明清])(?:代|朝|时期)")
_DYNASTY_ALIAS = re.compile(r"[东西北南](?=[汉晋宋])")


def _years(match: re.Match[str] | None) -> int | None:
    if match is None:
        return None
    return next(int(g) for g in match.groups() if g)


def _dynasties(text: str) -> set[str]:
    return set(_DYNASTY.findall(_DYNASTY_ALIAS.sub("", text)))


def contradicts_gold(gold: str | None, text: str) -> str | None:
    """A key fact of the answer that the gold answer contradicts: a birth year in another era, more
    than a lifetime (70 years) away ("born in 1685" for Beethoven, gold "born 1770": another composer;
    a year a little off is a slip, not another person), or another dynasty ("李白是宋朝的诗人", gold 唐代)."""
    if not gold:
        return None
    gold_year, said_year = _years(_GOLD_BORN.search(gold)), _years(_SAID_BORN.search(text))
    if gold_year and said_year and abs(gold_year - said_year) > 70:
        return f"born {said_year} (gold: {gold_year})"
    gold_dynasties, said = _dynasties(gold), _dynasties(text)
    if gold_dynasties and said and not gold_dynasties & said:
        return f"{'/'.join(sorted(said))} (gold: {'/'.join(sorted(gold_dynasties))})"
    return None
