"""`probity run`: run suites against a provider profile, write a run folder, print the summary."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from evals.errors import UserError
from evals.metrics import records_frame
from evals.records import iter_records
from evals.runner import RunConfig, start_run
from evals.tables import summary_tables


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run suites against a model and score the answers")
    p.add_argument("suites", nargs="*", help="suite files, names (suites/NAME.yaml) or folders; default: suites/")
    p.add_argument("--provider", default="smollm2", help="profile name (providers/profiles/NAME.yaml) or path")
    p.add_argument("--mode", choices=["plain", "tools", "both"], default="plain",
                   help="ask plainly, with the suite's tools, or both (paired by item id)")
    p.add_argument("--limit", type=int, default=None, help="only the first N items of each suite")
    p.add_argument("--samples", type=int, default=1, help="answers per item (use with temperature > 0)")
    p.add_argument("--seed", type=int, default=0, help="base seed for sampled generations")
    p.add_argument("--max-steps", type=int, default=4, help="agent loop step limit in tools mode")
    p.add_argument("--out", default="runs", help="folder that receives the run folder (default: runs/)")
    p.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted run (its stored settings are used)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    p.add_argument("--report", metavar="FILE.md", help="also write a markdown report of this run")
    add_check_options(p)
    p.set_defaults(func=cmd_run)


def add_check_options(p: argparse.ArgumentParser) -> None:
    """--gate, --baseline and --junit: shared by `run` and `check` (see post_run_checks)."""
    p.add_argument("--gate", metavar="GATES.yaml", help="gate file (see evals/gates.py); exit 1 if any gate fails")
    p.add_argument("--baseline", metavar="RUN_DIR", help="baseline run for max_regressions / pass_rate_drop gates")
    p.add_argument("--junit", metavar="FILE.xml", help="write a JUnit XML file (one testcase per item and mode)")


def cmd_run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit <= 0:
        raise UserError(f"--limit {args.limit}: must be a positive number")
    if args.samples <= 0:
        raise UserError(f"--samples {args.samples}: must be a positive number")
    if args.gate:  # a malformed gate file fails before the model is loaded, not after the run
        from evals.gates import load_gates
        from evals.loader import load_suites

        load_gates(Path(args.gate), [ls.suite.name for ls in load_suites(args.suites)])
    modes = ["plain", "tools"] if args.mode == "both" else [args.mode]
    config = RunConfig(suite_args=args.suites, provider=args.provider, modes=modes, samples=args.samples,
                       seed=args.seed, limit=args.limit, max_steps=args.max_steps, cache=not args.no_cache)
    result = start_run(config, Path(args.out), Path(args.resume) if args.resume else None)
    run_dir = result.run_dir
    df = records_frame(iter_records(run_dir))
    for title, table in summary_tables(df, run_dir).items():
        print(f"\n## {title}\n\n{table}")
    counts = result.manifest.get("counts", {})
    print(f"\nrun folder: {run_dir}  (records: {counts.get('records', 0)}, errors: {counts.get('errors', 0)}, "
          f"cached: {counts.get('cached', 0)}, retries: {result.manifest.get('retries', 0)})")
    if args.report:
        from evals.report import write_report

        path = write_report([run_dir], Path(args.report))
        print(f"report: {path}")
    return post_run_checks(args, run_dir)


def post_run_checks(args: argparse.Namespace, run_dir: Path) -> int:
    """Gates and JUnit output shared by `run` and `check`. Returns the exit status."""
    status = 0
    gates_markdown = ""
    if getattr(args, "junit", None):
        from evals.junit import write_junit

        write_junit(run_dir, Path(args.junit))
        print(f"junit: {args.junit}")
    if getattr(args, "gate", None):
        from evals.gates import check_gates

        report = check_gates(run_dir, Path(args.gate), Path(args.baseline) if args.baseline else None)
        print(report.text)
        status, gates_markdown = report.status, report.markdown
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        from evals.report import step_summary

        with open(summary, "a", encoding="utf-8") as f:
            f.write(step_summary(run_dir) + gates_markdown)
    return status
