"""`probity check RUN_DIR --gate GATES.yaml [--baseline RUN_DIR] [--junit FILE]`: CI gates on a finished run."""

from __future__ import annotations

import argparse

from evals.commands.run import add_check_options, check_rate, post_run_checks
from evals.errors import EXIT_CODES, UserError
from evals.manifest import read_manifest
from evals.records import read_records, run_folder


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check a run against a gate file (exit 1 if any gate fails, 3 if the run "
                       "is incomplete)", epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run folder to check")
    add_check_options(p)
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    run_dir = run_folder(args.run_dir)
    if not args.gate and not args.junit:
        raise UserError("nothing to check: give --gate GATES.yaml and/or --junit FILE.xml")
    if args.baseline and not args.gate:
        raise UserError("--baseline needs --gate GATES.yaml (the baseline is only used by gates)")

    check_rate(args.max_error_rate)
    manifest = read_manifest(run_dir)
    records = read_records(run_dir)
    return post_run_checks(args, run_dir, manifest, records)
