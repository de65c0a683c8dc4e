"""Statistics against known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evals.stats import (
    cluster_bootstrap,
    fmt_rate,
    harmonic_mean,
    mcnemar_exact,
    paired_bootstrap,
    ratio,
    wilson,
)


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # reference values: scipy.stats.binomtest(k, n).proportion_ci(method="wilson")
        (0, 10, 0.0, 0.277532),
        (5, 10, 0.236593, 0.763407),
        (10, 10, 0.722468, 1.0),
        (81, 263, 0.255289, 0.366210),
        (1, 1, 0.206549, 1.0),
    ],
)
def test_wilson_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-5)
    assert got[1] == pytest.approx(hi, abs=1e-5)


def test_wilson_empty_is_nan() -> None:
    assert all(math.isnan(x) for x in wilson(0, 0))
    assert fmt_rate(0, 0) == "–"
    assert fmt_rate(5, 10) == "0.50 [0.24, 0.76] (5/10)"


def test_mcnemar_exact() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    # b=1, c=9: two-sided exact binomial p = 2 * P(X <= 1 | n=10, p=.5) = 22/1024
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(9, 1) == mcnemar_exact(1, 9)
    assert mcnemar_exact(5, 5) == 1.0


def test_paired_bootstrap_interval_contains_delta() -> None:
    a = [True] * 30 + [False] * 20
    b = [True] * 20 + [False] * 10 + [True] * 20
    delta, lo, hi = paired_bootstrap(a, b, reps=500, seed=1)
    assert delta == pytest.approx((40 - 30) / 50)
    assert lo <= delta <= hi
    assert paired_bootstrap(a, a, reps=100) == (0.0, 0.0, 0.0)


def test_ratio_and_harmonic_mean_edge_cases() -> None:
    assert np.isnan(ratio(np.array([0.0]), np.array([0.0])))[0]
    assert ratio(np.array([1.0, 3.0]), np.array([2.0, 4.0])).tolist() == [0.5, 0.75]
    assert harmonic_mean(np.array([0.6]), np.array([0.75]))[0] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert harmonic_mean(np.array([0.0]), np.array([0.0]))[0] == 0.0  # SimpleQA: F = 0 when both are 0
    assert np.isnan(harmonic_mean(np.array([np.nan]), np.array([0.5]))[0])


def test_cluster_bootstrap_resamples_whole_clusters() -> None:
    # 20 clusters of 5 identical answers: 10 all right, 10 all wrong
    counts = [[5, 5]] * 10 + [[0, 5]] * 10
    lo, hi = cluster_bootstrap(counts, lambda s: ratio(s[:, 0], s[:, 1]), reps=2000, seed=3)
    assert lo < 0.5 < hi
    assert (lo, hi) == cluster_bootstrap(counts, lambda s: ratio(s[:, 0], s[:, 1]), reps=2000, seed=3)
    # about the width of 20 independent answers (Wilson 0.30-0.70), not of 100 (0.40-0.60)
    assert 0.3 < hi - lo < 0.5
    assert all(math.isnan(x) for x in cluster_bootstrap([], lambda s: s[:, 0]))
    # a statistic undefined in every resample gives no interval
    assert all(math.isnan(x) for x in cluster_bootstrap([[0, 0]], lambda s: ratio(s[:, 0], s[:, 1])))
