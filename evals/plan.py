"""Expand suites into tasks (item × mode × sample) and build each task's request."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from evals.loader import LoadedSuite
from evals.profiles import Profile
from evals.records import task_key
from evals.schema import Item, Suite
from evals.types import GenParams, Message, Request


@dataclass(frozen=True)
class Task:
    loaded: LoadedSuite
    item: Item
    mode: str  # "plain" | "tools"
    sample: int

    @property
    def key(self) -> str:
        return task_key(self.loaded.suite.name, self.item.id, self.mode, self.sample)


def plan(suites: list[LoadedSuite], modes: list[str], samples: int, limit: int | None) -> Iterator[Task]:
    """Tasks in a stable order: suite, mode, item, sample. Suites that offer no tools skip `tools` mode."""
    for loaded in suites:
        items = loaded.suite.items[:limit] if limit else loaded.suite.items
        for mode in modes:
            if mode == "tools" and not loaded.suite.tools:
                continue
            for item in items:
                for sample in range(samples):
                    yield Task(loaded, item, mode, sample)


def parse_shard(text: str) -> tuple[int, int]:
    """`i/n` (1 <= i <= n) as (i, n); anything else is a one-line UserError."""
    from evals.errors import UserError

    head, sep, tail = text.partition("/")
    try:
        i, n = int(head), int(tail)
    except ValueError:
        i = n = 0
    if not sep or n < 1 or not 1 <= i <= n:
        raise UserError(f"--shard {text}: give i/n with 1 <= i <= n (e.g. 1/4)")
    return i, n


def in_shard(key: str, shard: str | None) -> bool:
    """Whether task `key` belongs to `shard` (`i/n`): by a hash of the key, not its position, so a
    task stays in its shard when items are added or removed around it."""
    if shard is None:
        return True
    i, n = parse_shard(shard)
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n == i - 1


def derive_seed(seed: int, key: str) -> int:
    """A per-task seed that does not depend on batch composition or order."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:4], "big")


def suite_params(suite: Suite, profile: Profile) -> GenParams:
    """The generation settings a suite's requests use (before the per-task seed): the profile's `params`,
    with

    * `max_new_tokens`: the suite's `defaults.max_new_tokens` when the suite sets it, else the profile's
      `params.max_new_tokens` (GenParams' default 256 when the profile does not set it either);
    * `stop`: the suite's `defaults.stop` followed by the profile's `params.stop`.

    `build_request` uses it for every task, so it is also what a run records and reports per suite."""
    max_new_tokens = suite.defaults.max_new_tokens
    return profile.params.model_copy(update={
        "max_new_tokens": profile.params.max_new_tokens if max_new_tokens is None else max_new_tokens,
        "stop": [*suite.defaults.stop, *profile.params.stop],
    })


def request_messages(suite: Suite, item: Item) -> list[Message]:
    """The conversation sent for an item. The system message, most specific first: the item's `system`
    field when set (`""`: no system message; it also replaces system messages in the item's `messages`),
    else the item's own system message(s) in `messages`, else the suite's `defaults.system`."""
    messages: list[Message] = []
    if item.system is not None:
        if item.system:
            messages.append(Message(role="system", content=item.system))
        own = [m for m in item.messages or [] if m.role != "system"]
    else:
        own = list(item.messages or [])
        if suite.defaults.system and not any(m.role == "system" for m in own):
            messages.append(Message(role="system", content=suite.defaults.system))
    if item.messages is None:
        own = [Message(role="user", content=item.prompt or "")]
    return [*messages, *own]


def build_request(task: Task, profile: Profile, seed: int) -> Request:
    """The request for one task: `request_messages`, `suite_params` and the seed (per task when sampling)."""
    suite, item = task.loaded.suite, task.item
    params = suite_params(suite, profile).model_copy(update={
        "seed": derive_seed(seed, task.key) if profile.params.temperature > 0 else profile.params.seed})
    return Request(messages=request_messages(suite, item), params=params, sample=task.sample)
