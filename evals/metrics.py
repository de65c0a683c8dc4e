"""Rates from records, via pandas: pass, abstention and hallucination rates, SimpleQA's metrics
(accuracy, accuracy given attempted, F-score), over-refusal and the consistency of repeated samples.

Counted rates get a 95% Wilson interval; the F-score (not a proportion) a bootstrap interval over items.
When an item has several samples (`--samples K`), every interval is a cluster bootstrap over items
(resample items, keep all their samples), seeded, so a rerun gives the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evals.records import Record
from evals.stats import cluster_bootstrap, harmonic_mean, ratio, wilson

if TYPE_CHECKING:
    from evals.manifest import Manifest

COLUMNS = ["suite", "check", "item_id", "lang", "control", "mode", "sample", "outcome", "passed", "error",
           "cached", "tool_calls", "tool_errors", "steps", "flags", "answerable"]

#: metric name -> description; every one is usable in a gate file. Denominators are scored answers
#: (API errors excluded), narrowed as each description says.
METRICS = {
    "pass_rate": "share of answers that did what the item expects",
    "abstention_rate": "share of answers that declined / said they don't know",
    "hallucination_rate": "share of answers that committed to a wrong answer (incl. any attempt where abstaining was right)",
    "incorrect_rate": "same as hallucination_rate",
    "invalid_rate": "share of answers with nothing scorable (empty, loops, echo)",
    "correct_rate": "share of answers scored correct",
    "accuracy": "correct / answers on items with an answer (expect kind not `abstain`)",
    "accuracy_given_attempted": "correct / (correct + incorrect) on items with an answer",
    "f_score": "harmonic mean of accuracy and accuracy_given_attempted (SimpleQA), items with an answer",
    "attempted_hallucination_rate": "incorrect / (correct + incorrect): wrong among attempted answers, all items",
    "over_refusal_rate": "abstained / answers on control items",
    "pass_hat_k": "share of items whose every scored sample passed (pass^k)",
    "pass_at_1": "mean over items of the share of its samples that passed",
    "flip_rate": "share of items whose samples do not all have the same outcome",
}

#: count fields summed per item; ratio metrics are num / den over these sums
FIELDS = ("n", "passed", "correct", "incorrect", "abstained", "invalid", "attempted",
          "ans_n", "ans_correct", "ans_attempted", "ctl_n", "ctl_abstained")
RATIOS: dict[str, tuple[str, str]] = {
    "pass_rate": ("passed", "n"), "abstention_rate": ("abstained", "n"), "hallucination_rate": ("incorrect", "n"),
    "incorrect_rate": ("incorrect", "n"), "invalid_rate": ("invalid", "n"), "correct_rate": ("correct", "n"),
    "accuracy": ("ans_correct", "ans_n"), "accuracy_given_attempted": ("ans_correct", "ans_attempted"),
    "attempted_hallucination_rate": ("incorrect", "attempted"), "over_refusal_rate": ("ctl_abstained", "ctl_n"),
}
ITEM_METRICS = ("pass_hat_k", "pass_at_1", "flip_rate")
#: why a metric can have no value: its denominator is empty in the scope
UNDEFINED = {
    "n": "no scored answers",
    "ans_n": "no items with an answer (every item expects an abstention)",
    "ans_attempted": "no attempted answers on items with an answer",
    "attempted": "no attempted answers",
    "ctl_n": "no control items",
}
ITEM_KEY = ["suite", "item_id", "mode"]
BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 0


# -- which items have an answer ------------------------------------------------------------------------


def expect_kinds(manifest: Manifest) -> dict[tuple[str, str], str]:
    """(suite, item id) -> expect kind, read from the suite files the manifest names (as rescore does).
    A suite file that is gone or no longer loads contributes nothing (records_frame then infers)."""
    from evals.errors import UserError
    from evals.loader import load_suite

    kinds: dict[tuple[str, str], str] = {}
    for s in manifest.suites:
        try:
            loaded = load_suite(s.path)
        except (UserError, OSError):
            continue
        if loaded.suite.name == s.name:
            kinds.update({(s.name, item.id): item.expect.kind for item in loaded.suite.items})
    return kinds


def _check_kinds(check: str) -> tuple[str, ...] | None:
    from evals.scoring.registry import checks

    found = checks().get(check)
    return found.kinds if found else None


def _answerable(records: list[Record], kinds: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], bool]:
    """Whether each item has an answer (expect kind other than `abstain`). From the suite file when known;
    else from its check (one that scores no `abstain` items has answers; one that scores only them has
    none); else controls have answers, and a probe has one only if an answer shows it (a correct answer,
    or an abstention that failed)."""
    out: dict[tuple[str, str], bool] = {}
    evidence: dict[tuple[str, str], bool] = {}
    for r in records:
        key = (r.suite, r.item_id)
        if r.score is not None and key not in evidence:
            if r.score.outcome == "correct" or (r.score.outcome == "abstained" and not r.score.passed):
                evidence[key] = True
            elif r.score.outcome == "abstained":
                evidence[key] = False
    for r in records:
        key = (r.suite, r.item_id)
        if key in out:
            continue
        if key in kinds:
            out[key] = kinds[key] != "abstain"
            continue
        accepted = _check_kinds(r.check)
        if accepted is not None and "abstain" not in accepted:
            out[key] = True
        elif accepted == ("abstain",):
            out[key] = False
        else:
            out[key] = r.control or evidence.get(key, False)
    return out


def records_frame(records: Iterable[Record], kinds: Mapping[tuple[str, str], str] | None = None) -> pd.DataFrame:
    """One light row per record (no text), for aggregation. `kinds` ((suite, item id) -> expect kind, see
    `expect_kinds`) says which items have an answer; items it lacks are inferred (see `_answerable`)."""
    records = list(records)
    answerable = _answerable(records, kinds or {})
    rows = []
    for r in records:
        rows.append((r.suite, r.check, r.item_id, r.lang, r.control, r.mode, r.sample,
                     r.score.outcome if r.score else None, bool(r.score and r.score.passed), r.error is not None,
                     r.cached, r.tool_stats.tool_calls if r.tool_stats else 0,
                     r.tool_stats.tool_errors if r.tool_stats else 0, r.tool_stats.steps if r.tool_stats else 1,
                     ",".join(r.score.flags) if r.score else "", answerable[(r.suite, r.item_id)]))
    return pd.DataFrame.from_records(rows, columns=COLUMNS)


# -- counts per group (for the plain rate tables) ----------------------------------------------------


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
    """(rate, lo, hi, k, n) with a Wilson interval for a pass/outcome rate on one aggregated row."""
    n = int(row["n"])
    num = {"pass_rate": "passed", "abstention_rate": "abstained", "hallucination_rate": "incorrect",
           "incorrect_rate": "incorrect", "invalid_rate": "invalid", "correct_rate": "correct"}[metric]
    k = int(row[num])
    lo, hi = wilson(k, n)
    return (k / n if n else float("nan"), lo, hi, k, n)


# -- every metric on one scope, with its interval ------------------------------------------------------


@dataclass(frozen=True)
class MetricValue:
    value: float  # nan when undefined
    lo: float
    hi: float
    k: int  # numerator count (items for item metrics; 0 for f_score)
    n: int  # denominator count (answers, or items for item metrics)
    method: str  # "wilson" | "bootstrap" | "cluster bootstrap"
    undefined: str = ""  # why there is no value

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)


@dataclass(frozen=True)
class Items:
    """A scope's scored answers summed per item (suite, item id, mode)."""

    counts: np.ndarray  # items × FIELDS
    samples: np.ndarray  # scored samples per item
    passed: np.ndarray  # passed samples per item
    outcomes: np.ndarray  # distinct outcomes per item

    @property
    def k(self) -> int:
        """The most scored samples any item has (K of `--samples K`)."""
        return int(self.samples.max()) if len(self.samples) else 0

    def col(self, name: str) -> np.ndarray:
        return self.counts[:, FIELDS.index(name)]


