"""Replay a score model: each partner's score at the end of every period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from partnerlift.scoring.rules import ScoreModel
from partnerlift.scoring.score import Tables, default_as_of, score_partners

TimelineUnit = Literal["week", "month", "quarter"]
TIMELINE_UNITS = ("week", "month", "quarter")


def period_end(day: date, unit: TimelineUnit) -> date:
    """Return the last day of the ISO week, month or quarter that contains ``day``."""
    if unit == "week":
        return day + timedelta(days=6 - day.weekday())
    last_month = day.month if unit == "month" else ((day.month - 1) // 3 + 1) * 3
    following = date(day.year + last_month // 12, last_month % 12 + 1, 1)
    return following - timedelta(days=1)


def period_ends(first: date, as_of: date, unit: TimelineUnit) -> list[date]:
    """Return the period ends from the period of ``first`` up to ``as_of``.

    The last entry is ``as_of`` itself when it falls inside a period, so a replay
    ends with the score that ``score --as-of`` gives.
    """
    ends = []
    end = period_end(first, unit)
    while end < as_of:
        ends.append(end)
        end = period_end(end + timedelta(days=1), unit)
    ends.append(as_of)
    return ends


def _first_day(tables: Tables) -> date | None:
    first = tables.table("events").occurred_local.min().execute()
    if first is None or pd.isna(first):
        return None
    return pd.Timestamp(first).date()


def score_timeline(
    tables: Tables,
    model: ScoreModel,
    *,
    zone: ZoneInfo,
    every: TimelineUnit,
    as_of: date | None = None,
    start: date | None = None,
) -> dict[str, Any]:
    """Score every partner at the end of every week, month or quarter.

    Parameters
    ----------
    tables
        The canonical tables.
    model
        The score model.
    zone
        The workspace's time zone.
    every
        ``week`` (ISO, ending on Sunday), ``month`` or ``quarter``.
    as_of
        The last day of the replay; the day of the latest event by default.
    start
        A day of the first period; the day of the earliest event by default.

    Returns
    -------
    dict
        ``{"as_of", "model", "every", "partners": [{"partner_id", "timeline":
        [{"period_end", "score", "rules"}]}]}``, partners sorted by id.
    """
    as_of = default_as_of(tables.table("events"), zone) if as_of is None else as_of
    start = start or _first_day(tables) or as_of
    timelines: dict[str, list[dict[str, Any]]] = {}
    for end in period_ends(min(start, as_of), as_of, every):
        scored = score_partners(tables, model, zone=zone, as_of=end)
        for partner in scored["partners"]:
            timelines.setdefault(partner["partner_id"], []).append(
                {
                    "period_end": end.isoformat(),
                    "score": partner["score"],
                    "rules": partner["rules"],
                }
            )
    partners = [
        {"partner_id": partner_id, "timeline": timelines[partner_id]}
        for partner_id in sorted(timelines)
    ]
    return {
        "as_of": as_of.isoformat(),
        "model": model.model,
        "every": every,
        "partners": partners,
    }


__all__ = ["TIMELINE_UNITS", "period_end", "period_ends", "score_timeline"]
