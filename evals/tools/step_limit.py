"""The step-limit rule: a tools-mode conversation whose last allowed turn still asks for a tool has no answer.

The agent loop ends such a conversation with a `{"type": "step_limit"}` transcript entry; that final turn's
text is a tool call (a ```python block, a `calculator:` line, ...), not an answer, so it is not given to
the suite's scorer. The run and `probity rescore` both use this rule, so rescoring never turns a
step-limit record back into a scored answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from evals.scoring.outcome import Score

FLAG = "step_limit"


def _calls_not_run(entry: dict[str, Any], transcript: Sequence[dict[str, Any]]) -> int | None:
    if isinstance(entry.get("calls"), int):
        return entry["calls"]
    model = next((e for e in reversed(transcript) if e.get("type") == "model"), None)
    if model is not None and model.get("tool_calls"):
        return len(model["tool_calls"])
    m = re.match(r"(\d+) tool call", str(entry.get("note", "")))
    return int(m.group(1)) if m else None


def step_limit_score(transcript: Sequence[dict[str, Any]] | None) -> Score | None:
    """`invalid` (flag `step_limit`) when the transcript ended at the step limit with tool calls not run,
    else None (score the final turn as usual)."""
    entry = next((e for e in reversed(transcript or []) if e.get("type") == "step_limit"), None)
    if entry is None:
        return None
    n = _calls_not_run(entry, transcript or [])
    calls = f" ({n} call(s) not run)" if n is not None else ""
    return Score(outcome="invalid", passed=False, extracted=None, flags=[FLAG],
                 why=f"invalid: step limit reached: the last turn still asks for a tool{calls}")
