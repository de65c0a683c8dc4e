"""The message/request/response model every provider shares (plain data, no behaviour)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]


class ToolCall(BaseModel):
    id: str = ""
    name: str
    arguments: str = "{}"  # raw JSON text as the model wrote it (may be malformed)


class Message(BaseModel):
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


class GenParams(BaseModel):
    """Generation settings. Greedy unless temperature > 0."""

    model_config = ConfigDict(extra="forbid")
    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = Field(default_factory=list)


class Request(BaseModel):
    messages: list[Message]
    params: GenParams = Field(default_factory=GenParams)
    tools: list[dict[str, Any]] = Field(default_factory=list)  # OpenAI-style function specs
    sample: int = 0  # sample index: part of the cache key when sampling


class Confidence(BaseModel):
    """How sure the model was of its answer (see README, "Confidence, calibration and consistency").

    Token numbers are of the model's own next-token distribution (temperature 1, before top-p), over the
    answer's tokens (the end-of-turn token excluded); `first_token_entropy` is the mean entropy, in nats,
    of the distributions the first `ENTROPY_TOKENS` tokens were drawn from (from the top alternatives only
    for an endpoint: a lower bound). `verbal` is the 0-100 the model gave when asked (--ask-confidence)."""

    source: Literal["logits", "logprobs", "verbal"]  # computed from logits, read from an endpoint's logprobs, or asked
    mean_logprob: float | None = None
    min_logprob: float | None = None
    first_token_entropy: float | None = None
    n_tokens: int = 0  # answer tokens the log-probabilities cover
    verbal: float | None = None  # 0-100; None when not asked or the reply held no number in 0-100
    verbal_reply: str | None = None  # the follow-up's reply as given (at most 200 characters), when asked


#: generated tokens whose distributions' entropies `Confidence.first_token_entropy` averages
ENTROPY_TOKENS = 3


class Response(BaseModel):
    text: str = ""
    reasoning: str | None = None  # thinking text kept for the record, never scored
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str | None = None  # "stop" | "length" | "tool_calls" | ...
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    model: str | None = None
    error: str | None = None  # an API failure: never scored as an answer
    error_kind: str | None = None  # e.g. "http_400", "timeout", "malformed"
    retries: int = 0
    cached: bool = False
    truncated: bool = False  # the answer was bigger than the profile's max_response_bytes and was cut
    endpoint: str | None = None  # the base URL (credentials redacted) that answered, or served the last attempt
    confidence: Confidence | None = None  # token log-probabilities and/or a verbal confidence, when known