def item_counts(df: pd.DataFrame) -> Items:
    scored = df[~df["error"]] if not df.empty else df
    if scored.empty:
        empty = np.zeros((0, len(FIELDS)))
        return Items(empty, np.zeros(0), np.zeros(0), np.zeros(0))
    out = scored["outcome"]
    ans, ctl = scored["answerable"].astype(bool), scored["control"].astype(bool)
    attempted = out.isin(["correct", "incorrect"])
    cols = pd.DataFrame({
        "n": 1, "passed": scored["passed"].astype(int), "correct": out == "correct", "incorrect": out == "incorrect",
        "abstained": out == "abstained", "invalid": out == "invalid", "attempted": attempted, "ans_n": ans,
        "ans_correct": ans & (out == "correct"), "ans_attempted": ans & attempted, "ctl_n": ctl,
        "ctl_abstained": ctl & (out == "abstained"),
    }).astype(int)
    keys = [scored[k] for k in ITEM_KEY]
    sums = cols.groupby(keys, sort=True).sum()
    distinct = out.groupby(keys, sort=True).nunique()
    return Items(sums[list(FIELDS)].to_numpy(dtype=float), sums["n"].to_numpy(), sums["passed"].to_numpy(),
                 distinct.to_numpy())


def _stat(metric: str) -> tuple[Callable[[np.ndarray], np.ndarray], str | None, str]:
    """(function of summed FIELDS columns (reps × fields) -> values, numerator field, denominator field)."""
    if metric in RATIOS:
        num, den = RATIOS[metric]
        i, j = FIELDS.index(num), FIELDS.index(den)
        return (lambda s: ratio(s[:, i], s[:, j])), num, den
    if metric == "f_score":
        c, n, a = FIELDS.index("ans_correct"), FIELDS.index("ans_n"), FIELDS.index("ans_attempted")

        def f(s: np.ndarray) -> np.ndarray:
            acc = ratio(s[:, c], s[:, n])
            given = np.where(s[:, n] > 0, np.nan_to_num(ratio(s[:, c], s[:, a])), np.nan)  # SimpleQA: 0 if none attempted
            return harmonic_mean(acc, given)

        return f, None, "ans_n"
    raise KeyError(metric)


