"""Shards: wall time of one `probity run` of N tasks against two `--shard i/2` runs started side by side
plus `probity merge`, all against the 50 ms fake server of bench/openai_overhead.py.

Run by hand:

    .venv/bin/python bench/shards.py                  # 3 repetitions, 1,000 tasks, concurrency 8
    .venv/bin/python bench/shards.py --reps 5 --tasks 1000 --concurrency 8

Each side is the real CLI in fresh processes (`python -m evals run … --no-cache`), so process start,
suite loading, the preflight, scoring and fsynced records are all in the time; the fake server answers
every request after exactly 50 ms, so the model side is the same for both. The two shard processes run
at once on this machine (in CI they are separate jobs), each with the full concurrency; the merged
folder is checked to hold the same tasks and verdicts as the single run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from openai_overhead import MODEL, start_server  # noqa: E402


def write_inputs(folder: Path, tasks: int, url: str, concurrency: int) -> tuple[Path, Path]:
    lines = ["name: bench", "check: letter_counts", "defaults: {max_new_tokens: 16}", "items:"]
    for i in range(tasks):
        lines += [f"  - id: t{i:05d}", f"    prompt: \"How many r's are in 'r{'r' * (i % 5)}x'? ({i})\"",
                  f"    expect: {{kind: number, value: {1 + i % 5}}}"]
    suite = folder / "bench.yaml"
    suite.write_text("\n".join(lines) + "\n")
    profile = folder / "fake.yaml"
    profile.write_text(f"name: fake\nadapter: openai\nmodel: {MODEL}\nbase_url: {url}\n"
                       f"concurrency: {concurrency}\ntimeout_s: 30\n")
    return suite, profile


def cli(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "evals", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def wait(*procs: subprocess.Popen[bytes]) -> None:
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"probity exited {p.returncode}: {err.decode()[-500:]}")


def one_job(work: Path, suite: Path, profile: Path) -> tuple[float, Path]:
    out = work / "one"
    t0 = time.perf_counter()
    wait(cli("run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache"))
    return time.perf_counter() - t0, next(out.iterdir())


def two_shards(work: Path, suite: Path, profile: Path) -> tuple[float, Path]:
    out = work / "shards"
    t0 = time.perf_counter()
    wait(*(cli("run", str(suite), "--provider", str(profile), "--out", str(out), "--no-cache", "--shard", f"{i}/2")
           for i in (1, 2)))
    merged = work / "merged"
    wait(cli("merge", *(str(p) for p in sorted(out.iterdir())), "--out", str(merged)))
    return time.perf_counter() - t0, merged


def verdicts(run_dir: Path) -> dict[str, bool]:
    out = {}
    for line in (run_dir / "records.jsonl").read_text().splitlines():
        r = json.loads(line)
        out[r["key"]] = r["score"]["passed"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--delay-ms", type=float, default=50.0)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    proc, url = start_server(args.delay_ms)
    times: dict[str, list[float]] = {"one job": [], "2 shards + merge": []}
    try:
        for rep in range(args.reps):
            sides = [("one job", one_job), ("2 shards + merge", two_shards)]
            results: dict[str, Path] = {}
            work = Path(tempfile.mkdtemp(prefix="probity-bench-shards-"))
            suite, profile = write_inputs(work, args.tasks, url, args.concurrency)
            for label, fn in (sides if rep % 2 == 0 else sides[::-1]):
                wall, run_dir = fn(work, suite, profile)
                times[label].append(wall)
                results[label] = run_dir
            assert verdicts(results["one job"]) == verdicts(results["2 shards + merge"]), "verdicts differ"
            shutil.rmtree(work)
    finally:
        proc.terminate()
    ideal = args.tasks / args.concurrency * args.delay_ms / 1000
    one = statistics.median(times["one job"])
    print(f"{args.tasks} tasks, concurrency {args.concurrency} per process, {args.delay_ms:g} ms per answer, "
          f"{args.reps} reps (ideal for one job: {ideal:.2f} s)\n")
    print("| side | median wall (s) | runs (s) | vs one job |")
    print("|---|---:|---|---:|")
    for label, values in times.items():
        med = statistics.median(values)
        print(f"| {label} | {med:.2f} | {', '.join(f'{v:.2f}' for v in values)} | {med / one:.2f} |")


if __name__ == "__main__":
    main()
