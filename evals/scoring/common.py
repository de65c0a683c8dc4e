"""Small helpers every check scorer uses to build a Score."""

from __future__ import annotations

from evals.scoring.final_answer import CORRECTED_TAIL, View
from evals.scoring.invalid import Cleaned
from evals.scoring.outcome import Outcome, Score
from evals.scoring.refusal import detect


def make(outcome: Outcome, passed: bool, why: str, extracted: str | None = None,
         cleaned: Cleaned | None = None, flags: list[str] | None = None) -> Score:
    all_flags = [*(cleaned.flags if cleaned else ()), *(flags or [])]
    return Score(outcome=outcome, passed=passed, extracted=extracted, why=why, flags=all_flags)


def invalid(cleaned: Cleaned) -> Score:
    return make("invalid", False, f"invalid: {cleaned.invalid}", cleaned=cleaned)


def retraction(view: View, gold: object, cleaned: Cleaned) -> Score | None:
    """An abstention when `view` is the text after the last self-correction and holds an abstention cue
    ("2… wait, I'm not sure I can count this reliably"): the retraction is the final word."""
    cue = detect(view.span) if view.rule == CORRECTED_TAIL else None
    if cue is None:
        return None
    return make("abstained", False, f"abstains after a self-correction ({cue.kind}: {cue.phrase!r}); gold {gold}",
                None, cleaned)
