"""`probity report RUN [RUN...] [--out FILE.md]`: a markdown report rebuilt from run folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.errors import UserError
from evals.report import render_report, write_report


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a markdown report from one or more run folders")
    p.add_argument("runs", nargs="+", help="run folders (several: models side by side)")
    p.add_argument("--out", help="markdown file to write (default: print to stdout)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    runs = [Path(r) for r in args.runs]
    for r in runs:
        if not (r / "manifest.json").is_file():
            raise UserError(f"{r}: not a run folder (no manifest.json)")
    if args.out:
        print(f"report: {write_report(runs, Path(args.out))}")
    else:
        print(render_report(runs))
    return 0
