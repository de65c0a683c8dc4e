"""decimal_compare scorer: the option the answer commits to against the gold choice.

`invalid` when the answer commits to no option (the reason says so); `abstained` when it declines
("I can't compare these"). Version-number controls (item tag `version`) compare as versions.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from evals.schema import ChoiceExpect, Item
from evals.scoring.choice import NUM_RE, extract
from evals.scoring.common import invalid, make, retraction
from evals.scoring.comparatives import option_core, plain
from evals.scoring.final_answer import View, views
from evals.scoring.invalid import clean
from evals.scoring.normalise import normalise
from evals.scoring.outcome import Score, ScoreContext
from evals.scoring.refusal import detect
from evals.scoring.registry import Check, NoDefault, register
from evals.scoring.zh_numerals import zh_numbers_to_digits

EQUAL = "equal"


def frame_of(prompt: str) -> str | None:
    p = plain(normalise(prompt)).lower()
    if re.search(r"^\s*(?:is|are|does)\b.*\b(?:equal|the same)\b|(?:等于|相等|一样大?|相同).{0,16}吗|吗.{0,4}$(?<=相等吗)", p):
        return "eq"
    if re.search(r"^\s*(?:is|does)\b|吗[？?]?|\?\s*answer yes or no|是或否|对吗|是不是|是否", p):
        if re.search(r"greater|larger|bigger|higher|newer|later|\bmore\b|大于|比.*大|更新|晚", p):
            return "gt"
        if re.search(r"less|fewer|smaller|lower|older|earlier|小于|比.*小|更旧|早", p):
            return "lt"
    if re.search(r"larger|bigger|greater|higher|newer|later|\bmore\b|(?:哪|谁).?[大新晚]|更大|较大|更新|较新", p):
        return "larger"
    if re.search(r"smaller|less|fewer|lower|older|earlier|(?:哪|谁).?[小旧早]|更小|较小|更旧", p):
        return "smaller"
    return None


def parse_prompt(prompt: str) -> tuple[str, str, str, bool] | None:
    """(frame, a, b, versions) from a comparison question, or None."""
    prompt = plain(zh_numbers_to_digits(normalise(prompt)))
    nums = [m.group(0) for m in NUM_RE.finditer(prompt)]
    frame = frame_of(prompt)
    if len(nums) != 2 or frame is None:
        return None
    versions = bool(re.search(r"version|release|newer|older|版本|更新|较新|更旧|python|node|kernel|macos", prompt, re.I))
    return frame, nums[0], nums[1], versions or is_version(nums[0]) or is_version(nums[1])


def is_version(number: str) -> bool:
    """More than one dot ("8.0.12") is a version number, never a decimal."""
    return number.count(".") >= 2


def gold_for(frame: str, a: str, b: str, versions: bool) -> ChoiceExpect:
    if versions:
        va, vb = (tuple(int(x) for x in v.split(".")) for v in (a, b))
        cmp = (va > vb) - (va < vb)
    else:
        d = Decimal(a) - Decimal(b)
        cmp = (d > 0) - (d < 0)
    if frame in ("gt", "lt", "eq"):
        yes = cmp > 0 if frame == "gt" else (cmp < 0 if frame == "lt" else cmp == 0)
        return ChoiceExpect(kind="choice", options=["yes", "no"], answer="yes" if yes else "no")
    options = [a, b] if versions else [a, b, EQUAL]
    if cmp == 0:
        return ChoiceExpect(kind="choice", options=options, answer=EQUAL)
    answer = a if (cmp > 0) == (frame == "larger") else b
    return ChoiceExpect(kind="choice", options=options, answer=answer)


def _question(item: Item) -> tuple[str | None, str, str, bool]:
    """(frame, a, b, versions): from the item's tags and meta, else the prompt, else the options."""
    expect = item.expect
    assert isinstance(expect, ChoiceExpect)
    parsed = parse_prompt(item.text)
    frame = next((t for t in item.tags if t in ("larger", "smaller", "gt", "lt", "eq")), None)
    frame = frame or (parsed[0] if parsed else frame_of(item.text))
    numeric = [option_core(o) for o in expect.options if NUM_RE.fullmatch(option_core(o))]
    nums = [m.group(0) for m in NUM_RE.finditer(plain(zh_numbers_to_digits(normalise(item.text))))]
    a, b = str(item.meta.get("a", "")), str(item.meta.get("b", ""))
    if not (a and b):
        a, b = (parsed[1], parsed[2]) if parsed else (numeric[:2] if len(numeric) >= 2 else (nums + ["", ""])[:2])
    versions = "version" in item.tags or (parsed[3] if parsed else False) or is_version(a) or is_version(b)
    return frame, a, b, versions


