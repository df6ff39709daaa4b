"""Regression estimators: ratios adjusted for partner covariates.

A binary outcome uses modified Poisson regression (a log-link Poisson model with
robust standard errors, Zou 2004), which estimates a risk ratio, never an odds
ratio. Revenue uses a Poisson-family model of the amount with the days observed as
exposure, so the ratio is a ratio of means per day, with robust standard errors.
Deals clustered within partners get partner-clustered standard errors.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from partnerlift.analysis.estimators import Interval
from partnerlift.analysis.study import PRIOR_REVENUE

logger = logging.getLogger(__name__)

MISSING_LEVEL = "(missing)"


@dataclass(frozen=True)
class RatioFit:
    """A fitted ratio: estimate and interval, the standard error of its logarithm
    and the two-sided Wald p-value.
    """

    interval: Interval
    log_se: float | None
    p_value: float | None


NOT_FITTED = RatioFit(Interval(None, None, None), None, None)


def covariate_matrix(partners: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Code covariates as numeric columns for a regression.

    Each category column becomes indicator columns, one per level but the most
    common (a missing value is a level of its own). ``prior_revenue`` enters as the
    prior period's revenue divided by its standard deviation, plus an indicator of
    any prior revenue, so one large partner does not dominate.
    """
    columns: dict[str, np.ndarray] = {}
    for name in covariates:
        if name == PRIOR_REVENUE:
            values = partners[name].astype(float).fillna(0.0).to_numpy()
            spread = float(np.std(values))
            if spread > 0:
                columns[f"{name}_scaled"] = values / spread
                columns[f"{name}_any"] = (values > 0).astype(float)
            continue
        levels = partners[name].astype("object").fillna(MISSING_LEVEL).astype(str)
        codes, uniques = pd.factorize(levels, sort=True)
        reference = int(np.argmax(np.bincount(codes, minlength=len(uniques))))
        for code, level in enumerate(uniques):
            if code == reference:
                continue
            columns[f"{name}={level}"] = (codes == code).astype(float)
    frame = pd.DataFrame(columns, index=partners.index)
    # A column that never varies carries no information and breaks the fit.
    keep = [name for name in frame.columns if frame[name].nunique() > 1]
    return frame[keep]


def poisson_ratio(
    outcome: np.ndarray,
    group: np.ndarray,
    covariates: pd.DataFrame | None = None,
    *,
    exposure: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    level: float = 0.95,
) -> RatioFit:
    """Fit a log-link Poisson model and return the ratio for ``group``.

    With a 0/1 ``outcome`` the ratio is a risk ratio (modified Poisson); with an
    amount and ``exposure`` (days observed) it is a ratio of means per day. The
    standard errors are robust (HC0), or clustered by ``clusters`` when given.

    Returns
    -------
    RatioFit
        Not fitted (all None) when the model does not converge or the group has
        no outcome at all.
    """
    outcome = np.asarray(outcome, dtype=float)
    group = np.asarray(group, dtype=float)
    parts = [np.ones(len(outcome)), group]
    if covariates is not None and covariates.shape[1]:
        parts.extend(covariates.to_numpy(dtype=float).T)
    design = np.column_stack(parts)
    offset = None if exposure is None else np.log(np.asarray(exposure, dtype=float))
    if outcome[group == 1].sum() <= 0 or outcome[group == 0].sum() <= 0:
        return NOT_FITTED
    if clusters is not None:
        return _statsmodels_clustered(outcome, design, offset, clusters, level)
    fitted = _poisson_newton(outcome, design, offset)
    if fitted is None:
        return NOT_FITTED
    params, covariance = fitted
    return _ratio_fit(float(params[1]), float(np.sqrt(covariance[1, 1])), level)


