"""The step-limit rule: a tools-mode conversation whose last allowed turn still asks for a tool has no answer.

The agent loop ends such a conversation with a `{"type": "step_limit"}` transcript entry; that final turn's
text is a tool call (a ```python block, a `calculator:` line, ...), not an answer, so it is not given to
the suite's scorer. The run and `probity rescore` both use this rule, so rescoring never turns a
step-limit record back into a scored answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from evals.scoring.outcome import Score
from evals.transcript import ModelTurn, StepLimit, TranscriptEntry, entries

FLAG = "step_limit"


def _calls_not_run(entry: StepLimit, transcript: Sequence[TranscriptEntry]) -> int | None:
    if entry.calls is not None:
        return entry.calls
    model = next((e for e in reversed(transcript) if isinstance(e, ModelTurn)), None)
    if model is not None and model.tool_calls:
        return len(model.tool_calls)
    m = re.match(r"(\d+) tool call", entry.note)
    return int(m.group(1)) if m else None


def step_limit_score(transcript: Iterable[TranscriptEntry | dict[str, Any]] | None) -> Score | None:
    """`invalid` (flag `step_limit`) when the transcript ended at the step limit with tool calls not run,
    else None (score the final turn as usual)."""
    typed = entries(transcript)
    entry = next((e for e in reversed(typed) if isinstance(e, StepLimit)), None)
    if entry is None:
        return None
    n = _calls_not_run(entry, typed)
    calls = f" ({n} call(s) not run)" if n is not None else ""
    return Score(outcome="invalid", passed=False, extracted=None, flags=[FLAG],
                 why=f"invalid: step limit reached: the last turn still asks for a tool{calls}")
