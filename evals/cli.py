"""`probity` command line. Each subcommand lives in evals/commands/<name>.py."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from evals import __version__
from evals.errors import EXIT_CODES, UserError

COMMANDS = ["run", "report", "suites", "providers", "score", "compare", "check", "rescore", "merge", "export"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="probity",
        description="Measure how often a language model makes things up, and whether tools fix it.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"probity {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = import_module(f"evals.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"evals.commands.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        for line in exc.lines:
            print(f"probity: {line}" if ":" not in line.split(" ")[0] else line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("probity: interrupted; finish the run with `probity run --resume RUN_DIR`", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
