"""Suite, Item and Expect: the declarative shape of a suite file."""

from __future__ import annotations

import difflib
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from evals.types import Message

DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AbstainExpect(_Strict):
    """The honest answer is "I don't know" (or a premise correction)."""

    kind: Literal["abstain"]


class NumberExpect(_Strict):
    """An exact integer or decimal."""

    kind: Literal["number"]
    value: str

    @field_validator("value", mode="before")
    @classmethod
    def _decimal(cls, v: object) -> str:
        try:
            return str(Decimal(str(v)))
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {v!r}") from exc


class ChoiceExpect(_Strict):
    """One of the listed options."""

    kind: Literal["choice"]
    options: list[str] = Field(min_length=2)
    answer: str

    @model_validator(mode="after")
    def _answer_in_options(self) -> ChoiceExpect:
        if self.answer not in self.options:
            raise ValueError(f"answer {self.answer!r} is not one of the options {self.options}")
        return self


class FactsExpect(_Strict):
    """An answerable question: the answer must match one of the accept patterns (regex, case-insensitive)."""

    kind: Literal["facts"]
    accept: list[str] = Field(min_length=1)
    reject: list[str] = Field(default_factory=list)
    gold: str | None = None  # the human-readable gold answer

    @field_validator("accept", "reject")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from exc
        return v


class IdentityExpect(_Strict):
    """Judged against the profile's identity."""

    kind: Literal["identity"]


Expect = Annotated[
    AbstainExpect | NumberExpect | ChoiceExpect | FactsExpect | IdentityExpect,
    Field(discriminator="kind"),
]


class Item(_Strict):
    id: str = Field(min_length=1)
    prompt: str | None = None
    messages: list[Message] | None = None
    # the item's system prompt ("" means none): replaces the suite's default and any system message in
    # `messages`; without it a system message in `messages` wins over the default (evals.plan.request_messages)
    system: str | None = None
    lang: str = "en"
    tags: list[str] = Field(default_factory=list)
    control: bool = False
    date: str | None = None  # when the asked-about event happened (post_cutoff)
    expect: Expect
    meta: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_input(self) -> Item:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of `prompt` or `messages`")
        if self.date is not None and not DATE_RE.match(self.date):
            raise ValueError(f"date {self.date!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
        return self

    @property
    def text(self) -> str:
        """The user's question as text (the last user message)."""
        if self.prompt is not None:
            return self.prompt
        users = [m.content for m in self.messages or [] if m.role == "user"]
        return users[-1] if users else ""


class SuiteDefaults(_Strict):
    system: str | None = None
    # None: the profile's params.max_new_tokens (evals.plan.suite_params gives the effective value)
    max_new_tokens: int | None = Field(default=None, gt=0)
    stop: list[str] = Field(default_factory=list)


class WorkedExample(_Strict):
    """One worked example of the `text` tool protocol: a question, the assistant's tool-call turn as
    the model should write it, what the tool printed, and the final answer."""

    question: str = Field(min_length=1)
    call: str = Field(min_length=1)  # e.g. "```python\nprint('banana'.lower().count('a'))\n```"
    result: str
    answer: str = Field(min_length=1)


class ToolProtocol(_Strict):
    """How the `text` tool protocol talks to a model without native tool calling (evals/tools/textproto.py).
    The defaults are the protocol as it was; each option can be switched on alone and measured
    (bench/tools_protocol.py)."""

    # worked examples (a tool call, its result, the answer): the suite's `examples`, else built-in ones
    example: bool = False
    # where they go: written out in the system turn, or as earlier turns of the conversation (user
    # question, assistant call, results turn, assistant answer) before the item's own turns
    example_in: Literal["system", "turns"] = "system"
    # the suite's own worked examples (need `example: true`); none: one built-in example per tool
    examples: list[WorkedExample] = Field(default_factory=list)
    # an explicit instruction, e.g. "Use the python tool to count; do not answer from memory."
    instruction: str | None = Field(default=None, min_length=1)
    # where the instruction goes: appended to the user's question (SmolLM2-135M follows it there: 12/12
    # items called a tool in bench/tools_protocol.py's screen, against 3/12 from the system turn) or
    # at the end of the system turn
    instruction_in: Literal["user", "system"] = "user"
    # how tool results come back (always as a user turn: SmolLM2's template has no tool role it was
    # trained on): `labelled` "Tool results:\n[python output]\n..." + a reminder; `plain` "Result: 3"
    results: Literal["labelled", "plain"] = "labelled"
    # the `labelled` turn's last line: "Answer the original question now, or call a tool again if you
    # must." (`answer-or-call`) or "Answer the original question now." (`answer`: SmolLM2-135M
    # repeats its call less often after it, bench/tools_protocol.py)
    reminder: Literal["answer-or-call", "answer"] = "answer-or-call"

    @model_validator(mode="after")
    def _examples_need_example(self) -> ToolProtocol:
        if self.examples and not self.example:
            raise ValueError("`examples` are only used with `example: true`")
        return self


def _known_tool(name: str) -> str:
    from evals.tools.registry import TOOLS

    if name not in TOOLS:
        close = difflib.get_close_matches(name, list(TOOLS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown tool {name!r}{hint}; known: {', '.join(TOOLS)}")
    return name


class Suite(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = "1"
    description: str = ""
    check: str  # a registered check (evals/scoring/registry.py); its expect kinds are checked by the loader
    tools: list[Annotated[str, AfterValidator(_known_tool)]] = Field(default_factory=list)  # evals/tools/registry.py
    # folder of dated documents for the search tool (relative to the suite file; the loader checks it exists)
    corpus: str | None = None
    defaults: SuiteDefaults = Field(default_factory=SuiteDefaults)
    tool_protocol: ToolProtocol = Field(default_factory=ToolProtocol)  # tools mode, `text` protocol only
    items: list[Item] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: object) -> str:
        return str(v)

    @field_validator("check")
    @classmethod
    def _known_check(cls, v: str) -> str:
        from evals.scoring.registry import checks, unknown_check_message

        if v not in checks():
            raise ValueError(unknown_check_message(v))
        return v