def _poisson_newton(
    outcome: np.ndarray, design: np.ndarray, offset: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Fit a log-link Poisson model by Newton-Raphson; return the coefficients and
    their robust (HC0 sandwich) covariance, or None when the fit fails.
    """
    base = np.zeros(len(outcome)) if offset is None else offset
    params = np.zeros(design.shape[1])
    params[0] = math.log(max(outcome.mean(), 1e-12)) - float(np.mean(base))
    for _ in range(100):
        mean = np.exp(np.clip(design @ params + base, -700, 700))
        score = design.T @ (outcome - mean)
        information = design.T @ (design * mean[:, None])
        try:
            step = np.linalg.solve(information, score)
        except np.linalg.LinAlgError:
            return None
        params = params + step
        if np.max(np.abs(step)) < 1e-10:
            break
    else:
        return None
    mean = np.exp(design @ params + base)
    information = design.T @ (design * mean[:, None])
    scores = design * (outcome - mean)[:, None]
    try:
        bread = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return None
    covariance = bread @ (scores.T @ scores) @ bread
    if not np.all(np.isfinite(covariance)):
        return None
    return params, covariance


def _statsmodels_clustered(
    outcome: np.ndarray,
    design: np.ndarray,
    offset: np.ndarray | None,
    clusters: np.ndarray,
    level: float,
) -> RatioFit:
    codes = pd.factorize(pd.Series(clusters))[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.GLM(outcome, design, family=sm.families.Poisson(), offset=offset)
            result = model.fit(
                cov_type="cluster", cov_kwds={"groups": codes}, maxiter=100
            )
    except (np.linalg.LinAlgError, ValueError) as error:
        logger.warning("The Poisson model did not fit: %s", error)
        return NOT_FITTED
    return _ratio_fit(float(result.params[1]), float(result.bse[1]), level)


def _ratio_fit(coefficient: float, standard_error: float, level: float) -> RatioFit:
    if not (math.isfinite(coefficient) and math.isfinite(standard_error)):
        return NOT_FITTED
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    p_value = float(2 * stats.norm.sf(abs(coefficient / standard_error)))
    return RatioFit(
        Interval(
            math.exp(coefficient),
            math.exp(coefficient - z * standard_error),
            math.exp(coefficient + z * standard_error),
        ),
        standard_error,
        p_value,
    )


def resample_counts(rng: np.random.Generator, size: int, resamples: int) -> np.ndarray:
    """Return how often each of ``size`` units is drawn in each of ``resamples``
    bootstrap samples of ``size`` draws with replacement (``resamples`` x ``size``).
    """
    if size == 0 or resamples == 0:
        return np.zeros((resamples, size))
    draws = rng.integers(0, size, size=(resamples, size))
    flat = (np.arange(resamples)[:, None] * size + draws).ravel()
    counts = np.bincount(flat, minlength=resamples * size)
    return counts.reshape(resamples, size).astype(float)


def ratio_of_means_bootstrap(
    amounts: np.ndarray,
    group: np.ndarray,
    *,
    exposure: np.ndarray | None = None,
    resamples: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Return the ratio of mean amounts per day with a percentile bootstrap interval.

    Partners are resampled within each group. The estimate is
    ``(sum amount / sum days) with`` over the same without; the interval is None
    where a resample has no amount without the behaviour.
    """
    amounts = np.asarray(amounts, dtype=float)
    group = np.asarray(group, dtype=bool)
    days = np.ones(len(amounts)) if exposure is None else np.asarray(exposure, float)
    rates = []
    draws = []
    rng = np.random.default_rng(seed)
    for member in (True, False):
        chosen = group == member
        amount, time = amounts[chosen], days[chosen]
        size = len(amount)
        if size == 0 or time.sum() <= 0:
            return Interval(None, None, None)
        rates.append(amount.sum() / time.sum())
        picks = rng.integers(0, size, size=(resamples, size))
        draws.append(amount[picks].sum(axis=1) / time[picks].sum(axis=1))
    if rates[1] <= 0:
        return Interval(None, None, None)
    estimate = float(rates[0] / rates[1])
    if resamples == 0:
        return Interval(estimate, None, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = draws[0] / draws[1]
    ratios = ratios[np.isfinite(ratios)]
    if len(ratios) < resamples * 0.9:
        return Interval(estimate, None, None)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return Interval(estimate, float(low), float(high))


def standardized_differences(
    partners: pd.DataFrame, group: pd.Series, covariates: list[str]
) -> list[dict[str, object]]:
    """Return the balance table: each covariate level's share (or mean) in both
    groups and their standardized difference.

    A standardized difference above 0.1 in absolute value is the usual sign that
    the groups differ on that covariate.
    """
    rows: list[dict[str, object]] = []
    done = group.to_numpy(dtype=bool)
    for name in covariates:
        if name == PRIOR_REVENUE:
            columns = {name: partners[name].astype(float).fillna(0.0)}
        else:
            levels = partners[name].astype("object").fillna(MISSING_LEVEL).astype(str)
            columns = {
                f"{name}={level}": (levels == level).astype(float)
                for level in sorted(levels.unique())
            }
        for label, values in columns.items():
            with_values = values.to_numpy()[done]
            without_values = values.to_numpy()[~done]
            if len(with_values) == 0 or len(without_values) == 0:
                continue
            mean_with = float(with_values.mean())
            mean_without = float(without_values.mean())
            pooled = math.sqrt(
                (float(with_values.var()) + float(without_values.var())) / 2
            )
            difference = (mean_with - mean_without) / pooled if pooled > 0 else 0.0
            rows.append(
                {
                    "covariate": label,
                    "mean_with": mean_with,
                    "mean_without": mean_without,
                    "standardized_difference": difference,
                }
            )
    return rows
