"""Answers that cannot be scored at all: empty, unreadable, only the prompt echoed back, or a loop with
nothing else in it. A loop after a real answer is collapsed to one copy and the answer is scored.
Word salad that is still readable enough to hold a claim is not decided here: `Cleaned.degenerate` says
why the answer reads as degenerate, and the check scorers then count only specific, non-salad claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evals.scoring.answer_form import cut_continuation, expand_letters, json_answer
from evals.scoring.degenerate import degenerate
from evals.scoring.normalise import normalise
from evals.scoring.text import collapse_loops, nfkc, sentences, similar, squash

_READABLE = re.compile(r"[\w\s.,;:!?'\"()\[\]{}\-+*/=%$€£¥<>@#&|~^`…，。！？；：、“”‘’（）《》【】·—－]", re.U)


@dataclass(frozen=True)
class Cleaned:
    """The part of an answer a scorer should read, or why there is none."""

    text: str  # answer with loops collapsed and echoed prompt sentences removed
    invalid: str | None  # reason when the answer is unusable
    flags: tuple[str, ...] = ()
    degenerate: str | None = None  # why the answer reads as a loop or word salad (see degenerate.py)


_ECHO_STOP = {"the", "a", "an", "answer", "is", "are", "was", "of", "to", "in", "what", "which", "who", "how", "here",
              "it", "this", "that", "be", "s", "you", "your", "me", "my", "please", "question", "and", "or", "i", "ok", "q"}
_ECHO_FILLER = set("一个名家位支的了是为在你我他她它们吗呢吧啊呀哦这那么什谁哪几多少问")  # 问: "问：…？" restates
_YES_NO_START = re.compile(r"^\W*(?:yes|no|yeah|nope|是的|不是|对|否|不)(?:\b|[，,。.!！\s])", re.I)


def new_content(sentence: str, prompt: str) -> list[str]:
    """Words, numbers, comparison signs and Chinese characters in the sentence that the prompt lacks."""
    low_prompt = nfkc(prompt).lower()
    words = set(re.findall(r"[a-z0-9]+(?:\.[0-9]+)*|[<>=]", low_prompt))
    out = [w for w in re.findall(r"[a-z0-9]+(?:\.[0-9]+)*|[<>=＞＜]", nfkc(sentence).lower())
           if w not in words and w not in _ECHO_STOP]
    out += [c for c in sentence if "\u4e00" <= c <= "\u9fff" and c not in low_prompt and c not in _ECHO_FILLER]
    return out


def is_echo(sentence: str, prompt: str) -> bool:
    """The sentence repeats the prompt (or part of it) and adds nothing."""
    s, p = squash(sentence), squash(prompt)
    if not s or not p or _YES_NO_START.match(sentence) or new_content(sentence, prompt):
        return False
    if (re.search(r"^\W*(?:我|I\b|I'm)", sentence) and re.search(r"你|\byou\b", prompt, re.I)
            and not re.search(r"[?？吗]\W*$", sentence)):
        return False  # "我是一个乐于助人的助手" answers "你是一个乐于助人的助手", it does not echo it
    if similar(sentence, prompt) >= 0.85:
        return True
    if len(s) >= 6 and (any(s == squash(part) for part in sentences(prompt)) or (len(s) >= 20 and s in p
                                                                              and len(s) >= 0.4 * len(p))):
        return True  # a sentence of the prompt repeated word for word
    # a declarative restatement ("9.11 比 9.9 大。") answers; a repeated question does not
    asks = re.search(r"[?？]|谁|哪|几|什么|多少|是否|吗|\b(?:which|who|what|how|whether)\b|^\s*(?:is|are|does|do)\b",
                     sentence, re.I)
    return bool(asks) and (similar(sentence, prompt) >= 0.5 or (s in p and len(s) >= 0.4 * len(p)))


def clean(answer: str, prompt: str, system: str | None = None) -> Cleaned:
    text = normalise(answer or "").replace("\ufffd", "\u0000")
    prompt = normalise(prompt)
    system = normalise(system) if system else system
    text = text.rstrip("\u0000").replace("\u0000", "\ufffd").strip()  # a cut multibyte char at the end is harmless
    text = expand_letters(json_answer(cut_continuation(text)), prompt)
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
    parts = sentences(collapsed)
    if len(parts) > 1 and parts[-1][-1:] not in ".!?。！？" and any(
            squash(x).startswith(squash(parts[-1])) for x in parts[:-1] if squash(parts[-1])):
        parts = parts[:-1]  # the cut-off start of a sentence the answer already said
    kept = [s for s in parts if not is_echo(s, prompt) and not (system and is_echo(s, system))]
    if len(kept) < len(parts):
        flags.append("echo")
    rest = "\n".join(kept)
    content = re.sub(r"(?i)\b(the answer is|answer|the)\b|答案是", "", rest)
    if len(squash(content)) < 2 and not re.search(r"\d|[一二两三四五六七八九十零是否]|\b(yes|no)\b", content, re.I):
        if looped:
            return Cleaned(rest, "repetition loop with no answer in it", tuple(flags))
        return Cleaned(rest, "only the prompt echoed back" if "echo" in flags else "no content", tuple(flags))
    return Cleaned(rest, None, tuple(flags), degenerate(text, looped))
