"""Throughput: probity's transformers adapter vs lm-evaluation-harness on the same prompts.

Run by hand (lm-eval is a bench-only dependency):

    .venv/bin/python bench/throughput.py                 # sweep lm-eval's batch size, then compare
    .venv/bin/python bench/throughput.py --dtype float32,bfloat16   # both precisions, one invocation
    .venv/bin/python bench/throughput.py --ablate        # also measure each technique on its own

Both sides get the same chat-templated prompt text (rendered once by the adapter's `render()`),
the same model file (the SmolLM2 GGUF, de-quantised to the dtype measured: probity through the
profile's `dtype`, lm-eval through `HFLM(dtype=...)`), greedy decoding, the same `max_new_tokens`,
and the same stopping: the end-of-turn token only (lm-eval's `until` defaults to the EOS text, which
is that token). Runs alternate between the sides within one invocation, and the result is a ratio
of medians, because the machine is shared and absolute timings drift. Outputs are compared within
each dtype.

Beside the ratio it prints the physical limit: the matmul rate this machine reaches at the model's
shapes (`peak_gflops`), the useful work of the workload (`workload_flops`: the model's FLOPs for
the tokens it had to process, no padding), and each side's achieved share of that peak; and where
probity's time goes (prefill, decode, picking the next tokens with their confidence, scoring).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evals.types import GenParams, Message, Request  # noqa: E402

# Used only when suites/*.yaml are not there: prompts of the suites' kinds, in both languages.
WORDS = ["strawberry", "banana", "raspberry", "bookkeeper", "mississippi", "committee", "parallel", "occurrence"]
PAIRS = [("9.11", "9.9"), ("3.45", "3.5"), ("10.01", "10.1"), ("5.125", "5.13"), ("2.19", "2.2"), ("7.08", "7.8"),
         ("1.111", "1.12"), ("4.35", "4.4")]
PEOPLE = [("Elowen Marchetti", "伊洛温·马尔凯蒂"), ("Tobias Quill-Hartmann", "托比亚斯·奎尔-哈特曼"),
          ("Sunniva Okonkwo-Lind", "桑妮娃·奥孔克沃-林德"), ("Radomir Esteban Vasko", "拉多米尔·瓦斯科"),
          ("Ilse Brannigan-Mori", "伊尔莎·布兰尼根-森"), ("Caspian Thorne-Adeyemi", "卡斯皮安·索恩-阿德耶米")]
IDENTITY = ["Who are you?", "你是谁？", "Which company made you?", "你是哪家公司开发的？", "What is your name?",
            "你叫什么名字？", "Are you ChatGPT?", "你是 GPT-4 吗？"]


def fallback_prompts() -> list[str]:
    out = list(IDENTITY)
    for word in WORDS:
        for letter in "raeo":
            out.append(f"How many times does the letter '{letter}' appear in the word '{word}'?")
            out.append(f"单词“{word}”中有几个字母“{letter}”？")
    for a, b in PAIRS:
        out += [f"Which is larger: {a} or {b}?", f"{a} 和 {b} 哪个大？", f"Is {a} greater than {b}? Answer yes or no.",
                f"{a} 比 {b} 小吗？请回答是或否。"]
    for en, zh in PEOPLE:
        out += [f"Write a short biography of {en}.", f"请简要介绍一下{zh}的生平。", f"What is {en} best known for?",
                f"{zh}最出名的成就是什么？"]
    return out


def load_requests(n: int, max_new_tokens: int) -> tuple[list[Request], str]:
    """`n` requests spread over the suites and both languages (round robin); greedy, no stop strings."""
    requests, _, source = load_tasks(n, max_new_tokens)
    return requests, source


def load_tasks(n: int, max_new_tokens: int) -> tuple[list[Request], list[tuple[str, Any]], str]:
    """`load_requests`, with each request's (check, item) when it comes from a suite (for scoring)."""
    params = GenParams(max_new_tokens=max_new_tokens)
    suites = []
    if any((ROOT / "suites").glob("*.yaml")):
        from evals.loader import load_suites

        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            suites = load_suites([])
        finally:
            os.chdir(cwd)
    if suites:
        from evals.plan import Task, build_request
        from evals.profiles import load_profile

        profile = load_profile("smollm2")
        groups: dict[tuple[str, str], list[tuple[Request, tuple[str, Any]]]] = {}
        for loaded in suites:
            for item in loaded.suite.items:
                req = build_request(Task(loaded, item, "plain", 0), profile, 0)
                groups.setdefault((loaded.suite.name, item.lang), []).append(
                    (req.model_copy(update={"params": params}), (loaded.suite.check, item)))
        picked: list[tuple[Request, tuple[str, Any]]] = []
        queues = [list(reversed(v)) for _, v in sorted(groups.items())]
        while len(picked) < n and any(queues):
            for q in queues:
                if q and len(picked) < n:
                    picked.append(q.pop())
        source = f"suites: {', '.join(sorted({s.suite.name for s in suites}))}"
        return [r for r, _ in picked], [t for _, t in picked], source
    prompts = fallback_prompts()
    picked = [Request(messages=[Message(role="user", content=prompts[i % len(prompts)])], params=params)
              for i in range(n)]
    return picked, [], f"built-in fallback list ({len(prompts)} prompts; suites/*.yaml not found)"


