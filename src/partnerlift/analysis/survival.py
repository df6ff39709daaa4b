"""Time-to-event estimators: days until a partner's first deal.

Partners without a deal by the end of the horizon are censored there, not dropped.
Kaplan-Meier curves, the log-rank test, the restricted mean time within the horizon
with a bootstrap interval for the difference, a Weibull accelerated-failure-time
ratio ("40% sooner" is a time ratio of 0.6), and a Cox model in which a behaviour
that can start at any time is a time-varying covariate.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from partnerlift.analysis.estimators import Interval
from partnerlift.analysis.regression import resample_counts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Curve:
    """A Kaplan-Meier curve: the share still without the event after each time."""

    times: list[float]
    survival: list[float]


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> Curve:
    """Return the Kaplan-Meier estimate of the share without the event over time.

    ``durations`` are the times to the event or to censoring, ``observed`` whether
    the event happened then. The curve starts at time 0 with 1.0 and steps at each
    distinct event time.
    """
    durations = np.asarray(durations, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    if len(durations) == 0:
        return Curve([0.0], [1.0])
    times, inverse = np.unique(durations, return_inverse=True)
    survival = _km_steps(inverse, observed, len(times), np.ones(len(durations)))
    keep = np.bincount(inverse, weights=observed.astype(float), minlength=len(times))
    step_times = times[keep > 0]
    step_values = survival[keep > 0]
    return Curve(
        [0.0, *(float(value) for value in step_times)],
        [1.0, *(float(value) for value in step_values)],
    )


def _km_steps(
    inverse: np.ndarray, observed: np.ndarray, n_times: int, weights: np.ndarray
) -> np.ndarray:
    """Kaplan-Meier survival after each distinct time, with case weights."""
    events = np.bincount(inverse, weights=weights * observed, minlength=n_times)
    leaving = np.bincount(inverse, weights=weights, minlength=n_times)
    at_risk = np.cumsum(leaving[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - events / at_risk, 1.0)
    return np.cumprod(factor)


def _km_matrix(
    inverse: np.ndarray, observed: np.ndarray, n_times: int, weights: np.ndarray
) -> np.ndarray:
    """Kaplan-Meier survival after each distinct time for each row of case
    ``weights`` (one row per bootstrap sample).
    """
    rows = weights.shape[0]
    offsets = (np.arange(rows)[:, None] * n_times + inverse[None, :]).ravel()
    flat = weights.ravel()
    events = np.bincount(
        offsets, weights=flat * np.tile(observed, rows), minlength=rows * n_times
    ).reshape(rows, n_times)
    leaving = np.bincount(offsets, weights=flat, minlength=rows * n_times).reshape(
        rows, n_times
    )
    at_risk = np.cumsum(leaving[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - events / at_risk, 1.0)
    return np.cumprod(factor, axis=1)


def restricted_mean(curve: Curve, horizon: float) -> float:
    """Return the area under ``curve`` from 0 to ``horizon``: the restricted mean
    time without the event.
    """
    times = np.array([*curve.times, horizon], dtype=float)
    values = np.array(curve.survival, dtype=float)
    times = np.clip(times, 0, horizon)
    return float(np.sum(np.diff(times) * values))


def median_time(curve: Curve) -> float | None:
    """Return the first time the curve reaches one half, or None if it never does."""
    for time, value in zip(curve.times, curve.survival, strict=True):
        if value <= 0.5:
            return time
    return None


def logrank(
    durations: np.ndarray, observed: np.ndarray, group: np.ndarray
) -> tuple[float, float]:
    """Return the log-rank chi-square statistic and its p-value (1 degree of freedom)
    for the difference between the curves of ``group`` True and False.
    """
    durations = np.asarray(durations, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    group = np.asarray(group, dtype=bool)
    times, inverse = np.unique(durations, return_inverse=True)
    n_times = len(times)
    events = np.bincount(inverse, weights=observed.astype(float), minlength=n_times)
    events_1 = np.bincount(
        inverse, weights=(observed & group).astype(float), minlength=n_times
    )
    leaving = np.bincount(inverse, minlength=n_times).astype(float)
    leaving_1 = np.bincount(inverse, weights=group.astype(float), minlength=n_times)
    at_risk = np.cumsum(leaving[::-1])[::-1]
    at_risk_1 = np.cumsum(leaving_1[::-1])[::-1]
    used = (events > 0) & (at_risk > 1)
    d, n, d1, n1 = events[used], at_risk[used], events_1[used], at_risk_1[used]
    expected = d * n1 / n
    variance = d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    total_variance = float(variance.sum())
    if total_variance <= 0:
        return 0.0, 1.0
    statistic = float((d1.sum() - expected.sum()) ** 2 / total_variance)
    return statistic, float(stats.chi2.sf(statistic, 1))


def restricted_mean_difference(
    durations: np.ndarray,
    observed: np.ndarray,
    group: np.ndarray,
    horizon: float,
    *,
    resamples: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float, Interval]:
    """Return both groups' restricted mean times and their difference (with minus
    without) with a percentile bootstrap interval.

    The bootstrap resamples partners within each group, ``resamples`` times.

    Returns
    -------
    tuple
        The restricted mean with the behaviour, the one without it, and the
        difference as an :class:`Interval`.
    """
    durations = np.minimum(np.asarray(durations, dtype=float), horizon)
    observed = np.asarray(observed, dtype=bool)
    group = np.asarray(group, dtype=bool)
    means = []
    samples = []
    rng = np.random.default_rng(seed)
    for member in (True, False):
        chosen = group == member
        times, inverse = np.unique(durations[chosen], return_inverse=True)
        events = observed[chosen]
        widths = np.diff(np.concatenate([[0.0], times, [horizon]]))
        size = int(chosen.sum())
        if not np.any(~events & (durations[chosen] < horizon)):
            # Censored only at the horizon: the curve is one minus the empirical
            # distribution, and its area is the mean of min(time, horizon).
            capped = durations[chosen]
            means.append(float(capped.mean()))
            picks = rng.integers(0, size, size=(resamples, size))
            samples.append(capped[picks].mean(axis=1))
            continue
        weights = np.vstack([np.ones(size), resample_counts(rng, size, resamples)])
        survival = _km_matrix(inverse, events, len(times), weights)
        areas = widths[0] + survival @ widths[1:]
        means.append(float(areas[0]))
        samples.append(areas[1:])
    difference = means[0] - means[1]
    spread = samples[0] - samples[1]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(spread, [tail, 100 - tail])
    return means[0], means[1], Interval(difference, float(low), float(high))


def weibull_time_ratio(
    durations: np.ndarray,
    observed: np.ndarray,
    group: np.ndarray,
    covariates: pd.DataFrame | None = None,
    *,
    level: float = 0.95,
) -> Interval:
    """Estimate the time ratio of a Weibull accelerated-failure-time model.

    A ratio of 0.6 means the partners with the behaviour reach the event in 60% of
    the time of comparable partners without it: 40% sooner. ``covariates`` (numeric
    columns, such as dummy-coded tiers) adjust the ratio. The model is fitted by
    maximum likelihood; the interval is ``exp(b +/- z se)``.

    Returns
    -------
    Interval
        All None when the fit does not converge.
    """
    durations = np.maximum(np.asarray(durations, dtype=float), 1e-3)
    observed = np.asarray(observed, dtype=float)
    columns = [np.asarray(group, dtype=float)]
    if covariates is not None and covariates.shape[1]:
        columns.extend(covariates.to_numpy(dtype=float).T)
    design = np.column_stack([np.ones(len(durations)), *columns])
    log_t = np.log(durations)

    fitted = _weibull_newton(log_t, observed, design)
    if fitted is None:
        return Interval(None, None, None)
    params, covariance = fitted
    standard_error = math.sqrt(max(covariance[1, 1], 0.0))
    coefficient = float(params[1])
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    return Interval(
        math.exp(coefficient),
        math.exp(coefficient - z * standard_error),
        math.exp(coefficient + z * standard_error),
    )


def _weibull_terms(
    params: np.ndarray, log_t: np.ndarray, observed: np.ndarray, design: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Negative log-likelihood of the Weibull AFT model, its gradient and Hessian.

    With ``z = (log t - X b) / s`` and ``s = exp(log_sigma)`` the log-likelihood is
    ``sum(d (z - log_sigma) - exp(z))``, without the constant ``-sum(d log t)``.
    """
    beta, log_sigma = params[:-1], float(np.clip(params[-1], -50.0, 50.0))
    sigma = math.exp(log_sigma)
    z = np.clip((log_t - design @ beta) / sigma, -500.0, 500.0)
    ez = np.exp(z)
    value = float(-np.sum(observed * (z - log_sigma) - ez))
    residual = observed - ez
    gradient = np.concatenate(
        [design.T @ residual / sigma, [np.sum(residual * z) + np.sum(observed)]]
    )
    size = design.shape[1]
    hessian = np.empty((size + 1, size + 1))
    hessian[:size, :size] = design.T @ (design * ez[:, None]) / sigma**2
    cross = design.T @ (ez * z - residual) / sigma
    hessian[:size, size] = cross
    hessian[size, :size] = cross
    hessian[size, size] = float(np.sum(ez * z * z - residual * z))
    return value, gradient, hessian


