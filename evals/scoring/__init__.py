"""Scorers: `score(check, item, answer, ctx) -> Score`. One rule-based scorer per suite check."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from evals.schema import Item
from evals.scoring.outcome import OUTCOMES, Outcome, Score, ScoreContext

__all__ = ["OUTCOMES", "Outcome", "Score", "ScoreContext", "SCORER_VERSION", "score"]

#: bump when any scorer's verdicts change; recorded in every run (see `probity rescore`)
SCORER_VERSION = "3"

_CHECKS = {
    "fictional_bios": "evals.scoring.bios:score_bio",
    "post_cutoff": "evals.scoring.post_cutoff:score_post_cutoff",
    "letter_counts": "evals.scoring.letters:score_letters",
    "decimal_compare": "evals.scoring.decimals:score_decimal",
    "self_identity": "evals.scoring.self_identity:score_identity",
}


def scorer_for(check: str) -> Callable[[Item, str, ScoreContext], Score]:
    module, _, fn = _CHECKS[check].partition(":")
    return getattr(import_module(module), fn)


def score(check: str, item: Item, answer: str, ctx: ScoreContext) -> Score:
    return scorer_for(check)(item, answer, ctx)
