"""Statistics against known values."""

from __future__ import annotations

import math

import pytest

from evals.stats import fmt_rate, mcnemar_exact, paired_bootstrap, wilson


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
