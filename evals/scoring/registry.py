"""The check registry: a check is one module that registers its scorer, the `expect` kinds it can
score, its default expectation (for answers scored outside a suite) and its prompt reader.

Adding a check means writing `evals/scoring/<name>.py` that calls `register(Check(...))` and adding
its module to `MODULES`; suite validation, `probity score`, the runner and `rescore` all ask here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from types import MappingProxyType
from typing import Any

from evals.schema import Item
from evals.scoring.outcome import Score, ScoreContext

MODULES = (
    "evals.scoring.bios",
    "evals.scoring.post_cutoff",
    "evals.scoring.letters",
    "evals.scoring.decimals",
    "evals.scoring.self_identity",
    "evals.scoring.short_answer",
    "evals.scoring.refusal_check",
)

Scorer = Callable[[Item, str, ScoreContext], Score]
#: (input row as a dict: prompt, date, ...; the profile's knowledge cutoff) -> an expect mapping
DefaultExpect = Callable[[dict[str, Any], "str | None"], dict[str, Any]]


class NoDefault(ValueError):
    """The check has no default expectation for this prompt (the message says what to give)."""


@dataclass(frozen=True)
class Check:
    name: str
    scorer: Scorer
    kinds: tuple[str, ...]  # the `expect` kinds the scorer can score
    default_expect: DefaultExpect
    summary: str  # one line for `--help` and docs


_REGISTRY: dict[str, Check] = {}
_VIEW: Mapping[str, Check] = MappingProxyType(_REGISTRY)  # read-only, no copy per score() call
_loaded = False


def register(check: Check) -> Check:
    if check.name in _REGISTRY and _REGISTRY[check.name] is not check:
        raise ValueError(f"check {check.name!r} registered twice")
    _REGISTRY[check.name] = check
    return check


def checks() -> Mapping[str, Check]:
    """Every registered check, by name (the check modules are imported on first use)."""
    global _loaded
    if not _loaded:
        for module in MODULES:
            import_module(module)
        _loaded = True
    return _VIEW


def names() -> list[str]:
    return list(checks())


def unknown_check_message(name: str) -> str:
    known = sorted(names())
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown check {name!r}{hint} (known: {', '.join(known)})"


def get(name: str) -> Check:
    found = checks().get(name)
    if found is None:
        raise KeyError(unknown_check_message(name))
    return found


def kind_problem(check: str, kind: str) -> str | None:
    """Why `check` cannot score an `expect` of this kind, or None when it can."""
    c = checks().get(check)
    if c is None or kind in c.kinds:
        return None
    return f"check {check!r} cannot score expect kind {kind!r} (it scores: {', '.join(c.kinds)})"
