"""`probity run`: run suites against a provider profile, write a run folder, print the summary."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from evals.errors import EXIT_CODES, UserError, writing
from evals.manifest import Manifest, read_manifest
from evals.metrics import expect_kinds, records_frame
from evals.records import Record, read_records
from evals.runner import DEFAULT_BREAKER, RunConfig, start_run
from evals.tables import summary_tables


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run suites against a model and score the answers", epilog=EXIT_CODES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suites", nargs="*", help="suite files, names (suites/NAME.yaml) or folders; default: suites/")
    p.add_argument("--provider", default=None,
                   help="profile name (providers/profiles/NAME.yaml) or path (default: smollm2)")
    p.add_argument("--mode", choices=["plain", "tools", "both"], default=None,
                   help="ask plainly, with the suite's tools, or both (paired by item id; default: plain)")
    p.add_argument("--limit", type=int, default=None, help="only the first N items of each suite")
    p.add_argument("--samples", type=int, default=None, help="answers per item (use with temperature > 0)")
    p.add_argument("--seed", type=int, default=None, help="base seed for sampled generations (default 0)")
    p.add_argument("--max-steps", type=int, default=None, help="agent loop step limit in tools mode (default 4)")
    p.add_argument("--shard", metavar="I/N", default=None,
                   help="run only shard I of N (a stable hash of each task key); join shard runs with "
                        "`probity merge`")
    p.add_argument("--allow-weak-sandbox", action="store_true",
                   help="tools mode: run the python tool even where only a weak sandbox exists (no bubblewrap)")
    p.add_argument("--breaker", type=int, default=DEFAULT_BREAKER, metavar="N",
                   help=f"stop the run after N consecutive failures of one kind (default {DEFAULT_BREAKER}; "
                        "0: never); the run exits 3 and --resume finishes it")
    p.add_argument("--out", default="runs", help="folder that receives the run folder (default: runs/)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="finish an interrupted or incomplete run with its stored settings (refused when the "
                        "profile, model, suite files or scorers differ)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    p.add_argument("--ask-confidence", action="store_true",
                   help="after each answer, ask in a follow-up turn for a 0-100 confidence (recorded as the "
                        "verbal confidence; the answer and its score are unchanged)")
    p.add_argument("--report", metavar="FILE.md", help="also write a markdown report of this run")
    from evals.commands.rescore import add_judge_options

    add_judge_options(p)  # --judge PROFILE, --score-with rule|judge: a judge pass after the run
    add_check_options(p)
    p.set_defaults(func=cmd_run)


def add_check_options(p: argparse.ArgumentParser) -> None:
    """--gate, --baseline and --junit: shared by `run` and `check` (see post_run_checks)."""
    p.add_argument("--gate", metavar="GATES.yaml", help="gate file (see evals/gates.py); exit 1 if any gate fails")
    p.add_argument("--baseline", metavar="RUN_DIR", help="baseline run for max_regressions / pass_rate_drop gates")
    p.add_argument("--junit", metavar="FILE.xml", help="write a JUnit XML file (one testcase per item and mode)")
    p.add_argument("--max-error-rate", type=float, default=0.0, metavar="R",
                   help="share of tasks that may end as API errors before the run counts as incomplete "
                        "(exit 3); default 0")


def _resume_conflicts(args: argparse.Namespace, stored: RunConfig) -> list[str]:
    """Options given with --resume that disagree with the run's stored settings."""
    modes = None if args.mode is None else (["plain", "tools"] if args.mode == "both" else [args.mode])
    given = {"suites": (args.suites or None, stored.suite_args), "--provider": (args.provider, stored.provider),
             "--mode": (modes, stored.modes), "--limit": (args.limit, stored.limit),
             "--samples": (args.samples, stored.samples), "--seed": (args.seed, stored.seed),
             "--max-steps": (args.max_steps, stored.max_steps), "--shard": (args.shard, stored.shard)}
    out = []
    for option, (value, before) in given.items():
        if value is None or value == before:
            continue
        if option == "--provider" and Path(str(before)).stem == Path(str(value)).stem:
            continue
        out.append(f"{option} {value} (the run has {before})")
    return out


