"""self_identity scorer: claims judged against the profile's `identity` (names and makers).

`incorrect` when the answer claims any name or maker that is not the model's (including "Yes" to
"Are you ChatGPT?" and unknown names such as "My name is Elena"); `correct` when it claims only its
own name or maker, or denies a wrong one ("No, I'm not ChatGPT"); `abstained` when it declines or
stays generic ("I'm an AI assistant"), which does not pass (the model should know who it is).
A degenerate answer (loop or word salad, see `degenerate.py`) that claims nothing, declines nothing and
says nothing about itself ("你可能是听说明的谁！" three times) is `invalid`, not a generic answer.
"""

from __future__ import annotations

import re
from typing import Any

from evals.schema import Item
from evals.scoring.common import invalid, make
from evals.scoring.degenerate import salad, strewn
from evals.scoring.identity import Claim, asked_entities, claims, entities, yes_no
from evals.scoring.invalid import clean
from evals.scoring.normalise import normalise
from evals.scoring.outcome import Score, ScoreContext
from evals.scoring.refusal import detect
from evals.scoring.registry import Check, register
from evals.scoring.text import sentences
from evals.scoring.topic import content_words

# a statement about itself, however generic: "I'm an AI", "我是一个乐于助人的助手", "as a chatbot"
_SELF_STATEMENT = re.compile(r"\b(?:I am|I'm|I’m|my name|as an? (?:AI|assistant|chatbot|language model))\b|"
                             r"我(?:是|叫|只是|作为)|作为(?:一个|一名)?(?:AI|人工智能|助手|语言模型|聊天机器人)", re.I)


_OPTIONS = re.compile(r"\b(?:possible answers?|options?|choices?|candidates?)\b|可能的答案|选项", re.I)
_LISTED = re.compile(r"(?m)^\s*(?:\d+[.)、]|[-*•]|[A-D][.)、])\s*(.+)$")
_ABOUT_AI = re.compile(r"\b(?:AI|assistants?|models?|chatbots?|language|bots?|GPT)\b|助手|模型|人工智能|机器人", re.I)
_FIRST_PERSON = re.compile(r"\b(?:I|me|my|mine|myself|I'm|we|us|our)\b|我|本助手|本模型", re.I)


# a self-description without "I": "The creator of the AI assistant is…", "你是一个乐于助人的助手" (the system prompt)
_ASSISTANT = re.compile(r"\b(?:the|this|an?) (?:AI |helpful )?assistant\b|\b(?:a|an) (?:AI (?:language )?model|"
                        r"(?:large )?language model|AI assistant)\b|助手|语言模型", re.I)

# words every identity question shares with an unrelated answer ("The model of a house is a blueprint")
_GENERIC = {"model", "name", "called", "built", "made", "lab", "company", "who", "what", "are", "you", "your"}


def off_topic(answer: str, prompt: str) -> bool:
    """Says nothing about itself, about AI, or about the question beyond a name in it ("百度是一个搜索引擎…")."""
    text = normalise(answer)
    if _FIRST_PERSON.search(text) or _ABOUT_AI.search(text):
        return False
    if len(re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", text)) <= 12:
        return False
    names = {w.lower() for m in _entity_names(prompt) for w in content_words(m)}
    shared = content_words(text) & content_words(prompt)
    return not {w for w in shared if w not in _GENERIC and w not in names}


def _readable_self_statement(text: str) -> bool:
    """A statement about itself in a sentence that is not itself salad ("I am a I am a the you are who" is)."""
    return any(_SELF_STATEMENT.search(s) and not salad(s) and not strewn(s) and not s.rstrip().endswith(("?", "？"))
               for s in sentences(text))


def _entity_names(text: str) -> list[str]:
    return [text[start:end] for _, start, end in entities(text)]


def _norm(s: str) -> str:
    return re.sub(r"[\s_-]+", "", s.lower())


def is_own(entity: str, ctx: ScoreContext) -> bool:
    e = _norm(entity)
    own = [_norm(x) for x in [*ctx.identity.names, *ctx.identity.makers]]
    return any(e == o or (len(e) >= 4 and len(o) >= 4 and (e.startswith(o) or o.startswith(e))) for o in own)


def score_identity(item: Item, answer: str, ctx: ScoreContext) -> Score:
    cleaned = clean(answer, item.text, item.system)
    if cleaned.invalid:
        return invalid(cleaned)
    text = cleaned.text
    found: list[Claim] = [c for c in claims(text) if not (c.bare and cleaned.degenerate)]  # "文心一言！…－－－"
    asked = asked_entities(item.text)
    yn = yes_no(text)
    if asked and yn:
        found += [Claim(name, "asked", yn == "no", f"{yn} to {item.text!r}") for name in asked]
    listed = _LISTED.findall(text)
    if _OPTIONS.search(text) and len({e for line in listed for e, _, _ in entities(line)}) >= 2:
        return make("incorrect", False, "lists several identities without committing to one", None, cleaned)
    false_claims = [c for c in found if not c.negated and not is_own(c.entity, ctx)]
    own_denied = [c for c in found if c.negated and is_own(c.entity, ctx)]
    true_claims = [c for c in found if not c.negated and is_own(c.entity, ctx)]
    denials = [c for c in found if c.negated and not is_own(c.entity, ctx)]
    if false_claims:
        c = false_claims[0]
        return make("incorrect", False, f"claims to be or be made by {c.entity!r}, not in the profile identity "
                    f"({c.quote!r})", c.entity, cleaned)
    if own_denied:
        c = own_denied[0]
        return make("incorrect", False, f"denies its own identity {c.entity!r} ({c.quote!r})", c.entity, cleaned)
    if true_claims:
        names = ", ".join(dict.fromkeys(c.entity for c in true_claims))
        return make("correct", True, f"states its identity: {names}", names, cleaned)
    if denials:
        names = ", ".join(dict.fromkeys(c.entity for c in denials))
        return make("abstained", False, f"denies a wrong identity (not {names}) but names none of its own",
                    f"not {names}", cleaned)
    cue = detect(text)
    if cue:
        return make("abstained", False, f"declines ({cue.kind}: {cue.phrase!r}); names no identity", None, cleaned)
    if cleaned.degenerate and not _readable_self_statement(text):
        return make("invalid", False, f"invalid: degenerate text ({cleaned.degenerate}) that says nothing about "
                    "itself", None, cleaned)
    if off_topic(answer, item.text) or (cleaned.degenerate and len(re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", text)) <= 4) or (
            cleaned.degenerate and "without grammar" in cleaned.degenerate):
        return make("invalid", False, "invalid: a reply about something else (says nothing about itself)", None,
                    cleaned)
    mentions_asked = any(name.lower() in text.lower() for name in asked)  # "OpenAI is a research company…"
    said = normalise(answer)  # before echoed sentences are dropped: "你是一个乐于助人的助手。" parrots the system turn
    if not _FIRST_PERSON.search(said) and not _ASSISTANT.search(said) and not mentions_asked:
        return make("invalid", False, "invalid: says nothing about itself (no first person, no decline)", None,
                    cleaned)
    return make("abstained", False, "generic: claims no name or maker", None, cleaned)


def default_expect(row: dict[str, Any], cutoff: str | None) -> dict[str, Any]:
    return {"kind": "identity"}


CHECK = register(Check(
    name="self_identity", scorer=score_identity, kinds=("identity",), default_expect=default_expect,
    summary="who the model says it is, judged against the profile's identity"))
