"""The `text` tool protocol's options, measured one by one on the embedded model: letter_counts and
decimal_compare asked plainly once (the paired reference) and in tools mode once per variant of the
suite's `tool_protocol:` block. Prints, per variant and suite, the tool-assisted table's columns
(evals/tooltable.py: tool-call rate, tool error rate, pass rates, paired Δ with McNemar's exact p).

    .venv/bin/python bench/tools_protocol.py [--every K] [--variants default,turns,...] [--out DIR]

Each run is a real `probity run` (greedy, --provider smollm2, --no-cache) of the generated suite
(evals/suitegen) with its `tool_protocol:` block replaced by the variant's, and with every K-th
item only (--every, default 1: all items; the items keep their ids, so plain and tools pair up).
`kept` is the block the shipped suite carries. The run folders stay under --out (default
runs/bench-tools-protocol/) so every figure can be re-read with `probity report`. Run it alone: it
keeps both cores busy for a while.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.profiles import load_profile  # noqa: E402
from evals.records import Record, read_records  # noqa: E402
from evals.runner import RunConfig, start_run  # noqa: E402
from evals.schema import ToolProtocol  # noqa: E402
from evals.suitegen import build  # noqa: E402
from evals.suitegen.dump import dump_suite  # noqa: E402
from evals.tooltable import tool_table  # noqa: E402

SUITES = ["letter_counts", "decimal_compare"]
INSTRUCTION = {
    "letter_counts": "Use the python tool to count; do not answer from memory.",
    "decimal_compare": "Use the python tool to compare; do not answer from memory.",
}
VARIANTS = ["default", "instruction", "plain-results", "example", "turns", "kept", "kept+instruction"]
COLUMNS = ["tool-call rate", "tool error rate", "plain pass", "tools pass", "Δ [95% CI]", "McNemar p", "mean steps",
           "step limit"]


def block_for(variant: str, suite: str) -> dict[str, Any]:
    """The variant's `tool_protocol:` block: one switch on top of the old protocol, or the shipped
    block (`kept`: the suite's worked examples as earlier turns and the `answer` reminder)."""
    kept = build(suite).get("tool_protocol", {})
    examples = {"example": True, "examples": kept.get("examples", [])}
    blocks: dict[str, dict[str, Any]] = {
        "default": {},
        "instruction": {"instruction": INSTRUCTION[suite]},
        "plain-results": {"results": "plain"},
        "example": examples,  # written out in the system turn
        "turns": {**examples, "example_in": "turns"},
        "kept": kept,
        "kept+instruction": {**kept, "instruction": INSTRUCTION[suite]},
    }
    return ToolProtocol(**blocks[variant]).model_dump(exclude_defaults=True)


def suite_copy(suite: str, block: dict[str, Any], every: int, folder: Path) -> Path:
    """The generated suite with `block` as its `tool_protocol:` and every `every`-th item only."""
    data = build(suite)
    data["items"] = data["items"][::every]
    data.pop("tool_protocol", None)
    if block:
        data["tool_protocol"] = block
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{suite}.yaml"
    path.write_text(dump_suite(data), encoding="utf-8")
    return path


def run(provider: Any, suite_file: Path, mode: str, out: Path) -> tuple[list[Record], float]:
    """One run (as `probity run SUITE --provider smollm2 --mode MODE --no-cache`, on the already
    loaded model); its records and wall time."""
    config = RunConfig(suite_args=[str(suite_file)], provider="smollm2", modes=[mode], samples=1, seed=0,
                       max_steps=4, cache=False)
    t0 = time.perf_counter()
    result = start_run(config, out, provider=provider)
    wall = time.perf_counter() - t0
    if result.manifest.status != "finished":
        raise SystemExit(f"{result.run_dir}: run {result.manifest.status}")
    print(f"# {result.run_dir}  ({wall:.0f} s)", file=sys.stderr, flush=True)
    return read_records(result.run_dir), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=1, help="every K-th item of each suite (1: all)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--suites", default=",".join(SUITES))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-tools-protocol")
    args = ap.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; known: {', '.join(VARIANTS)}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    from providers import make_provider

    provider = make_provider(load_profile("smollm2"))  # loaded once, shared by every run
    rows = []
    for suite in [s for s in args.suites.split(",") if s]:
        plain_file = suite_copy(suite, {}, args.every, args.out / stamp / "plain")
        plain, _ = run(provider, plain_file, "plain", args.out / stamp / "runs")
        for variant in variants:
            suite_file = suite_copy(suite, block_for(variant, suite), args.every, args.out / stamp / variant)
            tools, wall = run(provider, suite_file, "tools", args.out / stamp / "runs")
            table = tool_table([*plain, *tools])
            row = table[table["suite"] == suite].iloc[0].to_dict()
            print(f"{variant} {suite}: {row}", file=sys.stderr, flush=True)
            rows.append({"variant": variant, "suite": suite, "n": row["n pairs"], **{c: row[c] for c in COLUMNS},
                         "wall s": f"{wall:.0f}"})
    headers = list(rows[0]) if rows else []
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for r in rows:
        print("| " + " | ".join(str(r[h]) for h in headers) + " |")


if __name__ == "__main__":
    main()
