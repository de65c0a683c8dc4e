"""Memory scaling: peak RSS of `probity run` on a generated 1,000-item and 10,000-item suite.

Run by hand:

    .venv/bin/python bench/scale.py                       # both providers, 1k and 10k items
    .venv/bin/python bench/scale.py --provider scripted   # the runner alone (no model)

The suites are `letter_counts` items (a fast scorer) whose prompts cycle through a small pool,
so the real model only has to answer the pool once: a warm-up run of the first `--pool` items
fills a private response cache (`PROBITY_CACHE_DIR` in the temp folder), and the measured runs
are then served from it (identical messages share one cache key). Two providers:

* `smollm2`: the embedded model through the transformers adapter, cache warm (so the weights are never
  loaded: the adapter loads them on first use); what a user re-running a suite gets.
* `scripted`: a fixed-text provider (no model), so the figure is the runner's own memory.

Each `probity run` is a child process; its peak RSS is the kernel's `ru_maxrss` from `wait4`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.suitegen.dump import dump_suite, item  # noqa: E402

WORDS = [("strawberry", "r"), ("banana", "a"), ("Mississippi", "s"), ("bookkeeper", "e"), ("committee", "t"),
         ("raspberry", "r"), ("parallel", "l"), ("occurrence", "c"), ("hippopotamus", "p"), ("coffee", "f"),
         ("balloon", "o"), ("tomorrow", "o"), ("letter", "t"), ("pepper", "p"), ("giraffe", "f"), ("mammal", "m")]
EN = "How many times does the letter '{c}' appear in the word '{w}'?"
ZH = "单词“{w}”里有几个字母“{c}”？"


def build_suite(n: int, pool: int) -> dict:
    """`n` items cycling through `pool` distinct prompts (half English, half Chinese)."""
    prompts = [(w, c, "en", EN) for w, c in WORDS] + [(w, c, "zh", ZH) for w, c in WORDS]
    prompts = prompts[::2][: (pool + 1) // 2] + prompts[1::2][: pool // 2]
    items = []
    for i in range(n):
        word, letter, lang, template = prompts[i % len(prompts)]
        items.append(item(f"scale-{i:05d}", template.format(w=word, c=letter), {"kind": "number",
                          "value": str(word.lower().count(letter))}, lang=lang, tags=["scale"],
                          meta={"text": word, "char": letter}))
    return {"name": "scale_letters", "version": "1", "description": f"{n} generated letter counts (memory bench)",
            "check": "letter_counts", "defaults": {"max_new_tokens": 16}, "items": items}


def run(cmd: list[str], env: dict[str, str], log: Path) -> tuple[int, float, float]:
    """Run `cmd` as a child; return (exit status, peak RSS in MiB, wall seconds)."""
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, time.perf_counter() - t0


def manifest_counts(out: Path) -> dict:
    runs = sorted(out.glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(runs[-1].read_text()).get("counts", {}) if runs else {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--pool", type=int, default=16, help="distinct prompts in the generated suites")
    ap.add_argument("--provider", choices=["smollm2", "scripted", "both"], default="both")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args(argv)
    probity = str(Path(sys.executable).with_name("probity"))
    tmp = Path(tempfile.mkdtemp(prefix="probity-scale-"))
    env = os.environ | {"PROBITY_CACHE_DIR": str(tmp / "cache"), "HF_HUB_OFFLINE": "1"}
    (tmp / "scripted.yaml").write_text(
        "name: scale-scripted\nadapter: scripted\nmodel: \"The letter appears 2 times.\"\nbatch_size: 32\n")
    sizes = [int(s) for s in args.sizes.split(",")]
    suites = {}
    for n in sizes:
        suites[n] = tmp / f"scale_{n}.yaml"
        suites[n].write_text(dump_suite(build_suite(n, args.pool)), encoding="utf-8")
    providers = ["smollm2", "scripted"] if args.provider == "both" else [args.provider]
    print(f"temp folder {tmp}; suites {', '.join(f'{n} items' for n in sizes)}; {args.pool} distinct prompts")
    results = []
    for name in providers:
        ref = name if name == "smollm2" else str(tmp / "scripted.yaml")
        base = [probity, "run", "--provider", ref, "--mode", "plain"]
        code, rss, secs = run([*base, str(suites[sizes[0]]), "--limit", str(args.pool), "--out", str(tmp / "warm")],
                              env, tmp / f"warm-{name}.log")
        print(f"{name}: warm-up of {args.pool} items: exit {code}, peak RSS {rss:.0f} MiB, {secs:.0f} s", flush=True)
        if code:
            print((tmp / f"warm-{name}.log").read_text()[-2000:])
            return 1
        for n in sizes:
            out = tmp / f"runs-{name}-{n}"
            code, rss, secs = run([*base, str(suites[n]), "--out", str(out)], env, tmp / f"run-{name}-{n}.log")
            counts = manifest_counts(out)
            results.append((name, n, rss, secs, counts))
            print(f"{name}: {n} items: exit {code}, peak RSS {rss:.0f} MiB, {secs:.0f} s, records "
                  f"{counts.get('records')}, cached {counts.get('cached')}", flush=True)
            if code:
                print((tmp / f"run-{name}-{n}.log").read_text()[-2000:])
                return 1
    print("\n| provider | items | peak RSS (MiB) | wall (s) | records | cached |\n|---|---:|---:|---:|---:|---:|")
    for name, n, rss, secs, counts in results:
        print(f"| {name} | {n} | {rss:.0f} | {secs:.0f} | {counts.get('records')} | {counts.get('cached')} |")
    for name in providers:
        rows = {n: rss for p, n, rss, _, _ in results if p == name}
        if len(rows) >= 2:
            lo, hi = rows[min(rows)], rows[max(rows)]
            print(f"{name}: {max(rows)} items use {hi / lo:.2f}x the peak RSS of {min(rows)} items "
                  f"({hi - lo:+.0f} MiB)")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
