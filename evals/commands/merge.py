"""`probity merge SHARD_RUN... --out RUN`: join `--shard i/n` run folders into one run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.errors import EXIT_CODES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("merge", help="join the run folders of --shard runs into one run folder",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", metavar="SHARD_RUN", help="the run folder of every shard (1/n ... n/n)")
    p.add_argument("--out", required=True, metavar="RUN", help="the merged run folder to write (must not exist)")
    p.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    from evals.merge import merge_runs

    out, manifest = merge_runs([Path(r) for r in args.runs], Path(args.out))
    counts = manifest.counts
    print(f"merged {len(manifest.merged_from)} shards → {out}  (tasks: {counts.get('tasks')}, "
          f"errors: {counts.get('errors', 0)})")
    return 0
