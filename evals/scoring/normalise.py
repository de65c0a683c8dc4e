"""The one normalisation step every scorer sees (applied in `invalid.clean`, and to prompts read by a
check): Unicode NFKC (full-width forms, ligatures, ellipsis), typographic quotes and apostrophes to
ASCII, dashes and minus signs to "-", no-break and other spaces to " ", zero-width characters and
soft hyphens removed, a leading <think>…</think> block dropped when an answer follows it, markdown emphasis, inline code marks and heading markers removed, and traditional Chinese characters
converted to simplified ones (OpenCC's t2s tables), so one set of Chinese cues reads both scripts.

Chinese full stops and enumeration commas (。、) are not compatibility forms and stay as they are;
full-width commas, colons, question and exclamation marks become their ASCII forms under NFKC.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'", "`": "",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2e3a": "-", "\u2e3b": "-", "\ufe58": "-",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u3000": " ",
})
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
_HEADING = re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]+")
_QUOTE_BLOCK = re.compile(r"(?m)^[ \t]{0,3}>[ \t]?")
_BULLET = re.compile(r"(?m)^([ \t]*)[*+•·▪◦‣][ \t]+")
_RULE = re.compile(r"(?m)^[ \t]*(?:[-*_][ \t]*){3,}$")
# **bold**, __bold__, *em*, _em_, ~~struck~~ (not "2*3*4" or snake_case words)
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S)
_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_EM_UNDER = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.S)
_SPACES = re.compile(r"[ \t]+")
_THINK = re.compile(r"^\s*<(think|thinking|reasoning)>.*?</\1>\s*(?=\S)", re.S | re.I)  # reasoning before the answer
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    from opencc import OpenCC

    return OpenCC("t2s").convert


def normalise(text: str) -> str:
    """The text a scorer reads (see the module docstring)."""
    out = _THINK.sub("", unicodedata.normalize("NFKC", text or ""))
    out = out.translate(_MAP)
    out = _ZERO_WIDTH.sub("", out)
    out = _RULE.sub("", out)
    out = _HEADING.sub("", out)
    out = _QUOTE_BLOCK.sub("", out)
    out = _BULLET.sub(r"\1- ", out)
    for _ in range(2):  # nested emphasis: ***x***
        out = _STRONG.sub(r"\2", out)
    out = _EM_STAR.sub(r"\1", out)
    out = _EM_UNDER.sub(r"\1", out)
    out = _STRIKE.sub(r"\1", out)
    out = out.replace("'''", "").replace('"""', "")
    if _CJK.search(out):
        out = _t2s()(out)
    return _SPACES.sub(" ", out)
