"""decimal_compare scorer: the option the answer commits to against the gold choice.

`invalid` when the answer commits to no option (the reason says so); `abstained` when it declines
("I can't compare these"). Version-number controls (item tag `version`) compare as versions.
"""

from __future__ import annotations

import re
from decimal import Decimal

from evals.schema import ChoiceExpect, Item
from evals.scoring.choice import NUM_RE, extract
from evals.scoring.common import invalid, make
from evals.scoring.invalid import clean
from evals.scoring.outcome import Score, ScoreContext
from evals.scoring.refusal import detect

EQUAL = "equal"


def frame_of(prompt: str) -> str | None:
    p = prompt.lower()
    if re.search(r"^\s*is\b|吗[？?]?|\?\s*answer yes or no|是或否", p):
        if re.search(r"greater|larger|bigger|higher|newer|later|大于|比.*大|更新|晚", p):
            return "gt"
        if re.search(r"less|smaller|lower|older|earlier|小于|比.*小|更旧|早", p):
            return "lt"
    if re.search(r"larger|bigger|greater|higher|newer|later|more recent|哪个大|更大|较大|更新|较新", p):
        return "larger"
    if re.search(r"smaller|less|lower|older|earlier|哪个小|更小|较小|更旧", p):
        return "smaller"
    return None


def parse_prompt(prompt: str) -> tuple[str, str, str, bool] | None:
    """(frame, a, b, versions) from a comparison question, or None."""
    nums = [m.group(0) for m in NUM_RE.finditer(prompt)]
    frame = frame_of(prompt)
    if len(nums) != 2 or frame is None:
        return None
    versions = bool(re.search(r"version|release|newer|older|版本|更新|较新|更旧|python|node|kernel|macos", prompt, re.I))
    return frame, nums[0], nums[1], versions


def gold_for(frame: str, a: str, b: str, versions: bool) -> ChoiceExpect:
    if versions:
        va, vb = (tuple(int(x) for x in v.split(".")) for v in (a, b))
        cmp = (va > vb) - (va < vb)
    else:
        d = Decimal(a) - Decimal(b)
        cmp = (d > 0) - (d < 0)
    if frame in ("gt", "lt"):
        yes = cmp > 0 if frame == "gt" else cmp < 0
        return ChoiceExpect(kind="choice", options=["yes", "no"], answer="yes" if yes else "no")
    options = [a, b] if versions else [a, b, EQUAL]
    if cmp == 0:
        return ChoiceExpect(kind="choice", options=options, answer=EQUAL)
    answer = a if (cmp > 0) == (frame == "larger") else b
    return ChoiceExpect(kind="choice", options=options, answer=answer)


def score_decimal(item: Item, answer: str, ctx: ScoreContext) -> Score:
    if not isinstance(item.expect, ChoiceExpect):
        raise ValueError(f"{item.id}: decimal_compare expects `choice`, got {item.expect.kind}")
    gold = item.expect.answer
    parsed = parse_prompt(item.text)
    a, b = str(item.meta.get("a", "")), str(item.meta.get("b", ""))
    versions = "version" in item.tags or (parsed[3] if parsed else False)
    frame = next((t for t in item.tags if t in ("larger", "smaller", "gt", "lt")), None)
    if parsed:
        frame = frame or parsed[0]
        a, b = a or parsed[1], b or parsed[2]
    if frame is None or not a or not b:
        raise ValueError(f"{item.id}: cannot tell the two numbers and the question from {item.text!r}")
    cleaned = clean(answer, item.text, item.system)
    if cleaned.invalid:
        return invalid(cleaned)
    choice = extract(cleaned.text, frame, a, b, versions)
    if choice is None:
        cue = detect(cleaned.text)
        if cue:
            return make("abstained", False, f"abstains ({cue.kind}: {cue.phrase!r}); gold {gold}", None, cleaned)
        return make("invalid", False, f"invalid: commits to no option among {item.expect.options}", None, cleaned)
    ok = choice.value == gold
    return make("correct" if ok else "incorrect", ok,
                f"chose {choice.value!r} by {choice.rule} ({choice.quote[:60]!r}); gold {gold!r}", choice.value,
                cleaned)
