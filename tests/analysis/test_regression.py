from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from partnerlift.analysis.regression import (
    covariate_matrix,
    poisson_ratio,
    ratio_of_means_bootstrap,
    standardized_differences,
)


def _two_groups() -> tuple[np.ndarray, np.ndarray]:
    # 10 of 20 with the behaviour had the outcome, 5 of 20 without it.
    outcome = np.r_[np.ones(10), np.zeros(10), np.ones(5), np.zeros(15)]
    group = np.r_[np.ones(20), np.zeros(20)]
    return outcome, group


def test_modified_poisson_matches_katz() -> None:
    """With one binary covariate, modified Poisson regression (Zou 2004) gives
    the crude risk ratio, (10/20) / (5/20) = 2, and its robust standard error is
    Katz's sqrt(1/a - 1/n1 + 1/c - 1/n0) = sqrt(1/10 - 1/20 + 1/5 - 1/20)
    = 0.447214.
    """
    outcome, group = _two_groups()

    fit = poisson_ratio(outcome, group)

    assert fit.interval.estimate == pytest.approx(2.0)
    assert fit.log_se == pytest.approx(0.447214, abs=1e-6)
    assert fit.interval.low == pytest.approx(2 * math.exp(-1.959964 * 0.447214))


def test_modified_poisson_without_events_is_not_fitted() -> None:
    outcome = np.r_[np.ones(5), np.zeros(15), np.zeros(20)]
    group = np.r_[np.ones(20), np.zeros(20)]

    fit = poisson_ratio(outcome, group)

    assert fit.interval.estimate is None


def test_revenue_ratio_per_day_observed() -> None:
    """With the behaviour: 400 won over 1 + 1 + 2 + 2 = 6 days, 66.67 a day;
    without it: 100 over 4 days, 25 a day; the ratio of means is 2.6667.
    """
    amounts = np.array([100, 0, 300, 0, 50, 50, 0, 0], dtype=float)
    group = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    days = np.array([1, 1, 2, 2, 1, 1, 1, 1], dtype=float)

    fit = poisson_ratio(amounts, group, exposure=days)
    check = ratio_of_means_bootstrap(amounts, group, exposure=days, resamples=50)

    assert fit.interval.estimate == pytest.approx(8 / 3)
    assert check.estimate == pytest.approx(8 / 3)


def test_bootstrap_interval_covers_estimate() -> None:
    rng = np.random.default_rng(3)
    amounts = np.r_[rng.exponential(200, 300), rng.exponential(100, 300)]
    group = np.r_[np.ones(300), np.zeros(300)]

    check = ratio_of_means_bootstrap(amounts, group, resamples=300, seed=4)

    assert check.low < check.estimate < check.high


def test_covariate_matrix_drops_most_common_level() -> None:
    partners = pd.DataFrame({"tier": ["gold", "silver", "silver", None]})

    matrix = covariate_matrix(partners, ["tier"])

    # silver is the most common level and the reference; a missing tier is a level.
    assert list(matrix.columns) == ["tier=(missing)", "tier=gold"]
    assert matrix["tier=gold"].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_balance_table_by_hand() -> None:
    """Gold is 3 of 4 with the behaviour and 1 of 4 without it: shares 0.75 and
    0.25, each with variance 0.1875, so the standardized difference is
    0.5 / sqrt(0.1875) = 1.154701.
    """
    partners = pd.DataFrame(
        {"tier": ["gold"] * 3 + ["silver", "gold"] + ["silver"] * 3}
    )
    done = pd.Series([True] * 4 + [False] * 4)

    rows = standardized_differences(partners, done, ["tier"])

    gold = next(row for row in rows if row["covariate"] == "tier=gold")
    assert gold["mean_with"] == pytest.approx(0.75)
    assert gold["mean_without"] == pytest.approx(0.25)
    assert gold["standardized_difference"] == pytest.approx(1.154701, abs=1e-6)