def _damped_step(
    hessian: np.ndarray, gradient: np.ndarray, identity: np.ndarray
) -> np.ndarray:
    """Solve for a Newton step, adding to the Hessian's diagonal until it is
    positive definite, so the step always goes downhill.
    """
    damping = 0.0
    while True:
        try:
            factor = np.linalg.cholesky(hessian + damping * identity)
        except np.linalg.LinAlgError:
            damping = max(1e-6, damping * 10)
            continue
        return np.linalg.solve(factor.T, np.linalg.solve(factor, gradient))


def _weibull_newton(
    log_t: np.ndarray, observed: np.ndarray, design: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Maximise the Weibull AFT likelihood by Newton steps, halving a step that
    does not improve it; return the estimates and their covariance (the inverse
    Hessian), or None when it does not converge.
    """
    params = np.zeros(design.shape[1] + 1)
    params[0] = float(np.mean(log_t))
    value, gradient, hessian = _weibull_terms(params, log_t, observed, design)
    identity = np.eye(len(params))
    for _ in range(200):
        step = _damped_step(hessian, gradient, identity)
        scale = 1.0
        while True:
            trial = params - scale * step
            trial_value, trial_gradient, trial_hessian = _weibull_terms(
                trial, log_t, observed, design
            )
            if np.isfinite(trial_value) and trial_value <= value + 1e-12:
                break
            scale /= 2
            if scale < 1e-10:
                return None
        params = trial
        value, gradient, hessian = trial_value, trial_gradient, trial_hessian
        if np.max(np.abs(scale * step)) < 1e-10:
            break
    else:
        return None
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(covariance)):
        return None
    return params, covariance


def time_varying_table(
    subjects: pd.DataFrame, *, behavior: str = "behavior"
) -> pd.DataFrame:
    """Split each subject's follow-up where the behaviour starts.

    ``subjects`` has one row per subject with ``id``, ``end`` (time of the event or
    of censoring, from the start of follow-up at 0), ``event`` (bool) and
    ``behavior_start`` (the time the behaviour began, or NaN if it never did before
    ``end``), plus any fixed covariates. The result has one row per interval:
    ``id``, ``start``, ``stop``, ``event`` (only on the last interval),
    ``behavior`` (0 before the start, 1 from it) and the fixed covariates. A
    behaviour that starts at or after ``end`` does not count: it cannot have come
    before the event.
    """
    rows = []
    extra = [
        name
        for name in subjects.columns
        if name not in ("id", "end", "event", "behavior_start")
    ]
    for record in subjects.itertuples(index=False):
        values = record._asdict()
        end = float(values["end"])
        began = values["behavior_start"]
        fixed = {name: values[name] for name in extra}
        event = bool(values["event"])
        if began is None or pd.isna(began) or float(began) >= end:
            rows.append((values["id"], 0.0, end, event, 0, fixed))
        elif float(began) <= 0:
            rows.append((values["id"], 0.0, end, event, 1, fixed))
        else:
            rows.append((values["id"], 0.0, float(began), False, 0, fixed))
            rows.append((values["id"], float(began), end, event, 1, fixed))
    table = pd.DataFrame(
        {
            "id": [row[0] for row in rows],
            "start": [row[1] for row in rows],
            "stop": [row[2] for row in rows],
            "event": [row[3] for row in rows],
            behavior: [row[4] for row in rows],
        }
    )
    for name in extra:
        table[name] = [row[5][name] for row in rows]
    return table


def cox_time_varying(
    table: pd.DataFrame, *, behavior: str = "behavior", level: float = 0.95
) -> Interval:
    """Fit a Cox model on a table of :func:`time_varying_table` and return the
    hazard ratio of ``behavior`` with its Wald interval.

    Every column other than ``id``, ``start``, ``stop`` and ``event`` is a
    covariate. All None when lifelines cannot fit the model.
    """
    return cox_time_varying_fit(table, behavior=behavior, level=level)[0]


def cox_time_varying_fit(
    table: pd.DataFrame, *, behavior: str = "behavior", level: float = 0.95
) -> tuple[Interval, float | None, float | None]:
    """Fit the time-varying Cox model of :func:`cox_time_varying`.

    Returns
    -------
    tuple
        The hazard ratio's :class:`Interval`, the Wald test's p-value and the
        standard error of the log hazard ratio (None when not fitted).
    """
    from lifelines import CoxTimeVaryingFitter

    fitter = CoxTimeVaryingFitter()
    data = table.copy()
    data["event"] = data["event"].astype(bool)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitter.fit(data, id_col="id", event_col="event", show_progress=False)
    except Exception as error:  # lifelines raises several kinds on a failed fit
        logger.warning("The time-varying Cox model did not fit: %s", error)
        return Interval(None, None, None), None, None
    coefficient = float(fitter.params_[behavior])
    standard_error = float(fitter.standard_errors_[behavior])
    if not (math.isfinite(coefficient) and math.isfinite(standard_error)):
        return Interval(None, None, None), None, None
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    p_value = float(2 * stats.norm.sf(abs(coefficient / standard_error)))
    interval = Interval(
        math.exp(coefficient),
        math.exp(coefficient - z * standard_error),
        math.exp(coefficient + z * standard_error),
    )
    return interval, p_value, standard_error