def score_decimal(item: Item, answer: str, ctx: ScoreContext) -> Score:
    assert isinstance(item.expect, ChoiceExpect)
    gold = option_core(item.expect.answer)  # "1.2 liters" -> "1.2": answers are read with their units removed
    options = [option_core(o) for o in item.expect.options]
    frame, a, b, versions = _question(item)
    if set(options) != {"yes", "no"} and frame in ("gt", "lt", "eq"):
        # "Are 3.70 and 3.7 the same, or is one larger?" with options [3.70, 3.7, equal]: a choice, not yes/no
        frame = "smaller" if frame == "lt" else "larger"
    cleaned = clean(answer, item.text, item.system)
    if cleaned.invalid:
        return invalid(cleaned)
    integers = {int(d) for d in (_value(a), _value(b)) if d is not None and d == d.to_integral_value()}
    text = plain(zh_numbers_to_digits(cleaned.text, integers))  # 五点五 -> 5.5; "$1.09 is cheaper" -> "1.09 is smaller"
    raw = plain(zh_numbers_to_digits(answer, integers))
    choice, view = None, None
    if a and b:
        for view in views(text, raw):
            choice = extract(view.text, frame, a, b, versions, options)
            if choice is not None:
                break
            retracted = retraction(view, gold, cleaned)  # "8.88 更大……等等，我不确定"
            if retracted:
                return retracted
    if choice is not None and cleaned.degenerate and "without grammar" in cleaned.degenerate:
        return make("invalid", False, f"invalid: degenerate text ({cleaned.degenerate}); an option in it is "
                    "not a committed answer", None, cleaned)
    cue = detect(text)
    if (choice is not None and view is not None and cue is not None and cue.strong and not _concludes(view, cue.phrase)
            and (choice.rule in ("comparison statement", "bare option") or choice.value == "both")):
        choice = None  # "I'd rather not say; check `6.02 > 6.2` in Python": a comparison inside a refusal
    if choice is None or view is None:
        if cue:
            return make("abstained", False, f"abstains ({cue.kind}: {cue.phrase!r}); gold {gold}", None, cleaned)
        return make("invalid", False, f"invalid: commits to no option among {options}", None,
                    cleaned)
    ok = choice.value == gold
    return make("correct" if ok else "incorrect", ok,
                f"chose {choice.value!r} by {choice.rule} ({choice.quote[:60]!r}) in the {view.rule}; gold {gold!r}",
                choice.value, cleaned)


def _value(number: str) -> Decimal | None:
    try:
        return Decimal(number)
    except InvalidOperation:
        return None


def _concludes(view: View, cue: str) -> bool:
    """The option was read from a conclusion or answer marker that holds no abstention cue ("负数比较很容易出错……
    所以-5.1比-5.01小"): a hedge before a stated conclusion does not retract it."""
    return view.rule.startswith(_CONCLUDING) and cue not in view.text and detect(view.text) is None


_CONCLUDING = ("boxed", "answer marker", "conclusion")


def default_expect(row: dict[str, Any], cutoff: str | None) -> dict[str, Any]:
    """The choice computed from the prompt ("Which is larger: 9.11 or 9.9?")."""
    parsed = parse_prompt(str(row.get("prompt", "")))
    if parsed is None:
        raise NoDefault("cannot read two numbers and larger/smaller/yes-no from the prompt: give `expect`")
    return gold_for(*parsed).model_dump()


CHECK = register(Check(
    name="decimal_compare", scorer=score_decimal, kinds=("choice",), default_expect=default_expect,
    summary="compare two decimals or version numbers (the committed option)"))
