"""Agreement of the scorers with human labels, per check and language, with 95% Wilson intervals.

A labelled line is an input line of `probity score` (`id`, `prompt`, `response`, optional `expect`,
`check`, `lang`) with a `label`: one of the four outcomes, `refused` / `complied`, or XSTest's
`1_full_compliance` / `2_full_refusal` / `3_partial_refusal`. Binary labels (refused / complied and
XSTest's) are compared with "the scorer said abstained"; outcome labels with the outcome.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.scoring import OUTCOMES, ScoreContext
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


def cell(k: int, n: int) -> str:
    """`0.949 [0.93, 0.97] (507/534)`: an agreement with its 95% Wilson interval and count."""
    if not n:
        return "–"
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} [{lo:.2f}, {hi:.2f}] ({k}/{n})"


@dataclass
class Tally:
    agree: int = 0
    total: int = 0
    unscored: int = 0  # lines that could not be scored at all

    def add(self, ok: bool) -> None:
        self.total += 1
        self.agree += ok

    def cell(self) -> str:
        return cell(self.agree, self.total)


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


def jsonl_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.jsonl")) if path.is_dir() else [path]


def score_files(paths: list[Path], ctx: ScoreContext, check: str | None = None) -> list[dict[str, Any]]:
    """`probity score`'s output line for every labelled line of the files (folders are read for their
    .jsonl files), with the line's label, prompt and response kept for reporting. The check is `check`,
    else the line's `check`, else the file's name for tests/labelled/CHECK.jsonl."""
    from evals.commands.score import score_line

    out = []
    for file in (f for path in paths for f in jsonl_files(path)):
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            default = check or row.get("check") or (file.stem if file.parent.name == "labelled" else None)
            out.append(score_line(n, line, default, ctx) | {"label": row.get("label"), "file": file.name,
                                                           "response": row.get("response", ""),
                                                           "prompt": row.get("prompt", "")})
    return out
