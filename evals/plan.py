"""Expand suites into tasks (item × mode × sample) and build each task's request."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from evals.loader import LoadedSuite
from evals.profiles import Profile
from evals.records import task_key
from evals.schema import Item
from evals.types import Message, Request


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


def derive_seed(seed: int, key: str) -> int:
    """A per-task seed that does not depend on batch composition or order."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:4], "big")


def build_request(task: Task, profile: Profile, seed: int) -> Request:
    suite, item = task.loaded.suite, task.item
    system = item.system if item.system is not None else suite.defaults.system
    messages: list[Message] = []
    if system:
        messages.append(Message(role="system", content=system))
    if item.messages is not None:
        messages.extend(m for m in item.messages if not (system and m.role == "system"))
    else:
        messages.append(Message(role="user", content=item.prompt or ""))
    params = profile.params.model_copy(
        update={
            "max_new_tokens": suite.defaults.max_new_tokens,
            "stop": [*suite.defaults.stop, *profile.params.stop],
            "seed": derive_seed(seed, task.key) if profile.params.temperature > 0 else profile.params.seed,
        }
    )
    return Request(messages=messages, params=params, sample=task.sample)
