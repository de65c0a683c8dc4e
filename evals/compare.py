"""Paired comparison of two runs: the same (suite, item id, mode, sample) answered by run A and run B.

Per suite and mode: pass rate of A and B, Δ = B − A with a paired bootstrap 95% interval, McNemar's
exact p-value on the discordant pairs, regressions (passed in A, failed in B) and fixes (the reverse).
Per suite, mode and language: the share of identical answers and the paired shifts in pass,
hallucination and abstention rates, each with McNemar's p; then every item whose verdict flipped.
A pair where either side is an error (or unscored) is left out of the numbers and counted. Items present
in only one run, or whose question text differs (the suite changed between runs), are left out and
reported per suite with the two suite versions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from evals.manifest import read_manifest
from evals.records import Record, read_records
from evals.report import md_table, run_label, shorten
from evals.stats import mcnemar_exact, paired_bootstrap

Key = tuple[str, str, str, int]  # suite, item_id, mode, sample
Pair = tuple[Record, Record]  # (A, B)
MODE_ORDER = {"plain": 0, "tools": 1}


@dataclass
class PairStats:
    """Paired numbers for one group of pairs (a suite and mode, or everything)."""

    n: int
    pass_a: int
    pass_b: int
    delta: float  # (pass_b - pass_a) / n
    lo: float
    hi: float
    p: float  # McNemar exact, two-sided
    regressions: int
    fixes: int
    errors: int = 0  # shared keys left out because A or B is an error / unscored

    @property
    def rate_a(self) -> float:
        return self.pass_a / self.n if self.n else math.nan

    @property
    def rate_b(self) -> float:
        return self.pass_b / self.n if self.n else math.nan


def pair_stats(pairs: list[Pair], errors: int = 0) -> PairStats:
    a = [bool(x.score and x.score.passed) for x, _ in pairs]
    b = [bool(y.score and y.score.passed) for _, y in pairs]
    regressions = sum(x and not y for x, y in zip(a, b, strict=True))
    fixes = sum(y and not x for x, y in zip(a, b, strict=True))
    delta, lo, hi = paired_bootstrap(a, b)
    return PairStats(len(pairs), sum(a), sum(b), delta, lo, hi, mcnemar_exact(regressions, fixes),
                     regressions, fixes, errors)


@dataclass
class LeftOut:
    """Per suite: keys that could not be paired."""

    version_a: str | None
    version_b: str | None
    only_a: int = 0
    only_b: int = 0
    changed: int = 0  # same key, different question text


@dataclass
class Comparison:
    run_a: Path
    run_b: Path
    label_a: str
    label_b: str
    scorer_a: str | None
    scorer_b: str | None
    pairs: list[Pair]  # scored on both sides, sorted by key
    errors: dict[tuple[str, str], int] = field(default_factory=dict)  # (suite, mode) -> pairs dropped
    left_out: dict[str, LeftOut] = field(default_factory=dict)

    def groups(self) -> dict[tuple[str, str], list[Pair]]:
        out: dict[tuple[str, str], list[Pair]] = {k: [] for k in self.errors}
        for pair in self.pairs:
            out.setdefault((pair[0].suite, pair[0].mode), []).append(pair)
        return dict(sorted(out.items(), key=lambda kv: (kv[0][0], MODE_ORDER.get(kv[0][1], 9), kv[0][1])))

    def stats(self) -> dict[tuple[str, str], PairStats]:
        """Per (suite, mode), plus ("all", "all") when there is more than one group."""
        groups = self.groups()
        out = {k: pair_stats(v, self.errors.get(k, 0)) for k, v in groups.items()}
        if len(groups) > 1:
            out[("all", "all")] = pair_stats(self.pairs, sum(self.errors.values()))
        return out

    def regressed(self) -> list[Pair]:
        return [(a, b) for a, b in self.pairs if a.score and a.score.passed and not (b.score and b.score.passed)]

    def fixed(self) -> list[Pair]:
        return [(a, b) for a, b in self.pairs if b.score and b.score.passed and not (a.score and a.score.passed)]


def key_of(r: Record) -> Key:
    return (r.suite, r.item_id, r.mode, r.sample)


def question(r: Record) -> str:
    users = [m.content for m in r.request.messages if m.role == "user"]
    return users[-1] if users else ""


def by_key(records: Iterable[Record]) -> dict[Key, Record]:
    """Records indexed by pairing key (read_records has refused a run with two records for one task)."""
    return {key_of(r): r for r in records}


def pair_runs(a: dict[Key, Record], b: dict[Key, Record], versions_a: dict[str, str] | None = None,
              versions_b: dict[str, str] | None = None) -> tuple[list[Pair], dict[tuple[str, str], int],
                                                                 dict[str, LeftOut]]:
    """(scored pairs, error pairs per (suite, mode), left-out keys per suite)."""
    versions_a, versions_b = versions_a or {}, versions_b or {}
    pairs: list[Pair] = []
    errors: dict[tuple[str, str], int] = {}
    left: dict[str, LeftOut] = {}

    def left_for(suite: str) -> LeftOut:
        return left.setdefault(suite, LeftOut(versions_a.get(suite), versions_b.get(suite)))

    for key in sorted(a.keys() | b.keys(), key=lambda k: (k[0], MODE_ORDER.get(k[2], 9), k[1], k[3])):
        ra, rb = a.get(key), b.get(key)
        if ra is None or rb is None:
            lo = left_for(key[0])
            if ra is None:
                lo.only_b += 1
            else:
                lo.only_a += 1
            continue
        if question(ra) != question(rb):
            left_for(key[0]).changed += 1
            continue
        if ra.error or rb.error or ra.score is None or rb.score is None:
            errors[(key[0], key[2])] = errors.get((key[0], key[2]), 0) + 1
            continue
        pairs.append((ra, rb))
    for suite in sorted(set(versions_a) | set(versions_b)):
        if versions_a.get(suite) != versions_b.get(suite) and suite in versions_a and suite in versions_b:
            left_for(suite)  # a version change is always reported, even with nothing left out
    return pairs, errors, {k: v for k, v in sorted(left.items())}


def compare_runs(run_a: Path, run_b: Path) -> Comparison:
    ma, mb = read_manifest(run_a), read_manifest(run_b)
    va = {s.name: s.version for s in ma.suites}
    vb = {s.name: s.version for s in mb.suites}
    pairs, errors, left = pair_runs(by_key(read_records(run_a)), by_key(read_records(run_b)), va, vb)
    label_a, label_b = run_label(ma, run_a), run_label(mb, run_b)
    if label_a == label_b:
        label_a, label_b = ma.run_id, mb.run_id
    return Comparison(run_a, run_b, label_a, label_b, ma.scorer_version, mb.scorer_version,
                      pairs, errors, left)


# -- rendering --------------------------------------------------------------------------------------


def _rate(k: int, n: int) -> str:
    return f"{k / n:.2f} ({k}/{n})" if n else "–"


def fmt_delta(s: PairStats) -> str:
    return "–" if not s.n else f"{s.delta:+.2f} [{s.lo:+.2f}, {s.hi:+.2f}]"


def stats_rows(cmp: Comparison) -> list[list[object]]:
    return [[suite, mode, s.n, _rate(s.pass_a, s.n), _rate(s.pass_b, s.n), fmt_delta(s),
             f"{s.p:.3g}" if s.n else "–", s.regressions, s.fixes, s.errors]
            for (suite, mode), s in cmp.stats().items()]


STATS_HEADERS = ["suite", "mode", "n pairs", "A pass", "B pass", "Δ B−A [95% CI]", "McNemar p",
                 "regressions", "fixes", "errors"]


def _passed(r: Record) -> bool:
    return bool(r.score and r.score.passed)


def _hallucinated(r: Record) -> bool:
    return bool(r.score and r.score.outcome == "incorrect")


def _abstained(r: Record) -> bool:
    return bool(r.score and r.score.outcome == "abstained")


def paired_shift(pairs: list[Pair], flag: Callable[[Record], bool]) -> str:
    """`rate A → rate B (Δ, McNemar p)` of one yes/no property of the answers, paired."""
    if not pairs:
        return "–"
    a = [flag(x) for x, _ in pairs]
    b = [flag(y) for _, y in pairs]
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    n = len(pairs)
    return f"{sum(a) / n:.2f} → {sum(b) / n:.2f} ({(sum(b) - sum(a)) / n:+.2f}, p {mcnemar_exact(only_a, only_b):.2g})"


def lang_rows(cmp: Comparison) -> list[list[object]]:
    """Per suite, mode and language: identical answers, and the paired shifts in pass, hallucination
    and abstention rates (McNemar p on the discordant pairs of each)."""
    groups: dict[tuple[str, str, str], list[Pair]] = {}
    for pair in cmp.pairs:
        a = pair[0]
        groups.setdefault((a.suite, a.mode, a.lang), []).append(pair)
    if len(groups) > 1:
        groups[("all", "all", "all")] = list(cmp.pairs)
    rows: list[list[object]] = []
    for (suite, mode, lang), pairs in groups.items():
        same = sum(x.response.text == y.response.text for x, y in pairs)
        rows.append([suite, mode, lang, len(pairs), f"{same / len(pairs):.2f} ({same}/{len(pairs)})",
                     paired_shift(pairs, _passed), paired_shift(pairs, _hallucinated),
                     paired_shift(pairs, _abstained)])
    return rows


LANG_HEADERS = ["suite", "mode", "lang", "n pairs", "identical answers", "pass A → B (Δ, p)",
                "hallucination A → B (Δ, p)", "abstention A → B (Δ, p)"]


def flipped(cmp: Comparison) -> list[Pair]:
    """Pairs whose verdict (outcome) differs between A and B."""
    return [(a, b) for a, b in cmp.pairs if a.score and b.score and a.score.outcome != b.score.outcome]


def flip_rows(cmp: Comparison, limit: int, markdown: bool) -> tuple[list[list[object]], int]:
    flips = flipped(cmp)
    width = 100 if markdown else 50
    rows = [[a.suite, a.mode, a.lang, a.item_id if a.sample == 0 else f"{a.item_id}#{a.sample}",
             f"{a.score.outcome} → {b.score.outcome}" if a.score and b.score else "",
             shorten(a.response.text, width), shorten(b.response.text, width)] for a, b in flips[:limit]]
    return rows, len(flips) - len(rows)


def left_out_lines(cmp: Comparison) -> list[str]:
    lines = []
    for suite, lo in cmp.left_out.items():
        version = (f"version {lo.version_a} in A, {lo.version_b} in B" if lo.version_a != lo.version_b
                   else f"version {lo.version_a}")
        parts = [f"{n} {what}" for n, what in ((lo.only_a, "only in A"), (lo.only_b, "only in B"),
                                               (lo.changed, "with a changed question")) if n]
        shared = sum(1 for a, _ in cmp.pairs if a.suite == suite) + sum(
            v for (s, _), v in cmp.errors.items() if s == suite)
        left_text = f"left out {sum((lo.only_a, lo.only_b, lo.changed))} ({', '.join(parts)})" if parts \
            else "nothing left out"
        lines.append(f"{suite}: {version}; {shared} shared answers compared, {left_text}")
    return lines


def regressed_rows(cmp: Comparison, limit: int, markdown: bool) -> tuple[list[list[object]], int]:
    regs = cmp.regressed()
    width = 120 if markdown else 70
    rows = [[a.suite, a.mode, a.item_id if a.sample == 0 else f"{a.item_id}#{a.sample}",
             shorten(question(a), width), shorten(a.response.text, width), shorten(b.response.text, width),
             f"{b.score.outcome}: {b.score.why}" if b.score else ""] for a, b in regs[:limit]]
    return rows, len(regs) - len(rows)


def render(cmp: Comparison, markdown: bool = True, limit: int = 50) -> str:
    fmt = "github" if markdown else "simple"
    head = "## " if markdown else ""
    out = [f"{head}probity compare: A = {cmp.label_a} → B = {cmp.label_b}", "",
           f"- A: `{cmp.run_a.name}` (scorer v{cmp.scorer_a})" if markdown else f"A: {cmp.run_a} (scorer v{cmp.scorer_a})",
           f"- B: `{cmp.run_b.name}` (scorer v{cmp.scorer_b})" if markdown else f"B: {cmp.run_b} (scorer v{cmp.scorer_b})",
           ("- " if markdown else "") + "pairs: same (suite, item id, mode, sample); Δ = B − A pass rate with a "
           "paired bootstrap 95% interval; errors: pairs left out because either answer is an API error"]
    if cmp.scorer_a != cmp.scorer_b:
        out.append(("- " if markdown else "") + f"warning: scorer versions differ (v{cmp.scorer_a} vs "
                   f"v{cmp.scorer_b}); `probity rescore` the older run for a like-for-like comparison")
    out += ["", md_table(stats_rows(cmp), STATS_HEADERS, fmt, escape=markdown)]
    notes = left_out_lines(cmp)
    if notes:
        out += ["", ("### " if markdown else "") + "Items left out", ""]
        out += [("- " if markdown else "  ") + line for line in notes]
    out += ["", ("### " if markdown else "") + "Per suite and language (paired): identical answers, "
            "pass, hallucination and abstention", "",
            md_table(lang_rows(cmp), LANG_HEADERS, fmt, escape=markdown)]
    out += _listing(f"Verdict flips (the outcome differs): {len(flipped(cmp))}", *flip_rows(cmp, limit, markdown),
                    ["suite", "mode", "lang", "item", "A → B", "A answer", "B answer"], markdown)
    out += _listing(f"Regressed items (passed in A, failed in B): {len(cmp.regressed())}",
                    *regressed_rows(cmp, limit, markdown),
                    ["suite", "mode", "item", "prompt", "A answer", "B answer", "why (B)"], markdown)
    return "\n".join(out) + "\n"


def _listing(title: str, rows: list[list[object]], more: int, headers: list[str], markdown: bool) -> list[str]:
    """A titled table of items, with a line for those left off by --max-items."""
    out = ["", ("### " if markdown else "") + title]
    if rows:
        out += ["", md_table(rows, headers, "github" if markdown else "simple", escape=markdown)]
    if more:
        out += ["", f"… and {more} more (raise --max-items to list them)"]
    return out