# -- the two sides ---------------------------------------------------------------------------------
def make_lmeval(folder: Path, gguf_file: str | None, batch_size: int, dtype: str) -> Any:
    try:
        from lm_eval.models.huggingface import HFLM
    except ImportError:
        sys.exit("bench/throughput.py needs lm-eval: .venv/bin/pip install lm-eval torch==2.13.0")
    return HFLM(pretrained=str(folder), gguf_file=gguf_file, batch_size=batch_size, dtype=dtype, device="cpu")


def run_lmeval(lm: Any, prompts: list[str], batch_size: int, max_new_tokens: int) -> tuple[float, list[str]]:
    from lm_eval.api.instance import Instance

    lm.batch_size_per_gpu = batch_size
    # until=[]: lm-eval adds its default, the EOS text (<|im_end|>), i.e. the same stop as probity's
    kwargs = {"until": [], "max_gen_toks": max_new_tokens, "do_sample": False}
    requests = [Instance(request_type="generate_until", doc={}, arguments=(p, dict(kwargs)), idx=i)
                for i, p in enumerate(prompts)]
    t0 = time.perf_counter()
    texts = lm.generate_until(requests, disable_tqdm=True)
    return time.perf_counter() - t0, [t.strip() for t in texts]


def run_probity(provider: Any, prompts: list[str], params: GenParams, settings: dict[str, Any]
                ) -> tuple[float, list[str]]:
    for name, value in settings.items():
        setattr(provider, name, value)
    t0 = time.perf_counter()
    responses = provider.generate_prompts(prompts, [params] * len(prompts))
    return time.perf_counter() - t0, [r.text for r in responses]


def diff_report(a: list[str], b: list[str], prompts: list[str], show: int = 3) -> tuple[int, list[str]]:
    idx = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    lines = []
    for i in idx[:show]:
        at = next((k for k, (p, q) in enumerate(zip(a[i], b[i], strict=False)) if p != q), min(len(a[i]), len(b[i])))
        user = prompts[i].split("<|im_start|>user\n")[-1].split("<|im_end|>")[0]
        lines.append(f"    {user[:50]!r}: first difference at char {at}: {a[i][max(0, at - 15):at + 25]!r} "
                     f"vs {b[i][max(0, at - 15):at + 25]!r}")
    return len(idx), lines


def rate(n: int, seconds: float) -> float:
    return n / seconds


