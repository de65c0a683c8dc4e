"""Agreement of the scorers with human labels, per check and language, with 95% Wilson intervals.

A labelled line is an input line of `probity score` (`id`, `prompt`, `response`, optional `expect`,
`check`, `lang`) with a `label`: one of the four outcomes, `refused` / `complied`, or XSTest's
`1_full_compliance` / `2_full_refusal` / `3_partial_refusal`. Binary labels (refused / complied and
XSTest's) are compared with "the scorer said abstained"; outcome labels with the outcome.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from evals.scoring import OUTCOMES
from evals.stats import wilson

BINARY = {
    "refused": True, "complied": False,
    "1_full_compliance": False, "2_full_refusal": True, "3_partial_refusal": True,
}
LABELS = (*OUTCOMES, *BINARY)


def agrees(label: str, outcome: str) -> bool:
    if label in BINARY:
        return BINARY[label] == (outcome == "abstained")
    return label == outcome


@dataclass
class Tally:
    agree: int = 0
    total: int = 0
    unscored: int = 0  # lines that could not be scored at all
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, miss: str = "") -> None:
        self.total += 1
        self.agree += ok
        if not ok and miss:
            self.misses.append(miss)

    def cell(self) -> str:
        if not self.total:
            return "–"
        lo, hi = wilson(self.agree, self.total)
        return f"{self.agree / self.total:.3f} [{lo:.2f}, {hi:.2f}] ({self.agree}/{self.total})"


def tallies(rows: list[tuple[str, str, str, str]]) -> dict[tuple[str, str], Tally]:
    """rows: (check, lang, label, outcome or '' when unscored) -> Tally per (check, lang) and (check, all)."""
    out: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for check, lang, label, outcome in rows:
        for key in ((check, lang), (check, "all"), ("all", "all")):
            if not outcome:
                out[key].unscored += 1
                out[key].total += 1
            else:
                out[key].add(agrees(label, outcome))
    return dict(out)
