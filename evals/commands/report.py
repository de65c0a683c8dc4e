"""`probity report RUN [RUN...] [--out FILE.md]`: a markdown report rebuilt from run folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.errors import UserError, writing
from evals.records import run_folder


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a markdown report (and chart) from one or more run folders")
    p.add_argument("runs", nargs="+", help="run folders (several: models side by side in columns)")
    p.add_argument("--out", metavar="FILE.md",
                   help="markdown file to write, with its chart FILE.png beside it (default: print to stdout, no chart)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from evals.report import render_report, write_report

    runs = [run_folder(r) for r in args.runs]
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() != ".md":
            raise UserError(f"--out {out}: give a .md file (the chart is written beside it as .png)")
        with writing("--out", out):
            path = write_report(runs, out)
        print(f"report: {path}\nchart:  {path.with_suffix('.png')}")
    else:
        print(render_report(runs), end="")
    return 0
