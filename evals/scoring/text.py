"""Text helpers shared by the scorers: normalisation, sentence/clause segments, loop collapsing."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# sentence ends (EN and ZH; NFKC turns "；" into ";", which still ends a Chinese clause) and line breaks
_SENT = re.compile(r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bSt\.)(?<!\bJr\.)(?<!\bMrs\.)(?<!\bProf\.)(?<!\b[A-Z]\.)(?<=[.!?;])\s+(?=[^a-z0-9])|(?<=[。！？；!?])|(?<=;)(?=[\u3400-\u9fff])|\n+")
# contrastive joints that start a new clause: "I'm not sure, but X was born in 1850"
_CONTRAST = re.compile(r",?\s+\b(?:but|however|though|although|yet)\b,?\s+|(?:但是|但|不过|然而|可是)[，,]?", re.I)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def sentences(text: str) -> list[str]:
    """Sentences and lines; a line ending in a colon keeps the line that completes it ("was awarded
    to:" + "- Elena Kara")."""
    out: list[str] = []
    for part in _SENT.split(text):
        if not part or not part.strip():
            continue
        if out and out[-1].endswith((":", "：")):
            out[-1] = out[-1] + " " + part.strip()
        else:
            out.append(part.strip())
    return out


def clauses(text: str) -> list[str]:
    """Sentences, each further split at contrastive conjunctions."""
    out: list[str] = []
    for sent in sentences(text):
        out.extend(part.strip() for part in _CONTRAST.split(sent) if part and part.strip())
    return out


def contrast_parts(sentence: str) -> list[str]:
    """A sentence split at contrastive conjunctions ("I'm not sure, but …")."""
    return _CONTRAST.split(sentence)


def squash(text: str) -> str:
    """Lower case, no punctuation or spaces: for comparing an answer with the prompt."""
    return "".join(c for c in nfkc(text).lower() if c.isalnum())


def similar(a: str, b: str) -> float:
    a, b = squash(a), squash(b)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


_LOOPS = ((re.compile(r"(.{3,200}?)(?:\s*\1){2,}", re.S), 24), (re.compile(r"((?:(?![\d.…\s]).){1,2}?)\1{4,}", re.S), 5))  # "诗诗诗诗诗", not "0.333333" or "……"


def collapse_loops(text: str, min_span: int = 24) -> tuple[str, bool]:
    """Replace every run of >= 3 consecutive copies of a unit (spanning >= min_span chars) by one copy.

    Returns the collapsed text and whether a loop was found. Digits in list numbering ("1. X 2. X")
    do not hide a loop: numbering at a line start is ignored when looking for repeats.
    """
    flat = re.sub(r"(?m)^\s*\d{1,3}[.)]\s+", "", text)
    found = False
    out = flat
    for _ in range(5):  # nested or successive loops
        hits = [m for pat, span in _LOOPS for m in pat.finditer(out) if m.end() - m.start() >= max(span, 5)
                and (span == 5 or m.end() - m.start() >= min_span)]
        if not hits:
            break
        m = min(hits, key=lambda h: h.start())
        found = True
        tail = out[m.end():]
        if tail.strip() and m.group(1).strip().startswith(tail.strip().rstrip("\ufffd")):
            tail = ""  # the cut-off start of one more copy
        out = out[: m.start()] + m.group(1) + tail
    return out, found


def roman(numeral: str) -> int:
    """A Roman numeral's value (0 when it is not one)."""
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    digits = [values.get(c, 0) for c in numeral.upper()]
    if 0 in digits:
        return 0
    return sum(-d if i + 1 < len(digits) and d < digits[i + 1] else d for i, d in enumerate(digits))


def years_in(text: str) -> list[str]:
    """The years a question names: four-digit years, and a Super Bowl's year from its numeral (Super
    Bowl I was played in January 1967, so LXVI is 2032)."""
    years = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", text)
    bowl = re.search(r"Super\s*Bowl\s+([IVXLC]+)\b", text, re.I)
    if bowl and roman(bowl.group(1)):
        years.append(str(1966 + roman(bowl.group(1))))
    return years
