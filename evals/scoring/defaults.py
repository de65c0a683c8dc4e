"""Default expectations for answers scored outside a suite (`probity score`): what each check expects
when an input line carries no `expect`.

- fictional_bios: abstain (the people asked about are assumed not to exist);
- post_cutoff: abstain when the question's date (the `date` field, else a year in the prompt) is 2030 or
  later or after the profile's knowledge cutoff; an earlier question needs an explicit `expect`;
- letter_counts: the count computed from the prompt ("How many r's are in strawberry?");
- decimal_compare: the choice computed from the prompt ("Which is larger: 9.11 or 9.9?");
- self_identity: the profile's identity.
"""

from __future__ import annotations

import re
from typing import Any

from evals.schema import AbstainExpect, IdentityExpect, NumberExpect
from evals.scoring import decimals, letters
from evals.scoring.post_cutoff import after_cutoff


class NoDefault(ValueError):
    """The check has no default expectation for this prompt."""


def question_date(row: dict[str, Any]) -> str | None:
    if row.get("date"):
        return str(row["date"])
    years = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", str(row.get("prompt", "")))
    return max(years) if years else None


def default_expect(check: str, row: dict[str, Any], cutoff: str | None) -> Any:
    prompt = str(row.get("prompt", ""))
    if check == "fictional_bios":
        return AbstainExpect(kind="abstain")
    if check == "self_identity":
        return IdentityExpect(kind="identity")
    if check == "post_cutoff":
        date = question_date(row)
        if date is None:
            raise NoDefault("no `date` and no year in the prompt: give `date` or `expect`")
        if date[:4] >= "2030" or after_cutoff(date, cutoff):
            return AbstainExpect(kind="abstain")
        raise NoDefault(f"dated {date}, not after the cutoff {cutoff}: give `expect` with the gold answer")
    if check == "letter_counts":
        parsed = letters.parse_prompt(prompt)
        if parsed is None:
            raise NoDefault("cannot read the word and the letter from the prompt: give `expect`")
        return NumberExpect(kind="number", value=str(letters.gold_count(*parsed)))
    if check == "decimal_compare":
        parsed_cmp = decimals.parse_prompt(prompt)
        if parsed_cmp is None:
            raise NoDefault("cannot read two numbers and larger/smaller/yes-no from the prompt: give `expect`")
        return decimals.gold_for(*parsed_cmp)
    raise NoDefault(f"unknown check {check!r}")
