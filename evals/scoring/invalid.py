"""Answers that cannot be scored at all: empty, unreadable, only the prompt echoed back, or a loop with
nothing else in it. A loop after a real answer is collapsed to one copy and the answer is scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evals.scoring.text import collapse_loops, nfkc, sentences, similar, squash

_READABLE = re.compile(r"[\w\s.,;:!?'\"()\[\]{}\-+*/=%$€£¥<>@#&|~^`…，。！？；：、“”‘’（）《》【】·—－]", re.U)


@dataclass(frozen=True)
class Cleaned:
    """The part of an answer a scorer should read, or why there is none."""

    text: str  # answer with loops collapsed and echoed prompt sentences removed
    invalid: str | None  # reason when the answer is unusable
    flags: tuple[str, ...] = ()


def is_echo(sentence: str, prompt: str) -> bool:
    """The sentence repeats the prompt (or most of it)."""
    s, p = squash(sentence), squash(prompt)
    return bool(s) and (similar(sentence, prompt) >= 0.75 or (s in p and len(s) >= 0.6 * len(p)))


def clean(answer: str, prompt: str) -> Cleaned:
    text = nfkc(answer or "").replace("\ufffd", "\u0000")
    text = text.rstrip("\u0000").replace("\u0000", "\ufffd").strip()  # a cut multibyte char at the end is harmless
    if not text:
        return Cleaned("", "empty answer")
    if text.count("\ufffd") >= 3:
        return Cleaned(text, f"unreadable: {text.count(chr(0xfffd))} broken characters")
    readable = sum(1 for c in text if _READABLE.match(c))
    if readable / len(text) < 0.7 or not any(c.isalnum() for c in text):
        return Cleaned(text, f"unreadable: only {readable}/{len(text)} readable characters")
    flags: list[str] = []
    collapsed, looped = collapse_loops(text)
    if looped:
        flags.append("repetition_loop")
    kept = [s for s in sentences(collapsed) if not is_echo(s, prompt)]
    if len(kept) < len(sentences(collapsed)):
        flags.append("echo")
    rest = " ".join(kept)
    content = re.sub(r"(?i)\b(the answer is|answer|the)\b|答案是", "", rest)
    if len(squash(content)) < 2 and not re.search(r"\d|[一二两三四五六七八九十零是否]|\b(yes|no)\b", content, re.I):
        if looped:
            return Cleaned(rest, "repetition loop with no answer in it", tuple(flags))
        return Cleaned(rest, "only the prompt echoed back" if "echo" in flags else "no content", tuple(flags))
    return Cleaned(rest, None, tuple(flags))