def compute(items: Items, metric: str, reps: int = BOOTSTRAP_REPS, seed: int = BOOTSTRAP_SEED) -> MetricValue:
    """One metric on a scope's items: value, 95% interval, counts, method, and why when undefined."""
    m = len(items.samples)
    if metric in ITEM_METRICS:
        if m == 0:
            return MetricValue(math.nan, math.nan, math.nan, 0, 0, "wilson", UNDEFINED["n"])
        if metric == "pass_at_1":
            share = items.passed / items.samples
            lo, hi = cluster_bootstrap(np.column_stack([share, np.ones(m)]),
                                       lambda s: s[:, 0] / s[:, 1], reps, seed)
            return MetricValue(float(share.mean()), lo, hi, int(items.passed.sum()), int(items.samples.sum()),
                               "bootstrap")
        hits = items.passed == items.samples if metric == "pass_hat_k" else items.outcomes > 1
        k = int(hits.sum())
        lo, hi = wilson(k, m)
        return MetricValue(k / m, lo, hi, k, m, "wilson")
    fn, num, den = _stat(metric)
    total = items.counts.sum(axis=0, keepdims=True) if m else np.zeros((1, len(FIELDS)))
    n = int(total[0, FIELDS.index(den)])
    k = int(total[0, FIELDS.index(num)]) if num else 0
    value = float(fn(total)[0])
    if math.isnan(value):
        if den.startswith("ans_") and total[0, FIELDS.index("ans_n")] == 0:
            den = "ans_n"  # the deeper reason: no item in scope has an answer
        return MetricValue(math.nan, math.nan, math.nan, k, n, "wilson", UNDEFINED.get(den, "undefined"))
    if items.k > 1 or num is None:
        lo, hi = cluster_bootstrap(items.counts, fn, reps, seed)
        return MetricValue(value, lo, hi, k, n, "cluster bootstrap" if items.k > 1 else "bootstrap")
    lo, hi = wilson(k, n)
    return MetricValue(value, lo, hi, k, n, "wilson")


def scope_metrics(df: pd.DataFrame, metrics: Iterable[str] = METRICS) -> dict[str, MetricValue]:
    """The named metrics on every scored answer in `df` (one scope, e.g. a suite and mode)."""
    items = item_counts(df)
    return {m: compute(items, m) for m in metrics}
