"""Compile rules into Ibis expressions over the events and assets tables.

Each rule runs through the same small steps: select its events, bucket them by
period, count per partner and period, keep the periods that meet the threshold, and
award points. The expressions are plain Ibis, so they run on any backend that Ibis
supports; DuckDB is the one tested.

Calendar periods are taken from ``occurred_local`` (the wall-clock time in the
workspace's zone), never from the UTC column. Instants such as the as-of cutoff and
rolling windows are compared on ``occurred_at`` (naive UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from partnerlift.scoring.rules import Condition, Count, Match, Period, Rule
from partnerlift.settings.times import end_of_day_utc, local_midnight_utc

TRUNCATE_UNITS = {"week": "W", "month": "M", "quarter": "Q"}
NUMERIC_TYPES = (int, float)


@dataclass(frozen=True)
class Window:
    """The instants an evaluation covers: ``start <= occurred_at < end`` (naive UTC)."""

    end: datetime
    start: datetime | None = None


def as_of_window(as_of: date, zone: ZoneInfo, *, days: int | None = None) -> Window:
    """Return the window that ends with ``as_of`` in ``zone`` and spans ``days`` days.

    Without ``days`` the window has no start. With ``days`` it starts at local midnight
    ``days - 1`` days before ``as_of``, so it contains ``days`` whole local days.
    """
    start = None
    if days is not None:
        start = local_midnight_utc(as_of - timedelta(days=days - 1), zone)
    return Window(end=end_of_day_utc(as_of, zone), start=start)


def within(events: ir.Table, window: Window) -> ir.Table:
    """Keep the events whose UTC instant falls inside ``window``."""
    kept = events.filter(events.occurred_at < window.end)
    if window.start is not None:
        kept = kept.filter(kept.occurred_at >= window.start)
    return kept


def _property(events: ir.Table, name: str) -> ir.StringValue:
    return events.properties[name]


def _condition_predicates(
    value: ir.StringValue, condition: Condition
) -> list[ir.BooleanValue]:
    """Translate one property condition: numbers compare numerically, text as text."""
    predicates = []
    numeric = value.try_cast("float64")
    for operator, expected in condition.operators().items():
        if operator == "in":
            numbers = all(
                isinstance(item, NUMERIC_TYPES) and not isinstance(item, bool)
                for item in expected
            )
            if numbers:
                predicates.append(numeric.isin([float(item) for item in expected]))
            else:
                predicates.append(value.isin([_as_text(item) for item in expected]))
            continue
        is_number = isinstance(expected, NUMERIC_TYPES) and not isinstance(
            expected, bool
        )
        left = numeric if is_number else value
        right = float(expected) if is_number else _as_text(expected)
        predicates.append(_compare(left, operator, right))
    return predicates


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(left: ir.Value, operator: str, right: Any) -> ir.BooleanValue:
    if operator == "eq":
        return left == right
    if operator == "ne":
        return left != right
    if operator == "gt":
        return left > right
    if operator == "gte":
        return left >= right
    if operator == "lt":
        return left < right
    return left <= right


def match_predicates(joined: ir.Table, match: Match) -> list[ir.BooleanValue]:
    """Translate ``match`` into filter predicates over events joined with assets."""
    predicates: list[ir.BooleanValue] = []
    if match.action:
        predicates.append(joined.action.isin(match.action))
    if match.asset_kind:
        predicates.append(joined.kind.isin(match.asset_kind))
    if match.asset_id:
        predicates.append(joined.asset_id.isin(match.asset_id))
    for tag in match.asset_tags or []:
        predicates.append(joined.tags.contains(tag).fill_null(False))
    for name, condition in (match.where or {}).items():
        value = _property(joined, name)
        predicates.extend(
            predicate.fill_null(False)
            for predicate in _condition_predicates(value, condition)
        )
    return predicates


def select_events(events: ir.Table, assets: ir.Table, match: Match) -> ir.Table:
    """Return the events that ``match`` selects, with their asset's kind and tags.

    Events without a partner id are dropped because no partner can earn them.
    """
    asset_columns = assets.select(
        asset_key=assets.asset_id, kind=assets.kind, tags=assets.tags
    )
    joined = events.left_join(
        asset_columns, events.asset_id == asset_columns.asset_key
    ).drop("asset_key")
    predicates = [joined.partner_id.notnull(), *match_predicates(joined, match)]
    return joined.filter(*predicates)


def bucket_by_period(selected: ir.Table, period: Period) -> ir.Table:
    """Add the column ``period_start``: the local start of each event's period.

    Lifetime and rolling windows are one period, so their ``period_start`` is null.
    """
    local = selected.occurred_local
    if period.kind == "day":
        start = local.truncate("D")
    elif period.kind in TRUNCATE_UNITS:
        start = local.truncate(TRUNCATE_UNITS[period.kind])
    else:
        start = ibis.null("timestamp")
    return selected.mutate(period_start=start)


def count_measure(bucketed: ir.Table, count: Count) -> ir.NumericValue:
    """Return the aggregate that ``count`` names, for use in ``aggregate``."""
    if count.kind == "occurrences":
        return bucketed.quantity.sum().cast("float64")
    if count.kind == "distinct":
        target = count.target
        if target == "asset":
            column: ir.Value = bucketed.asset_id
        elif target == "day":
            column = bucketed.occurred_local.date()
        elif target == "user":
            column = bucketed.user_id
        else:
            column = _property(bucketed, str(target))
        return column.nunique().cast("float64")
    numeric = _property(bucketed, str(count.target)).try_cast("float64")
    if count.kind == "sum":
        return numeric.sum()
    return numeric.max()


def count_per_period(bucketed: ir.Table, count: Count) -> ir.Table:
    """Count per partner and period: columns partner_id, period_start, value."""
    return bucketed.group_by("partner_id", "period_start").aggregate(
        value=count_measure(bucketed, count)
    )


def threshold(counts: ir.Table, rule: Rule) -> ir.Table:
    """Keep the periods whose count meets ``at_least`` and ``at_most``."""
    # NOTE: a period without any selected event has no row, so a rule such as
    # "at_most: 0 logins in a month" never awards points for an empty month.
    kept = counts.filter(counts.value.notnull(), counts.value >= rule.at_least)
    if rule.at_most is not None:
        kept = kept.filter(kept.value <= rule.at_most)
    return kept


def award(qualifying: ir.Table, rule: Rule) -> ir.Table:
    """Turn qualifying periods into points: columns partner_id, rule_id, points."""
    per_partner = qualifying.group_by("partner_id").aggregate(
        periods=qualifying.count()
    )
    if rule.award == "once":
        points = ibis.literal(float(rule.points))
    else:
        points = per_partner.periods.cast("float64") * float(rule.points)
        if rule.cap is not None:
            # The cap limits the size of the total, so -5 per period with cap 10
            # stops at -10.
            limit = float(rule.cap)
            points = points.clip(lower=-limit, upper=limit)
    return per_partner.select(
        "partner_id",
        rule_id=ibis.literal(rule.id, type="string"),
        points=points.cast("float64"),
    )


def rule_events(
    events: ir.Table, assets: ir.Table, rule: Rule, *, as_of: date, zone: ZoneInfo
) -> ir.Table:
    """Return a rule's selected events inside its window, with ``period_start``."""
    days = rule.period.days if rule.period.kind == "rolling_days" else None
    windowed = within(events, as_of_window(as_of, zone, days=days))
    return bucket_by_period(select_events(windowed, assets, rule.match), rule.period)


def compile_rule(
    events: ir.Table, assets: ir.Table, rule: Rule, *, as_of: date, zone: ZoneInfo
) -> ir.Table:
    """Compile ``rule`` into an expression with partner_id, rule_id and points."""
    bucketed = rule_events(events, assets, rule, as_of=as_of, zone=zone)
    counts = count_per_period(bucketed, rule.count)
    return award(threshold(counts, rule), rule)