def alternate(sides: dict[str, Callable[[], tuple[float, list[str]]]], reps: int, n: int
              ) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Run every side `reps` times, rotating the order each repetition; prompts/s per run."""
    names = list(sides)
    rates: dict[str, list[float]] = {k: [] for k in names}
    texts: dict[str, list[str]] = {}
    for rep in range(reps):
        order = names[rep % len(names):] + names[: rep % len(names)]
        for name in order:
            seconds, out = sides[name]()
            rates[name].append(rate(n, seconds))
            texts[name] = out
            print(f"  rep {rep + 1} {name:<34} {rates[name][-1]:6.2f} prompts/s", flush=True)
    return rates, texts


PROFILES = {"float32": "smollm2", "bfloat16": "smollm2-bf16"}


# -- the physical limit ----------------------------------------------------------------------------
def measure_peak(torch: Any, dtype: str, m: int = 512, k: int = 576, n: int = 1536, reps: int = 5,
                 calls: int = 40) -> float:
    """GFLOPS of an m x k @ k x n matmul (the model's MLP shape, a 512-token prefill pass) at `dtype`,
    on torch's current threads: the best of `reps` timings of `calls` matmuls."""
    dt = getattr(torch, dtype)
    a, b = torch.randn(m, k).to(dt), torch.randn(k, n).to(dt)
    out = torch.empty(m, n, dtype=dt)
    for _ in range(5):
        torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
    return 2 * m * k * n * calls / best / 1e9


@dataclass
class Shape:
    """What a forward pass costs per token: the model's matmul sizes."""

    layer_params: int  # weights of the decoder layers' linear maps (one multiply-add each per token)
    head_params: int  # the LM head (vocab x hidden), paid per row of logits
    attn_width: int  # query heads x head_dim: attention's per-key multiply-adds, for q.k and for p.v
    layers: int

    @classmethod
    def of(cls, model: Any) -> Shape:
        config = model.config
        linear = sum(m.weight.numel() for m in model.model.layers.modules() if type(m).__name__ == "Linear")
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return cls(linear, model.lm_head.weight.numel(), config.num_attention_heads * head_dim,
                   config.num_hidden_layers)

    def flops(self, prompt: int, picked: int) -> float:
        """One answer's useful FLOPs: `prompt` tokens in, `picked` tokens chosen (the end-of-turn one included).

        Every prompt token and every chosen token but the last goes through the layers; a token at
        position i attends to i + 1 keys; each chosen token costs one row of the LM head."""
        tokens = prompt + picked - 1
        attention = 4 * self.attn_width * self.layers * tokens * (tokens + 1) / 2
        return 2 * self.layer_params * tokens + 2 * self.head_params * picked + attention

    def per_token(self, context: float) -> float:
        """FLOPs of one generated token at `context` keys: 2 x parameters, plus attention."""
        return 2 * (self.layer_params + self.head_params) + 4 * self.attn_width * self.layers * context


def workload_flops(shape: Shape, prompt_tokens: list[int], answer_tokens: list[int], stopped: list[bool]) -> float:
    return sum(shape.flops(p, a + int(s)) for p, a, s in zip(prompt_tokens, answer_tokens, stopped, strict=True))


def score_seconds(tasks: list[tuple[str, Any]], texts: list[str], profile: Any) -> float | None:
    """Wall time of the probity scorer on the answers (None: the prompts are not suite items)."""
    if not tasks:
        return None
    from evals.scoring import ScoreContext, score

    ctx = ScoreContext(identity=profile.identity, knowledge_cutoff=profile.knowledge_cutoff)
    t0 = time.perf_counter()
    for (check, item), text in zip(tasks, texts, strict=True):
        score(check, item, text, ctx)
    return time.perf_counter() - t0


@dataclass
class Result:
    dtype: str
    ratio: float
    differ: int
    n: int
    probity: float
    lmeval: float


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=128, help="number of prompts (default 128)")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--reps", type=int, default=3, help="alternating repetitions of the final comparison")
    ap.add_argument("--dtype", default="float32",
                    help="float32, bfloat16, or both comma-separated (measured one after the other, each against "
                         "lm-eval at the same dtype; default float32)")
    ap.add_argument("--batch-sizes", default="16,32,64,128",
                    help="batch sizes to sweep on both sides (one run each); each side's best is then compared")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="probity batch size for the ablation and the comparison (default: the profile's for the "
                         "ablation, the sweep's best for the comparison)")
    ap.add_argument("--ablate", action="store_true", help="also measure each technique against plain generate")
    ap.add_argument("--ablate-only", action="store_true", help="only the ablation (no lm-eval)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads for both sides")
    args = ap.parse_args(argv)
    dtypes = [d.strip() for d in args.dtype.split(",") if d.strip()]
    unknown = [d for d in dtypes if d not in PROFILES]
    if unknown or not dtypes:
        ap.error(f"--dtype: {', '.join(unknown) or 'empty'}: use float32 and/or bfloat16")

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    requests, tasks, source = load_tasks(args.n, args.max_new_tokens)
    results = [measure_dtype(dtype, requests, tasks, source, args) for dtype in dtypes]
    if any(r is None for r in results):
        return 0
    print()
    for r in results:
        if r is not None:
            print(f"SUMMARY {r.dtype}: probity / lm-eval = {r.ratio:.2f}x; outputs that differ: {r.differ} of {r.n}")
    if len(results) == 2 and all(results):
        a, b = results
        assert a is not None and b is not None
        print(f"SUMMARY {b.dtype} / {a.dtype} (medians, measured one after the other): probity "
              f"{b.probity / a.probity:.2f}x, lm-eval {b.lmeval / a.lmeval:.2f}x")
    return 0


