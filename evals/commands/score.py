"""`probity score FILE.jsonl [--check CHECK] [--out OUT.jsonl] [--provider NAME] [--report]`.

Scores answers a user already has (production logs, another harness's outputs) without a model.
Each input line is a JSON object with `prompt` and `response`, and optionally `id`, `check` (when
`--check` is not given), `expect` (when absent, the check's default expectation applies, read from
the prompt where the check needs it), `date`, `system`, `lang`, `tags`, `meta`, `control` and
`label` (a hand label: an outcome, `refused`/`complied`, or XSTest's labels; `--report` prints the
agreement with it).

A line that cannot be scored (not JSON, a field missing, a prompt the check cannot read and no
`expect`) is written to the output with its reason and skipped; the others are scored, and the
command exits 2 at the end with the count of such lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tabulate import tabulate

from evals.errors import UserError
from evals.schema import Item
from evals.scoring import OUTCOMES, ScoreContext, score
from evals.scoring.registry import NoDefault, checks, get, kind_problem, unknown_check_message
from evals.validity import LABELS, agrees, tallies


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="score answers you already have (JSONL) without running a model")
    p.add_argument("file", help="JSONL with prompt, response [, id, check, expect, date, system, lang, label]")
    p.add_argument("--check", choices=list(checks()),
                   help="which scorer to use (default: each line's `check` field)")
    p.add_argument("--out", help="write one JSON line per input (id, outcome, passed, extracted, why) here")
    p.add_argument("--provider", default="smollm2",
                   help="profile whose identity and knowledge cutoff the scorer uses (default: smollm2)")
    p.add_argument("--report", action="store_true",
                   help="print agreement with the lines' `label` fields, per check and language")
    p.set_defaults(func=cmd_score)


class LineError(ValueError):
    """This input line cannot be scored; the message says why."""


def read_lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read as UTF-8 text") from exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise UserError(f"{path}: no input lines")
    return lines


def parse_row(line: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(row, dict):
        raise LineError("expected a JSON object")
    missing = [k for k in ("prompt", "response") if not isinstance(row.get(k), str)]
    if missing:
        raise LineError(f"missing or non-text field(s): {', '.join(missing)}")
    return row


def check_of(row: dict[str, Any], default: str | None) -> str:
    name = default or row.get("check")
    if not isinstance(name, str) or not name:
        raise LineError("no `check` field and no --check")
    if name not in checks():
        raise LineError(unknown_check_message(name))
    return name


def build_item(check: str, row: dict[str, Any], n: int, ctx: ScoreContext) -> Item:
    """The item an answer line describes; raises LineError when it cannot be scored."""
    data: dict[str, Any] = {"id": str(row.get("id", f"line-{n}")), "prompt": row["prompt"]}
    for key in ("system", "lang", "tags", "meta", "control", "date"):
        if row.get(key) is not None:
            data[key] = row[key]
    if "lang" not in data and re.search(r"[\u4e00-\u9fff]", row["prompt"]):
        data["lang"] = "zh"
    try:
        expect = row.get("expect")
        data["expect"] = expect if expect is not None else get(check).default_expect(row, ctx.knowledge_cutoff)
        item = Item.model_validate(data)
    except NoDefault as exc:
        raise LineError(f"{check}: {exc}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(line)"
        raise LineError(f"{where}: {err['msg']}") from exc
    problem = kind_problem(check, item.expect.kind)
    if problem:
        raise LineError(f"expect.kind: {problem}")
    return item


def confusion(results: list[tuple[str, str]]) -> str:
    """Labelled (rows) against predicted (columns) outcomes, with agreement and abstention P/R."""
    counts = Counter(results)
    rows = []
    for label in OUTCOMES:
        row_counts = [counts[(label, pred)] for pred in OUTCOMES]
        rows.append([label, *row_counts, sum(row_counts)])
    table = tabulate(rows, headers=["label \\ predicted", *OUTCOMES, "total"], tablefmt="github")
    agree = sum(counts[(o, o)] for o in OUTCOMES)
    tp = counts[("abstained", "abstained")]
    pred_abs = sum(counts[(lbl, "abstained")] for lbl in OUTCOMES)
    true_abs = sum(counts[("abstained", p)] for p in OUTCOMES)
    precision = f"{tp / pred_abs:.1%}" if pred_abs else "n/a"
    recall = f"{tp / true_abs:.1%}" if true_abs else "n/a"
    return (f"{table}\n\nagreement {agree}/{len(results)} = {agree / len(results):.1%}; "
            f"abstention detector precision {precision}, recall {recall}")


def score_line(n: int, line: str, default_check: str | None, ctx: ScoreContext) -> dict[str, Any]:
    """One output line: the verdict, or `error` with the reason the line was not scored."""
    try:
        row = parse_row(line)
    except LineError as exc:
        return {"line": n, "error": str(exc)}
    out: dict[str, Any] = {"id": row.get("id", f"line-{n}"), "line": n}
    if row.get("label") is not None:
        out["label"] = row["label"]
    out["lang"] = row.get("lang") or "?"
    try:
        check = check_of(row, default_check)
        out["check"] = check
        item = build_item(check, row, n, ctx)
    except LineError as exc:
        return out | {"error": str(exc)}
    sc = score(check, item, row["response"], ctx)
    out["lang"] = row.get("lang") or item.lang
    return out | {"outcome": sc.outcome, "passed": sc.passed, "extracted": sc.extracted, "why": sc.why,
                  "flags": sc.flags}


def print_report(path: Path, outputs: list[dict[str, Any]]) -> None:
    labelled = [o for o in outputs if o.get("label") is not None]
    if not labelled:
        raise UserError(f"{path}: --report needs lines with a `label` field (one of {', '.join(LABELS)})")
    unknown = sorted({str(o["label"]) for o in labelled} - set(LABELS))
    if unknown:
        raise UserError(f"{path}: unknown label(s) {', '.join(unknown)}; use {', '.join(LABELS)}")
    rows = [(o.get("check", "?"), o["lang"], o["label"], o.get("outcome", "")) for o in labelled]
    table = []
    for (check, lang), t in sorted(tallies(rows).items()):
        table.append([check, lang, t.total, t.cell(), t.unscored])
    print("\nAgreement with the labels (95% Wilson interval):\n")
    print(tabulate(table, headers=["check", "lang", "n", "agreement", "not scored"], tablefmt="github"))
    outcome_rows = [(o["label"], o["outcome"]) for o in labelled if o["label"] in OUTCOMES and "outcome" in o]
    if outcome_rows:
        print("\nOutcome labels against predictions:\n")
        print(confusion(outcome_rows))
    binary = [o for o in labelled if o["label"] not in OUTCOMES and "outcome" in o]
    if binary:
        ok = sum(agrees(o["label"], o["outcome"]) for o in binary)
        print(f"\nBinary labels (refused = abstained): agreement {ok}/{len(binary)} = {ok / len(binary):.1%}")


def cmd_score(args: argparse.Namespace) -> int:
    from evals.profiles import load_profile

    path = Path(args.file)
    profile = load_profile(args.provider)
    ctx = ScoreContext(identity=profile.identity, knowledge_cutoff=profile.knowledge_cutoff)
    outputs = [score_line(n, line, args.check, ctx) for n, line in read_lines(path)]
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for out in outputs:
                f.write(json.dumps(out, ensure_ascii=False) + "\n")
    scored = [o for o in outputs if "outcome" in o]
    failed = [o for o in outputs if "error" in o]
    counts = Counter(o["outcome"] for o in scored)
    summary = [[o, counts[o], f"{counts[o] / len(scored):.1%}" if scored else "–"] for o in OUTCOMES]
    print(tabulate(summary, headers=["outcome", "n", "share"], tablefmt="github"))
    used = ", ".join(sorted({o["check"] for o in scored})) or "none"
    print(f"\n{len(scored)} answers scored with {used} (profile {profile.name}); "
          f"passed {sum(o['passed'] for o in scored)}" + (f"; wrote {args.out}" if args.out else ""))
    if args.report:
        print_report(path, outputs)
    sys.stdout.flush()
    if failed:
        for o in failed[:5]:
            print(f"{path}:{o['line']}: {o['error']}", file=sys.stderr)
        more = f" (first {min(5, len(failed))} above)" if len(failed) > 1 else ""
        raise UserError(f"{path}: {len(failed)} of {len(outputs)} lines could not be scored{more}")
    return 0
