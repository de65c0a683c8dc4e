"""Small statistics: Wilson intervals, McNemar's exact test, paired and cluster bootstrap intervals."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for k successes out of n (returns (nan, nan) when n == 0)."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b (A only) and c (B only)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_bootstrap(a: Sequence[bool], b: Sequence[bool], reps: int = 2000, seed: int = 0,
                     level: float = 0.95) -> tuple[float, float, float]:
    """Mean of b - a over paired items with a percentile bootstrap interval: (delta, lo, hi)."""
    if len(a) != len(b):
        raise ValueError("paired samples must have the same length")
    n = len(a)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    diffs = [int(y) - int(x) for x, y in zip(a, b, strict=True)]
    delta = sum(diffs) / n
    # only the discordant pairs move the mean: resample counts of (+1, -1, 0) multinomially
    rng = random.Random(seed)
    stats = []
    for _ in range(reps):
        total = 0
        for _ in range(n):
            total += diffs[rng.randrange(n)]
        stats.append(total / n)
    stats.sort()
    lo = stats[int((1 - level) / 2 * reps)]
    hi = stats[min(reps - 1, int((1 + level) / 2 * reps))]
    return (delta, lo, hi)


def fmt_rate(k: int, n: int) -> str:
    """`0.42 [0.31, 0.54] (21/50)`: a rate with its 95% Wilson interval and count."""
    if n == 0:
        return "–"
    lo, hi = wilson(k, n)
    return f"{k / n:.2f} [{lo:.2f}, {hi:.2f}] ({k}/{n})"


def cluster_bootstrap(counts: Sequence[Sequence[float]], stat: Callable[[np.ndarray], np.ndarray], reps: int = 2000,
                      seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of `stat` under resampling whole clusters (items) with replacement.

    `counts` has one row per cluster (the sums over its samples); `stat` maps an array of summed rows
    (shape reps × columns) to one value per row, nan where undefined. Resamples where the statistic is
    undefined are dropped; (nan, nan) when no cluster or no resample gives a value. Seeded: deterministic."""
    table = np.asarray(counts, dtype=float)
    m = len(table)
    if m == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(m, np.full(m, 1.0 / m), size=reps)  # how often each cluster is drawn
    values = np.asarray(stat(weights @ table), dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (math.nan, math.nan)
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den elementwise, nan where den == 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def harmonic_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2ab / (a + b) elementwise; 0 where a + b == 0, nan where either is nan."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    total = a + b
    out = np.where(np.isnan(total), np.nan, 0.0)
    np.divide(2 * a * b, total, out=out, where=total > 0)
    return out
