"""The outcome vocabulary shared by every suite (SimpleQA's correct / incorrect / not-attempted, plus invalid)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from evals.profiles import Identity

Outcome = Literal["correct", "incorrect", "abstained", "invalid"]
OUTCOMES: tuple[Outcome, ...] = ("correct", "incorrect", "abstained", "invalid")


class Score(BaseModel):
    outcome: Outcome
    passed: bool  # did the model do what `expect` asked
    extracted: str | None = None  # what the scorer read out of the answer
    why: str  # which rule decided, shown in reports
    flags: list[str] = []  # extra labels reported separately, e.g. "after_cutoff_gold"


@dataclass(frozen=True)
class ScoreContext:
    """What a scorer may know beyond the item: who the model is and when its knowledge ends."""

    identity: Identity = field(default_factory=Identity)
    knowledge_cutoff: str | None = None
