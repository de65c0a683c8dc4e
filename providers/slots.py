"""Continuous batching for a transformers causal LM: a slot KV cache, packed prefill, refilled slots.

`SlotDecoder.run` answers any number of tokenised prompts through up to `batch_size` cache slots
(`SlotDecoder.stream` is the same run handing back each row as it finishes):

* **slots**: every layer's keys and values live in one preallocated buffer
  `[slots, kv_heads, capacity, head_dim]`; a row owns a slot and its tokens sit at columns
  0, 1, 2, ... (column = position, as `generate` computes positions from a left-padded mask). A
  decode step writes one column per row in place: no `torch.cat` of the whole cache per step.
* **packed prefill**: the prompts joining the batch go through the model as one sequence with no
  padding (the linear layers, nearly all the work, see only real tokens); only attention is done
  per row, from a padded view of the queries. Passes hold a few hundred tokens, so activations
  stay in the CPU cache.
* **a cache budget**: slots x capacity stays within `kv_tokens` positions, so long prompts (a tool
  list) get fewer slots; the buffers are allocated once per process and reused.
* **shared prefix**: a prefix that several new rows share (the chat template's system turn, a
  suite's system prompt, a tool list) is computed once and copied to their slots.
* **finished rows leave, waiting prompts join**: a row that ends (end-of-turn token, a stop string,
  `max_new_tokens`) frees its slot at once (the last slot moves into the hole, so live rows stay in
  slots 0..n-1 and attention reads one view); once a quarter of the slots are free, waiting
  prompts are prefilled into them, so the batch stays near its efficient size through the tail.

* **confidence for free**: at each step the logits the next token is picked from also give that token's
  log-probability (a log-sum-exp over the vocabulary) and, for a row's first tokens, the distribution's
  entropy (`step_stats`); `steps` hands each finished row its `TokenStats`. Picking is unchanged.

Attention is torch's `scaled_dot_product_attention` over this cache's keys (grouped-query heads
read in place, `enable_gqa`; a bfloat16/float16 decode step instead packs each key/value head's query
heads as its queries, as transformers does, 4-5x faster there) with an explicit mask, so each row sees
exactly the keys, at the same positions, it would see in a left-padded `generate` batch. In float32,
greedy answers match `generate`'s (tests check it on the real model; `bench/throughput.py` counts any
output that differs from lm-evaluation-harness); in bfloat16 the rounding of attention's sums depends
on where padding puts a row's keys, in `generate` as here (bench/README.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from evals.types import ENTROPY_TOKENS, GenParams

ATTENTION = "probity_slots"


def shared_prefixes(ids: Sequence[Sequence[int]], min_shared: int) -> list[int]:
    """For each row, the length of a prefix it shares with other rows of the batch (0: none).

    Rows are sorted by their tokens, so rows with a common prefix (the same system turn) are
    neighbours; a run of neighbours sharing at least `min_shared` tokens forms a group, and each
    row of the group gets the group's common prefix, leaving every row at least one token of its own.
    """
    lengths = [0] * len(ids)
    if not ids:
        return lengths
    order = sorted(range(len(ids)), key=lambda i: list(ids[i]))
    group = [order[0]]
    common = len(ids[order[0]]) - 1

    def close() -> None:
        if len(group) > 1:
            for i in group:
                lengths[i] = common

    for i in order[1:]:
        prev, row = ids[group[-1]], ids[i]
        lcp = 0
        limit = min(common, len(row) - 1)
        while lcp < limit and prev[lcp] == row[lcp]:
            lcp += 1
        if lcp >= min_shared:
            group.append(i)
            common = lcp
        else:
            close()
            group, common = [i], len(row) - 1
    close()
    return lengths


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    cuts = [text.find(s) for s in stop if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)


def compaction(done: Sequence[bool]) -> list[int]:
    """Which old slot each live row moves to: live rows fill slots 0..n-1, the last ones filling holes."""
    live = len(done) - sum(done)
    order = list(range(live))
    holes = [j for j in range(live) if done[j]]
    movers = [j for j in range(live, len(done)) if not done[j]]
    for hole, src in zip(holes, movers, strict=True):
        order[hole] = src
    return order


@dataclass
class Plan:
    """Where one forward pass writes its keys/values, and what attention reads."""

    slots: Any  # [tokens] slot of each input token, in input order
    columns: Any  # [tokens] its column (= its position)
    first: int  # rows of this pass are slots first..first+rows-1
    rows: int
    width: int  # columns attention reads
    mask: Any  # [rows, 1, queries, width] bool
    packed: tuple[Any, Any] | None = None  # (row, index in row) of each token of a packed prefill
    queries: int = 1


class SlotCache:
    """Per-layer key/value buffers of `slots` rows; `update` is what the model's attention layers call.

    One flat buffer per layer, kept across `SlotDecoder.run` calls and only ever grown (a fresh
    multi-hundred-MiB buffer costs about a second of page faults on this CPU, every time), viewed as
    [slots, kv_heads, capacity, head_dim] for each run: many slots for short prompts, fewer for long ones.
    """

    def __init__(self, torch: Any, layers: int, heads: int, head_dim: int, dtype: Any, device: Any) -> None:
        self.torch = torch
        self.layers, self.heads, self.head_dim, self.dtype, self.device = layers, heads, head_dim, dtype, device
        self._flat: list[tuple[Any, Any]] = []
        self.keys: list[Any] = []
        self.values: list[Any] = []
        self.plan: Plan | None = None

    def reserve(self, slots: int, capacity: int) -> None:
        """Lay the buffers out as [slots, heads, capacity, head_dim], growing them only if they are too small."""
        need = slots * self.heads * capacity * self.head_dim
        if not self._flat or self._flat[0][0].numel() < need:
            self._flat = []  # let the old buffers go first
            # zeros, not empty: attention multiplies masked columns too, and stale NaN bits would leak through
            self._flat = [(self.torch.zeros(need, dtype=self.dtype, device=self.device),
                           self.torch.zeros(need, dtype=self.dtype, device=self.device)) for _ in range(self.layers)]
        shape = (slots, self.heads, capacity, self.head_dim)
        # columns a row has not written hold finite leftovers of earlier rows, always masked out
        self.keys = [k[:need].view(shape) for k, _ in self._flat]
        self.values = [v[:need].view(shape) for _, v in self._flat]

    def update(self, key: Any, value: Any, layer: int, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        plan = self.plan
        assert plan is not None, "SlotCache used outside SlotDecoder"
        heads, dim = key.shape[1], key.shape[3]
        k, v = self.keys[layer], self.values[layer]
        # [batch, heads, q, dim] -> one [heads, dim] per input token, in input order
        k[plan.slots, :, plan.columns] = key.transpose(1, 2).reshape(-1, heads, dim)
        v[plan.slots, :, plan.columns] = value.transpose(1, 2).reshape(-1, heads, dim)
        rows = slice(plan.first, plan.first + plan.rows)
        return k[rows, :, : plan.width], v[rows, :, : plan.width]

    def copy(self, src: int, dst: Sequence[int], columns: int) -> None:
        rows = list(dst)
        for k, v in zip(self.keys, self.values, strict=True):
            k[rows, :, :columns] = k[src, :, :columns]
            v[rows, :, :columns] = v[src, :, :columns]

    def move(self, order: Sequence[int]) -> None:
        """Slot j takes the row in slot order[j] (see `compaction`)."""
        pairs = [(dst, src) for dst, src in enumerate(order) if dst != src]
        if not pairs:
            return
        dst = self.torch.tensor([d for d, _ in pairs], device=self.device)
        src = self.torch.tensor([s for _, s in pairs], device=self.device)
        for k, v in zip(self.keys, self.values, strict=True):
            k[dst] = k[src]
            v[dst] = v[src]


def slot_attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, slot_plan: Plan | None = None,
                   scaling: float | None = None, **kwargs: Any) -> tuple[Any, None]:
    """Scaled dot-product attention over the slots; for a packed prefill, on the queries laid out one row per slot."""
    import torch

    if slot_plan is None or slot_plan.packed is None:
        groups = query.shape[1] // key.shape[1]
        if query.shape[2] == 1 and groups > 1 and query.dtype != torch.float32:
            # decode in bfloat16/float16: a key/value head's query heads as that head's queries (transformers'
            # `pack_gqa`, so the same arithmetic as `generate`); torch's CPU kernel with `enable_gqa` re-reads
            # and re-converts each key block once per query head, 4-5x slower at this shape. float32 keeps
            # `enable_gqa` (its outputs are the committed baseline's, bit for bit).
            rows, heads, _, dim = query.shape
            out = torch.nn.functional.scaled_dot_product_attention(
                query.reshape(rows, heads // groups, groups, dim), key, value, attn_mask=attention_mask, scale=scaling)
            return out.reshape(rows, heads, 1, dim).transpose(1, 2).contiguous(), None
        out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask,
                                                               scale=scaling, enable_gqa=True)
        return out.transpose(1, 2).contiguous(), None
    row, pos = slot_plan.packed
    padded = query.new_zeros((slot_plan.rows, query.shape[1], slot_plan.queries, query.shape[3]))
    padded[row, :, pos] = query[0].transpose(0, 1)
    out = torch.nn.functional.scaled_dot_product_attention(padded, key, value, attn_mask=attention_mask,
                                                           scale=scaling, enable_gqa=True)
    return out[row, :, pos].unsqueeze(0), None


_registered = False


def register_attention() -> None:
    global _registered
    if not _registered:
        from transformers import AttentionInterface

        AttentionInterface.register(ATTENTION, slot_attention)
        _registered = True


@dataclass
class TokenStats:
    """What the model's own next-token distributions (temperature 1) said about one answer's tokens."""

    logprobs: list[float] = field(default_factory=list)  # log p of each answer token (end-of-turn excluded)
    entropies: list[float] = field(default_factory=list)  # nats, of the first ENTROPY_TOKENS decoding steps

    def take(self, logprob: float, entropy: float | None) -> None:
        self.logprobs.append(logprob)
        if entropy is not None:
            self.entropies.append(entropy)


def step_stats(torch: Any, logits: Any, picked: Any, need_entropy: Any) -> tuple[list[float], list[float | None]]:
    """Per row: log p of the picked token, and the entropy (nats) of the rows where `need_entropy` holds.

    `logits` [rows, vocab] float32 as the model gave them (before temperature and top-p)."""
    norm = torch.logsumexp(logits, dim=-1)
    chosen = (logits.gather(1, picked[:, None]).squeeze(1) - norm).tolist()
    entropy: list[float | None] = [None] * len(chosen)
    rows = [j for j, need in enumerate(need_entropy) if need]
    if rows:
        index = torch.tensor(rows, device=logits.device)
        logp = logits[index] - norm[index, None]
        values = (-(logp.exp() * logp).sum(dim=-1)).tolist()
        for j, h in zip(rows, values, strict=True):
            entropy[j] = h
    return chosen, entropy


@dataclass
class _Row:
    index: int  # in the caller's list
    ids: list[int]
    tokens: list[int] = field(default_factory=list)
    finish: str = "length"
    length: int = 0  # tokens whose keys/values are in its slot
    stats: TokenStats = field(default_factory=TokenStats)


@dataclass
class SlotSettings:
    """How one `SlotDecoder.run` batches (the adapter owns these; see `TransformersProvider`)."""

    batch_size: int  # slots at most
    kv_tokens: int  # slots x capacity stays within this many positions
    share_prefix: bool  # prefill a prefix several new rows share once
    min_shared: int  # ... if it is at least this many tokens
    refill: bool  # refill freed slots with waiting prompts (False: static batches)
    prefill_tokens: int  # prompt tokens per prefill pass


class SlotDecoder:
    """Greedy or sampled decoding of many prompts through cache slots, refilled as rows finish."""

    def __init__(self, torch: Any, model: Any, eos_ids: set[int], decode: Callable[[list[int]], str]) -> None:
        self.torch = torch
        self.model = model
        self.eos_ids = eos_ids
        self.decode = decode
        self.device = next(model.parameters()).device
        config = model.config
        heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.cache = SlotCache(torch, config.num_hidden_layers, heads, head_dim, next(model.parameters()).dtype,
                               self.device)
        register_attention()
        self._runs = 0  # runs started: a suspended run that is no longer the latest cannot resume
        #: seconds per phase, added up across runs while this is a dict (None, the default: not timed):
        #: "prefill" and "decode" (the forward passes), "pick" (next tokens, their confidence, rows leaving)
        self.timings: dict[str, float] | None = None

    def _clock(self, phase: str, since: float) -> float:
        """Add the time since `since` to `phase` (only called when `timings` is on); returns now."""
        now = perf_counter()
        assert self.timings is not None
        self.timings[phase] = self.timings.get(phase, 0.0) + now - since
        return now

    def run(self, prompts: Sequence[list[int]], params: GenParams, seeds: Sequence[int | None],
            settings: SlotSettings) -> list[tuple[list[int], str]]:
        """(generated tokens, finish reason) per prompt; prompts are admitted in the order given."""
        out: list[tuple[list[int], str]] = [([], "length")] * len(prompts)
        for index, tokens, finish in self.stream(prompts, params, seeds, settings):
            out[index] = (tokens, finish)
        return out

    def stream(self, prompts: Sequence[list[int]], params: GenParams, seeds: Sequence[int | None],
               settings: SlotSettings) -> Iterator[tuple[int, list[int], str]]:
        """(prompt index, generated tokens, finish reason) as each row finishes, each index once."""
        for finished in self.steps(prompts, params, seeds, settings):
            for index, tokens, finish, _ in finished:
                yield index, tokens, finish

    def steps(self, prompts: Sequence[list[int]], params: GenParams, seeds: Sequence[int | None],
              settings: SlotSettings) -> Iterator[list[tuple[int, list[int], str, TokenStats]]]:
        """The rows that finished at one decode step, for each step where some did (`stream`, grouped,
        with each row's `TokenStats`: the log-probability of every token it took, from the logits at hand).

        Between yields the model is back to its own attention and outside inference mode, so the
        caller may use it (or close this iterator: nothing is left to undo). The cache buffers are
        shared: starting another run on this decoder ends this one (resuming it raises RuntimeError).
        """
        if not prompts:
            return
        torch = self.torch
        self._runs += 1
        run = self._runs
        capacity = max(len(p) for p in prompts) + params.max_new_tokens
        # long prompts (a tool list) get fewer slots: the cache holds at most `kv_tokens` positions
        slots = max(1, min(settings.batch_size, len(prompts), settings.kv_tokens // capacity))
        cache = self.cache
        cache.reserve(slots, capacity)
        sampler = _Sampler(torch, params, list(seeds), self.device) if params.temperature > 0 else None
        stop = [s for s in params.stop if s]
        # a stop string that ends in the newest token lies within its last len(bytes) tokens
        tail = max((len(s.encode()) for s in stop), default=0) + 1
        pending = deque(_Row(i, list(p)) for i, p in enumerate(prompts))
        active: list[_Row] = []
        logits = None  # next-token logits of the active rows, slot order
        chosen = None  # the tokens the active rows take next, fed at the next step
        threshold = max(1, slots // 4) if settings.refill else slots
        while pending or active:
            finished: list[_Row] = []
            with self._decoding():
                while (pending or active) and not finished:
                    timed = self.timings is not None
                    t0 = perf_counter() if timed else 0.0
                    if chosen is not None:
                        logits = self._step(cache, active, chosen)
                        chosen = None
                        t0 = self._clock("decode", t0) if timed else t0
                    free = slots - len(active)
                    if pending and (not active or free >= threshold):
                        new = [pending.popleft() for _ in range(min(free, len(pending)))]
                        fresh = self._prefill(cache, new, len(active), settings)
                        active += new
                        logits = fresh if logits is None else torch.cat([logits, fresh])
                        t0 = self._clock("prefill", t0) if timed else t0
                    last = logits.to(dtype=torch.float32)
                    picked = sampler.pick(last, [r.index for r in active]) if sampler else torch.argmax(last, dim=-1)
                    logprobs, entropies = step_stats(torch, last, picked,
                                                     [len(r.stats.entropies) < ENTROPY_TOKENS for r in active])
                    done = [self._advance(r, tok, params.max_new_tokens, stop, tail, lp, h)
                            for r, tok, lp, h in zip(active, picked.tolist(), logprobs, entropies, strict=True)]
                    finished = [row for row, d in zip(active, done, strict=True) if d]
                    if finished:
                        order = compaction(done)
                        cache.move(order)
                        active = [active[j] for j in order]
                        picked = picked[torch.tensor(order, dtype=torch.long, device=self.device)]
                    chosen = picked if active else None
                    logits = None
                    if timed:
                        self._clock("pick", t0)
            yield [(row.index, row.tokens, row.finish, row.stats) for row in finished]
            if self._runs != run:
                raise RuntimeError("SlotDecoder: another run started while this one was suspended")

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        """The slot attention and inference mode, for a stretch of decoding; both undone on the way out."""
        config = self.model.config
        saved = config._attn_implementation
        config._attn_implementation = ATTENTION
        try:
            with self.torch.inference_mode():
                yield
        finally:
            config._attn_implementation = saved

    def _advance(self, row: _Row, token: int, max_new: int, stop: list[str], tail: int, logprob: float,
                 entropy: float | None) -> bool:
        """Take the row's next token (with its log-probability, and the step's entropy while it is
        wanted); True when the row is finished."""
        if token in self.eos_ids:
            if entropy is not None:
                row.stats.entropies.append(entropy)
            row.finish = "stop"
            return True
        row.tokens.append(token)
        row.stats.take(logprob, entropy)
        if stop and cut_at_stop(self.decode(row.tokens[-tail:]), stop)[1]:
            row.finish = "stop"
            return True
        return len(row.tokens) >= max_new

    def _forward(self, cache: SlotCache, plan: Plan, input_ids: Any, positions: Any, **kwargs: Any) -> Any:
        cache.plan = plan
        return self.model(input_ids=input_ids, position_ids=positions, attention_mask=plan.mask,
                          past_key_values=cache, use_cache=True, **kwargs).logits

    def _step(self, cache: SlotCache, active: list[_Row], chosen: Any) -> Any:
        """Feed each live row its chosen token; next-token logits [rows, vocab]."""
        torch = self.torch
        lengths = torch.tensor([r.length for r in active], device=self.device)
        width = int(lengths.max()) + 1
        mask = (torch.arange(width, device=self.device)[None, :] <= lengths[:, None])[:, None, None, :]
        plan = Plan(slots=torch.arange(len(active), device=self.device), columns=lengths, first=0,
                    rows=len(active), width=width, mask=mask)
        logits = self._forward(cache, plan, chosen[:, None], lengths[:, None])
        for r in active:
            r.length += 1
        return logits[:, -1, :]

    def _prefill(self, cache: SlotCache, new: list[_Row], first: int, settings: SlotSettings) -> Any:
        """Prompts of `new` into slots first..; next-token logits [len(new), vocab]."""
        torch = self.torch
        dev = self.device
        ids = [r.ids for r in new]
        share = settings.share_prefix and len(new) > 1
        shared = shared_prefixes(ids, settings.min_shared) if share else [0] * len(new)
        groups: dict[tuple[int, ...], list[int]] = {}
        for j, k in enumerate(shared):
            if k:
                groups.setdefault(tuple(ids[j][:k]), []).append(first + j)
        for prefix, rows in groups.items():
            p = len(prefix)
            cols = torch.arange(p, device=dev)
            mask = (cols[None, :] <= cols[:, None])[None, None]
            plan = Plan(slots=torch.full((p,), rows[0], device=dev), columns=cols, first=rows[0], rows=1, width=p,
                        mask=mask)
            self._forward(cache, plan, torch.tensor([prefix], device=dev), cols[None], logits_to_keep=1)
            cache.copy(rows[0], rows[1:], p)
        for r in new:
            r.length = len(r.ids)
        # the rest of each prompt, packed a few hundred tokens at a time (activations stay in the CPU cache)
        out, start, size = [], 0, 0
        for j, row in enumerate(new):
            size += len(row.ids) - shared[j]
            if size >= settings.prefill_tokens or j == len(new) - 1:
                out.append(self._prefill_packed(cache, ids[start:j + 1], shared[start:j + 1], first + start))
                start, size = j + 1, 0
        return torch.cat(out) if len(out) > 1 else out[0]

    def _prefill_packed(self, cache: SlotCache, ids: list[list[int]], shared: list[int], first: int) -> Any:
        """Rows `ids` (the first `shared[j]` tokens of row j already in its slot) into slots first..; logits."""
        torch = self.torch
        dev = self.device
        rest = [x[k:] for x, k in zip(ids, shared, strict=True)]
        row_of = torch.tensor([j for j, x in enumerate(rest) for _ in x], device=dev)
        in_row = torch.tensor([i for x in rest for i in range(len(x))], device=dev)
        columns = torch.tensor([k + i for k, x in zip(shared, rest, strict=True) for i in range(len(x))], device=dev)
        queries = max(len(x) for x in rest)
        width = max(len(x) for x in ids)
        # query i of row j (at column shared[j] + i) sees columns 0..shared[j] + i; padding queries see column 0 on
        qcol = torch.tensor(shared, device=dev)[:, None] + torch.arange(queries, device=dev)[None, :]
        mask = (torch.arange(width, device=dev)[None, None, :] <= qcol[:, :, None])[:, None]
        plan = Plan(slots=row_of + first, columns=columns, first=first, rows=len(ids), width=width, mask=mask,
                    packed=(row_of, in_row), queries=queries)
        ends = torch.tensor([len(x) for x in rest], device=dev).cumsum(0) - 1
        tokens = torch.tensor([[t for x in rest for t in x]], device=dev)
        return self._forward(cache, plan, tokens, columns[None], logits_to_keep=ends, slot_plan=plan)[0]


class _Sampler:
    """Temperature + top-p sampling with one generator per row, seeded from the request's seed."""

    def __init__(self, torch: Any, params: GenParams, seeds: list[int | None], device: Any) -> None:
        self.torch = torch
        self.temperature = params.temperature
        self.top_p = params.top_p
        self.generators = []
        for seed in seeds:
            g = torch.Generator(device=device)
            if seed is None:
                g.seed()
            else:
                g.manual_seed(seed)
            self.generators.append(g)

    def pick(self, logits: Any, rows: list[int]) -> Any:
        torch = self.torch
        scores = logits / self.temperature
        if self.top_p < 1.0:
            # as transformers' TopPLogitsWarper: drop the low tail whose mass is at most 1 - top_p
            sorted_scores, order = torch.sort(scores, descending=False, dim=-1)
            cumulative = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
            remove = cumulative <= (1 - self.top_p)
            remove[..., -1:] = False
            scores = scores.masked_fill(remove.scatter(1, order, remove), float("-inf"))
        probs = scores.softmax(dim=-1)
        return torch.cat([torch.multinomial(probs[j], 1, generator=self.generators[r])
                          for j, r in enumerate(rows)])
