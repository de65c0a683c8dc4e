"""Rates from records: pass, abstention and hallucination rates with Wilson intervals, via pandas."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from evals.records import Record
from evals.stats import wilson

COLUMNS = ["suite", "check", "item_id", "lang", "control", "mode", "sample", "outcome", "passed", "error",
           "cached", "tool_calls", "tool_errors", "steps", "flags"]


def records_frame(records: Iterable[Record]) -> pd.DataFrame:
    """One light row per record (no text), for aggregation."""
    rows = []
    for r in records:
        rows.append((r.suite, r.check, r.item_id, r.lang, r.control, r.mode, r.sample,
                     r.score.outcome if r.score else None, bool(r.score and r.score.passed), r.error is not None,
                     r.cached, r.tool_stats.tool_calls if r.tool_stats else 0,
                     r.tool_stats.tool_errors if r.tool_stats else 0, r.tool_stats.steps if r.tool_stats else 1,
                     ",".join(r.score.flags) if r.score else ""))
    return pd.DataFrame.from_records(rows, columns=COLUMNS)


#: metric name -> (numerator outcome or "passed", description). Denominator: scored records (errors excluded).
METRICS = {
    "pass_rate": "share of answers that did what the item expects",
    "abstention_rate": "share of answers that declined / said they don't know",
    "hallucination_rate": "share of answers that committed to a wrong answer (incl. any attempt where abstaining was right)",
    "incorrect_rate": "same as hallucination_rate",
    "invalid_rate": "share of answers with nothing scorable (empty, loops, echo)",
    "correct_rate": "share of answers scored correct",
}


def aggregate(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counts per group: n (scored), errors, passed and each outcome."""
    if df.empty:
        return pd.DataFrame(columns=[*by, "n", "errors", "passed", "correct", "incorrect", "abstained", "invalid"])
    scored = df[~df["error"]]
    g = df.groupby(by, dropna=False, sort=True)
    out = pd.DataFrame({"errors": g["error"].sum()})
    sg = scored.groupby(by, dropna=False, sort=True)
    out["n"] = sg.size()
    out["passed"] = sg["passed"].sum()
    for outcome in ("correct", "incorrect", "abstained", "invalid"):
        out[outcome] = sg["outcome"].apply(lambda s, o=outcome: int((s == o).sum()))
    out = out.fillna(0).astype(int).reset_index()
    return out[[*by, "n", "errors", "passed", "correct", "incorrect", "abstained", "invalid"]]


def metric_value(row: pd.Series | dict, metric: str) -> tuple[float, float, float, int, int]:
    """(rate, lo, hi, k, n) for a metric on one aggregated row."""
    n = int(row["n"])
    num = {"pass_rate": "passed", "abstention_rate": "abstained", "hallucination_rate": "incorrect",
           "incorrect_rate": "incorrect", "invalid_rate": "invalid", "correct_rate": "correct"}[metric]
    k = int(row[num])
    lo, hi = wilson(k, n)
    return (k / n if n else float("nan"), lo, hi, k, n)
