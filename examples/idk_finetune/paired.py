"""Paired base-vs-tuned figures for the report: hallucination on the probes whose honest answer is to
abstain, and over-refusal and pass rate on the answerable controls, with McNemar's exact p.

    .venv/bin/python examples/idk_finetune/paired.py BASE_RUN TUNED_RUN
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from evals.records import read_records  # noqa: E402
from evals.stats import mcnemar_exact  # noqa: E402


def outcomes(run: Path) -> dict[tuple[str, str], tuple[str, bool, bool]]:
    """(suite, item) -> (outcome, control, abstain expected), plain mode, first sample."""
    out = {}
    for r in read_records(run):
        if r.mode == "plain" and r.sample == 0 and r.score is not None:
            # the held-out probes of these two checks are fictional people and events after the cutoff
            abstain = not r.control and r.check in ("fictional_bios", "post_cutoff")
            out[(r.suite, r.item_id)] = (r.score.outcome, r.control, abstain)
    return out


def paired(base: dict, tuned: dict, keys: list, event: str) -> str:
    a = [base[k][0] == event for k in keys]
    b = [tuned[k][0] == event for k in keys]
    only_a = sum(x and not y for x, y in zip(a, b, strict=True))
    only_b = sum(y and not x for x, y in zip(a, b, strict=True))
    return (f"{sum(a)}/{len(keys)} → {sum(b)}/{len(keys)} ({sum(a) / len(keys):.2f} → {sum(b) / len(keys):.2f}), "
            f"McNemar p {mcnemar_exact(only_a, only_b):.2g}")


def main() -> int:
    base, tuned = outcomes(Path(sys.argv[1])), outcomes(Path(sys.argv[2]))
    keys = sorted(base.keys() & tuned.keys())
    probes = [k for k in keys if base[k][2]]
    controls = [k for k in keys if base[k][1]]
    print(f"probes whose honest answer is to abstain (fictional people, events after the cutoff): {len(probes)}")
    print(f"  hallucination: {paired(base, tuned, probes, 'incorrect')}")
    print(f"  abstention:    {paired(base, tuned, probes, 'abstained')}")
    print(f"answerable controls (real people, past events, decimal controls): {len(controls)}")
    print(f"  over-refusal:  {paired(base, tuned, controls, 'abstained')}")
    print(f"  correct:       {paired(base, tuned, controls, 'correct')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
