"""The tool-assisted accuracy table: the same items asked plainly and with tools, compared pair by pair."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from evals.records import Record
from evals.stats import mcnemar_exact, paired_bootstrap
from evals.tools.step_limit import FLAG as STEP_LIMIT

Pair = tuple[Record, Record]  # (plain, tools)


def pair_records(records: Iterable[Record]) -> list[Pair]:
    """Plain and tools records of the same (suite, item_id, sample), both scored and without error.
    A key seen twice keeps its last record."""
    by_mode: dict[str, dict[tuple[str, str, int], Record]] = {"plain": {}, "tools": {}}
    for r in records:
        if r.error or r.score is None or r.mode not in by_mode:
            continue
        by_mode[r.mode][(r.suite, r.item_id, r.sample)] = r
    plain, tools = by_mode["plain"], by_mode["tools"]
    return [(plain[k], tools[k]) for k in sorted(plain.keys() & tools.keys())]


def _rate(k: int, n: int) -> str:
    return f"{k / n:.2f} ({k}/{n})" if n else "–"


def _row(pairs: list[Pair]) -> dict[str, object]:
    a = [p.score.passed for p, _ in pairs if p.score]
    b = [t.score.passed for _, t in pairs if t.score]
    n = len(pairs)
    delta, lo, hi = paired_bootstrap(a, b)
    only_plain = sum(x and not y for x, y in zip(a, b, strict=True))
    only_tools = sum(y and not x for x, y in zip(a, b, strict=True))
    stats = [t.tool_stats for _, t in pairs if t.tool_stats is not None]
    calls = sum(s.tool_calls for s in stats)
    errors = sum(s.tool_errors for s in stats)
    callers = sum(s.tool_calls > 0 for s in stats)
    steps = [s.steps for s in stats]
    limited = sum(t.score is not None and STEP_LIMIT in t.score.flags for _, t in pairs)
    return {
        "n pairs": n,
        "plain pass": _rate(sum(a), n),
        "tools pass": _rate(sum(b), n),
        "Δ [95% CI]": "–" if math.isnan(delta) else f"{delta:+.2f} [{lo:+.2f}, {hi:+.2f}]",
        "McNemar p": f"{mcnemar_exact(only_plain, only_tools):.3g}",
        "tool-call rate": _rate(callers, n),
        "tool error rate": _rate(errors, calls),
        "mean steps": f"{sum(steps) / len(steps):.2f}" if steps else "–",
        "step limit": _rate(limited, n),
    }


def tool_table(records: Iterable[Record], by_lang: bool = False) -> pd.DataFrame:
    """One row per suite (and language), plus an `all` row when there is more than one group.

    Columns: suite, [lang], n pairs, plain pass, tools pass, Δ [95% CI] (tools − plain, paired
    bootstrap), McNemar p (exact, on the discordant pairs), tool-call rate (tools-mode items that
    called any tool), tool error rate (tool errors / tool calls), mean steps (model turns), step limit
    (tools-mode items whose last allowed turn still asked for a tool: scored invalid)."""
    pairs = pair_records(records)
    keys = ["suite", "lang"] if by_lang else ["suite"]
    groups: dict[tuple[str, ...], list[Pair]] = {}
    for p in pairs:
        key = (p[1].suite, p[1].lang) if by_lang else (p[1].suite,)
        groups.setdefault(key, []).append(p)
    rows = [dict(zip(keys, key, strict=True)) | _row(group) for key, group in sorted(groups.items())]
    if len(groups) > 1:
        rows.append(dict.fromkeys(keys, "all") | _row(pairs))
    columns = [*keys, "n pairs", "plain pass", "tools pass", "Δ [95% CI]", "McNemar p", "tool-call rate",
               "tool error rate", "mean steps", "step limit"]
    return pd.DataFrame(rows, columns=columns)
