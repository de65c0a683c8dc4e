"""Small helpers every check scorer uses to build a Score."""

from __future__ import annotations

from evals.scoring.invalid import Cleaned
from evals.scoring.outcome import Outcome, Score


def make(outcome: Outcome, passed: bool, why: str, extracted: str | None = None,
         cleaned: Cleaned | None = None, flags: list[str] | None = None) -> Score:
    all_flags = [*(cleaned.flags if cleaned else ()), *(flags or [])]
    return Score(outcome=outcome, passed=passed, extracted=extracted, why=why, flags=all_flags)


def invalid(cleaned: Cleaned) -> Score:
    return make("invalid", False, f"invalid: {cleaned.invalid}", cleaned=cleaned)
