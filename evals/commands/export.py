"""`probity export RUN --format chat-sft [--out FILE] [--split train|eval|all] [--eval-share F] [--seed S]`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write training conversations (chat JSONL) built from a run's answers")
    p.add_argument("run_dir", metavar="RUN", help="the run folder to read (left unchanged)")
    p.add_argument("--format", default="chat-sft", choices=["chat-sft"],
                   help="chat-sft: OpenAI/TRL `messages` JSONL (the only format)")
    p.add_argument("--out", metavar="FILE",
                   help="the JSONL to write (default: exports/<run-id>-chat-sft[-SPLIT].jsonl); "
                        "its manifest goes beside it as FILE without .jsonl + .manifest.json")
    p.add_argument("--split", default="all", choices=["train", "eval", "all"],
                   help="which side of the entity split to write (default all, each line's meta.split says)")
    p.add_argument("--eval-share", type=float, default=0.2, metavar="F",
                   help="share of each suite's entities (names, events, words) held out for eval (default 0.2)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the split and the phrasing choice")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from evals.export import build_export, write_export

    result = build_export(args.run_dir, split=args.split, eval_share=args.eval_share, seed=args.seed)
    suffix = "" if args.split == "all" else f"-{args.split}"
    out = Path(args.out) if args.out else Path("exports") / f"{result.run_id}-chat-sft{suffix}.jsonl"
    manifest = write_export(result, out, args.split, args.eval_share, args.seed)
    targets: dict[str, int] = {}
    for (_, _, _, kind), n in result.counts.items():
        targets[kind] = targets.get(kind, 0) + n
    shown = ", ".join(f"{k} {v}" for k, v in sorted(targets.items()))
    print(f"wrote {len(result.conversations)} conversations to {out} ({shown or 'none'})")
    print(f"skipped {sum(result.skipped.values())}: " + (", ".join(f"{k} {v}" for k, v in
                                                          sorted(result.skipped.items())) or "none"))
    print(f"manifest: {manifest}")
    return 0
