"""Does the model know what it does not know? Confidence against the scorer's verdicts.

Only attempted answers count (outcome `correct` or `incorrect`: an abstention or an invalid answer
makes no claim to be sure of). For each signal of `Response.confidence`:

* **AUROC**: the probability that a correct answer, drawn at random, has a higher confidence than a
  hallucinated (incorrect) one; ties count one half. 0.5 is chance; undefined (None) without both.
* **ECE** (expected calibration error, 10 equal-width bins on [0, 1], the last one closed), only for a
  confidence that is a probability: `exp(mean_logprob)` (the geometric-mean token probability) or
  `verbal / 100`. ECE = sum over bins of (answers in bin / answers) x |accuracy in bin - mean confidence in bin|.
* **risk-coverage**: keep the answers whose confidence is at least t, for every distinct t: coverage =
  kept / attempted, risk = incorrect among kept / kept (the hallucination rate if the model abstained
  below t).

Pure functions over lists and records; `evals/report.py` renders them and `evals/chart.py` draws the curve.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from evals.records import Record
from evals.types import Confidence

ATTEMPTED = ("correct", "incorrect")
BINS = 10


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """P(score of a random positive > score of a random negative), ties one half (Mann-Whitney U / n+n-)."""
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return None
    # rank-sum with average ranks for ties: O(n log n)
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, p in zip(ranks, positive, strict=True) if p)
    u = rank_sum - len(pos) * (len(pos) + 1) / 2
    return u / (len(pos) * len(neg))


@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    n: int
    accuracy: float | None  # share correct; None for an empty bin
    confidence: float | None  # mean confidence


def calibration_bins(probs: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> list[Bin]:
    """Equal-width bins [k/bins, (k+1)/bins), the last one including 1.0."""
    members: list[list[int]] = [[] for _ in range(bins)]
    for i, p in enumerate(probs):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"confidence {p!r} is not a probability")
        members[min(int(p * bins), bins - 1)].append(i)
    out = []
    for k, idx in enumerate(members):
        n = len(idx)
        out.append(Bin(k / bins, (k + 1) / bins, n, sum(correct[i] for i in idx) / n if n else None,
                       sum(probs[i] for i in idx) / n if n else None))
    return out


def ece(probs: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> float | None:
    """Expected calibration error over equal-width bins (None without answers)."""
    if not probs:
        return None
    total = len(probs)
    return sum(b.n / total * abs(b.accuracy - b.confidence) for b in calibration_bins(probs, correct, bins)
               if b.n and b.accuracy is not None and b.confidence is not None)


def risk_coverage(scores: Sequence[float], correct: Sequence[bool]) -> list[tuple[float, float, float]]:
    """(threshold, coverage, risk) for each distinct confidence, highest threshold first; keeps
    answers with score >= threshold. The last point keeps everything (coverage 1)."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    points = []
    wrong = 0
    for rank, i in enumerate(order):
        wrong += not correct[i]
        if rank + 1 < len(order) and scores[order[rank + 1]] == scores[i]:
            continue  # a threshold keeps every answer of its score
        kept = rank + 1
        points.append((scores[i], kept / len(scores), wrong / kept))
    return points


# -- signals of a Confidence ------------------------------------------------------------------------

#: name -> (how to read it, higher = more confident, and how it reads as a probability, or None)
Signal = Callable[[Confidence], float | None]


def _neg_entropy(c: Confidence) -> float | None:
    return None if c.first_token_entropy is None else -c.first_token_entropy


def _verbal(c: Confidence) -> float | None:
    return c.verbal


SIGNALS: dict[str, Signal] = {
    "mean_logprob": lambda c: c.mean_logprob,
    "min_logprob": lambda c: c.min_logprob,
    "neg_first_token_entropy": _neg_entropy,
    "verbal": _verbal,
}
#: the signals that read as a probability, and how: ECE is computed for these
PROBABILITY: dict[str, Callable[[float], float]] = {
    "mean_logprob": math.exp,  # the geometric mean of the answer tokens' probabilities
    "verbal": lambda v: v / 100.0,
}
SIGNAL_TITLES = {"mean_logprob": "mean log p", "min_logprob": "min log p",
                 "neg_first_token_entropy": "−entropy (first 3)", "verbal": "verbal"}


@dataclass
class SignalStats:
    n: int  # attempted answers with this signal
    correct: int
    auroc: float | None
    ece: float | None  # None when the signal is no probability, or no answers
    curve: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass
class GroupCalibration:
    key: tuple[str, ...]
    attempted: int  # attempted answers in the group (with or without a confidence)
    signals: dict[str, SignalStats]


def attempted(records: Iterable[Record]) -> list[Record]:
    return [r for r in records if r.score is not None and r.error is None and r.score.outcome in ATTEMPTED]


def signal_stats(records: Sequence[Record], name: str) -> SignalStats:
    read = SIGNALS[name]
    scores, correct = [], []
    for r in records:
        c = r.response.confidence
        value = read(c) if c is not None else None
        if value is None or math.isnan(value):
            continue
        scores.append(float(value))
        correct.append(r.score is not None and r.score.outcome == "correct")
    to_prob = PROBABILITY.get(name)
    return SignalStats(n=len(scores), correct=sum(correct), auroc=auroc(scores, correct),
                       ece=ece([to_prob(s) for s in scores], correct) if to_prob and scores else None,
                       curve=risk_coverage(scores, correct))


def calibration_groups(records: Iterable[Record], by: Sequence[str] = ("suite", "lang")) -> list[GroupCalibration]:
    """Per group of `by` (Record attribute names), the stats of every signal some answer carries."""
    groups: dict[tuple[str, ...], list[Record]] = {}
    for r in attempted(records):
        groups.setdefault(tuple(str(getattr(r, b)) for b in by), []).append(r)
    out = []
    for key, recs in sorted(groups.items()):
        stats = {name: signal_stats(recs, name) for name in SIGNALS}
        out.append(GroupCalibration(key, len(recs), {k: v for k, v in stats.items() if v.n}))
    return out


def has_confidence(records: Iterable[Record]) -> bool:
    return any(r.response.confidence is not None for r in records)


def verbal_counts(records: Iterable[Record]) -> tuple[int, int]:
    """(asked, unparseable): answers whose follow-up was asked, and those whose reply held no 0-100."""
    asked = unparsed = 0
    for r in records:
        c = r.response.confidence
        if c is not None and c.verbal_reply is not None:
            asked += 1
            unparsed += c.verbal is None
    return asked, unparsed


# -- a verbal confidence (--ask-confidence) ---------------------------------------------------------

#: the follow-up user turn, by the item's language (English for any other)
VERBAL_PROMPTS = {
    "en": "How confident are you that your answer above is correct? Reply with only a number from 0 to 100.",
    "zh": "你有多大把握上面的回答是正确的？只回答一个0到100之间的数字。",
}
#: tokens the follow-up's reply may take
VERBAL_MAX_TOKENS = 16
_VERBAL_NUMBER = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*(%|/\s*100)?")


def verbal_prompt(lang: str) -> str:
    return VERBAL_PROMPTS.get(lang.split("-")[0], VERBAL_PROMPTS["en"])


def parse_verbal(text: str) -> float | None:
    """The first number in the reply if it lies in 0-100 ("85", "85%", "85/100", "８５"); else None."""
    match = _VERBAL_NUMBER.search(unicodedata.normalize("NFKC", text or ""))
    if not match:
        return None
    value = float(match.group(1))
    return value if 0.0 <= value <= 100.0 else None
