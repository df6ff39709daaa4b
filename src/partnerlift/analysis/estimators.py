"""Estimators for comparing two groups of partners on a yes/no outcome.

Each function takes counts and returns plain numbers, so it can be checked against
published reference values on its own. The unit is the partner: ``events`` is the
number of partners with the outcome, ``total`` the number of partners in the group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint


@dataclass(frozen=True)
class Interval:
    """A point estimate with the bounds of its confidence interval."""

    estimate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Stratum:
    """One stratum of a two-group comparison: events and partners in each group."""

    events_with: int
    total_with: int
    events_without: int
    total_without: int


def proportion(events: int, total: int) -> float | None:
    """Return ``events / total``, or None for an empty group."""
    if total == 0:
        return None
    return events / total


def risk_ratio_score(
    events_with: int,
    total_with: int,
    events_without: int,
    total_without: int,
    *,
    level: float = 0.95,
) -> Interval:
    """Estimate the risk ratio with the Koopman score interval.

    The interval inverts the score test for the ratio of two binomial proportions
    (Koopman 1984), as R's ``PropCIs::riskscoreci`` does. statsmodels computes it as
    the Miettinen-Nurminen score interval without the ``n / (n - 1)`` correction.

    Returns
    -------
    Interval
        The ratio ``(events_with / total_with) / (events_without / total_without)``
        and its bounds; the estimate is None when the ratio is undefined (an empty
        group or no events without the behaviour), and so are the bounds.
    """
    if total_with == 0 or total_without == 0 or events_without == 0:
        return Interval(None, None, None)
    estimate = (events_with / total_with) / (events_without / total_without)
    low, high = confint_proportions_2indep(
        events_with,
        total_with,
        events_without,
        total_without,
        method="score",
        compare="ratio",
        alpha=1 - level,
        correction=False,
    )
    return Interval(estimate, _finite(low), _finite(high))


def risk_difference_score(
    events_with: int,
    total_with: int,
    events_without: int,
    total_without: int,
    *,
    level: float = 0.95,
) -> Interval:
    """Estimate the risk difference with Newcombe's hybrid Wilson score interval.

    The interval combines the Wilson score intervals of the two proportions (Newcombe
    1998, method 10).

    Returns
    -------
    Interval
        ``events_with / total_with - events_without / total_without`` and its
        bounds; all None when a group is empty.
    """
    if total_with == 0 or total_without == 0:
        return Interval(None, None, None)
    estimate = events_with / total_with - events_without / total_without
    low, high = confint_proportions_2indep(
        events_with,
        total_with,
        events_without,
        total_without,
        method="newcomb",
        compare="diff",
        alpha=1 - level,
    )
    return Interval(estimate, float(low), float(high))


def fisher_exact_p(
    events_with: int, total_with: int, events_without: int, total_without: int
) -> float:
    """Return the two-sided p-value of Fisher's exact test on the 2x2 table."""
    table = [
        [events_with, total_with - events_with],
        [events_without, total_without - events_without],
    ]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def bh_q_values(p_values: Sequence[float | None]) -> list[float | None]:
    """Adjust p-values for the false discovery rate (Benjamini-Hochberg).

    The q-values are computed over the p-values that are not None, as R's
    ``p.adjust(p, "BH")`` does. A None stays None in its place.
    """
    positions = [index for index, value in enumerate(p_values) if value is not None]
    q_values: list[float | None] = [None] * len(p_values)
    if not positions:
        return q_values
    observed = np.array([p_values[index] for index in positions], dtype=float)
    adjusted = multipletests(observed, method="fdr_bh")[1]
    for index, value in zip(positions, adjusted, strict=True):
        q_values[index] = float(value)
    return q_values


def mantel_haenszel_risk_ratio(
    strata: Sequence[Stratum], *, level: float = 0.95
) -> Interval:
    """Estimate the Mantel-Haenszel risk ratio over strata.

    With ``a``, ``n1`` the events and partners with the behaviour, ``c``, ``n0``
    those without it and ``N = n1 + n0`` in each stratum, the estimate is
    ``sum(a * n0 / N) / sum(c * n1 / N)``. The interval is ``exp(log RR +/- z * se)``
    with the Greenland-Robins (1985) variance of ``log RR``:
    ``sum((n1 * n0 * (a + c) - a * c * N) / N**2) / (sum(a * n0 / N) *
    sum(c * n1 / N))``. A stratum with an empty group adds nothing.

    Returns
    -------
    Interval
        The pooled ratio and its bounds; all None when either weighted sum is zero.
    """
    numerator = 0.0
    denominator = 0.0
    variance_sum = 0.0
    for stratum in strata:
        a, n1 = stratum.events_with, stratum.total_with
        c, n0 = stratum.events_without, stratum.total_without
        size = n1 + n0
        if n1 == 0 or n0 == 0:
            continue
        numerator += a * n0 / size
        denominator += c * n1 / size
        variance_sum += (n1 * n0 * (a + c) - a * c * size) / size**2
    if numerator == 0 or denominator == 0:
        return Interval(None, None, None)
    estimate = numerator / denominator
    standard_error = math.sqrt(variance_sum / (numerator * denominator))
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    log_estimate = math.log(estimate)
    return Interval(
        estimate,
        math.exp(log_estimate - z * standard_error),
        math.exp(log_estimate + z * standard_error),
    )


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def wilson_interval(events: int, total: int, *, level: float = 0.95) -> Interval:
    """Return the proportion ``events / total`` with its Wilson score interval.

    Returns
    -------
    Interval
        All None for an empty group.
    """
    if total == 0:
        return Interval(None, None, None)
    low, high = proportion_confint(events, total, alpha=1 - level, method="wilson")
    return Interval(events / total, float(low), float(high))


