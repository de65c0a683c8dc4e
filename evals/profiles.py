"""Provider profiles: a named YAML file that says which adapter, which model, and who the model is."""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evals.errors import UserError
from evals.loader import validate_model
from evals.types import GenParams


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    names: list[str] = Field(default_factory=list)  # names the model may truthfully claim
    makers: list[str] = Field(default_factory=list)  # organisations that may truthfully be named as its maker


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
    device: str = "auto"
    threads: int | None = None
    # scripted (tests only): seconds to wait per generate() call
    delay_s: float = Field(default=0.0, ge=0)
    # openai-compatible endpoints
    base_url: str | None = None
    api_key_env: str | None = None  # name of the environment variable holding the key
    headers: dict[str, str] = Field(default_factory=dict)
    concurrency: int = Field(default=8, gt=0)
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)


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
