from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnerlift.analysis.survival import (
    cox_time_varying,
    kaplan_meier,
    logrank,
    median_time,
    restricted_mean,
    restricted_mean_difference,
    time_varying_table,
    weibull_time_ratio,
)

# Gehan (1965) 6-MP leukaemia remission data, 21 pairs, typed in from the
# published table (R: MASS::gehan): weeks in remission, 1 = relapse, 0 = censored.
SIX_MP = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_RELAPSED = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def _gehan() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    durations = np.array(SIX_MP + PLACEBO, dtype=float)
    observed = np.array(SIX_MP_RELAPSED + [1] * 21, dtype=bool)
    treated = np.array([True] * 21 + [False] * 21)
    return durations, observed, treated


def test_logrank_gehan_chi_square() -> None:
    """R: survdiff(Surv(time, cens) ~ treat, data = MASS::gehan) gives the
    chi-square 16.8 on 1 degree of freedom (16.79 to two decimals).
    """
    durations, observed, treated = _gehan()

    statistic, p_value = logrank(durations, observed, treated)

    assert statistic == pytest.approx(16.79, abs=0.005)
    assert p_value < 1e-4


def test_kaplan_meier_six_mp_published() -> None:
    """Kaplan-Meier estimates of the 6-MP group as published (Freireich et al.,
    1963; e.g. Kleinbaum and Klein, Survival Analysis, table 2.1).
    """
    durations, observed, treated = _gehan()

    curve = kaplan_meier(durations[treated], observed[treated])

    assert curve.times == [0.0, 6.0, 7.0, 10.0, 13.0, 16.0, 22.0, 23.0]
    assert curve.survival == pytest.approx(
        [1.0, 0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482], abs=1e-4
    )


def test_median_six_mp_is_23_weeks() -> None:
    # The 6-MP curve first falls to 0.5 or below at 23 weeks (0.4482).
    durations, observed, treated = _gehan()

    median = median_time(kaplan_meier(durations[treated], observed[treated]))

    assert median == 23.0


def test_median_missing_when_curve_stays_high() -> None:
    curve = kaplan_meier(np.array([5.0, 10.0, 10.0]), np.array([True, False, False]))

    assert median_time(curve) is None


def test_restricted_mean_six_mp_by_hand() -> None:
    """Area under the 6-MP curve up to 23 weeks:
    6 * 1 + 1 * 0.857143 + 3 * 0.806723 + 3 * 0.752941 + 3 * 0.690196
    + 6 * 0.627451 + 1 * 0.537815 = 17.909244.
    """
    durations, observed, treated = _gehan()

    area = restricted_mean(
        kaplan_meier(durations[treated], observed[treated]), horizon=23.0
    )

    assert area == pytest.approx(17.909244, abs=1e-5)


def test_restricted_mean_difference_interval() -> None:
    """Placebo up to 23 weeks: every patient relapsed, so the curve falls to
    19, 17, 16, 14, 12, 8, 6, 4, 3, 2, 1 and 0 of 21 at weeks 1, 2, 3, 4, 5, 8,
    11, 12, 15, 17, 22 and 23; its area is (21 + 19 + 17 + 16 + 14 + 3 * 12
    + 3 * 8 + 6 + 3 * 4 + 2 * 3 + 5 * 2 + 1) / 21 = 182 / 21 = 8.666667, so the
    difference is 17.909244 - 8.666667 = 9.242577 weeks.
    """
    durations, observed, treated = _gehan()

    with_mean, without_mean, difference = restricted_mean_difference(
        durations, observed, treated, 23.0, resamples=200, seed=1
    )

    assert with_mean == pytest.approx(17.909244, abs=1e-5)
    assert without_mean == pytest.approx(8.666667, abs=1e-5)
    assert difference.estimate == pytest.approx(9.242577, abs=1e-5)
    assert difference.low < difference.estimate < difference.high
    assert difference.low > 0


def test_weibull_time_ratio_gehan_against_survreg() -> None:
    """Venables and Ripley, Modern Applied Statistics with S, section 13.4:
    survreg(Surv(time, cens) ~ factor(treat), gehan, dist = "weibull") gives the
    treatment coefficient 1.267 (scale 0.732), a time ratio of exp(1.267) = 3.55
    for 6-MP against placebo.
    """
    durations, observed, treated = _gehan()

    ratio = weibull_time_ratio(durations, observed, treated)

    assert np.log(ratio.estimate) == pytest.approx(1.267, abs=1e-3)
    assert ratio.low < ratio.estimate < ratio.high


def test_time_varying_table_splits_at_start() -> None:
    subjects = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "end": [10.0, 8.0, 5.0, 6.0],
            "event": [True, False, True, True],
            "behavior_start": [4.0, float("nan"), 7.0, 0.0],
        }
    )

    table = time_varying_table(subjects)

    # a: 0-4 without, 4-10 with and the event; b: never; c: started after its
    # event, so never; d: from the start.
    assert table["id"].tolist() == ["a", "a", "b", "c", "d"]
    assert table["start"].tolist() == [0.0, 4.0, 0.0, 0.0, 0.0]
    assert table["stop"].tolist() == [4.0, 10.0, 8.0, 5.0, 6.0]
    assert table["event"].tolist() == [False, True, False, True, True]
    assert table["behavior"].tolist() == [0, 1, 0, 0, 1]


def _stanford_subjects() -> pd.DataFrame:
    from lifelines.datasets import load_stanford_heart_transplants

    intervals = load_stanford_heart_transplants()
    subjects = intervals.groupby("id").agg(end=("stop", "max"), event=("event", "max"))
    began = intervals[intervals["transplant"] == 1].groupby("id")["start"].min()
    subjects["behavior_start"] = began
    subjects["event"] = subjects["event"].astype(bool)
    return subjects.reset_index()


def test_stanford_transplant_time_varying() -> None:
    """Stanford heart transplant data (Crowley and Hu 1977: 103 patients, 69
    transplanted; bundled with lifelines). The transplant as a time-varying
    covariate gives a hazard ratio of death of about 1.14.
    """
    table = time_varying_table(_stanford_subjects())

    ratio = cox_time_varying(table)

    assert ratio.estimate == pytest.approx(1.14, abs=0.01)
    assert ratio.low < 1 < ratio.high


def test_stanford_split_matches_published_rows() -> None:
    """Our split of one row per patient gives the same fit as lifelines'
    CoxTimeVaryingFitter on the data set's own start-stop rows.
    """
    from lifelines import CoxTimeVaryingFitter
    from lifelines.datasets import load_stanford_heart_transplants

    rows = load_stanford_heart_transplants()[
        ["id", "start", "stop", "event", "transplant"]
    ]
    reference = CoxTimeVaryingFitter().fit(rows, id_col="id", event_col="event")

    ratio = cox_time_varying(time_varying_table(_stanford_subjects()))

    expected = float(reference.hazard_ratios_["transplant"])
    assert ratio.estimate == pytest.approx(expected, rel=1e-6)


def test_stanford_ever_transplanted_is_biased() -> None:
    """ "Ever transplanted" as a fixed covariate credits the transplant with the
    wait that patients had to survive to get one, so the hazard ratio falls to
    about 0.27. It is fitted here with lifelines' CoxPHFitter because partnerlift
    does not offer this design.
    """
    from lifelines import CoxPHFitter

    subjects = _stanford_subjects()
    subjects["ever"] = subjects["behavior_start"].notna().astype(float)
    fitter = CoxPHFitter()

    fitter.fit(subjects[["end", "event", "ever"]], "end", "event")

    assert float(fitter.hazard_ratios_["ever"]) == pytest.approx(0.27, abs=0.01)
