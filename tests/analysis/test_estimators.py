from __future__ import annotations

import pytest

from partnerlift.analysis.estimators import (
    Stratum,
    bh_q_values,
    fisher_exact_p,
    mantel_haenszel_risk_ratio,
    proportion,
    risk_difference_score,
    risk_ratio_score,
)


def test_risk_ratio_score_interval_against_r() -> None:
    """Koopman score interval, against R.

    R: PropCIs::riskscoreci(7, 34, 1, 34, conf.level = 0.95)
    gives the 95% interval 1.220853 to 42.575718.
    """
    result = risk_ratio_score(7, 34, 1, 34)

    assert result.estimate == pytest.approx(7.0)  # (7/34) / (1/34)
    assert result.low == pytest.approx(1.220853, abs=1e-5)
    assert result.high == pytest.approx(42.575718, abs=1e-5)


def test_risk_ratio_without_events_is_undefined() -> None:
    result = risk_ratio_score(7, 34, 0, 34)

    assert result.estimate is None
    assert result.low is None


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    [
        pytest.param((56, 70, 48, 80), 0.0524, 0.3339, id="56of70-48of80"),
        pytest.param((9, 10, 3, 10), 0.1705, 0.8090, id="9of10-3of10"),
    ],
)
def test_risk_difference_newcombe_published_examples(
    counts: tuple[int, int, int, int], low: float, high: float
) -> None:
    """Newcombe (1998), Stat Med 17:873-890, method 10 (hybrid Wilson score, no
    continuity correction), as the R package propint checks them in its tests.
    """
    result = risk_difference_score(*counts)

    assert result.low == pytest.approx(low, abs=1e-4)
    assert result.high == pytest.approx(high, abs=1e-4)


def test_risk_difference_estimate() -> None:
    result = risk_difference_score(56, 70, 48, 80)

    assert result.estimate == pytest.approx(0.2)  # 0.8 - 0.6


def test_fisher_exact_tea_tasting() -> None:
    """R: fisher.test(matrix(c(3, 1, 1, 3), 2))$p.value is 0.4857143 (34 / 70)."""
    p_value = fisher_exact_p(3, 4, 1, 4)

    assert p_value == pytest.approx(34 / 70)


def test_bh_q_values_against_r() -> None:
    """R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "BH")."""
    q_values = bh_q_values([0.01, 0.04, 0.03, 0.005, 0.2])

    assert q_values == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.2])


def test_bh_q_values_keep_missing_in_place() -> None:
    # R: p.adjust(c(0.01, 0.04), "BH") is 0.02, 0.04.
    q_values = bh_q_values([0.01, None, 0.04])

    assert q_values[0] == pytest.approx(0.02)
    assert q_values[1] is None
    assert q_values[2] == pytest.approx(0.04)


def test_bh_q_values_all_missing() -> None:
    q_values = bh_q_values([None, None])

    assert q_values == [None, None]


def test_mantel_haenszel_two_strata_by_hand() -> None:
    """Two strata, each with a risk ratio of 2.

    Stratum 1: 10/20 with, 5/20 without, N = 40.
    Stratum 2: 6/30 with, 4/40 without, N = 70.
    sum(a n0 / N) = 10*20/40 + 6*40/70 = 5 + 3.428571 = 8.428571
    sum(c n1 / N) = 5*20/40 + 4*30/70 = 2.5 + 1.714286 = 4.214286
    RR_MH = 8.428571 / 4.214286 = 2
    Greenland-Robins: sum((n1 n0 M1 - a c N) / N^2)
        = (20*20*15 - 10*5*40) / 1600 + (30*40*10 - 6*4*70) / 4900
        = 2.5 + 2.106122 = 4.606122
    var(log RR) = 4.606122 / (8.428571 * 4.214286) = 0.129675, se = 0.360105
    95% CI = 2 * exp(-/+ 1.959964 * 0.360105) = 0.987435 to 4.050901
    """
    strata = [Stratum(10, 20, 5, 20), Stratum(6, 30, 4, 40)]

    result = mantel_haenszel_risk_ratio(strata)

    assert result.estimate == pytest.approx(2.0)
    assert result.low == pytest.approx(0.987435, abs=1e-5)
    assert result.high == pytest.approx(4.050901, abs=1e-5)


def test_mantel_haenszel_skips_one_sided_stratum() -> None:
    # The second stratum has no partner without the behaviour, so only the first counts:
    # 10/20 against 5/20 is 2.
    strata = [Stratum(10, 20, 5, 20), Stratum(3, 7, 0, 0)]

    result = mantel_haenszel_risk_ratio(strata)

    assert result.estimate == pytest.approx(2.0)


def test_mantel_haenszel_without_events_is_undefined() -> None:
    result = mantel_haenszel_risk_ratio([Stratum(4, 20, 0, 20)])

    assert result.estimate is None


def test_proportion_of_empty_group() -> None:
    assert proportion(0, 0) is None
