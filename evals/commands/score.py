"""`probity score FILE.jsonl --check CHECK [--out OUT.jsonl] [--provider NAME] [--report]`.

Scores answers a user already has (production logs, another harness's outputs) without a model.
Each input line is a JSON object with `id`, `prompt`, `response` and optionally `expect` (when absent,
the check's default expectation applies; see evals/scoring/defaults.py), `date`, `system`, `lang`,
`tags`, `meta`, `control` and `label` (a hand-labelled outcome: `--report` prints the confusion table
of predicted against labelled outcomes).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tabulate import tabulate

from evals.errors import UserError
from evals.schema import CHECKS, Item
from evals.scoring import OUTCOMES, ScoreContext, score
from evals.scoring.defaults import NoDefault, default_expect


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="score answers you already have (JSONL) without running a model")
    p.add_argument("file", help="JSONL with id, prompt, response [, expect, date, system, label]")
    p.add_argument("--check", required=True, choices=CHECKS, help="which scorer to use")
    p.add_argument("--out", help="write one JSON line per input (id, outcome, passed, extracted, why) here")
    p.add_argument("--provider", default="smollm2",
                   help="profile whose identity and knowledge cutoff the scorer uses (default: smollm2)")
    p.add_argument("--report", action="store_true",
                   help="print the confusion table of predicted vs labelled outcomes (lines need `label`)")
    p.set_defaults(func=cmd_score)


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read as UTF-8 text") from exc
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise UserError(f"{path}:{n}: expected a JSON object")
        missing = [k for k in ("prompt", "response") if not isinstance(row.get(k), str)]
        if missing:
            raise UserError(f"{path}:{n}: missing or non-text field(s): {', '.join(missing)}")
        rows.append((n, row))
    if not rows:
        raise UserError(f"{path}: no input lines")
    return rows


def build_item(check: str, row: dict[str, Any], n: int, path: Path, ctx: ScoreContext) -> Item:
    data: dict[str, Any] = {"id": str(row.get("id", f"line-{n}")), "prompt": row["prompt"]}
    for key in ("system", "lang", "tags", "meta", "control", "date"):
        if row.get(key) is not None:
            data[key] = row[key]
    try:
        data["expect"] = row["expect"] if row.get("expect") is not None else default_expect(
            check, row, ctx.knowledge_cutoff)
        return Item.model_validate(data)
    except NoDefault as exc:
        raise UserError(f"{path}:{n}: {check}: {exc}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(line)"
        raise UserError(f"{path}:{n}: {where}: {err['msg']}") from exc


def confusion(results: list[tuple[str, str]]) -> str:
    """Table of labelled (rows) against predicted (columns) outcomes, with agreement and abstention P/R."""
    counts = Counter(results)
    rows = [[label, *(counts[(label, pred)] for pred in OUTCOMES), sum(counts[(label, p)] for p in OUTCOMES)]
            for label in OUTCOMES]
    table = tabulate(rows, headers=["label \\ predicted", *OUTCOMES, "total"], tablefmt="github")
    agree = sum(counts[(o, o)] for o in OUTCOMES)
    tp = counts[("abstained", "abstained")]
    pred_abs = sum(counts[(lbl, "abstained")] for lbl in OUTCOMES)
    true_abs = sum(counts[("abstained", p)] for p in OUTCOMES)
    precision = f"{tp / pred_abs:.1%}" if pred_abs else "n/a"
    recall = f"{tp / true_abs:.1%}" if true_abs else "n/a"
    return (f"{table}\n\nagreement {agree}/{len(results)} = {agree / len(results):.1%}; "
            f"abstention detector precision {precision}, recall {recall}")


def cmd_score(args: argparse.Namespace) -> int:
    from evals.profiles import load_profile

    path = Path(args.file)
    profile = load_profile(args.provider)
    ctx = ScoreContext(identity=profile.identity, knowledge_cutoff=profile.knowledge_cutoff)
    rows = read_rows(path)
    items = [(n, row, build_item(args.check, row, n, path, ctx)) for n, row in rows]
    outputs, labelled = [], []
    for _n, row, item in items:
        sc = score(args.check, item, row["response"], ctx)
        out = {"id": item.id, "outcome": sc.outcome, "passed": sc.passed, "extracted": sc.extracted, "why": sc.why,
               "flags": sc.flags}
        if row.get("label") is not None:
            out["label"] = row["label"]
            labelled.append((str(row["label"]), sc.outcome))
        outputs.append(out)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for out in outputs:
                f.write(json.dumps(out, ensure_ascii=False) + "\n")
    counts = Counter(o["outcome"] for o in outputs)
    passed = sum(o["passed"] for o in outputs)
    summary = [[o, counts[o], f"{counts[o] / len(outputs):.1%}"] for o in OUTCOMES]
    print(tabulate(summary, headers=["outcome", "n", "share"], tablefmt="github"))
    print(f"\n{len(outputs)} answers scored with {args.check} (profile {profile.name}); passed {passed}"
          + (f"; wrote {args.out}" if args.out else ""))
    if args.report:
        if not labelled:
            raise UserError(f"{path}: --report needs lines with a `label` field (one of {', '.join(OUTCOMES)})")
        unknown = sorted({lbl for lbl, _ in labelled} - set(OUTCOMES))
        if unknown:
            raise UserError(f"{path}: unknown label(s) {', '.join(unknown)}; use {', '.join(OUTCOMES)}")
        print("\nDetector against labels:\n")
        print(confusion(labelled))
    sys.stdout.flush()
    return 0
