"""`probity rescore RUN_DIR [--out DIR] [--judge PROFILE [--score-with judge]]`: score stored answers again
with the current scorers (and, optionally, have a judge model audit them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rescore", help="re-apply the current scorers to a run's stored answers (no model)")
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run folder to rescore (left unchanged)")
    p.add_argument("--out", metavar="DIR", help="folder that receives the new run folder (default: beside RUN_DIR)")
    add_judge_options(p)
    p.add_argument("--no-cache", action="store_true", help="do not read or write the judge's response cache")
    p.set_defaults(func=cmd_rescore)


def add_judge_options(p: argparse.ArgumentParser) -> None:
    """--judge and --score-with: shared by `run` and `rescore`."""
    p.add_argument("--judge", metavar="PROFILE", default=None,
                   help="also have this profile's model grade every scored answer (correct / incorrect / "
                        "not attempted / unscorable), stored beside the rule verdict; see the report's "
                        "'Scorer agreement'")
    p.add_argument("--score-with", choices=["rule", "judge"], default="rule",
                   help="whose verdict is the record's score (default rule; judge needs --judge; an unscored "
                        "judge verdict keeps the rule's)")


def check_judge_options(args: argparse.Namespace) -> None:
    if args.score_with == "judge" and not args.judge:
        raise UserError("--score-with judge: needs --judge PROFILE")
    if args.judge:
        from evals.judge import load_judge_profile

        load_judge_profile(args.judge)


def cmd_rescore(args: argparse.Namespace) -> int:
    from evals.rescore import rescore_run, summary

    check_judge_options(args)
    run_dir = Path(args.run_dir)
    result = rescore_run(run_dir, Path(args.out) if args.out else None, judge=args.judge,
                         score_with=args.score_with, use_cache=not args.no_cache)
    print(summary(result, run_dir))
    return 0
