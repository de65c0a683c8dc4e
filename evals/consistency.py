"""Consistency across samples as a hallucination signal (SelfCheckGPT's observation: invented facts
vary between samples of one question, known facts do not).

With `--samples K` at temperature > 0 each item has K answers. Each answer commits to a *key*: what
the scorer extracted (`Score.extracted`: the number, option, winner, identity), normalised (NFKC,
case-folded, spaces collapsed, surrounding punctuation dropped, a number written as a number); for a
biography (check `fictional_bios`) the years the extracted claim names (the scorer extracts the claim, not a
birth year or profession apart), else the claim's normalised text. An abstention's key is the
abstention itself; invalid answers and API errors have no key and are left out.

* **item consistency**: the share of an item's keyed samples that commit to its most common key.
* **answer agreement**: for one attempted answer, the share of the item's *other* keyed samples with
  the same key. Its AUROC (over attempted answers: correct = positive) says how well agreement tells a
  correct answer from a hallucinated one; high agreement should mean correct.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evals.calibration import ATTEMPTED, auroc
from evals.records import Record
from evals.scoring.text import years_in

ABSTAINED = "<abstained>"
_EDGE = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def normalise(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).casefold()
    s = re.sub(r"\s+", " ", s).strip()
    s = _EDGE.sub("", s)
    if _NUMBER.fullmatch(s):
        value = float(s)
        return str(int(value)) if value.is_integer() else repr(value)
    return s


def answer_key(record: Record) -> str | None:
    """What this answer commits to, comparable across samples; None for no usable answer."""
    sc = record.score
    if sc is None or record.error is not None or sc.outcome == "invalid":
        return None
    if sc.outcome == "abstained":
        return ABSTAINED
    text = sc.extracted
    if not text:
        return None
    if record.check == "fictional_bios":
        years = years_in(text)
        if years:
            return "years:" + ",".join(sorted(set(years)))
    return normalise(text) or None


def item_consistency(keys: Sequence[str | None]) -> float | None:
    """Share of the keyed samples that commit to the most common key (None: fewer than 2 keyed)."""
    present = [k for k in keys if k is not None]
    if len(present) < 2:
        return None
    return Counter(present).most_common(1)[0][1] / len(present)


def agreements(keys: Sequence[str | None]) -> list[float | None]:
    """For each sample: the share of the other keyed samples with its key (None: no key, or alone)."""
    present = [k for k in keys if k is not None]
    counts = Counter(present)
    out: list[float | None] = []
    for k in keys:
        if k is None or len(present) < 2:
            out.append(None)
        else:
            out.append((counts[k] - 1) / (len(present) - 1))
    return out


@dataclass
class GroupConsistency:
    key: tuple[str, ...]
    items: int  # items with at least two keyed samples
    mean_consistency: float | None  # mean item consistency
    attempted: int  # attempted answers with an agreement
    correct: int
    auroc: float | None  # agreement as a detector: correct vs hallucinated attempted answers


def has_samples(records: Iterable[Record]) -> bool:
    return any(r.sample > 0 for r in records)


def consistency_groups(records: Iterable[Record], by: Sequence[str] = ("suite", "lang")) -> list[GroupConsistency]:
    """Per group of `by`: item consistency and the agreement AUROC; items are (suite, item, mode)."""
    items: dict[tuple[str, str, str], list[Record]] = {}
    for r in records:
        items.setdefault((r.suite, r.item_id, r.mode), []).append(r)
    groups: dict[tuple[str, ...], tuple[list[float], list[float], list[bool]]] = {}
    for recs in items.values():
        recs.sort(key=lambda r: r.sample)
        key = tuple(str(getattr(recs[0], b)) for b in by)
        cons, scores, correct = groups.setdefault(key, ([], [], []))
        keys = [answer_key(r) for r in recs]
        c = item_consistency(keys)
        if c is not None:
            cons.append(c)
        for r, a in zip(recs, agreements(keys), strict=True):
            if a is not None and r.score is not None and r.score.outcome in ATTEMPTED:
                scores.append(a)
                correct.append(r.score.outcome == "correct")
    return [GroupConsistency(key, len(cons), sum(cons) / len(cons) if cons else None, len(scores), sum(correct),
                             auroc(scores, correct)) for key, (cons, scores, correct) in sorted(groups.items())]
