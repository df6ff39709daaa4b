"""Replay a score model: each partner's score at the end of every period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from partnerlift.scoring.awards import award_points
from partnerlift.scoring.compile import as_of_window
from partnerlift.scoring.rules import Rule, ScoreModel
from partnerlift.scoring.score import (
    Tables,
    default_as_of,
    model_events,
    number,
    partner_ids,
    qualifying_periods,
    score_partners,
)

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


def _replays_from_one_pass(rule: Rule) -> bool:
    """Tell whether a rule's awards at earlier dates follow from one evaluation.

    A calendar or lifetime count only grows with time, so a period qualifies as of a
    date exactly when it met ``at_least`` (``earned_at``) before that date ended.
    ``at_most``, rolling windows and shares of users change with the as-of date and
    need an evaluation per date. A sum is assumed to add values of 0 or more.
    """
    return (
        rule.at_most is None
        and rule.period.kind != "rolling_days"
        and rule.count.kind != "share"
    )


def _one_pass_scores(
    tables: Tables, model: ScoreModel, ends: list[date], zone: ZoneInfo
) -> pd.DataFrame:
    """Score at every date in ``ends`` from one evaluation as of the last of them.

    Returns
    -------
    pandas.DataFrame
        One row per period end and partner with points, one column per rule.
    """
    last = ends[-1]
    qualifying = qualifying_periods(
        tables,
        model.rules,
        zone=zone,
        as_of=last,
        events=model_events(tables, model, last, zone),
        half_life_days=model.half_life_days,
        timed=True,
    )
    # An award 'once' goes to the first qualifying period, which is also the first
    # to be earned, so at any date only that period can give its points.
    once = [rule.id for rule in model.rules if rule.award == "once"]
    is_once = qualifying["rule_id"].isin(once)
    firsts = (
        qualifying[is_once]
        .sort_values(["rule_id", "partner_id", "period_start", "earned_at"])
        .drop_duplicates(["rule_id", "partner_id"])
    )
    qualifying = pd.concat([firsts, qualifying[~is_once]], ignore_index=True)
    snapshots = []
    for end in ends:
        cutoff = pd.Timestamp(as_of_window(end, zone).end)
        earned = qualifying[qualifying["earned_at"] < cutoff]
        snapshots.append(earned.assign(period_end=end, cutoff=cutoff))
    rule_ids = [rule.id for rule in model.rules]
    if not snapshots or all(snapshot.empty for snapshot in snapshots):
        return pd.DataFrame(columns=["period_end", "partner_id", *rule_ids])
    stacked = pd.concat([frame for frame in snapshots if not frame.empty])
    points = award_points(
        stacked.reset_index(drop=True),
        model.rules,
        end="cutoff",
        half_life_days=model.half_life_days,
        by="period_end",
    )
    table = points.pivot_table(
        index=["period_end", "partner_id"],
        columns="rule_id",
        values="points",
        aggfunc="sum",
        fill_value=0.0,
    )
    return table.reindex(columns=rule_ids, fill_value=0.0).reset_index()


def _one_pass_timelines(
    tables: Tables, model: ScoreModel, ends: list[date], zone: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    scores = _one_pass_scores(tables, model, ends, zone)
    rule_ids = [rule.id for rule in model.rules]
    found = {
        (row[0], row[1]): row[2:]
        for row in scores[["period_end", "partner_id", *rule_ids]].itertuples(
            index=False, name=None
        )
    }
    zero = (0.0,) * len(rule_ids)
    timelines: dict[str, list[dict[str, Any]]] = {}
    for partner_id in partner_ids(tables):
        points = []
        for end in ends:
            values = found.get((end, partner_id), zero)
            points.append(
                {
                    "period_end": end.isoformat(),
                    "score": number(sum(values)),
                    "rules": {
                        rule_id: number(value)
                        for rule_id, value in zip(rule_ids, values, strict=True)
                    },
                }
            )
        timelines[partner_id] = points
    return timelines


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
    ends = period_ends(min(start, as_of), as_of, every)
    timelines: dict[str, list[dict[str, Any]]] = {}
    one_pass = model.lookback_days is None and all(
        _replays_from_one_pass(rule) for rule in model.rules
    )
    if one_pass:
        timelines = _one_pass_timelines(tables, model, ends, zone)
    else:
        for end in ends:
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
