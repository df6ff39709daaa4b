"""Score partners with a score model, replay it over time, and explain the points.

Every function takes ``tables``: any object whose ``table(name)`` returns an Ibis
table of the canonical tables, such as :class:`partnerlift.store.Database` (DuckDB) or
:class:`partnerlift.scoring.engines.SparkTables` (PySpark).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from partnerlift.scoring.awards import PERIOD_COLUMNS, award_points
from partnerlift.scoring.compile import (
    QUALIFYING_COLUMNS,
    as_of_window,
    attribute_events,
    compile_rule,
    within,
)
from partnerlift.scoring.members import current_table, load_memberships
from partnerlift.scoring.rules import Rule, ScoreModel

logger = logging.getLogger(__name__)

RESULT_COLUMNS = ["partner_id", "rule_id", "points"]


class Tables(Protocol):
    """A source of the canonical tables as Ibis expressions."""

    def table(self, name: str) -> ir.Table:
        """Return the canonical table ``name``."""
        ...


@dataclass
class Evaluation:
    """The inputs of one evaluation besides the rules: attributed events and users."""

    events: ir.Table
    assets: ir.Table
    memberships: pa.Table | None
    as_of: date
    zone: ZoneInfo

    @property
    def end(self) -> datetime:
        """The end of the as-of day (naive UTC)."""
        return as_of_window(self.as_of, self.zone).end

    def current(self) -> ir.Table:
        """Return the users of each partner at the end of the as-of day."""
        return current_table(self.memberships, self.end)


def default_as_of(events: ir.Table, zone: ZoneInfo) -> date:
    """Return the local date of the latest event, or today in ``zone`` if none."""
    latest = events.occurred_local.max().execute()
    if latest is None or pd.isna(latest):
        return datetime.now(zone).date()
    return pd.Timestamp(latest).date()


def attributed_events(tables: Tables, events: ir.Table | None = None) -> ir.Table:
    """Return events with the partner each event's user belonged to at the time.

    Events without a user, or whose user has no row in the users table covering the
    event, keep the partner stored at import.
    """
    events = tables.table("events") if events is None else events
    members = load_memberships(tables)
    if members is None:
        return events
    return attribute_events(events, ibis.memtable(members))


def _required_ids(rules: list[Rule]) -> set[str]:
    return {rule_id for rule in rules for rule_id in rule.requires or []}


def _unlocks(periods: pd.DataFrame, rule: Rule) -> pa.Table:
    """Return when each partner had earned every rule that ``rule`` requires."""
    earned = periods[periods["rule_id"].isin(rule.requires or [])]
    first = earned.groupby(["partner_id", "rule_id"])["earned_at"].min().reset_index()
    complete = first.groupby("partner_id").filter(
        lambda group: group["rule_id"].nunique() == len(rule.requires or [])
    )
    latest = complete.groupby("partner_id")["earned_at"].max()
    return pa.table(
        {
            "unlock_partner": pa.array(latest.index.astype(str).tolist(), pa.string()),
            "unlock_at": pa.array(
                [pd.Timestamp(value).to_pydatetime() for value in latest],
                pa.timestamp("us"),
            ),
        }
    )


def _execute(parts: list[ir.Table]) -> pd.DataFrame:
    expression = ibis.union(*parts) if len(parts) > 1 else parts[0]
    frame = expression.execute()
    for column in ("period_start", "earned_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [frame for frame in frames if not frame.empty]
    if not kept:
        return pd.DataFrame(columns=list(QUALIFYING_COLUMNS))
    return pd.concat(kept, ignore_index=True)


def qualifying_periods(
    tables: Tables,
    rules: list[Rule],
    *,
    zone: ZoneInfo,
    as_of: date,
    events: ir.Table | None = None,
    half_life_days: float | None = None,
    partner_id: str | None = None,
    timed: bool = False,
) -> pd.DataFrame:
    """Return every qualifying period of every rule, before points are given.

    The parameters are those of :func:`award_periods`; the result has the columns
    rule_id, partner_id, period_start, value and earned_at.
    """
    source = tables.table("events") if events is None else events
    members = load_memberships(tables)
    attributed = attribute_events(
        source, None if members is None else ibis.memtable(members)
    )
    if partner_id is not None:
        attributed = attributed.filter(attributed.partner_id == partner_id)
    evaluation = Evaluation(attributed, tables.table("assets"), members, as_of, zone)
    required = _required_ids(rules)
    current = (
        evaluation.current()
        if any(rule.count.kind == "share" for rule in rules)
        else None
    )

    def compiled(rule: Rule, unlocks: ir.Table | None = None) -> ir.Table:
        needs_time = timed or rule.id in required
        needs_time = needs_time or bool(rule.half_life_days or half_life_days)
        return compile_rule(
            evaluation.events,
            evaluation.assets,
            rule,
            as_of=as_of,
            zone=zone,
            timed=needs_time,
            current=current,
            unlocks=unlocks,
        )

    free = [compiled(rule) for rule in rules if not rule.requires]
    frames = [_execute(free)] if free else []
    for rule in rules:
        if not rule.requires:
            continue
        known = _concat(frames)
        if known.empty:
            continue
        unlocks = ibis.memtable(_unlocks(known, rule))
        frames.append(_execute([compiled(rule, unlocks)]))
    return _concat(frames)


def award_periods(
    tables: Tables,
    rules: list[Rule],
    *,
    zone: ZoneInfo,
    as_of: date,
    events: ir.Table | None = None,
    half_life_days: float | None = None,
    partner_id: str | None = None,
    timed: bool = False,
) -> pd.DataFrame:
    """Return every qualifying period of every rule with its points.

    Parameters
    ----------
    tables
        The canonical tables.
    rules
        The rules to evaluate; a rule may require only rules listed before it.
    zone
        The workspace's time zone.
    as_of
        Count events up to the end of this local day.
    events
        An events table with the canonical columns; ``tables.table("events")`` by
        default. Its events are attributed to partners from the users table.
    half_life_days
        The model's half-life, for rules without their own.
    partner_id
        Evaluate this partner only.
    timed
        Compute ``earned_at`` for every rule, not only where decay or a requirement
        needs it.

    Returns
    -------
    pandas.DataFrame
        Columns rule_id, partner_id, period_start, value, earned_at, base_points,
        decay and points. ``points`` is 0 for the periods after the first of an
        award 'once' and for the periods beyond a cap.
    """
    qualifying = qualifying_periods(
        tables,
        rules,
        zone=zone,
        as_of=as_of,
        events=events,
        half_life_days=half_life_days,
        partner_id=partner_id,
        timed=timed,
    )
    if qualifying.empty:
        return pd.DataFrame(columns=PERIOD_COLUMNS)
    end = as_of_window(as_of, zone).end
    return award_points(qualifying, rules, end=end, half_life_days=half_life_days)


def evaluate_rules(
    tables: Tables,
    rules: list[Rule],
    *,
    zone: ZoneInfo,
    events: ir.Table | None = None,
    as_of: date | None = None,
    half_life_days: float | None = None,
) -> pd.DataFrame:
    """Evaluate rules and return the points each partner earned from each rule.

    Parameters
    ----------
    tables
        The canonical tables; ``assets`` supplies kinds and tags and ``users`` the
        partner each user belonged to when.
    rules
        The rules to evaluate.
    zone
        The workspace's time zone, for the as-of cutoff and rolling windows.
    events
        An events table with the canonical columns; ``tables.table("events")`` by
        default.
    as_of
        Count events up to the end of this local day; the local date of the latest
        event by default.
    half_life_days
        The model's half-life, for rules without their own.

    Returns
    -------
    pandas.DataFrame
        Columns partner_id, rule_id, points: one row per partner and rule with
        non-zero points, sorted by partner_id and then rule order.
    """
    events = tables.table("events") if events is None else events
    as_of = default_as_of(events, zone) if as_of is None else as_of
    if not rules:
        return pd.DataFrame({"partner_id": [], "rule_id": [], "points": []})
    periods = award_periods(
        tables,
        rules,
        zone=zone,
        as_of=as_of,
        events=events,
        half_life_days=half_life_days,
    )
    frame = periods.groupby(["partner_id", "rule_id"], as_index=False, sort=False)[
        "points"
    ].sum()
    frame = frame[frame["points"] != 0]
    logger.info("Evaluated %d rules as of %s: %d awards", len(rules), as_of, len(frame))
    return frame[RESULT_COLUMNS].reset_index(drop=True)


def number(value: float) -> int | float:
    """Return ``value`` as an int when it is whole, so JSON shows 20, not 20.0."""
    value = round(float(value), 6)
    return int(value) if value == int(value) else value


def model_events(
    tables: Tables, model: ScoreModel, as_of: date, zone: ZoneInfo
) -> ir.Table:
    """Return the events that ``model`` looks at as of ``as_of`` (``lookback_days``)."""
    events = tables.table("events")
    if model.lookback_days is not None:
        events = within(events, as_of_window(as_of, zone, days=model.lookback_days))
    return events


def partner_ids(tables: Tables) -> list[str]:
    """Return every partner id of the partners table and of the attributed events."""
    partners = tables.table("partners")
    known = partners.select(partner_id=partners.partner_id.cast("string"))
    events = attributed_events(tables)
    seen = events.filter(events.partner_id.notnull()).select(
        partner_id=events.partner_id.cast("string")
    )
    return sorted(set(known.union(seen).execute()["partner_id"]))


def _partner_rows(
    awards: pd.DataFrame, model: ScoreModel, ids: list[str]
) -> list[dict[str, Any]]:
    points: dict[str, dict[str, float]] = {
        partner_id: {rule.id: 0.0 for rule in model.rules} for partner_id in ids
    }
    for row in awards.itertuples(index=False):
        points.setdefault(row.partner_id, {rule.id: 0.0 for rule in model.rules})
        points[row.partner_id][row.rule_id] += float(row.points)
    return [
        {
            "partner_id": partner_id,
            "score": number(sum(rules.values())),
            "rules": {rule_id: number(value) for rule_id, value in rules.items()},
        }
        for partner_id, rules in points.items()
    ]


def score_partners(
    tables: Tables, model: ScoreModel, *, zone: ZoneInfo, as_of: date | None = None
) -> dict[str, Any]:
    """Score every partner with ``model``.

    Returns
    -------
    dict
        ``{"as_of", "model", "partners": [{"partner_id", "score", "rules"}]}`` with
        every partner of the partners table and every partner of the events, each
        with the points of every rule (zeros included), sorted by score descending
        and then partner_id. Whole numbers are ints.
    """
    events = tables.table("events")
    as_of = default_as_of(events, zone) if as_of is None else as_of
    awards = evaluate_rules(
        tables,
        model.rules,
        zone=zone,
        events=model_events(tables, model, as_of, zone),
        as_of=as_of,
        half_life_days=model.half_life_days,
    )
    partners = _partner_rows(awards, model, partner_ids(tables))
    partners.sort(key=lambda partner: (-partner["score"], partner["partner_id"]))
    return {"as_of": as_of.isoformat(), "model": model.model, "partners": partners}


__all__ = [
    "Tables",
    "attributed_events",
    "award_periods",
    "default_as_of",
    "evaluate_rules",
    "model_events",
    "number",
    "partner_ids",
    "qualifying_periods",
    "score_partners",
]
