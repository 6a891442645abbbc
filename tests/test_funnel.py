"""The funnel plot's statistics (fourhour.measures.funnel): exact binomial limits, the normal
quantiles they use, and Spiegelhalter's over-dispersion, by hand."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from fourhour.errors import QueryError
from fourhour.measures import funnel


def test_normal_quantiles_are_named_once_and_right() -> None:
    normal = NormalDist()
    assert pytest.approx(normal.inv_cdf(0.975), abs=1e-12) == funnel.Z95
    assert pytest.approx(normal.inv_cdf(0.999), abs=1e-12) == funnel.Z998
    assert pytest.approx(normal.inv_cdf(0.95), abs=1e-12) == funnel.Z_ONE_SIDED_95
    assert pytest.approx(normal.inv_cdf(0.90), abs=1e-12) == funnel.Z80


def test_binomial_limit_by_hand() -> None:
    # Binomial(10, 0.5): P(R <= 1) = 11/1024, P(R <= 2) = 56/1024, P(R = 2) = 45/1024, so the
    # 2.5% quantile is r = 2, alpha = (56/1024 - 0.025) / (45/1024) = 30.4 / 45.
    assert funnel.binomial_limit(10, 0.5, 0.025) == pytest.approx((2 - 30.4 / 45) / 10)
    # P(R <= 7) = 968/1024, P(R <= 8) = 1013/1024: r = 8, alpha = (1013 - 998.4) / 45.
    assert funnel.binomial_limit(10, 0.5, 0.975) == pytest.approx((8 - 14.6 / 45) / 10)
    assert funnel.binomial_limit(100, 1.0, 0.001) == 1.0


def test_funnel_limits_approach_the_normal_limits_for_large_n() -> None:
    p0, n = 0.9, 2000
    lower, upper = funnel.funnel_limits(p0, [n], funnel.Z998)
    se = math.sqrt(p0 * (1 - p0) / n)
    assert lower[0] == pytest.approx(p0 - funnel.Z998 * se, abs=0.001)
    assert upper[0] == pytest.approx(p0 + funnel.Z998 * se, abs=0.001)
    lo95, hi95 = funnel.funnel_limits(p0, [n], funnel.Z95)
    assert lower[0] < lo95[0] < p0 < hi95[0] < upper[0]
    # Narrower for bigger providers: a funnel.
    lo, hi = funnel.funnel_limits(p0, [500, 5000], funnel.Z998)
    assert hi[0] - lo[0] > hi[1] - lo[1]


def test_overdispersion_by_hand() -> None:
    # Ten providers of 900 attendances around p0 = 0.9: standard error 0.01, every z-score
    # +/-3, so winsorising changes nothing and phi = 9. Weights w = 900 / 0.09 = 10,000 each:
    # tau2 = (10 * 9 - 9) / (100,000 - 10^9 / 100,000) = 81 / 90,000 = 0.0009 (3 points).
    y = np.array([0.93, 0.87] * 5)
    od = funnel.overdispersion(y, np.full(10, 900), 0.9)
    assert od.phi == pytest.approx(9.0)
    assert od.tau2 == pytest.approx(0.0009)
    assert od.tau_points == pytest.approx(3.0)
    assert od.significant
    _, upper = funnel.funnel_limits(0.9, [900], funnel.Z998, od.tau2)
    assert upper[0] - 0.9 == pytest.approx(funnel.Z998 * math.sqrt(0.0001 + 0.0009))
    calm = funnel.overdispersion(np.full(10, 0.9), np.full(10, 900), 0.9)
    assert (calm.phi, calm.tau2, calm.significant) == (0.0, 0.0, False)


def test_chi_squared_approximation() -> None:
    assert funnel.chi2_quantile(funnel.Z_ONE_SIDED_95, 9) == pytest.approx(16.919, abs=0.02)
    assert funnel.chi2_quantile(funnel.Z_ONE_SIDED_95, 100) == pytest.approx(124.342, abs=0.05)


def test_funnel_centre_is_the_pooled_proportion_not_an_average() -> None:
    two = pd.DataFrame(
        {
            "code": ["A", "B"],
            "name": ["A", "B"],
            "attendances": [9000, 1000],
            "breaches": [900, 500],
        }
    )
    assert funnel.funnel_data(two).p0 == pytest.approx(
        (8100 + 500) / 10000
    )  # 86%, not the mean of 90% and 50%


def test_funnel_data_is_a_named_record() -> None:
    frame = pd.DataFrame(
        {
            "code": ["A", "B", "C", "D"],
            "name": ["A", None, "C", "D"],
            "attendances": [9000, 1000, 0, 4000],
            "breaches": [900, 500, 0, 400],
        }
    )
    data = funnel.funnel_data(frame)
    assert list(data.providers["code"]) == ["A", "B", "D"]  # no attendances, no place
    assert data.providers.loc[1, "name"] == "B"  # a missing name is the code
    assert {"n", "lower_95", "upper_95", "lower_998", "upper_998"} <= set(data.limits.columns)
    assert data.overdispersion.k == 3
    assert 0 < data.p0 < 1


def test_funnel_data_without_attendances_is_an_error() -> None:
    empty = pd.DataFrame({"code": ["A"], "name": ["A"], "attendances": [0], "breaches": [0]})
    with pytest.raises(QueryError, match="no providers with attendances"):
        funnel.funnel_data(empty)
