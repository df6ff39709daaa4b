"""Turn qualifying periods into points: once or each period, the cap and decay.

The input is small (one row per partner, rule and qualifying period), so this step
runs in pandas on any engine's result.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from partnerlift.scoring.rules import Rule

# Points are rounded to this many decimals per period, so that a score and the sum
# of its explanation are the same numbers.
POINT_DECIMALS = 6
PERIOD_COLUMNS = [
    "rule_id",
    "partner_id",
    "period_start",
    "value",
    "earned_at",
    "base_points",
    "decay",
    "points",
]


def _base_points(periods: pd.DataFrame, rule: Rule, keys: list[str]) -> np.ndarray:
    """Points before decay: the first period for 'once', each period up to the cap."""
    order = periods.groupby(keys, sort=False).cumcount().to_numpy()
    if rule.award == "once":
        return np.where(order == 0, float(rule.points), 0.0)
    total = (order + 1) * float(rule.points)
    if rule.cap is not None:
        # The cap limits the size of the total, so -5 per period with cap 10 stops
        # at -10; the period that crosses the cap gets what is left.
        total = np.clip(total, -float(rule.cap), float(rule.cap))
    before = np.where(order == 0, 0.0, np.roll(total, 1))
    return total - before


def decay_factors(
    earned_at: pd.Series, half_life_days: float | None, end: datetime | pd.Series
) -> np.ndarray:
    """Return the decay factors ``0.5 ** (age / half_life_days)``.

    The age runs from ``earned_at`` to ``end``, in days of 86,400 seconds.

    ``end`` is the end of the as-of day (naive UTC); without a half-life every factor
    is 1.
    """
    if half_life_days is None:
        return np.ones(len(earned_at))
    ends = pd.Timestamp(end) if isinstance(end, datetime) else pd.to_datetime(end)
    age = (ends - pd.to_datetime(earned_at)).dt.total_seconds()
    days = age.to_numpy(dtype="float64") / 86400.0
    return np.power(0.5, days / float(half_life_days))


def award_points(
    qualifying: pd.DataFrame,
    rules: list[Rule],
    *,
    end: datetime | str,
    half_life_days: float | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Give each qualifying period its points.

    Parameters
    ----------
    qualifying
        Columns rule_id, partner_id, period_start, value, earned_at.
    rules
        The rules the periods belong to.
    end
        The end of the as-of day (naive UTC), from which decay is measured, or the
        name of the column of ``qualifying`` that contains it for each row.
    half_life_days
        The model's half-life, for rules without their own.
    by
        A column of ``qualifying`` that splits it into separate evaluations, such
        as one per as-of date of a replay.

    Returns
    -------
    pandas.DataFrame
        The input columns plus base_points (before decay), decay (the factor) and
        points, sorted by partner, rule order and period.
    """
    parts = []
    keys = ["partner_id"] if by is None else [by, "partner_id"]
    for rule in rules:
        periods = qualifying[qualifying["rule_id"] == rule.id]
        periods = periods.sort_values([*keys, "period_start", "earned_at"])
        periods = periods.reset_index(drop=True)
        base = _base_points(periods, rule, keys)
        half_life = rule.half_life_days or half_life_days
        ends = end if isinstance(end, datetime) else periods[end]
        factor = decay_factors(periods["earned_at"], half_life, ends)
        points = np.round(base * factor, POINT_DECIMALS)
        parts.append(
            periods.assign(base_points=base, decay=factor, points=points + 0.0)
        )
    if not parts:
        return pd.DataFrame(columns=PERIOD_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    order = {rule.id: index for index, rule in enumerate(rules)}
    frame = frame.assign(_order=frame["rule_id"].map(order))
    frame = frame.sort_values([*keys, "_order", "period_start"], kind="stable")
    columns = PERIOD_COLUMNS if by is None else [by, *PERIOD_COLUMNS]
    return frame.drop(columns="_order")[columns].reset_index(drop=True)
