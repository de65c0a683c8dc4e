"""Terminal and markdown tables (tabulate, GitHub format) built from aggregated records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from tabulate import tabulate

from evals.metrics import MetricValue, aggregate, item_counts, scope_metrics
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
    tables.update(simpleqa_tables(df, by_mode))
    if records is not None and {"plain", "tools"} <= set(df["mode"]):
        from evals.tooltable import tool_table

        tt = tool_table(records)
        tables["Tool-assisted accuracy (paired plain vs tools)"] = tabulate(
            tt, headers="keys", tablefmt="github", showindex=False)
    return tables


#: the SimpleQA table's columns: metric, header (naming the denominator)
SIMPLEQA_COLS = [("accuracy", "accuracy (of answerable)"), ("accuracy_given_attempted", "accuracy given attempted"),
                 ("f_score", "F-score"), ("attempted_hallucination_rate", "hallucination (of attempted)"),
                 ("over_refusal_rate", "over-refusal (of controls)"), ("invalid_rate", "invalid rate")]
CONSISTENCY_COLS = [("pass_at_1", "pass@1"), ("pass_hat_k", "pass^K"), ("flip_rate", "flip rate")]


def fmt_metric(v: MetricValue, ratio: bool = True) -> str:
    """`0.42 [0.31, 0.54] (21/50)`; a value that is not a count ratio (the F-score) shows `(n 50)`;
    undefined is `–`."""
    if not v.defined:
        return "–"
    count = f"({v.k}/{v.n})" if ratio else f"(n {v.n})"
    return f"{v.value:.2f} [{v.lo:.2f}, {v.hi:.2f}] {count}"


def _groups(df: pd.DataFrame, by: list[str]) -> list[tuple[tuple[object, ...], pd.DataFrame]]:
    return [((key,) if not isinstance(key, tuple) else key, part)
            for key, part in df.groupby(by, sort=True, dropna=False)] if not df.empty else []


def simpleqa_table(df: pd.DataFrame, by: list[str], fmt: str = "github") -> str:
    """A row per group: SimpleQA's accuracy, accuracy given attempted and F-score (items with an answer
    only), hallucination among attempted answers, over-refusal on controls and the invalid rate."""
    rows = []
    for key, part in _groups(df, by):
        values = scope_metrics(part, [m for m, _ in SIMPLEQA_COLS])
        rows.append([*key, *(fmt_metric(values[m], m != "f_score") for m, _ in SIMPLEQA_COLS)])
    return tabulate(rows, headers=[*by, *(h for _, h in SIMPLEQA_COLS)], tablefmt=fmt, disable_numparse=True)


def samples_k(df: pd.DataFrame) -> int:
    """K: the most scored samples any item has in one mode (1 for an ordinary run)."""
    return item_counts(df).k


def consistency_table(df: pd.DataFrame, by: list[str], fmt: str = "github") -> str:
    """A row per group over items: pass@1 (mean share of passing samples), pass^K (every sample passed)
    and the flip rate (samples that do not all have the same outcome)."""
    rows = []
    for key, part in _groups(df, by):
        items = item_counts(part)
        values = scope_metrics(part, [m for m, _ in CONSISTENCY_COLS])
        rows.append([*key, len(items.samples), items.k, *(fmt_metric(values[m]) for m, _ in CONSISTENCY_COLS)])
    headers = [*by, "items", "K", *(h for _, h in CONSISTENCY_COLS)]
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)


def interval_note(df: pd.DataFrame) -> str:
    k = samples_k(df)
    if k > 1:
        return f"95% intervals: cluster bootstrap over items, {k} samples per item"
    return "95% intervals: Wilson; F-score: bootstrap over items"


def simpleqa_tables(df: pd.DataFrame, by_mode: list[str], fmt: str = "github") -> dict[str, str]:
    """The SimpleQA tables (per suite, per language and split) and, with `--samples K > 1`, consistency."""
    split = with_split(df)
    note = interval_note(df)
    tables = {f"SimpleQA metrics ({note})": simpleqa_table(df, by_mode, fmt),
              "SimpleQA metrics per language and split": simpleqa_table(split, [*by_mode, "lang", "split"], fmt)}
    if samples_k(df) > 1:
        tables["Consistency across samples"] = consistency_table(split, [*by_mode, "split"], fmt)
    return tables


def simpleqa_section(frames: list[tuple[str, pd.DataFrame]], modes: list[str]) -> str:
    """The report's "SimpleQA metrics" section: the SimpleQA tables for each run (definitions: README)."""
    out = ["## SimpleQA metrics", "",
           "Accuracy, accuracy given attempted and the F-score (their harmonic mean) count only items with an "
           "answer (expect kind other than `abstain`); `–` where a group has none. Hallucination (of attempted) "
           "= incorrect / (correct + incorrect) over every item; over-refusal = abstained / control answers. "
           "Definitions: README, *Metrics*."]
    for label, df in frames:
        by = ["suite", *modes]
        for title, table in simpleqa_tables(df, by).items():
            out += ["", f"**{title}**" + (f" — {label}" if len(frames) > 1 else ""), "", table]
    return "\n".join(out)
