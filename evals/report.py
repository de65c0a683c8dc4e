"""Markdown reports rebuilt from run folders (never from a model).

`render_report(runs)` gives the markdown; `write_report(runs, out)` writes it with the chart PNG beside
it (`out` with a `.png` suffix, linked relatively). Several runs stand side by side as columns. Everything
but the generation date in the title area is a function of the run folders, so a report can be re-rendered
and diffed. Table cells are escaped (`|`, `<`, `>`, newlines) so model output cannot break a table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from evals.manifest import Manifest, now, read_manifest
from evals.metrics import aggregate, expect_kinds, metric_value, records_frame
from evals.records import Record, read_records
from evals.stats import fmt_rate

# -- text helpers shared by compare, gates and junit -------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def shorten(text: str | None, limit: int = 160) -> str:
    """One line: newlines shown as ⏎, runs of spaces collapsed, cut at `limit` characters with …"""
    lines = [re.sub(r"\s+", " ", line).strip() for line in _CONTROL.sub("", text or "").splitlines()]
    flat = " ⏎ ".join(line for line in lines if line)
    return flat if len(flat) <= limit else flat[: max(1, limit - 1)].rstrip() + "…"


def md_escape(text: object) -> str:
    """Make a value safe inside a GitHub table cell."""
    s = _CONTROL.sub("", str(text)).replace("\\|", "|")
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return re.sub(r"\r\n|\r|\n", "<br>", s)


def md_table(rows: Sequence[Sequence[object]], headers: Sequence[str], fmt: str = "github",
             escape: bool = True) -> str:
    """A tabulate table; with escape, every cell is made safe for GitHub markdown."""
    if escape:
        rows = [[md_escape(c) for c in row] for row in rows]
        headers = [md_escape(h) for h in headers]
    return tabulate(rows, headers=list(headers), tablefmt=fmt, disable_numparse=True)


def run_label(manifest: Manifest, run_dir: Path) -> str:
    return manifest.profile.name or manifest.profile.model or manifest.run_id or run_dir.name


# -- loading -------------------------------------------------------------------------------------------


@dataclass
class Run:
    path: Path
    manifest: Manifest
    records: list[Record]
    frame: pd.DataFrame
    label: str = ""


def load_runs(run_dirs: Sequence[Path]) -> list[Run]:
    runs = []
    for d in run_dirs:
        d = Path(d)
        m = read_manifest(d)
        records = read_records(d)
        runs.append(Run(d, m, records, records_frame(records, expect_kinds(m)), run_label(m, d)))
    counts = Counter(r.label for r in runs)
    for r in runs:  # two runs of the same profile: tell them apart by run id
        if counts[r.label] > 1:
            r.label = r.manifest.run_id
    return runs


def _modes_column(runs: list[Run]) -> list[str]:
    modes = set().union(*(set(r.frame["mode"]) for r in runs)) if runs else set()
    return ["mode"] if modes - {"plain"} else []


METRIC_COLS = [("pass_rate", "pass rate"), ("abstention_rate", "abstention rate"),
               ("hallucination_rate", "hallucination rate")]


def _agg_tables(frames: list[pd.DataFrame], by: list[str]) -> tuple[list[dict[tuple[Any, ...], Any]], list[tuple[Any, ...]]]:
    tables: list[dict[tuple[Any, ...], Any]] = []
    for df in frames:
        agg = aggregate(df, by) if not df.empty else pd.DataFrame()
        tables.append({tuple(row[c] for c in by): row for _, row in agg.iterrows()})
    order = {"plain": 0, "tools": 1}

    def sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((order.get(v, 9), v) if isinstance(v, str) else (9, str(v)) for v in key)

    return tables, sorted(set().union(*tables), key=sort_key) if tables else []


def _cell(agg_row: Any, metric: str) -> str:
    if agg_row is None or int(agg_row["n"]) == 0:
        return "–"
    _, _, _, k, n = metric_value(agg_row, metric)
    return fmt_rate(k, n)


def side_by_side(runs: list[Run], by: list[str], metrics: list[tuple[str, str]] = METRIC_COLS,
                 frames: list[pd.DataFrame] | None = None) -> str:
    """One run: rows are the groups `by`, a column per metric (`rate [95% CI] (k/n)`).
    Several runs: one table per metric, the runs side by side as columns."""
    tables, keys = _agg_tables(frames if frames is not None else [r.frame for r in runs], by)
    if len(runs) == 1:
        rows = [[*key, *(_cell(tables[0].get(key), m) for m, _ in metrics)] for key in keys]
        return md_table(rows, [*by, *(title for _, title in metrics)])
    parts = []
    for metric, title in metrics:
        rows = [[*key, *(_cell(t.get(key), metric) for t in tables)] for key in keys]
        parts.append(f"**{title}**\n\n" + md_table(rows, [*by, *(r.label for r in runs)]))
    return "\n\n".join(parts)


# -- sections ------------------------------------------------------------------------------------------


def _settings(m: Manifest) -> str:
    cfg, params = m.config, m.profile.params
    parts = [f"modes {', '.join(cfg.modes)}", f"samples {cfg.samples}", f"seed {cfg.seed}",
             f"limit {cfg.limit}", f"max steps {cfg.max_steps}",
             f"temperature {params.temperature}", f"top_p {params.top_p}",
             f"profile max_new_tokens {params.max_new_tokens}"]
    return "; ".join(parts)


def _hardware(m: Manifest) -> str:
    hw = m.hardware
    return (f"{hw.get('machine')}, {hw.get('system')}, {hw.get('cpus')} CPUs, {hw.get('memory_gib')} GiB, "
            f"GPU: {hw.get('gpu') or 'none'}")


def _identity(m: Manifest) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted((m.model_identity or {}).items())) or "–"


def _status(m: Manifest) -> str:
    why = f": {m.stopped_because}" if m.stopped_because else ""
    return f"{m.started_at} / {m.finished_at} ({m.status}{why})"


def manifest_section(runs: list[Run]) -> str:
    fields: list[tuple[str, Any]] = [
        ("run", lambda m: f"`{m.run_id}`"),
        ("model", lambda m: f"`{m.profile.model}`"),
        ("adapter / profile", lambda m: f"{m.profile.adapter} / {m.profile.name}"),
        ("model identity", _identity),
        ("knowledge cutoff", lambda m: m.profile.knowledge_cutoff),
        ("python sandbox", lambda m: "–" if not m.sandbox else m.sandbox["isolation"]
         + ("" if m.sandbox["isolation"] == "bwrap" else " (weak: --allow-weak-sandbox)")),
        ("settings", _settings),
        ("probity", lambda m: f"{m.probity_version} (commit `{m.git_commit}`)"),
        ("scorer version", lambda m: str(m.scorer_version)
         + (f" (rescored from `{m.rescored_from}`)" if m.rescored_from else "")),
        ("started / finished", _status),
        ("hardware", _hardware),
        ("versions", lambda m: ", ".join(f"{k} {v}" for k, v in m.versions.items() if v)),
        ("records", lambda m: ", ".join(f"{k} {v}" for k, v in m.counts.items()) + f"; retries {m.retries}"),
    ]
    rows = [[name, *(str(fn(r.manifest)) for r in runs)] for name, fn in fields]
    out = ["## Runs", "", md_table(rows, ["", *(r.label for r in runs)]), "", "### Suites", ""]
    names = sorted({s.name for r in runs for s in r.manifest.suites})
    srows = []
    for name in names:
        row: list[object] = [name]
        for r in runs:
            s = r.manifest.suite(name)
            tokens = f" · max_new_tokens {s.max_new_tokens}" if s is not None and s.max_new_tokens else ""
            uses_tools = s is not None and s.tool_protocol and "tools" in r.manifest.config.modes
            protocol = f" · tool protocol: {s.tool_protocol}" if uses_tools else ""
            row.append("–" if s is None else f"v{s.version} · {s.check} · {s.items} items{tokens} · "
                       f"`{s.sha256[:12]}`{protocol}")
        srows.append(row)
    out.append(md_table(srows, ["suite", *(r.label for r in runs)]))
    return "\n".join(out)


def tool_section(runs: list[Run]) -> str | None:
    with_tools = [r for r in runs if {"plain", "tools"} <= set(r.frame["mode"])]
    if not with_tools:
        return None
    try:
        from evals.tooltable import tool_table
    except ImportError:
        return None
    parts = []
    for r in with_tools:
        tt = tool_table(r.records)
        if len(runs) > 1:
            tt.insert(0, "model", r.label)
        parts.append(tt)
    df = pd.concat(parts, ignore_index=True)
    return ("## Tool-assisted accuracy (paired plain vs tools)\n\nThe same items asked plainly and with the "
            "suite's tools; Δ = tools − plain with a paired bootstrap 95% interval, McNemar exact p; "
            "step limit = tools-mode items whose last allowed turn still asked for a tool (scored invalid).\n\n"
            + md_table(df.values.tolist(), list(df.columns)))


OUTCOME_PRIORITY = ["incorrect", "invalid", "abstained", "correct"]


def failing_examples(records: list[Record], per_group: int = 3) -> list[Record]:
    """A few failures per (suite, mode), taking outcomes in turn (hallucinations first); deterministic."""
    groups: dict[tuple[str, str], dict[str, list[Record]]] = {}
    for r in sorted(records, key=lambda r: (r.suite, r.mode, r.item_id, r.sample)):
        if r.score is None or r.score.passed:
            continue
        groups.setdefault((r.suite, r.mode), {}).setdefault(r.score.outcome, []).append(r)
    out = []
    for _, by_outcome in sorted(groups.items()):
        queues = [by_outcome.get(o, []) for o in OUTCOME_PRIORITY]
        picked: list[Record] = []
        while len(picked) < per_group and any(queues):
            for q in queues:
                if q and len(picked) < per_group:
                    picked.append(q.pop(0))
        out.extend(picked)
    return out


def examples_section(runs: list[Run], per_group: int = 3) -> str:
    out = ["## Failing examples", "", f"Up to {per_group} failed answers per suite and mode (hallucinations "
           "first), with the scorer's reason."]
    by_suite: dict[str, list[list[object]]] = {}
    for r in runs:
        for rec in failing_examples(r.records, per_group):
            item = rec.item_id if rec.sample == 0 else f"{rec.item_id}#{rec.sample}"
            prompt = next((m.content for m in reversed(rec.request.messages) if m.role == "user"), "")
            row: list[object] = [rec.mode, item, shorten(prompt, 140), shorten(rec.response.text, 160),
                                 rec.score.outcome if rec.score else "", shorten(rec.score.why, 160) if rec.score else ""]
            by_suite.setdefault(rec.suite, []).append([r.label, *row] if len(runs) > 1 else row)
    headers = ["mode", "item", "prompt", "answer", "outcome", "why"]
    if len(runs) > 1:
        headers = ["model", *headers]
    for suite, rows in sorted(by_suite.items()):
        out += ["", f"### {suite}", "", md_table(rows, headers)]
    if not by_suite:
        out += ["", "No failed answers."]
    return "\n".join(out)


def errors_section(runs: list[Run]) -> str:
    rows = []
    for r in runs:
        groups: dict[tuple[str, str], list[Record]] = {}
        for rec in r.records:
            if rec.error:
                groups.setdefault((rec.suite, rec.mode), []).append(rec)
        for (suite, mode), recs in sorted(groups.items()):
            kinds = Counter(rec.response.error_kind or "error" for rec in recs)
            row: list[object] = [suite, mode, len(recs), ", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items())),
                                 shorten(recs[0].error, 120)]
            rows.append([r.label, *row] if len(runs) > 1 else row)
    head = "## Errors\n\nAPI errors are not answers: they are excluded from every rate above and counted here."
    if not rows:
        return head + "\n\nNo errors."
    headers = ["suite", "mode", "errors", "kinds", "first message"]
    return head + "\n\n" + md_table(rows, ["model", *headers] if len(runs) > 1 else headers)


def chart_series(runs: list[Run], by: list[str]) -> tuple[dict[str, dict[str, tuple[float, float, float]]], list[str]]:
    series: dict[str, dict[str, tuple[float, float, float]]] = {}
    cats: set[str] = set()
    for r in runs:
        data: dict[str, tuple[float, float, float]] = {}
        if not r.frame.empty:
            for _, row in aggregate(r.frame, by).iterrows():
                if int(row["n"]) == 0:
                    continue
                cat = "·".join(str(row[c]) for c in by)
                rate, lo, hi, _, _ = metric_value(row, "hallucination_rate")
                data[cat] = (rate, lo, hi)
                cats.add(cat)
        series[r.label] = data
    return series, sorted(cats)


# -- confidence, calibration and consistency ----------------------------------------------------------


def _num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _groups_with_pooled(records: list[Record], by: list[str], grouper: Any) -> list[Any]:
    """Groups per suite (+ mode) with every language pooled ("all"), then per language where a suite has several."""
    pooled = grouper(records, by)
    split = grouper(records, [*by, "lang"])
    langs: dict[tuple[str, ...], int] = Counter(g.key[:-1] for g in split)
    out = []
    for g in pooled:
        g.key = (*g.key, "all")
        out.append(g)
        if langs.get(g.key[:-1], 0) > 1:
            out.extend(x for x in split if x.key[:-1] == g.key[:-1])
    return out


#: the signal the risk-coverage chart follows: the first one a run has
CURVE_SIGNALS = ("mean_logprob", "verbal")


def confidence_section(runs: list[Run], risk_chart: str | None = None) -> str | None:
    from evals.calibration import SIGNAL_TITLES, SIGNALS, calibration_groups, has_confidence, verbal_counts

    with_conf = [r for r in runs if has_confidence(r.records)]
    if not with_conf:
        return None
    by = ["suite", *_modes_column(runs)]
    out = ["## Confidence and calibration", "",
           "Attempted answers only (correct or incorrect); n = attempted answers with that confidence, c = the "
           "correct among them. AUROC: how well the confidence separates correct from hallucinated answers "
           "(1 = perfectly, 0.5 = chance; – without both). ECE: expected calibration error over 10 equal-width "
           "bins, for confidences that are probabilities: exp(mean log p), the geometric-mean token probability, "
           "and verbal / 100. See README, \"Confidence, calibration and consistency\"."]
    for r in with_conf:
        groups = _groups_with_pooled(r.records, by, calibration_groups)
        names = [n for n in SIGNALS if any(n in g.signals for g in groups)]
        rows = []
        for g in groups:
            first = next((g.signals[n] for n in names if n in g.signals), None)
            row: list[object] = [*g.key, g.attempted, "–" if first is None else f"{first.n} / {first.correct}"]
            row += [_num(g.signals[n].auroc) if n in g.signals else "–" for n in names]
            row += [_num(g.signals[n].ece, 3) if n in g.signals and g.signals[n].ece is not None else "–"
                    for n in names if n in ("mean_logprob", "verbal")]
            rows.append(row)
        headers = [*by, "lang", "attempted", "n / c", *(f"AUROC {SIGNAL_TITLES[n]}" for n in names),
                   *(("ECE exp(mean log p)" if n == "mean_logprob" else "ECE verbal/100")
                     for n in names if n in ("mean_logprob", "verbal"))]
        if len(runs) > 1:
            out += ["", f"**{md_escape(r.label)}**"]
        out += ["", md_table(rows, headers)]
        asked, unparsed = verbal_counts(r.records)
        if asked:
            out += ["", f"Verbal confidence (--ask-confidence): asked after {asked} answers; {unparsed} replies "
                    "held no number from 0 to 100 (left out above)."]
    if risk_chart:
        out += ["", "Risk–coverage: abstaining whenever the confidence (" + " or ".join(CURVE_SIGNALS)
                + ", the first a run has) is below a threshold; hallucination rate among the attempted answers "
                "kept, against the share kept.", "",
                f"![Risk-coverage per suite]({risk_chart})"]
    return "\n".join(out)


def risk_curves(runs: list[Run]) -> dict[str, list[tuple[float, float]]]:
    from evals.calibration import attempted, signal_stats

    curves: dict[str, list[tuple[float, float]]] = {}
    for r in runs:
        recs = attempted(r.records)
        for suite in sorted({x.suite for x in recs}):
            mine = [x for x in recs if x.suite == suite]
            for name in CURVE_SIGNALS:
                stats = signal_stats(mine, name)
                if stats.n:
                    label = suite if len(runs) == 1 else f"{r.label} · {suite}"
                    curves[f"{label} ({name}, n={stats.n})"] = [(c, k) for _, c, k in stats.curve]
                    break
    return curves


def consistency_section(runs: list[Run]) -> str | None:
    from evals.consistency import consistency_groups, has_samples

    sampled = [r for r in runs if has_samples(r.records)]
    if not sampled:
        return None
    by = ["suite", *_modes_column(runs)]
    out = ["## Consistency", "",
           "Several samples per item: each answer's key is what the scorer extracted (normalised; for a biography "
           "the years its claim names), an abstention its own key. Consistency = the share of an item's samples "
           "that commit to its most common key (items with at least two keyed samples). Agreement of an attempted "
           "answer = the share of the item's other samples with its key; AUROC = how well agreement separates "
           "correct from hallucinated answers (low agreement → hallucinated)."]
    for r in sampled:
        rows = [[*g.key, g.items, _num(g.mean_consistency), f"{g.attempted} / {g.correct}", _num(g.auroc)]
                for g in _groups_with_pooled(r.records, by, consistency_groups)]
        if len(runs) > 1:
            out += ["", f"**{md_escape(r.label)}**"]
        out += ["", md_table(rows, [*by, "lang", "items", "mean consistency", "attempted / correct",
                                    "AUROC agreement"])]
    return "\n".join(out)


# -- the report ----------------------------------------------------------------------------------------


def render_report(run_dirs: list[Path], chart: str | None = None, risk_chart: str | None = None) -> str:
    """The whole report as markdown; `chart` (and `risk_chart`) are PNG paths relative to the markdown file."""
    return _render(load_runs(run_dirs), chart, risk_chart)


def warnings_section(runs: list[Run]) -> list[str]:
    """What a reader must know before any number: a weak code sandbox, an incomplete run."""
    lines = []
    for r in runs:
        sandbox = r.manifest.sandbox
        if sandbox and sandbox.get("isolation") != "bwrap":
            lines.append(f"> **Warning:** `{r.manifest.run_id}` ran model-written code in a weak sandbox "
                         f"({sandbox.get('isolation')}: {sandbox.get('description')}; `--allow-weak-sandbox`).")
        if r.manifest.status != "finished":
            why = f": {r.manifest.stopped_because}" if r.manifest.stopped_because else ""
            lines.append(f"> **Warning:** `{r.manifest.run_id}` is incomplete (status {r.manifest.status}{why}).")
    return [*lines, ""] if lines else []


def _render(runs: list[Run], chart: str | None, risk_chart: str | None = None) -> str:
    modes = _modes_column(runs)
    title = ", ".join(r.label for r in runs)
    out = [f"# probity report: {md_escape(title)}", "",
           f"_Generated {now()} by `probity report` from {len(runs)} run folder{'s' if len(runs) > 1 else ''}: "
           + ", ".join(f"`{r.path.name}`" for r in runs) + "._", "",
           "Each rate is `rate [95% Wilson interval] (k/n)`; n counts scored answers (API errors are excluded "
           "and counted in **Errors**). Hallucination rate = answers that committed to a wrong answer, "
           "including any attempt where the honest answer was \"I don't know\".", "",
           *warnings_section(runs),
           manifest_section(runs), "",
           "## Headline: pass, abstention and hallucination rates", "",
           side_by_side(runs, ["suite", *modes])]
    if chart:
        out += ["", f"![Hallucination rate per suite and model, with 95% intervals]({chart})"]
    from evals.tables import with_split

    out += ["", "## Probes and controls", "",
            "Probes expose a failure (the honest answer is often to abstain); controls are answerable, so "
            "abstaining there is an over-refusal.", "",
            side_by_side(runs, ["suite", *modes, "split"], frames=[with_split(r.frame) for r in runs])]
    from evals.tables import simpleqa_section  # accuracy given attempted, F-score, over-refusal, pass^k

    out += ["", simpleqa_section([(r.label, r.frame) for r in runs], modes)]
    tools = tool_section(runs)
    if tools:
        out += ["", tools]
    out += ["", "## Per language", "", side_by_side(runs, ["suite", *modes, "lang"])]
    for section in (confidence_section(runs, risk_chart), consistency_section(runs)):
        if section:
            out += ["", section]
    out += ["", examples_section(runs), "", errors_section(runs)]
    from evals.agreement import agreement_section  # --judge: rule vs judge verdicts

    agreement = agreement_section([rec for r in runs for rec in r.records])
    out += ["", agreement] if agreement else []
    return "\n".join(out) + "\n"


def write_report(run_dirs: list[Path], out: Path) -> Path:
    """Write the markdown report and its chart (`out` with suffix .png) beside it."""
    from evals.calibration import has_confidence
    from evals.chart import hallucination_chart, risk_coverage_chart

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    png = out.with_suffix(".png")
    runs = load_runs(run_dirs)
    series, cats = chart_series(runs, ["suite", *_modes_column(runs)])
    hallucination_chart(series, cats, png)
    risk_png = out.with_name(out.stem + "-risk-coverage.png")
    curves = risk_curves(runs) if any(has_confidence(r.records) for r in runs) else {}
    if curves:
        risk_coverage_chart(curves, risk_png)
    out.write_text(_render(runs, png.name, risk_png.name if curves else None), encoding="utf-8")
    return out


def step_summary(run_dir: Path) -> str:
    """A short markdown summary of one run for `$GITHUB_STEP_SUMMARY`."""
    runs = load_runs([Path(run_dir)])
    r = runs[0]
    errors = int(r.frame["error"].sum()) if not r.frame.empty else 0
    parts = [f"## probity: `{r.manifest.run_id}` ({md_escape(r.label)})", "",
             side_by_side(runs, ["suite", *_modes_column(runs)]), "",
             f"{len(r.records)} answers, {errors} API errors (excluded from the rates)."]
    tools = tool_section(runs)
    if tools:
        parts += ["", tools.replace("## ", "### ", 1)]
    return "\n".join(parts) + "\n\n"
