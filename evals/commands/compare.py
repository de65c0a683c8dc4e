"""`probity compare RUN_A RUN_B [--out FILE.md]`: paired comparison of two runs (B against A)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from evals.errors import UserError, writing
from evals.records import run_folder


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare two runs item by item (regressions, fixes, McNemar, Δ with CI)")
    p.add_argument("run_a", metavar="RUN_A", help="the earlier / reference run folder")
    p.add_argument("run_b", metavar="RUN_B", help="the run folder compared against it")
    p.add_argument("--out", metavar="FILE.md", help="also write the comparison as markdown")
    p.add_argument("--max-items", type=int, default=50, help="regressed items listed (default 50)")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from evals.compare import compare_runs, render

    runs = [run_folder(args.run_a), run_folder(args.run_b)]
    if args.max_items < 0:
        raise UserError(f"--max-items {args.max_items}: must be 0 or more")
    cmp = compare_runs(*runs)
    print(render(cmp, markdown=False, limit=args.max_items))
    markdown = None
    if args.out:
        markdown = render(cmp, markdown=True, limit=args.max_items)
        out = Path(args.out)
        with writing("--out", out):
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(markdown, encoding="utf-8")
        print(f"markdown: {out}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with writing("GITHUB_STEP_SUMMARY", Path(summary)), open(summary, "a", encoding="utf-8") as f:
            f.write((markdown or render(cmp, markdown=True, limit=args.max_items)) + "\n")
    return 0
