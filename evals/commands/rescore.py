"""`probity rescore RUN_DIR [--out DIR]`: score stored answers again with the current scorers."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rescore", help="re-apply the current scorers to a run's stored answers (no model)")
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run folder to rescore (left unchanged)")
    p.add_argument("--out", metavar="DIR", help="folder that receives the new run folder (default: beside RUN_DIR)")
    p.set_defaults(func=cmd_rescore)


def cmd_rescore(args: argparse.Namespace) -> int:
    from evals.rescore import rescore_run, summary

    run_dir = Path(args.run_dir)
    result = rescore_run(run_dir, Path(args.out) if args.out else None)
    print(summary(result, run_dir))
    return 0
