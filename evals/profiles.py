"""Provider profiles: a named YAML file that says which adapter, which model, and who the model is."""

from __future__ import annotations

import difflib
import ipaddress
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from evals.errors import UserError
from evals.loader import validate_model
from evals.types import GenParams


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    names: list[str] = Field(default_factory=list)  # names the model may truthfully claim
    makers: list[str] = Field(default_factory=list)  # organisations that may truthfully be named as its maker


class Endpoint(BaseModel):
    """One replica in a profile's `endpoints:` list. A setting left out is the profile's; `headers` are
    added to the profile's (an endpoint's value wins for a header both name)."""

    model_config = ConfigDict(extra="forbid")
    base_url: str
    concurrency: int | None = Field(default=None, gt=0)
    api_key_env: str | None = None
    headers: dict[str, str] | None = None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value


#: the default of `failover_s` (a profile that leaves it out dumps, and so digests, as before it existed)
FAILOVER_S = 1.0


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    adapter: Literal["transformers", "openai", "scripted"]
    model: str  # transformers: folder, .gguf path or package://pkg/file.gguf; openai: the model id
    params: GenParams = Field(default_factory=GenParams)  # defaults; a suite's max_new_tokens wins
    identity: Identity = Field(default_factory=Identity)
    knowledge_cutoff: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    tool_protocol: Literal["native", "text"] = "text"
    # transformers
    batch_size: int = Field(default=16, gt=0)
    # key/value cache budget in token positions (all layers; ~46 KB each for SmolLM2-135M in float32):
    # long prompts get fewer than batch_size slots so the cache stays within it
    kv_cache_tokens: int = Field(default=32768, gt=0)
    device: str = "auto"  # auto, cpu, cuda, cuda:N or mps
    # the weights' precision: a model version of its own (part of the model identity and the cache key);
    # bfloat16/float16 only where the CPU or GPU computes them natively (else one line, not a slow emulation)
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    threads: int | None = Field(default=None, gt=0)  # torch CPU threads; None: torch's default
    # scripted (tests only): seconds to wait per generate() call
    delay_s: float = Field(default=0.0, ge=0)
    # openai-compatible endpoints
    # one URL; a YAML list of URLs is shorthand for `endpoints` (each entry with the profile's settings)
    base_url: str | list[str] | None = None
    # several replicas of one model: requests go to the one with the fewest in flight; one that fails is
    # taken out for a while (failover_s, doubling to 30 s) and the others carry on. Exclusive with base_url.
    endpoints: list[Endpoint] | None = None
    failover_s: float = Field(default=FAILOVER_S, gt=0)
    api_key_env: str | None = None  # name of the environment variable holding the key
    # sent with every request. Values count as secrets: scrubbed from every answer and error, "[redacted]" in a
    # manifest, a digest in identity() (none for a header whose name looks like a credential: auth, key, token)
    headers: dict[str, str] = Field(default_factory=dict)
    concurrency: int = Field(default=8, gt=0)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)
    # the body field that carries the token limit: reasoning models (OpenAI o-series, GPT-5) reject
    # `max_tokens` and want `max_completion_tokens`, which also counts their hidden reasoning tokens
    token_limit_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    # false: temperature, top_p and seed are not sent (reasoning models accept only their defaults)
    send_sampling_params: bool = True
    # tokens added to the token limit for a model that thinks before it answers: the limit is then
    # max_new_tokens + reasoning_token_budget (reasoning models count hidden reasoning in the limit)
    reasoning_token_budget: int = Field(default=0, ge=0)
    # sent as `reasoning_effort` when set (OpenAI: minimal, low, medium, high; newer models: none, xhigh)
    reasoning_effort: str | None = Field(default=None, pattern=r"^[a-z]+$")
    # a 200 body larger than this is not read further: the answer is cut and flagged `truncated`
    max_response_bytes: int = Field(default=4_000_000, gt=0)
    # ask for token log-probabilities (`logprobs: true` and `top_logprobs`) and record the answer's confidence
    # from them; off by default: many servers reject or ignore it (llama.cpp's server supports it)
    logprobs: bool = False
    top_logprobs: int = Field(default=5, ge=0, le=20)  # alternatives per token, for the first tokens' entropy

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not _DEVICE.fullmatch(value):
            raise ValueError(f"{value!r} is not a device: use auto, cpu, cuda, cuda:N (N = 0, 1, ...) or mps")
        return value

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            problem = url_problem(value)
            if problem:
                raise ValueError(problem)
            return value
        if not isinstance(value, list):
            raise ValueError("must be a URL or a list of URLs")
        if not value:
            raise ValueError("an empty list: give a URL or a list of URLs")
        for i, url in enumerate(value):
            if not isinstance(url, str):
                raise ValueError(f"entry {i + 1} is not a URL")
            problem = url_problem(url)
            if problem:
                raise ValueError(f"entry {i + 1} ({_redacted(url)!r}): {problem}")
        _no_repeats(value)
        return value[0] if len(value) == 1 else value

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: list[Endpoint] | None, info: ValidationInfo) -> list[Endpoint] | None:
        if value is None:
            return None
        if info.data.get("base_url") is not None:
            raise ValueError("give base_url or endpoints, not both")
        if not value:
            raise ValueError("an empty list: list at least one endpoint (or give base_url)")
        _no_repeats([e.base_url for e in value])
        return value

    @model_validator(mode="after")
    def _url_list(self) -> Profile:
        """`base_url: [a, b]` is `endpoints: [{base_url: a}, {base_url: b}]`: after validation base_url
        is one URL or None."""
        if isinstance(self.base_url, list):
            self.endpoints = [Endpoint(base_url=url) for url in self.base_url]
            self.base_url = None
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        # the endpoint settings and the default dtype are left out while unused: an existing profile dumps (and digests, see
        # evals/secrets.profile_digest) exactly as before they existed, so its runs can still be resumed
        data = handler(self)
        if isinstance(data, dict):
            if data.get("endpoints") is None:
                data.pop("endpoints", None)
            if data.get("failover_s") == FAILOVER_S:
                data.pop("failover_s", None)
            if data.get("dtype") == "float32":
                data.pop("dtype", None)
            if data.get("logprobs") is False and data.get("top_logprobs") == 5:
                data.pop("logprobs", None)
                data.pop("top_logprobs", None)
        return data


