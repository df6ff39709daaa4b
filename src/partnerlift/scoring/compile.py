"""Compile rules into Ibis expressions over the events, assets and users tables.

Each rule runs through the same small steps: attribute events to partners, select the
rule's events, bucket them by period, count per partner and period, and keep the
periods that meet the threshold. The result of a rule is one row per qualifying
period with its count and, where decay or a requirement needs it, the moment the
count met the threshold. Turning those periods into points (once or each period,
cap, decay) happens in :mod:`partnerlift.scoring.awards` on the small result.

The expressions are plain Ibis, so they run on any backend that Ibis supports; DuckDB
and PySpark are tested. Calendar periods are taken from ``occurred_local`` (the
wall-clock time in the workspace's zone), never from the UTC column, because engines
disagree on truncating zone-aware columns. Instants such as the as-of cutoff and
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
QUALIFYING_COLUMNS = ("rule_id", "partner_id", "period_start", "value", "earned_at")


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


def attribute_events(events: ir.Table, memberships: ir.Table | None) -> ir.Table:
    """Give each event the partner its user belonged to when it happened.

    ``memberships`` has the columns ``member_user``, ``member_partner``,
    ``member_from`` and ``member_to`` (naive UTC, ``from <= occurred_at < to``) and
    no overlapping rows for one user (see :func:`partnerlift.scoring.members`). An
    event whose user has no membership at that moment keeps its stored partner.
    """
    if memberships is None:
        return events
    joined = events.left_join(
        memberships,
        [
            events.user_id == memberships.member_user,
            events.occurred_at >= memberships.member_from,
            events.occurred_at < memberships.member_to,
        ],
    )
    partner = joined.member_partner.coalesce(joined.partner_id)
    return joined.mutate(partner_id=partner).select(*events.columns)


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


def keep_current_members(bucketed: ir.Table, current: ir.Table) -> ir.Table:
    """Keep events of users who belong to the event's partner at the as-of date.

    ``current`` has the columns ``member_user``, ``member_partner`` and ``members``
    (the partner's number of users at the as-of date). The kept rows get
    ``members`` as the denominator of a share.
    """
    joined = bucketed.inner_join(
        current,
        [
            bucketed.user_id == current.member_user,
            bucketed.partner_id == current.member_partner,
        ],
    )
    return joined.drop("member_user", "member_partner")


def _distinct_column(bucketed: ir.Table, target: str) -> ir.Value:
    if target == "asset":
        return bucketed.asset_id
    if target == "day":
        return bucketed.occurred_local.date()
    if target == "user":
        return bucketed.user_id
    return _property(bucketed, target)


def count_measure(bucketed: ir.Table, count: Count) -> ir.NumericValue:
    """Return the aggregate that ``count`` names, for use in ``aggregate``.

    For a share of users, ``bucketed`` must come from :func:`keep_current_members`.
    """
    if count.kind == "occurrences":
        return bucketed.quantity.sum().cast("float64")
    if count.kind == "distinct":
        column = _distinct_column(bucketed, str(count.target))
        return column.nunique().cast("float64")
    if count.kind == "share":
        users = bucketed.user_id.nunique().cast("float64")
        return users / bucketed.members.max().cast("float64")
    numeric = _property(bucketed, str(count.target)).try_cast("float64")
    if count.kind == "sum":
        return numeric.sum()
    return numeric.max()


def _running_measure(bucketed: ir.Table, count: Count) -> ir.Table:
    """Add ``running``: the count of the event's period up to and including it.

    Events are ordered by instant and then event id, so ties are broken the same
    way on every engine.
    """
    order = [bucketed.occurred_at, bucketed.event_id]
    window = ibis.cumulative_window(
        group_by=[bucketed.partner_id, bucketed.period_start], order_by=order
    )
    if count.kind == "occurrences":
        return bucketed.mutate(running=bucketed.quantity.sum().over(window))
    if count.kind in ("sum", "max"):
        numeric = _property(bucketed, str(count.target)).try_cast("float64")
        if count.kind == "sum":
            # NOTE: with negative values a running sum can pass at_least and fall
            # back; earned_at is then the first passing, and a replay assumes sums
            # only grow.
            return bucketed.mutate(running=numeric.fill_null(0).sum().over(window))
        return bucketed.mutate(running=numeric.max().over(window))
    target = "user" if count.kind == "share" else str(count.target)
    keyed = bucketed.mutate(_distinct=_distinct_column(bucketed, target))
    first_window = ibis.window(
        group_by=[keyed.partner_id, keyed.period_start, keyed._distinct],
        order_by=[keyed.occurred_at, keyed.event_id],
    )
    is_first = (ibis.row_number().over(first_window) == 0) & keyed._distinct.notnull()
    flagged = keyed.mutate(_first=is_first.cast("float64"))
    running = flagged._first.sum().over(
        ibis.cumulative_window(
            group_by=[flagged.partner_id, flagged.period_start],
            order_by=[flagged.occurred_at, flagged.event_id],
        )
    )
    if count.kind == "share":
        running = running / flagged.members.cast("float64")
    return flagged.mutate(running=running).drop("_distinct", "_first")


def count_per_period(
    bucketed: ir.Table, rule: Rule, *, timed: bool = False
) -> ir.Table:
    """Count per partner and period: columns partner_id, period_start, value, earned_at.

    With ``timed``, ``earned_at`` is the instant of the event that brought the count
    to ``at_least``; without it ``earned_at`` is null and no window function runs.
    """
    if not timed:
        counts = bucketed.group_by("partner_id", "period_start").aggregate(
            value=count_measure(bucketed, rule.count)
        )
        return counts.mutate(earned_at=ibis.null("timestamp"))
    running = _running_measure(bucketed, rule.count)
    reached = running.running >= float(rule.at_least)
    return running.group_by("partner_id", "period_start").aggregate(
        value=count_measure(running, rule.count),
        earned_at=running.occurred_at.min(where=reached),
    )


def threshold(counts: ir.Table, rule: Rule) -> ir.Table:
    """Keep the periods whose count meets ``at_least`` and ``at_most``."""
    # NOTE: a period without any selected event has no row, so a rule such as
    # "at_most: 0 logins in a month" never awards points for an empty month.
    kept = counts.filter(counts.value.notnull(), counts.value >= rule.at_least)
    if rule.at_most is not None:
        kept = kept.filter(kept.value <= rule.at_most)
    return kept


def rule_events(
    events: ir.Table, assets: ir.Table, rule: Rule, *, as_of: date, zone: ZoneInfo
) -> ir.Table:
    """Return a rule's selected events inside its window, with ``period_start``."""
    days = rule.period.days if rule.period.kind == "rolling_days" else None
    windowed = within(events, as_of_window(as_of, zone, days=days))
    return bucket_by_period(select_events(windowed, assets, rule.match), rule.period)


def unlocked_events(events: ir.Table, unlocks: ir.Table) -> ir.Table:
    """Keep each partner's events from the moment its required rules were earned.

    ``unlocks`` has the columns ``unlock_partner`` and ``unlock_at`` (naive UTC);
    partners without a row have not earned every required rule.
    """
    joined = events.inner_join(
        unlocks,
        [
            events.partner_id == unlocks.unlock_partner,
            events.occurred_at >= unlocks.unlock_at,
        ],
    )
    return joined.select(*events.columns)


def rule_bucketed(
    events: ir.Table,
    assets: ir.Table,
    rule: Rule,
    *,
    as_of: date,
    zone: ZoneInfo,
    current: ir.Table | None = None,
    unlocks: ir.Table | None = None,
) -> ir.Table:
    """Return the events that ``rule`` counts, with ``period_start``.

    Raises
    ------
    ValueError
        If ``rule`` counts a share of users and ``current`` is missing.
    """
    if unlocks is not None:
        events = unlocked_events(events, unlocks)
    bucketed = rule_events(events, assets, rule, as_of=as_of, zone=zone)
    if rule.count.kind == "share":
        if current is None:
            raise ValueError("a share of users needs the users at the as-of date")
        bucketed = keep_current_members(bucketed, current)
    return bucketed


def compile_rule(
    events: ir.Table,
    assets: ir.Table,
    rule: Rule,
    *,
    as_of: date,
    zone: ZoneInfo,
    timed: bool = False,
    current: ir.Table | None = None,
    unlocks: ir.Table | None = None,
) -> ir.Table:
    """Compile ``rule`` into its qualifying periods.

    Parameters
    ----------
    events
        Events already attributed to partners.
    assets
        The assets table, for kinds and tags.
    rule
        The rule to compile.
    as_of
        The local day whose end is the cutoff.
    zone
        The workspace's time zone.
    timed
        Compute ``earned_at``, the instant each period met the threshold.
    current
        The users at the as-of date, needed by a share of users.
    unlocks
        When the partners earned the rules that ``rule`` requires.

    Returns
    -------
    ibis.Table
        Columns rule_id, partner_id, period_start, value, earned_at.
    """
    bucketed = rule_bucketed(
        events, assets, rule, as_of=as_of, zone=zone, current=current, unlocks=unlocks
    )
    counts = count_per_period(bucketed, rule, timed=timed)
    kept = threshold(counts, rule)
    return kept.select(
        rule_id=ibis.literal(rule.id, type="string"),
        partner_id=kept.partner_id.cast("string"),
        period_start=kept.period_start.cast("timestamp"),
        value=kept.value.cast("float64"),
        earned_at=kept.earned_at.cast("timestamp"),
    )
