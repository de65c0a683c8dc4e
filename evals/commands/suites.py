"""`probity suites list|validate|generate`."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from tabulate import tabulate

from evals.errors import UserError
from evals.loader import load_suite, load_suites, suite_paths


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("suites", help="list, validate or regenerate suite files")
    ss = p.add_subparsers(dest="suites_command", required=True, metavar="ACTION")
    ls = ss.add_parser("list", help="list the suites with their sizes and languages")
    ls.add_argument("paths", nargs="*", help="suite files, names or folders (default: suites/)")
    ls.set_defaults(func=cmd_list)
    va = ss.add_parser("validate", help="check suite files without running a model")
    va.add_argument("paths", nargs="*", help="suite files, names or folders (default: suites/)")
    va.set_defaults(func=cmd_validate)
    ge = ss.add_parser("generate", help="rewrite the generated suites (deterministic, byte for byte)")
    ge.add_argument("--out", default="suites", help="folder to write into (default: suites/)")
    ge.set_defaults(func=cmd_generate)


def cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for ls in load_suites(args.paths):
        s = ls.suite
        langs = Counter(i.lang for i in s.items)
        rows.append([s.name, s.version, s.check, len(s.items), sum(i.control for i in s.items),
                     ", ".join(f"{k} {v}" for k, v in sorted(langs.items())), ", ".join(s.tools) or "–", ls.path])
    print(tabulate(rows, headers=["suite", "version", "check", "items", "controls", "languages", "tools", "file"],
                   tablefmt="github"))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    problems: list[str] = []
    ok = 0
    for path in suite_paths(args.paths):
        try:
            ls = load_suite(path)
            ok += 1
            print(f"{path}: ok ({len(ls.suite.items)} items)")
        except UserError as exc:
            problems.extend(exc.lines)
    if problems:
        raise UserError(*problems)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from evals.suitegen import write_all

    for path in write_all(Path(args.out)):
        print(f"wrote {path}")
    return 0
