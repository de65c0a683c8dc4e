"""Terminal and markdown tables (tabulate, GitHub format) built from aggregated records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from tabulate import tabulate

from evals.metrics import aggregate
from evals.stats import fmt_rate

if TYPE_CHECKING:
    from evals.records import Record


def rate_table(df: pd.DataFrame, by: list[str]) -> str:
    """A row per group: n, pass, abstention and hallucination rates each with Wilson CI and count."""
    agg = aggregate(df, by)
    rows = []
    for _, r in agg.iterrows():
        n = int(r["n"])
        rows.append([*(r[c] for c in by), n, fmt_rate(int(r["passed"]), n), fmt_rate(int(r["abstained"]), n),
                     fmt_rate(int(r["incorrect"]), n), int(r["invalid"]), int(r["errors"])])
    headers = [*by, "n", "pass rate", "abstention rate", "hallucination rate", "invalid", "errors"]
    return tabulate(rows, headers=headers, tablefmt="github")


def with_split(df: pd.DataFrame) -> pd.DataFrame:
    """Add a `split` column: `probe` (items that expose a failure) or `control` (items a model should answer)."""
    out = df.copy()
    out["split"] = out["control"].map({True: "control", False: "probe"})
    return out


def summary_tables(df: pd.DataFrame, records: list[Record] | None = None) -> dict[str, str]:
    """The summary a run prints: per suite and mode, per language, per probe/control split, and the
    paired plain-vs-tools table when the run has both modes."""
    by_mode = ["suite", "mode"] if df["mode"].nunique() > 1 else ["suite"]
    tables = {"Per suite": rate_table(df, by_mode)}
    tables["Per language"] = rate_table(df, [*by_mode, "lang"])
    tables["Probes and controls"] = rate_table(with_split(df), [*by_mode, "split"])
    if records is not None and {"plain", "tools"} <= set(df["mode"]):
        from evals.tooltable import tool_table

        tt = tool_table(records)
        tables["Tool-assisted accuracy (paired plain vs tools)"] = tabulate(
            tt, headers="keys", tablefmt="github", showindex=False)
    return tables