def cmd_run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit <= 0:
        raise UserError(f"--limit {args.limit}: must be a positive number")
    if args.samples is not None and args.samples <= 0:
        raise UserError(f"--samples {args.samples}: must be a positive number")
    if args.max_steps is not None and args.max_steps <= 0:
        raise UserError(f"--max-steps {args.max_steps}: must be a positive number (model turns per task)")
    if args.breaker < 0:
        raise UserError(f"--breaker {args.breaker}: must be 0 (never) or a positive number")
    check_rate(args.max_error_rate)
    from evals.commands.rescore import check_judge_options

    check_judge_options(args)  # an unknown judge profile fails before the model is loaded
    if args.shard is not None:
        from evals.plan import parse_shard

        parse_shard(args.shard)
    suite_args = args.suites
    if args.resume:
        from evals.records import run_folder

        stored = read_manifest(run_folder(args.resume)).config
        suite_args = stored.suite_args
        conflicts = _resume_conflicts(args, stored)
        if conflicts:
            raise UserError(f"--resume {args.resume}: uses the run's stored settings; drop "
                            + ", ".join(conflicts))
    if args.gate:  # a malformed gate file fails before the model is loaded, not after the run
        from evals.gates import load_gates
        from evals.loader import load_suites

        load_gates(Path(args.gate), [ls.suite.name for ls in load_suites(suite_args)])
    mode = args.mode or "plain"
    modes = ["plain", "tools"] if mode == "both" else [mode]
    config = RunConfig(suite_args=args.suites, provider=args.provider or "smollm2", modes=modes,
                       samples=args.samples or 1, seed=args.seed or 0, limit=args.limit,
                       max_steps=args.max_steps or 4, cache=not args.no_cache, shard=args.shard,
                       allow_weak_sandbox=args.allow_weak_sandbox, ask_confidence=bool(args.ask_confidence))
    result = start_run(config, Path(args.out), Path(args.resume) if args.resume else None,
                       breaker=args.breaker)
    run_dir = result.run_dir
    if args.judge:  # judge verdicts beside the rule verdicts; records.jsonl is rewritten atomically
        from evals.judge import judge_run_folder
        from evals.judge import summary as judge_summary

        print(judge_summary(judge_run_folder(run_dir, args.judge, args.score_with, use_cache=not args.no_cache)))
    records = read_records(run_dir)
    df = records_frame(records, expect_kinds(result.manifest))
    for title, table in summary_tables(df, records).items():
        print(f"\n## {title}\n\n{table}")
    counts = result.manifest.counts
    print(f"\nrun folder: {run_dir}  (records: {counts.get('records', 0)}, errors: {counts.get('errors', 0)}, "
          f"cached: {counts.get('cached', 0)}, retries: {result.manifest.retries})")
    if args.report:
        from evals.report import write_report

        with writing("--report", Path(args.report)):
            path = write_report([run_dir], Path(args.report))
        print(f"report: {path}")
    return post_run_checks(args, run_dir, result.manifest, records)


def check_rate(rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise UserError(f"--max-error-rate {rate:g}: must be a share between 0 and 1")


def incomplete(run_dir: Path, manifest: Manifest, records: list[Record], max_error_rate: float) -> str | None:
    """Why the run cannot be trusted as a whole (exit 3), or None when it is complete."""
    resume = f"finish it with `probity run --resume {run_dir}`"
    if manifest.status == "stopped":
        return f"incomplete: the run stopped early: {manifest.stopped_because}; {resume}"
    tasks = manifest.counts.get("tasks") or len(records)
    if len(records) < tasks:
        return f"incomplete: {len(records)} of {tasks} tasks have a record (status {manifest.status}); {resume}"
    errors = sum(r.error is not None for r in records)
    if errors and errors / tasks > max_error_rate:
        allowed = f" (--max-error-rate {max_error_rate:g} allows {max_error_rate * tasks:.0f})" if max_error_rate else ""
        return f"incomplete: {errors} of {tasks} tasks errored{allowed}; {resume}"
    return None


def post_run_checks(args: argparse.Namespace, run_dir: Path, manifest: Manifest, records: list[Record]) -> int:
    """JUnit output and gates, shared by `run` and `check`. Returns the exit status: 3 when the run is
    incomplete (its gates are not evaluated), else 1 when a gate fails, else 0."""
    import sys

    status = 0
    gates_markdown = ""
    if getattr(args, "junit", None):
        from evals.junit import write_junit

        with writing("--junit", Path(args.junit)):
            write_junit(run_dir, Path(args.junit))
        print(f"junit: {args.junit}")
    reason = incomplete(run_dir, manifest, records, args.max_error_rate)
    if reason and getattr(args, "gate", None):
        # a malformed gate file or baseline is a user error (2) even when the gates will not be evaluated;
        # for a complete run check_gates reads and reports them itself
        from evals.gates import load_gates

        load_gates(Path(args.gate), [s.name for s in manifest.suites])
        if getattr(args, "baseline", None):
            from evals.records import run_folder

            read_records(run_folder(args.baseline, "--baseline "))
    if reason:
        print(f"probity: {reason}", file=sys.stderr)
        if getattr(args, "gate", None):
            print("probity: gates not checked: an incomplete run passes no gate", file=sys.stderr)
        status = 3
    elif getattr(args, "gate", None):
        from evals.gates import check_gates

        report = check_gates(run_dir, Path(args.gate), Path(args.baseline) if args.baseline else None)
        print(report.text)
        status, gates_markdown = report.status, report.markdown
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        from evals.report import step_summary

        with writing("GITHUB_STEP_SUMMARY", Path(summary)), open(summary, "a", encoding="utf-8") as f:
            f.write(step_summary(run_dir) + gates_markdown + (f"\n**{reason}**\n" if reason else ""))
    return status
