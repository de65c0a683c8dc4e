"""Write smaller copies of shipped suites with probes and controls in equal numbers, for sampled runs
(`--samples K`), where the whole suite would take K times as long.

    .venv/bin/python examples/calibration/subset.py --per-split 30 --out calib suites/fictional_bios.yaml \
        suites/post_cutoff.yaml

Items are taken evenly spaced through each split (probes: `control: false`; controls: `control: true`),
so both languages and every kind of item stay represented; the suite's other fields are copied as they
are, and its name gets the suffix `_subset` so its records never mix with the full suite's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml


def spaced(items: list[dict], n: int) -> list[dict]:
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def subset(path: Path, per_split: int) -> dict:
    suite = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = suite["items"]
    probes = [it for it in items if not it.get("control")]
    controls = [it for it in items if it.get("control")]
    out = dict(suite)
    out["name"] = f"{suite['name']}_subset"
    out["description"] = f"{per_split} probes and {per_split} controls of {path.name}, evenly spaced"
    out["items"] = spaced(probes, per_split) + spaced(controls, per_split)
    if "corpus" in out:  # the corpus folder is relative to the suite file
        out["corpus"] = str((path.parent / out["corpus"]).resolve())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suites", nargs="+", type=Path)
    ap.add_argument("--per-split", type=int, default=30)
    ap.add_argument("--out", type=Path, default=Path("calib"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.suites:
        suite = subset(path, args.per_split)
        target = args.out / path.name
        target.write_text(yaml.safe_dump(suite, allow_unicode=True, sort_keys=False), encoding="utf-8")
        print(f"wrote {target}: {len(suite['items'])} items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
