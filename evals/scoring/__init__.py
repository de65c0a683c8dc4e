"""Scorers: `score(check, item, answer, ctx) -> Score`. One rule-based scorer per check, each check one
module registered in `evals/scoring/registry.py`."""

from __future__ import annotations

from evals.schema import Item
from evals.scoring.outcome import OUTCOMES, Outcome, Score, ScoreContext

__all__ = ["OUTCOMES", "Outcome", "Score", "ScoreContext", "SCORER_VERSION", "score"]

#: bump when any scorer's verdicts change; recorded in every run (see `probity rescore`)
SCORER_VERSION = "6"


def score(check: str, item: Item, answer: str, ctx: ScoreContext) -> Score:
    from evals.scoring.registry import get, kind_problem

    problem = kind_problem(check, item.expect.kind)
    if problem:
        raise ValueError(f"{item.id}: {problem}")
    return get(check).scorer(item, answer, ctx)
