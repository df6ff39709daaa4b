"""Business days and office hours for simulated timestamps."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

# Local hours of activity, weighted towards office hours with a dip at lunch.
_HOURS = np.arange(8, 21)
_HOUR_WEIGHTS = np.array([2, 6, 9, 9, 5, 8, 9, 9, 8, 6, 3, 2, 1], dtype=float)
_HOUR_CUMULATIVE = np.cumsum(_HOUR_WEIGHTS) / _HOUR_WEIGHTS.sum()


@lru_cache(maxsize=65536)
def weekdays(first: date, last: date) -> tuple[date, ...]:
    """Return the Monday-to-Friday dates from ``first`` to ``last``, both included."""
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:  # Saturday is 5
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


def pick_days(
    rng: np.random.Generator, first: date, last: date, count: int
) -> list[date]:
    """Draw ``count`` business days from ``first`` to ``last``, with replacement.

    Falls back to any day of the range when it contains no business day, and returns
    nothing when the range is empty.
    """
    if count <= 0 or last < first:
        return []
    candidates = weekdays(first, last) or tuple(
        first + timedelta(days=offset) for offset in range((last - first).days + 1)
    )
    picked = rng.integers(0, len(candidates), size=count)
    return sorted(candidates[index] for index in picked)


def pick_moment(rng: np.random.Generator, day: date, zone: ZoneInfo) -> datetime:
    """Return a zone-aware moment during the local working hours of ``day``."""
    hour = int(_HOURS[np.searchsorted(_HOUR_CUMULATIVE, rng.random(), side="right")])
    minute = int(rng.integers(0, 60))
    second = int(rng.integers(0, 60))
    return datetime.combine(day, time(hour, minute, second), tzinfo=zone)


def month_start(day: date) -> date:
    """Return the first day of ``day``'s month."""
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    """Return the first day of the month after ``day``'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
