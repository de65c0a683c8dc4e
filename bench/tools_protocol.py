"""The `text` tool protocol's options, measured one by one on the embedded model: letter_counts and
decimal_compare asked plainly once (the paired reference) and in tools mode once per variant of the
suite's `tool_protocol:` block. Prints, per variant and suite, the tool-assisted table's columns
(evals/tooltable.py: tool-call rate, tool error rate, pass rates, paired Δ with McNemar's exact p).

    .venv/bin/python bench/tools_protocol.py [--limit N] [--variants default,example,...] [--out DIR]

Each run is a real `probity run` (greedy, --provider smollm2, --no-cache) of a copy of the suite file
whose `tool_protocol:` line is the variant's; the run folders stay under --out (default
runs/bench-tools-protocol/) so every figure can be re-read with `probity report`. Run it alone: it
keeps both cores busy for a while.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.profiles import load_profile  # noqa: E402
from evals.records import Record, read_records  # noqa: E402
from evals.runner import RunConfig, start_run  # noqa: E402
from evals.schema import ToolProtocol  # noqa: E402
from evals.tools import loop  # noqa: E402
from evals.tooltable import tool_table  # noqa: E402

SUITES = ["letter_counts", "decimal_compare"]
INSTRUCTION = {
    "letter_counts": "Use the python tool to count; do not answer from memory.",
    "decimal_compare": "Use the python tool to compare; do not answer from memory.",
}
#: variant name -> the suite's `tool_protocol:` block (the instruction is filled in per suite)
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "example": {"example": True},
    "instruction": {"instruction": True},  # after the question (instruction_in: user, the default)
    "plain-results": {"results": "plain"},
    "all": {"example": True, "instruction": True, "results": "plain"},
}
COLUMNS = ["tool-call rate", "tool error rate", "plain pass", "tools pass", "Δ [95% CI]", "McNemar p", "mean steps",
           "step limit"]


def block_for(variant: str, suite: str) -> dict[str, Any]:
    block = dict(VARIANTS[variant])
    if block.get("instruction") is True:
        block["instruction"] = INSTRUCTION[suite]
    return ToolProtocol(**block).model_dump(exclude_defaults=True)


def suite_copy(suite: str, block: dict[str, Any], folder: Path) -> Path:
    """suites/SUITE.yaml with its `tool_protocol:` line replaced by `block` (same suite name and items)."""
    lines = (ROOT / "suites" / f"{suite}.yaml").read_text(encoding="utf-8").splitlines()
    lines = [ln for ln in lines if not ln.startswith("tool_protocol:")]
    if block:
        at = next(i for i, ln in enumerate(lines) if ln.startswith("items:"))
        lines.insert(at, f"tool_protocol: {json.dumps(block, ensure_ascii=False)}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{suite}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def protocol_options(options: ToolProtocol) -> Iterator[None]:
    """Hand the suite's `tool_protocol:` block to the agent loop for runners that do not pass it yet
    (the runner imports stream_agents from evals.tools.loop at call time)."""
    original = loop.stream_agents

    def with_options(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("options", options)
        return original(*args, **kwargs)

    loop.stream_agents = with_options  # type: ignore[assignment]
    try:
        yield
    finally:
        loop.stream_agents = original  # type: ignore[assignment]


def run(provider: Any, suite_file: Path, mode: str, out: Path, limit: int | None,
        options: ToolProtocol) -> tuple[list[Record], float]:
    """One run (as `probity run SUITE --provider smollm2 --mode MODE --no-cache [--limit N]`, on the
    already loaded model); its records and wall time."""
    config = RunConfig(suite_args=[str(suite_file)], provider="smollm2", modes=[mode], samples=1, seed=0,
                       limit=limit, max_steps=4, cache=False)
    t0 = time.perf_counter()
    with protocol_options(options):
        result = start_run(config, out, provider=provider)
    wall = time.perf_counter() - t0
    if result.manifest.status != "finished":
        raise SystemExit(f"{result.run_dir}: run {result.manifest.status}")
    print(f"# {result.run_dir}  ({wall:.0f} s)", file=sys.stderr, flush=True)
    return read_records(result.run_dir), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="only the first N items of each suite")
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
        plain_file = suite_copy(suite, {}, args.out / stamp / "plain")
        plain, _ = run(provider, plain_file, "plain", args.out / stamp / "runs", args.limit, ToolProtocol())
        for variant in variants:
            block = block_for(variant, suite)
            suite_file = suite_copy(suite, block, args.out / stamp / variant)
            tools, wall = run(provider, suite_file, "tools", args.out / stamp / "runs", args.limit,
                              ToolProtocol(**block))
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
