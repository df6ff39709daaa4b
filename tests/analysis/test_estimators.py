from __future__ import annotations

import pytest

from partnerlift.analysis.estimators import (
    Stratum,
    bh_q_values,
    detectable_risk_ratio,
    e_value,
    fisher_exact_p,
    mantel_haenszel_odds_ratio,
    mantel_haenszel_risk_ratio,
    odds_ratio_woolf,
    proportion,
    risk_difference_score,
    risk_ratio_score,
    wilson_interval,
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


@pytest.mark.parametrize(
    ("events", "total", "low", "high"),
    [
        pytest.param(81, 263, 0.2553, 0.3662, id="81of263"),
        pytest.param(15, 148, 0.0624, 0.1605, id="15of148"),
        pytest.param(0, 20, 0.0, 0.1611, id="0of20"),
    ],
)
def test_wilson_interval_newcombe_examples(
    events: int, total: int, low: float, high: float
) -> None:
    """Newcombe (1998), Stat Med 17:857-872, Table II, method 3 (Wilson score
    interval without continuity correction).
    """
    result = wilson_interval(events, total)

    assert result.low == pytest.approx(low, abs=1e-4)
    assert result.high == pytest.approx(high, abs=1e-4)


def test_wilson_interval_of_empty_group() -> None:
    result = wilson_interval(0, 0)

    assert result.estimate is None


def test_odds_ratio_woolf_by_hand() -> None:
    """10/20 against 5/20: odds 1 against 1/3, so the odds ratio is 3.
    se(log OR) = sqrt(1/10 + 1/10 + 1/5 + 1/15) = 0.683130;
    95% CI = 3 * exp(-/+ 1.959964 * 0.683130) = 0.786393 to 11.444653.
    """
    result = odds_ratio_woolf(10, 20, 5, 20)

    assert result.estimate == pytest.approx(3.0)
    assert result.low == pytest.approx(0.786393, abs=1e-5)
    assert result.high == pytest.approx(11.444653, abs=1e-4)


def test_odds_ratio_with_empty_cell() -> None:
    result = odds_ratio_woolf(20, 20, 5, 20)

    assert result.estimate is None


# The 1973 UC Berkeley graduate admissions by department (R's datasets::UCBAdmissions),
# typed in from R: (admitted, rejected) for men, then for women.
BERKELEY = {
    "A": ((512, 313), (89, 19)),
    "B": ((353, 207), (17, 8)),
    "C": ((120, 205), (202, 391)),
    "D": ((138, 279), (131, 244)),
    "E": ((53, 138), (94, 299)),
    "F": ((22, 351), (24, 317)),
}


def _berkeley_strata(tables: dict) -> list[Stratum]:
    # "With" is being a man, the event is admission.
    return [
        Stratum(men[0], sum(men), women[0], sum(women))
        for men, women in tables.values()
    ]


def test_mantel_haenszel_odds_ratio_berkeley() -> None:
    """R: mantelhaen.test(UCBAdmissions) gives the common odds ratio 0.9046968
    with the 95% interval 0.7719074 to 1.0603298 (men against women, admitted).
    The six departments' 2x2 tables are typed in from R's UCBAdmissions.
    """
    result = mantel_haenszel_odds_ratio(_berkeley_strata(BERKELEY))

    assert result.estimate == pytest.approx(0.9046968, abs=1e-6)
    assert result.low == pytest.approx(0.7719074, abs=1e-6)
    assert result.high == pytest.approx(1.0603298, abs=1e-6)


def test_mantel_haenszel_odds_ratio_statsmodels_reference() -> None:
    """statsmodels' test suite runs R's mantelhaen.test on the Berkeley tables
    with the odds of rejection and department D's men as 139 admitted and 278
    rejected (UCBAdmissions has 138 and 279), and records the common odds ratio
    1.101879 with the 95% interval 0.9402012 to 1.2913602. The tables are typed
    in as that test has them.
    """
    tables = dict(BERKELEY)
    tables["D"] = ((139, 278), (131, 244))
    # The event is rejection: swap admitted and rejected.
    strata = [
        Stratum(men[1], sum(men), women[1], sum(women))
        for men, women in tables.values()
    ]

    result = mantel_haenszel_odds_ratio(strata)

    assert result.estimate == pytest.approx(1.101879, abs=1e-6)
    assert result.low == pytest.approx(0.9402012, abs=1e-6)
    assert result.high == pytest.approx(1.2913602, abs=1e-6)


def test_e_value_vanderweele_ding_example() -> None:
    """VanderWeele and Ding (2017), Ann Intern Med 167:268-274: a risk ratio of
    3.9 (95% CI 1.8 to 8.7) has the E-value 3.9 + sqrt(3.9 * 2.9) = 7.26, and its
    lower bound 1.8 + sqrt(1.8 * 0.8) = 3.0.
    """
    point, bound = e_value(3.9, 1.8, 8.7)

    assert point == pytest.approx(7.263, abs=1e-3)
    assert bound == pytest.approx(3.0)


def test_e_value_of_protective_ratio() -> None:
    # 0.5 is treated as 1 / 0.5 = 2: 2 + sqrt(2 * 1) = 3.414214.
    point, bound = e_value(0.5, 0.2, 1.3)

    assert point == pytest.approx(3.414214, abs=1e-6)
    assert bound == 1.0


def test_detectable_ratio_fleiss_sample_size() -> None:
    """Fleiss, Statistical Methods for Rates and Proportions: 93 per group detect
    0.5 against 0.3 (two-sided 5%, 80% power, no continuity correction), a risk
    ratio of 0.5 / 0.3 = 1.667.
    """
    ratio = detectable_risk_ratio(93, 93, 0.3)

    assert ratio == pytest.approx(1.667, abs=0.005)


def test_detectable_ratio_out_of_reach() -> None:
    # With 3 partners per group even a rate of 1 against 0.9 is not detectable.
    ratio = detectable_risk_ratio(3, 3, 0.9)

    assert ratio is None