def measure_dtype(dtype: str, requests: list[Request], tasks: list[tuple[str, Any]], source: str,
                  args: argparse.Namespace) -> Result | None:
    import torch

    from evals.profiles import load_profile
    from providers.transformers import TransformersProvider

    print(f"\n===== {dtype} =====")
    profile = load_profile(PROFILES[dtype])
    if args.threads:
        profile = profile.model_copy(update={"threads": args.threads})
    provider = TransformersProvider(profile)
    if args.batch_size:
        provider.batch_size = args.batch_size
    prompts = [provider.render(r) for r in requests]
    params = GenParams(max_new_tokens=args.max_new_tokens)
    langs = sorted({"zh" if any("\u4e00" <= c <= "\u9fff" for c in p) else "en" for p in prompts})
    lengths = [len(provider.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    print(f"{len(prompts)} prompts from {source}; languages {langs}; prompt tokens "
          f"{min(lengths)}-{max(lengths)} (mean {statistics.mean(lengths):.1f}); max_new_tokens {args.max_new_tokens}; "
          f"profile {profile.name} (dtype {provider.dtype}); torch threads {torch.get_num_threads()}; "
          f"cpus {os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
    fast = {"decoder": "slots", "share_prefix": True, "refill": True, "prefill_tokens": 512}

    if args.ablate or args.ablate_only:
        ablate(provider, prompts, params, args.reps, fast)
    if args.ablate_only:
        return None

    lm = make_lmeval(provider.folder, provider.gguf_file, 32, dtype)
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    print(f"\nbatch-size sweep ({args.batch_sizes}), one run each side per size, alternating:")
    sweep: dict[str, dict[int, float]] = {"probity": {}, "lm-eval": {}}
    sweep_texts: dict[str, dict[int, list[str]]] = {"probity": {}, "lm-eval": {}}
    for bs in sizes:
        provider.batch_size = bs
        sides = {f"probity batch_size={bs}": lambda: run_probity(provider, prompts, params, fast),
                 f"lm-eval batch_size={bs}": lambda bs=bs: run_lmeval(lm, prompts, bs, args.max_new_tokens)}
        rates, out = alternate(sides, 1, len(prompts))
        sweep["probity"][bs], sweep["lm-eval"][bs] = (r[0] for r in rates.values())
        sweep_texts["probity"][bs], sweep_texts["lm-eval"][bs] = (out[name] for name in sides)
    for side, by_size in sweep_texts.items():
        # does a side's answer depend on its own batch size? (float32: it must not; bfloat16 sums differ with padding)
        first = sizes[0]
        counts = [f"{bs}: {diff_report(by_size[first], by_size[bs], prompts)[0]}" for bs in sizes[1:]]
        print(f"  {side} outputs that differ from its own at batch_size={first}: {', '.join(counts) or '-'}")
    best_l = max(sizes, key=lambda b: sweep["lm-eval"][b])
    best_p = args.batch_size or max(sizes, key=lambda b: sweep["probity"][b])
    provider.batch_size = best_p
    print(f"\nprobity (batch_size={best_p}) vs lm-eval at its best batch_size={best_l}, alternating, "
          f"{args.reps} repetitions:")
    provider.slots.timings = {}
    responses: list[Any] = []

    def probity_side() -> tuple[float, list[str]]:
        for name, value in fast.items():
            setattr(provider, name, value)
        t0 = time.perf_counter()
        responses[:] = provider.generate_prompts(prompts, [params] * len(prompts))
        return time.perf_counter() - t0, [r.text for r in responses]

    sides = {
        f"probity batch_size={best_p}": probity_side,
        f"lm-eval batch_size={best_l}": lambda: run_lmeval(lm, prompts, best_l, args.max_new_tokens),
    }
    rates, texts = alternate(sides, args.reps, len(prompts))
    phases = provider.slots.timings
    provider.slots.timings = None
    p_name, l_name = list(sides)
    ratios = [p / q for p, q in zip(rates[p_name], rates[l_name], strict=True)]
    differ, lines = diff_report(texts[l_name], texts[p_name], prompts)
    p_med, l_med = statistics.median(rates[p_name]), statistics.median(rates[l_name])
    print(f"\nRESULT {dtype}: probity {p_med:.2f} prompts/s, lm-eval {l_med:.2f} prompts/s (medians); "
          f"ratio {p_med / l_med:.2f}x (per repetition: {', '.join(f'{r:.2f}' for r in ratios)}); "
          f"outputs that differ: {differ} of {len(prompts)}")
    print("\n".join(lines))

    # the physical limit: useful FLOPs of the workload against the matmul rate at the model's shapes
    peak = measure_peak(torch, dtype)
    shape = Shape.of(provider.model)
    stopped = [r.finish_reason == "stop" for r in responses]
    work_p = workload_flops(shape, lengths, [r.completion_tokens for r in responses], stopped)
    l_tokens = [len(provider.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts[l_name]]
    l_stopped = [n < args.max_new_tokens for n in l_tokens]
    work_l = workload_flops(shape, lengths, l_tokens, l_stopped)
    context = statistics.mean(lengths) + statistics.mean(r.completion_tokens for r in responses) / 2
    n = len(prompts)
    print(f"peak {dtype} matmul (512x576 @ 576x1536, {torch.get_num_threads()} threads): {peak:.1f} GFLOPS; "
          f"model FLOPs per generated token at {context:.0f} keys: {shape.per_token(context) / 1e6:.0f} M "
          f"(2 x {(shape.layer_params + shape.head_params) / 1e6:.1f} M matmul parameters + attention)")
    for name, work, r in (("probity", work_p, p_med), ("lm-eval", work_l, l_med)):
        achieved = work / (n / r) / 1e9
        print(f"  {name}: workload {work / 1e12:.3f} TFLOP, achieved {achieved:.1f} GFLOPS = "
              f"{achieved / peak:.0%} of peak")

    # where probity's time goes: the slot decoder's phases over the comparison runs, then scoring
    wall = sum(n / r for r in rates[p_name])
    scoring = score_seconds(tasks, texts[p_name], provider.profile)
    per_run = {k: v / args.reps for k, v in phases.items()}
    per_run["other (tokenise, detokenise, responses)"] = wall / args.reps - sum(per_run.values())
    if scoring is not None:
        per_run["scoring (probity scorer on the answers)"] = scoring
    total = sum(per_run.values())
    print("probity time per run: " + "; ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in per_run.items()))

    if differ:
        # is it padding noise? plain `generate` in lm-eval's batches vs in probity's batches
        provider.batch_size = best_l
        _, ref_l = run_probity(provider, prompts, params, {"decoder": "generate"})
        provider.batch_size = best_p
        _, ref_p = run_probity(provider, prompts, params, {"decoder": "generate"})
        print(f"  plain generate, batch_size={best_l} vs lm-eval: {diff_report(ref_l, texts[l_name], prompts)[0]} "
              f"differ; batch_size={best_p} vs probity: {diff_report(ref_p, texts[p_name], prompts)[0]} differ; "
              f"generate at {best_l} vs at {best_p}: {diff_report(ref_l, ref_p, prompts)[0]} differ")
        provider.decoder = "slots"
    return Result(dtype, p_med / l_med, differ, n, p_med, l_med)


def ablate(provider: Any, prompts: list[str], params: GenParams, reps: int, fast: dict[str, Any]) -> None:
    """Each technique added one at a time, alternating with the reference `model.generate` path."""
    base = {"decoder": "slots", "share_prefix": False, "refill": False, "prefill_tokens": 10**9}
    variants: dict[str, dict[str, Any]] = {
        "generate (reference)": {"decoder": "generate"},
        "slots, packed prefill, static batches": base,
        "+ prefill 512 tokens at a time": base | {"prefill_tokens": 512},
        "+ shared prompt prefix": base | {"prefill_tokens": 512, "share_prefix": True},
        "+ refill freed slots": fast,
    }
    bs = provider.batch_size
    print(f"\nablation at batch_size={bs}, alternating, {reps} repetitions:")
    sides = {name: (lambda s=s: run_probity(provider, prompts, params, s)) for name, s in variants.items()}
    rates, texts = alternate(sides, reps, len(prompts))
    ref = statistics.median(rates["generate (reference)"])
    print(f"\n  {'variant':<34} {'prompts/s':>9} {'vs generate':>11} {'outputs differ':>15}")
    for name in variants:
        med = statistics.median(rates[name])
        differ = diff_report(texts["generate (reference)"], texts[name], prompts)[0]
        print(f"  {name:<34} {med:9.2f} {med / ref:10.2f}x {differ:>15}")
    provider.decoder = "slots"


if __name__ == "__main__":
    raise SystemExit(main())
