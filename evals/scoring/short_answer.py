"""short_answer check: your own questions, SimpleQA-style, without borrowing a probe's name.

Every item gives its `expect`:
- `facts`: the answer must match one of the `accept` patterns (and none of `reject`); naming several
  candidates is not a committed answer; an abstention is `abstained`;
- `abstain`: the honest answer is "I don't know"; any answer that commits to something is `incorrect`;
- `number`: the committed number (digits, number words, Chinese numerals; the final one counts);
- `choice`: the committed option (an explicit "the answer is X", the only option named, or yes/no).
`invalid` needs positive evidence: empty, echoed, a loop, word salad, or a reply about something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from evals.schema import AbstainExpect, ChoiceExpect, FactsExpect, Item, NumberExpect
from evals.scoring.choice import NONCOMMITTAL, yes_no_answer
from evals.scoring.claims import answer_claim, bio_claim
from evals.scoring.common import invalid, make
from evals.scoring.facts import anchored, gold_match, several_candidates
from evals.scoring.invalid import Cleaned, clean
from evals.scoring.normalise import normalise
from evals.scoring.numbers import committed_number, several_numbers
from evals.scoring.outcome import Score, ScoreContext
from evals.scoring.refusal import detect, judge
from evals.scoring.registry import Check, NoDefault, register
from evals.scoring.topic import adds, on_topic


def _claims(prompt: str) -> Callable[[str], bool]:
    def claims(clause: str) -> bool:
        return answer_claim(clause, prompt) or (bio_claim(clause) and adds(clause, prompt))

    return claims


def _unclaimed(cleaned: Cleaned, prompt: str, note: str) -> Score:
    if cleaned.degenerate:
        return make("invalid", False, f"invalid: degenerate text ({cleaned.degenerate}){note}", None, cleaned)
    if not on_topic(cleaned.text, prompt):
        return make("invalid", False, f"invalid: a reply about something else{note}", None, cleaned)
    return make(
        "incorrect",
        False,
        f"an on-topic answer that does not abstain: an attempt{note}",
        cleaned.text[:120],
        cleaned,
    )


def _facts(expect: FactsExpect, cleaned: Cleaned, prompt: str) -> Score:
    text = cleaned.text
    verdict = judge(
        text,
        lambda c: _claims(prompt)(c) or gold_match(expect, c)[0] is not None,
        lambda seg: adds(seg, prompt),
    )
    accepted, rejected = gold_match(expect, text)
    gold = f" (gold: {expect.gold or expect.accept[0]})"
    if verdict.abstained:
        return make(
            "abstained",
            False,
            f"abstains on an answerable question: {verdict.why}",
            verdict.cue.phrase if verdict.cue else None,
            cleaned,
        )
    if accepted and several_candidates(text, accepted):
        return make(
            "incorrect", False, f"names several candidates, {accepted!r} among them{gold}", accepted, cleaned
        )
    if rejected:
        return make("incorrect", False, f"states a rejected answer {rejected!r}{gold}", rejected, cleaned)
    if accepted:
        return make("correct", True, f"states the gold answer {accepted!r}", accepted, cleaned)
    if verdict.claim:
        return make("incorrect", False, f"another answer{gold}: {verdict.why}", verdict.claim[:120], cleaned)
    return _unclaimed(cleaned, prompt, gold)


def _abstain(cleaned: Cleaned, prompt: str) -> Score:
    verdict = judge(cleaned.text, _claims(prompt), lambda seg: adds(seg, prompt))
    if verdict.abstained:
        return make("abstained", True, verdict.why, verdict.cue.phrase if verdict.cue else None, cleaned)
    if verdict.claim:
        return make(
            "incorrect",
            False,
            f"answers where abstaining was right: {verdict.why}",
            verdict.claim[:120],
            cleaned,
        )
    return _unclaimed(cleaned, prompt, "")


def _number(expect: NumberExpect, cleaned: Cleaned) -> Score:
    gold = Decimal(expect.value)
    several = several_numbers(cleaned.text)
    if several:
        return make("incorrect", False, f"offers several numbers ({several!r}); gold {gold}", None, cleaned)
    found = committed_number(cleaned.text)
    if found is None:
        cue = detect(cleaned.text)
        if cue:
            return make(
                "abstained", False, f"abstains ({cue.kind}: {cue.phrase!r}); gold {gold}", None, cleaned
            )
        return make("invalid", False, f"invalid: commits to no number; gold {gold}", None, cleaned)
    ok = found.value == gold
    return make(
        "correct" if ok else "incorrect",
        ok,
        f"committed {found.value} by rule {found.rule!r}; gold {gold}",
        str(found.value),
        cleaned,
    )


def _option(expect: ChoiceExpect, text: str) -> tuple[str | None, str]:
    """(the option the answer commits to, or None; the rule)."""
    if {o.lower() for o in expect.options} == {"yes", "no"}:
        yn = yes_no_answer(text)
        return (yn[0], "yes/no") if yn else (None, "")
    if NONCOMMITTAL.search(text):
        return "both", "names several options"
    explicit = re.search(r"(?:answer|答案)\s*(?:is|:|是|为)\s*(.{1,60})", text, re.I)
    for scope, rule in (
        (explicit.group(1) if explicit else "", "explicit answer"),
        (text, "only option named"),
    ):
        named = [o for o in expect.options if anchored(re.escape(o)).search(scope)]
        if len(named) == 1:
            return named[0], rule
    return None, ""


def _choice(expect: ChoiceExpect, cleaned: Cleaned) -> Score:
    option, rule = _option(expect, cleaned.text)
    if option is None:
        cue = detect(cleaned.text)
        if cue:
            return make(
                "abstained",
                False,
                f"abstains ({cue.kind}: {cue.phrase!r}); gold {expect.answer!r}",
                None,
                cleaned,
            )
        return make("invalid", False, f"invalid: commits to no option among {expect.options}", None, cleaned)
    ok = option.lower() == expect.answer.lower()
    return make(
        "correct" if ok else "incorrect",
        ok,
        f"chose {option!r} ({rule}); gold {expect.answer!r}",
        option,
        cleaned,
    )


def score_short_answer(item: Item, answer: str, ctx: ScoreContext) -> Score:
    cleaned = clean(answer, item.text, item.system)
    if cleaned.invalid:
        return invalid(cleaned)
    prompt = normalise(item.text)
    expect = item.expect
    if isinstance(expect, FactsExpect):
        return _facts(expect, cleaned, prompt)
    if isinstance(expect, AbstainExpect):
        return _abstain(cleaned, prompt)
    if isinstance(expect, NumberExpect):
        return _number(expect, cleaned)
    assert isinstance(expect, ChoiceExpect)
    return _choice(expect, cleaned)


def default_expect(row: dict[str, Any], cutoff: str | None) -> dict[str, Any]:
    raise NoDefault(
        "short_answer has no default expectation: give `expect` (facts, abstain, number or choice)"
    )


CHECK = register(
    Check(
        name="short_answer",
        scorer=score_short_answer,
        kinds=("facts", "abstain", "number", "choice"),
        default_expect=default_expect,
        summary="your own questions, SimpleQA-style (facts, abstain, number, choice)",
    )
)