def odds_ratio_woolf(
    events_with: int,
    total_with: int,
    events_without: int,
    total_without: int,
    *,
    level: float = 0.95,
) -> Interval:
    """Estimate the odds ratio of the 2x2 table with Woolf's logit interval.

    The odds ratio is a secondary measure: the statements never word it as "times
    as likely". A table with an empty cell has no odds ratio (all None).
    """
    cells = [
        events_with,
        total_with - events_with,
        events_without,
        total_without - events_without,
    ]
    if min(cells) <= 0:
        return Interval(None, None, None)
    a, b, c, d = (float(cell) for cell in cells)
    estimate = (a * d) / (b * c)
    standard_error = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    log_estimate = math.log(estimate)
    return Interval(
        estimate,
        math.exp(log_estimate - z * standard_error),
        math.exp(log_estimate + z * standard_error),
    )


def mantel_haenszel_odds_ratio(
    strata: Sequence[Stratum], *, level: float = 0.95
) -> Interval:
    """Estimate the Mantel-Haenszel odds ratio over strata.

    With ``a``, ``b`` the partners with the behaviour with and without the outcome,
    ``c``, ``d`` those without the behaviour and ``N`` the stratum's size, the
    estimate is ``sum(a d / N) / sum(b c / N)``; the interval uses the
    Robins-Breslow-Greenland (1986) variance of its logarithm, as R's
    ``mantelhaen.test`` does. A stratum with an empty group adds nothing.

    Returns
    -------
    Interval
        The pooled odds ratio and its bounds; all None when either sum is zero.
    """
    sum_r = sum_s = sum_pr = sum_ps_qr = sum_qs = 0.0
    for stratum in strata:
        a = stratum.events_with
        b = stratum.total_with - a
        c = stratum.events_without
        d = stratum.total_without - c
        size = a + b + c + d
        if stratum.total_with == 0 or stratum.total_without == 0:
            continue
        r = a * d / size
        s = b * c / size
        p = (a + d) / size
        q = (b + c) / size
        sum_r += r
        sum_s += s
        sum_pr += p * r
        sum_ps_qr += p * s + q * r
        sum_qs += q * s
    if sum_r == 0 or sum_s == 0:
        return Interval(None, None, None)
    estimate = sum_r / sum_s
    variance = (
        sum_pr / (2 * sum_r**2)
        + sum_ps_qr / (2 * sum_r * sum_s)
        + sum_qs / (2 * sum_s**2)
    )
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    log_estimate = math.log(estimate)
    spread = z * math.sqrt(variance)
    return Interval(
        estimate, math.exp(log_estimate - spread), math.exp(log_estimate + spread)
    )


def e_value(
    estimate: float | None, low: float | None, high: float | None
) -> tuple[float | None, float | None]:
    """Return the E-values of a risk ratio and of its interval's bound nearer to 1.

    The E-value (VanderWeele and Ding 2017) is the risk ratio that an unmeasured
    confounder would need with both the behaviour and the outcome to explain the
    estimate away: ``RR + sqrt(RR * (RR - 1))`` for ``RR >= 1``, the same on
    ``1 / RR`` below 1. The bound's E-value is 1 when the interval includes 1.
    """
    if estimate is None or estimate <= 0:
        return None, None

    def of(ratio: float) -> float:
        ratio = 1 / ratio if ratio < 1 else ratio
        return ratio + math.sqrt(ratio * (ratio - 1))

    point = of(estimate)
    if low is None or high is None:
        return point, None
    if low <= 1 <= high:
        return point, 1.0
    bound = low if estimate >= 1 else high
    return point, of(bound)


def detectable_risk_ratio(
    total_with: int,
    total_without: int,
    baseline: float,
    *,
    level: float = 0.95,
    power: float = 0.8,
) -> float | None:
    """Return the smallest risk ratio above 1 that these group sizes detect.

    The two-sided test of two proportions at ``level`` with the normal
    approximation has ``power`` against the returned ratio when the group without
    the behaviour has the rate ``baseline``. None when no ratio up to the largest
    possible (``1 / baseline``) reaches that power, or the groups are empty.
    """
    if total_with == 0 or total_without == 0 or not 0 < baseline < 1:
        return None
    z_alpha = float(stats.norm.ppf(1 - (1 - level) / 2))
    z_power = float(stats.norm.ppf(power))

    def power_gap(rate_with: float) -> float:
        pooled = (rate_with * total_with + baseline * total_without) / (
            total_with + total_without
        )
        null_se = math.sqrt(
            pooled * (1 - pooled) * (1 / total_with + 1 / total_without)
        )
        alt_se = math.sqrt(
            rate_with * (1 - rate_with) / total_with
            + baseline * (1 - baseline) / total_without
        )
        return (rate_with - baseline) - (z_alpha * null_se + z_power * alt_se)

    top = 1 - 1e-9
    if power_gap(top) < 0:
        return None
    rate = optimize.brentq(power_gap, baseline + 1e-12, top)
    return float(rate / baseline)
