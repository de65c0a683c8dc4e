"""Several endpoints for one model: wall time of 1,000 requests over 1, 2 and 4 replicas of the 50 ms
fake server of bench/openai_overhead.py (one process each), every replica with the same per-endpoint
concurrency, against the ideal (requests / total concurrency × 50 ms).

Run by hand:

    .venv/bin/python bench/endpoints.py                      # 3 repetitions, 8 per endpoint
    .venv/bin/python bench/endpoints.py --reps 5 --requests 1000 --concurrency 8 --replicas 1,2,4

The rows alternate order every repetition; each is a fresh OpenAIProvider (fresh connections). One
replica is the single-endpoint adapter (`base_url: URL`); two or more go through the router
(`base_url: [URL, ...]`). The `1 endpoint at k × c` rows give the single-endpoint adapter the total
concurrency of k replicas, so the router's own cost shows next to it (the fake server never saturates).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from openai_overhead import MODEL, requests_for, start_server  # noqa: E402

from evals.profiles import Profile  # noqa: E402


def run(urls: list[str], n: int, concurrency: int) -> tuple[float, float, Counter[str | None]]:
    from providers.openai import OpenAIProvider

    base_url: str | list[str] = urls[0] if len(urls) == 1 else urls
    profile = Profile(name="bench", adapter="openai", model=MODEL, base_url=base_url, concurrency=concurrency)
    reqs = requests_for(n)
    provider = OpenAIProvider(profile)
    t0, c0 = time.perf_counter(), time.process_time()
    out = provider.generate(reqs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    provider.close()
    assert len(out) == n and all(r.error is None and r.text for r in out), "errors in the bench run"
    return wall, cpu, Counter(r.endpoint for r in out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8, help="per endpoint")
    ap.add_argument("--delay-ms", type=float, default=50.0)
    ap.add_argument("--replicas", default="1,2,4")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    n, c, delay = args.requests, args.concurrency, args.delay_ms / 1000
    counts = [int(k) for k in args.replicas.split(",")]
    procs, urls = [], []
    for _ in range(max(counts)):
        proc, url = start_server(args.delay_ms)
        procs.append(proc)
        urls.append(url)
    # (label, endpoints, per-endpoint concurrency)
    rows: list[tuple[str, list[str], int]] = [(f"{k} endpoint{'s' if k > 1 else ''} × {c}", urls[:k], c)
                                              for k in counts]
    rows += [(f"1 endpoint × {k * c} (control)", urls[:1], k * c) for k in counts if k > 1]
    times: dict[str, list[float]] = {label: [] for label, _, _ in rows}
    cpus: dict[str, list[float]] = {label: [] for label, _, _ in rows}
    shares: dict[str, Counter[str | None]] = {}
    try:
        for _, eps, conc in rows:  # warm-up: imports, first connections
            run(eps, min(n, 200), conc)
        for rep in range(args.reps):
            for label, eps, conc in (rows if rep % 2 == 0 else rows[::-1]):
                wall, cpu, seen = run(eps, n, conc)
                times[label].append(wall)
                cpus[label].append(cpu)
                shares[label] = seen
            print(f"rep {rep + 1}: " + "  ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()), flush=True)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
    print(f"\n{n} requests, server delay {args.delay_ms:g} ms, {args.reps} repetitions, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print("| endpoints × concurrency | total concurrency | ideal (s) | median wall (s) | min (s) | median / ideal "
          "| speed-up over 1 endpoint | client CPU (s) | answered per endpoint |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    one = statistics.median(times[rows[0][0]])
    for label, eps, conc in rows:
        total = len(eps) * conc
        ideal = n / total * delay
        med = statistics.median(times[label])
        split = " / ".join(str(shares[label][url]) for url in eps)
        print(f"| {label} | {total} | {ideal:.3f} | {med:.3f} | {min(times[label]):.3f} | {med / ideal:.3f} "
              f"| {one / med:.2f} | {statistics.median(cpus[label]):.3f} | {split} |")


if __name__ == "__main__":
    main()
