"""Rule vs judge: how often the offline scorer and a grader model agree (the report's "Scorer agreement").

Both verdicts are put in the judge's vocabulary (correct, incorrect, not_attempted, unscorable; the rule's
`abstained` is `not_attempted`, its `invalid` is `unscorable`). Agreement is the share of records with a
usable judge verdict where the two match; Cohen's κ corrects it for the agreement two scorers with the
same marginal rates would reach by chance: κ = (p_o − p_e) / (1 − p_e). Unscored judge verdicts (an API
failure, a reply that names no grade) are left out of n and counted beside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from evals.judge import RULE_TO_JUDGE, VERDICTS
from evals.records import Record
from evals.scoring.outcome import Score
from evals.stats import fmt_rate

MAX_DISAGREEMENTS = 40


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's κ of two raters over the same items; None when it is undefined (no items, or both raters
    put every item in one and the same category, so chance agreement is 1)."""
    if len(a) != len(b):
        raise ValueError("two raters must rate the same items")
    n = len(a)
    if n == 0:
        return None
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1 - p_e)


def rule_score(record: Record) -> Score | None:
    """The rule's verdict of a record (kept in `judge.rule` when the score came from the judge)."""
    if record.judge is not None and record.judge.rule is not None:
        return record.judge.rule
    return record.score


@dataclass
class Group:
    rule: list[str] = field(default_factory=list)
    judge: list[str] = field(default_factory=list)
    unscored: int = 0

    @property
    def agree(self) -> int:
        return sum(x == y for x, y in zip(self.rule, self.judge, strict=True))


def groups(records: Sequence[Record], by: Sequence[str]) -> dict[tuple[str, ...], Group]:
    """Rule and judge verdicts of the judged records, grouped by the record fields `by`."""
    out: dict[tuple[str, ...], Group] = {}
    for rec in records:
        rule = rule_score(rec)
        if rec.judge is None or rule is None or rec.error:
            continue
        g = out.setdefault(tuple(str(getattr(rec, f)) for f in by), Group())
        if rec.judge.verdict == "unscored":
            g.unscored += 1
            continue
        g.rule.append(RULE_TO_JUDGE[rule.outcome])
        g.judge.append(rec.judge.verdict)
    return out


def _kappa(g: Group) -> str:
    k = cohen_kappa(g.rule, g.judge)
    return "–" if k is None else f"{k:.2f}"


def _row(key: Sequence[str], g: Group) -> list[object]:
    n = len(g.rule)
    return [*key, n, fmt_rate(g.agree, n) if n else "–", _kappa(g), g.unscored]


def agreement_section(records: Sequence[Record]) -> str | None:
    """Markdown for the report, or None when no record has a judge verdict."""
    from evals.report import md_table, shorten

    judged = [r for r in records if r.judge is not None and not r.error and rule_score(r) is not None]
    if not judged:
        return None
    by = ["suite", "lang"]
    if len({r.mode for r in judged}) > 1:
        by.insert(1, "mode")
    if len({r.run_id for r in judged}) > 1:
        by.insert(0, "run_id")
    table = groups(judged, by)
    rows = [_row(key, g) for key, g in sorted(table.items())]
    total = groups(judged, [])[()]
    rows.append(_row(["**all**", *[""] * (len(by) - 1)], total))
    judges = sorted({f"`{r.judge.judge}` ({r.judge.model.get('model', '?')}, template v{r.judge.template})"
                     for r in judged if r.judge is not None})
    out = ["## Scorer agreement", "",
           f"Each scored answer was also graded by a judge model ({', '.join(judges)}): rule vs judge in the "
           "judge's vocabulary (abstained = not_attempted, invalid = unscorable). Agreement is "
           "`rate [95% Wilson interval] (k/n)`; κ is Cohen's kappa (– where undefined); n leaves out the "
           "judge's unscored verdicts (an API failure or a reply that names no grade), counted in `unscored`.",
           "", md_table(rows, [*by, "n", "agreement", "κ", "unscored"])]
    confusion = Counter(zip(total.rule, total.judge, strict=True))
    if confusion:
        crows = [[f"rule {r}", *(confusion[(r, j)] for j in VERDICTS)] for r in VERDICTS]
        out += ["", "Rule (rows) × judge (columns), all judged answers:", "",
                md_table(crows, ["", *(f"judge {j}" for j in VERDICTS)])]
    differ = []
    for rec in sorted(judged, key=lambda r: (r.run_id, r.suite, r.mode, r.item_id, r.sample)):
        rule = rule_score(rec)
        assert rule is not None and rec.judge is not None
        if rec.judge.verdict != "unscored" and RULE_TO_JUDGE[rule.outcome] != rec.judge.verdict:
            differ.append(rec)
    out += ["", f"### Where they disagree ({len(differ)})", ""]
    if not differ:
        out.append("No disagreements.")
        return "\n".join(out)
    drows = []
    for rec in differ[:MAX_DISAGREEMENTS]:
        rule = rule_score(rec)
        assert rule is not None and rec.judge is not None
        item = rec.item_id if rec.sample == 0 else f"{rec.item_id}#{rec.sample}"
        drows.append([rec.suite, rec.mode, rec.lang, item, shorten(rec.response.text, 120),
                      f"{RULE_TO_JUDGE[rule.outcome]} ({shorten(rule.why, 60)})", rec.judge.verdict,
                      shorten(rec.judge.reply, 40)])
    out.append(md_table(drows, ["suite", "mode", "lang", "item", "answer", "rule", "judge", "judge reply"]))
    if len(differ) > MAX_DISAGREEMENTS:
        out += ["", f"… and {len(differ) - MAX_DISAGREEMENTS} more (records.jsonl has every judge verdict)."]
    return "\n".join(out)
