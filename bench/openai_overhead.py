"""Overhead of the OpenAI adapter: 1,000 requests at concurrency 32 against a server that answers
every request after exactly 50 ms.

Run by hand:

    .venv/bin/python bench/openai_overhead.py                # 5 repetitions of each side
    .venv/bin/python bench/openai_overhead.py --reps 9 --requests 1000 --concurrency 32 --delay-ms 50

The server is a raw asyncio HTTP/1.1 keep-alive responder in its own process (so it never competes
with the client for the GIL). Three clients run in one invocation, alternating order each
repetition, each with a fresh client and fresh connections:
  probity   OpenAIProvider.generate(1000 requests) — retries, timeouts, parsing, Response objects
  chunked   the same, handed over in chunk_size pieces as the runner does
  bare      asyncio.gather over AsyncOpenAI.chat.completions.create with a semaphore of 32
The ideal wall time is requests / concurrency × delay (1000 / 32 × 50 ms = 1.5625 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.profiles import Profile  # noqa: E402
from evals.types import GenParams, Message, Request  # noqa: E402

MODEL = "bench-model"
ANSWER = json.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": MODEL,
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "The answer is 42."},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18}}).encode()


# -- the server (runs in a child process) ----------------------------------------------------------
async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(ANSWER)).encode() + b"\r\nConnection: keep-alive\r\n\r\n")
    try:
        while True:
            header = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in header.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(delay)
            writer.write(head + ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _serve(delay: float) -> None:
    server = await asyncio.start_server(lambda r, w: _serve_connection(r, w, delay), "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def start_server(delay_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(delay_ms)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}/v1"


# -- the clients ------------------------------------------------------------------------------------
def requests_for(n: int) -> list[Request]:
    return [Request(messages=[Message(role="user", content=f"Question {i}: what is 6 × 7?")],
                    params=GenParams(max_new_tokens=16)) for i in range(n)]


def run_probity(url: str, n: int, concurrency: int, chunked: bool = False) -> tuple[float, float]:
    from providers.openai import OpenAIProvider

    profile = Profile(name="bench", adapter="openai", model=MODEL, base_url=url, concurrency=concurrency)
    reqs = requests_for(n)
    provider = OpenAIProvider(profile)
    t0, c0 = time.perf_counter(), time.process_time()
    if chunked:
        out = []
        for i in range(0, n, provider.chunk_size):
            out += provider.generate(reqs[i:i + provider.chunk_size])
    else:
        out = provider.generate(reqs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    provider.close()
    assert len(out) == n and all(r.error is None and r.text for r in out), "the probity side saw errors"
    return wall, cpu


def run_bare(url: str, n: int, concurrency: int) -> tuple[float, float]:
    from openai import AsyncOpenAI

    reqs = requests_for(n)  # built outside the timing, as for the probity side

    async def main() -> tuple[float, float]:
        client = AsyncOpenAI(base_url=url, api_key="bench", max_retries=0)
        sem = asyncio.Semaphore(concurrency)

        async def one(r: Request) -> str:
            async with sem:
                c = await client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": r.messages[0].content}],
                    max_tokens=r.params.max_new_tokens, temperature=0.0)
                return c.choices[0].message.content or ""

        t0, c0 = time.perf_counter(), time.process_time()
        out = await asyncio.gather(*(one(r) for r in reqs))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        await client.close()
        assert len(out) == n and all(out)
        return wall, cpu

    return asyncio.run(main())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve", type=float, metavar="DELAY_MS", help=argparse.SUPPRESS)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--delay-ms", type=float, default=50.0)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve / 1000))
        return
    n, c = args.requests, args.concurrency
    ideal = n / c * args.delay_ms / 1000
    proc, url = start_server(args.delay_ms)
    sides: dict[str, Callable[[], tuple[float, float]]] = {
        "probity": lambda: run_probity(url, n, c),
        "chunked": lambda: run_probity(url, n, c, chunked=True),
        "bare": lambda: run_bare(url, n, c),
    }
    try:
        for fn in sides.values():  # warm-up: imports, first connections
            fn()
        times: dict[str, list[float]] = {k: [] for k in sides}
        cpus: dict[str, list[float]] = {k: [] for k in sides}
        names = list(sides)
        for rep in range(args.reps):
            for name in (names if rep % 2 == 0 else names[::-1]):
                wall, cpu = sides[name]()
                times[name].append(wall)
                cpus[name].append(cpu)
            print(f"rep {rep + 1}: " + "  ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()), flush=True)
    finally:
        proc.terminate()
        proc.wait()
    print(f"\n{n} requests, concurrency {c}, server delay {args.delay_ms:g} ms, {args.reps} repetitions, "
          f"{os.cpu_count()} CPUs; ideal {ideal:.4f} s")
    print("| client | median wall (s) | min (s) | median / ideal | median / bare | client CPU (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    bare = statistics.median(times["bare"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.3f} | {min(ts):.3f} | {med / ideal:.3f} | {med / bare:.3f} "
              f"| {statistics.median(cpus[name]):.3f} |")
    paired = [p / b for p, b in zip(times["probity"], times["bare"], strict=True)]
    print(f"\npaired probity/bare per repetition: {', '.join(f'{r:.3f}' for r in paired)} "
          f"(median {statistics.median(paired):.3f})")


if __name__ == "__main__":
    main()
