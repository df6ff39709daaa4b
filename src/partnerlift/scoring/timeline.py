"""Replay a score model: each partner's score at the end of every period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from partnerlift.scoring.awards import award_points
from partnerlift.scoring.compile import as_of_window
from partnerlift.scoring.rules import Rule, ScoreModel
from partnerlift.scoring.score import (
    Tables,
    default_as_of,
    model_events,
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


def _one_pass_qualifying(
    tables: Tables, model: ScoreModel, last: date, zone: ZoneInfo
) -> pd.DataFrame:
    """Return the qualifying periods as of ``last`` that can give points in a replay.

    An award 'once' goes to the first qualifying period, which is also the first to
    be earned, so at any date only that period can give its points.
    """
    qualifying = qualifying_periods(
        tables,
        model.rules,
        zone=zone,
        as_of=last,
        events=model_events(tables, model, last, zone),
        half_life_days=model.half_life_days,
        timed=True,
    )
    once = [rule.id for rule in model.rules if rule.award == "once"]
    is_once = qualifying["rule_id"].isin(once)
    firsts = (
        qualifying[is_once]
        .sort_values(["rule_id", "partner_id", "period_start", "earned_at"])
        .drop_duplicates(["rule_id", "partner_id"])
    )
    return pd.concat([firsts, qualifying[~is_once]], ignore_index=True)


def _undecayed_points(
    periods: pd.DataFrame, rule: Rule, index: pd.Index, cutoffs: np.ndarray
) -> np.ndarray:
    """Return a rule's points per partner and period end, for a rule without decay.

    A period counts from the first period end whose cutoff is after its
    ``earned_at``; the points are then the number of counted periods times the
    rule's points, within the cap.
    """
    counts = np.zeros((len(index), len(cutoffs)), dtype="float64")
    earned = periods["earned_at"].to_numpy(dtype="datetime64[us]")
    first_end = np.searchsorted(cutoffs, earned, side="right")
    rows = index.get_indexer(periods["partner_id"].astype(str))
    kept = first_end < len(cutoffs)
    np.add.at(counts, (rows[kept], first_end[kept]), 1.0)
    total = np.cumsum(counts, axis=1) * float(rule.points)
    if rule.cap is not None:
        total = np.clip(total, -float(rule.cap), float(rule.cap))
    return total


def _decayed_points(
    periods: pd.DataFrame,
    rule: Rule,
    model: ScoreModel,
    index: pd.Index,
    ends: list[date],
    cutoffs: np.ndarray,
) -> np.ndarray:
    """Return a rule's points per partner and period end, decay included."""
    result = np.zeros((len(index), len(ends)), dtype="float64")
    for position, cutoff in enumerate(cutoffs):
        earned = periods[periods["earned_at"] < pd.Timestamp(cutoff)]
        if earned.empty:
            continue
        points = award_points(
            earned,
            [rule],
            end=pd.Timestamp(cutoff).to_pydatetime(),
            half_life_days=model.half_life_days,
        )
        sums = points.groupby("partner_id")["points"].sum()
        result[index.get_indexer(sums.index.astype(str)), position] = sums.to_numpy()
    return result


def _one_pass_scores(
    tables: Tables,
    model: ScoreModel,
    ends: list[date],
    zone: ZoneInfo,
    index: pd.Index,
) -> dict[str, np.ndarray]:
    """Score at every date in ``ends`` from one evaluation as of the last of them.

    Returns
    -------
    dict
        For each rule id, an array of points with one row per partner of ``index``
        and one column per period end.
    """
    qualifying = _one_pass_qualifying(tables, model, ends[-1], zone)
    cutoffs = np.array(
        [as_of_window(end, zone).end for end in ends], dtype="datetime64[us]"
    )
    scores = {}
    for rule in model.rules:
        periods = qualifying[qualifying["rule_id"] == rule.id]
        if model.half_life(rule):
            scores[rule.id] = _decayed_points(
                periods, rule, model, index, ends, cutoffs
            )
        else:
            scores[rule.id] = _undecayed_points(periods, rule, index, cutoffs)
    return scores


def _numbers(values: np.ndarray) -> list[list[int | float]]:
    """Round to 6 decimals and turn whole numbers into ints, row by row."""
    rounded = np.round(values, 6).tolist()
    return [
        [int(value) if value.is_integer() else value for value in row]
        for row in rounded
    ]


def _one_pass_timelines(
    tables: Tables, model: ScoreModel, ends: list[date], zone: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    index = pd.Index(partner_ids(tables))
    scores = _one_pass_scores(tables, model, ends, zone, index)
    rule_ids = [rule.id for rule in model.rules]
    totals = _numbers(sum(np.round(scores[rule_id], 6) for rule_id in rule_ids))
    per_rule = {rule_id: _numbers(scores[rule_id]) for rule_id in rule_ids}
    names = [end.isoformat() for end in ends]
    timelines: dict[str, list[dict[str, Any]]] = {}
    for row, partner_id in enumerate(index):
        timelines[partner_id] = [
            {
                "period_end": name,
                "score": totals[row][column],
                "rules": {
                    rule_id: per_rule[rule_id][row][column] for rule_id in rule_ids
                },
            }
            for column, name in enumerate(names)
        ]
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