_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def _redacted(url: str) -> str:
    from evals.secrets import redact_url  # evals.secrets imports this module

    return redact_url(url)


def _no_repeats(urls: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, url in enumerate(urls):
        key = _redacted(url).rstrip("/")  # the same address with other credentials is the same endpoint
        if key in seen:
            raise ValueError(f"entry {i + 1} repeats entry {seen[key] + 1} ({_redacted(url)!r}); "
                             "give each endpoint once (concurrency sets its share)")
        seen[key] = i


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint's base URL, or None. Never raises: a port out of range, a
    malformed IPv6 address or an empty host is a reason, as is anything but http:// or https://."""
    if not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "contains whitespace or a control character"
    netloc = re.split(r"[/?#]", url.split("://", 1)[1], maxsplit=1)[0]
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        end = host.find("]")
        if end == -1:
            return "malformed IPv6 address (no closing ])"
        try:
            ipaddress.IPv6Address(host[1:end].split("%", 1)[0])
        except ValueError:
            return f"malformed IPv6 address {host[:end + 1]!r}"
        name, port = host[1:end], host[end + 1:]
        if port and not port.startswith(":"):
            return f"unexpected {port!r} after the IPv6 address"
        port = port[1:]
    else:
        if "[" in host or "]" in host:
            return "malformed IPv6 address (brackets)"
        name, _, port = host.partition(":")
    if not name:
        return "no host"
    if port:
        if not port.isascii() or not port.isdigit():
            return f"port {port!r} is not a number"
        if not 0 < int(port) <= 65535:
            return f"port {int(port)} out of range (1-65535)"
    return None


def profile_dir() -> Path:
    return Path(str(resources.files("providers") / "profiles"))


def list_profiles() -> list[Path]:
    return sorted(profile_dir().glob("*.yaml"))


def load_profile(name_or_path: str) -> Profile:
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.is_file()):
        path = profile_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            known = [p.stem for p in list_profiles()]
            close = difflib.get_close_matches(name_or_path, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(f"--provider {name_or_path}: unknown profile{hint}; known: {', '.join(known)}")
    profile, _ = validate_model(Profile, path)
    return profile
