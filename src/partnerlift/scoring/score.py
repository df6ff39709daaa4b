"""Score partners with a score model, and explain where their points came from."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd

from partnerlift.errors import NotFoundError
from partnerlift.scoring.compile import (
    as_of_window,
    compile_rule,
    count_measure,
    rule_events,
    within,
)
from partnerlift.scoring.rules import Period, Rule, ScoreModel
from partnerlift.store import Database

logger = logging.getLogger(__name__)

RESULT_COLUMNS = ["partner_id", "rule_id", "points"]


def default_as_of(events: ir.Table, zone: ZoneInfo) -> date:
    """Return the local date of the latest event, or today in ``zone`` if none."""
    latest = events.occurred_local.max().execute()
    if latest is None or pd.isna(latest):
        return datetime.now(zone).date()
    return pd.Timestamp(latest).date()


def evaluate_rules(
    db: Database,
    rules: list[Rule],
    *,
    zone: ZoneInfo,
    events: ir.Table | None = None,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Evaluate rules and return the points each partner earned from each rule.

    Parameters
    ----------
    db
        The workspace database; its ``assets`` table supplies kinds and tags.
    rules
        The rules to evaluate.
    zone
        The workspace's time zone, for the as-of cutoff and rolling windows.
    events
        An events table with the canonical columns; ``db.table("events")`` by default.
    as_of
        Count events up to the end of this local day; the local date of the latest
        event by default.

    Returns
    -------
    pandas.DataFrame
        Columns partner_id, rule_id, points: one row per partner and rule with
        non-zero points, sorted by partner_id and then rule order.
    """
    events = db.table("events") if events is None else events
    as_of = default_as_of(events, zone) if as_of is None else as_of
    if not rules:
        return pd.DataFrame({"partner_id": [], "rule_id": [], "points": []})
    assets = db.table("assets")
    parts = [
        compile_rule(events, assets, rule, as_of=as_of, zone=zone) for rule in rules
    ]
    frame = ibis.union(*parts).execute() if len(parts) > 1 else parts[0].execute()
    frame = frame[frame["points"] != 0]
    order = {rule.id: index for index, rule in enumerate(rules)}
    frame = frame.assign(_order=frame["rule_id"].map(order))
    frame = frame.sort_values(["partner_id", "_order"]).drop(columns="_order")
    logger.info("Evaluated %d rules as of %s: %d awards", len(rules), as_of, len(frame))
    return frame[RESULT_COLUMNS].reset_index(drop=True)


def _number(value: float) -> int | float:
    """Return ``value`` as an int when it is whole, so JSON shows 20, not 20.0."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _model_events(db: Database, model: ScoreModel, as_of: date, zone: ZoneInfo):
    events = db.table("events")
    if model.lookback_days is not None:
        events = within(events, as_of_window(as_of, zone, days=model.lookback_days))
    return events


def score_partners(
    db: Database, model: ScoreModel, *, zone: ZoneInfo, as_of: date | None = None
) -> dict[str, Any]:
    """Score every partner with ``model``.

    Returns
    -------
    dict
        ``{"as_of", "model", "partners": [{"partner_id", "score", "rules"}]}`` with
        every partner of the partners table and every partner id seen in events,
        each with the points of every rule (zeros included), sorted by score
        descending and then partner_id. Whole numbers are ints.
    """
    events = db.table("events")
    as_of = default_as_of(events, zone) if as_of is None else as_of
    awards = evaluate_rules(
        db,
        model.rules,
        zone=zone,
        events=_model_events(db, model, as_of, zone),
        as_of=as_of,
    )
    partners = db.table("partners")
    known = partners.select(partner_id=partners.partner_id.cast("string"))
    seen = events.filter(events.partner_id.notnull()).select(
        partner_id=events.partner_id.cast("string")
    )
    partner_ids = sorted(set(known.union(seen).execute()["partner_id"]))
    points: dict[str, dict[str, float]] = {
        partner_id: {rule.id: 0.0 for rule in model.rules} for partner_id in partner_ids
    }
    for row in awards.itertuples(index=False):
        points.setdefault(row.partner_id, {rule.id: 0.0 for rule in model.rules})
        points[row.partner_id][row.rule_id] += float(row.points)
    partners = [
        {
            "partner_id": partner_id,
            "score": _number(sum(rules.values())),
            "rules": {rule_id: _number(value) for rule_id, value in rules.items()},
        }
        for partner_id, rules in points.items()
    ]
    partners.sort(key=lambda partner: (-partner["score"], partner["partner_id"]))
    return {"as_of": as_of.isoformat(), "model": model.model, "partners": partners}


def period_name(period: Period, start: Any, as_of: date) -> str:
    """Name a period: ``2024-02-01``, ``2025-W01``, ``2024-02``, ``2024-Q1``."""
    if period.kind == "lifetime":
        return "lifetime"
    if period.kind == "rolling_days":
        first = date.fromordinal(as_of.toordinal() - int(period.days or 1) + 1)
        return f"{first.isoformat()}..{as_of.isoformat()}"
    day = pd.Timestamp(start).date()
    if period.kind == "day":
        return day.isoformat()
    if period.kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period.kind == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _explain_rule(
    db: Database,
    rule: Rule,
    events: ir.Table,
    *,
    partner_id: str,
    as_of: date,
    zone: ZoneInfo,
    points: float,
) -> dict[str, Any]:
    """Return one rule's periods for one partner: count, threshold, events behind it."""
    own = events.filter(events.partner_id == partner_id)
    bucketed = rule_events(own, db.table("assets"), rule, as_of=as_of, zone=zone)
    # One aggregation for both, because a join on the null period_start of lifetime
    # and rolling windows would match nothing.
    joined = (
        bucketed.group_by("period_start")
        .aggregate(
            value=count_measure(bucketed, rule.count),
            event_ids=bucketed.event_id.collect(order_by=bucketed.occurred_at),
        )
        .execute()
    )
    periods = []
    for row in joined.sort_values("period_start").itertuples(index=False):
        value = None if pd.isna(row.value) else float(row.value)
        qualifies = value is not None and value >= rule.at_least
        if rule.at_most is not None and value is not None:
            qualifies = qualifies and value <= rule.at_most
        periods.append(
            {
                "period": period_name(rule.period, row.period_start, as_of),
                "count": None if value is None else _number(value),
                "qualifies": bool(qualifies),
                "event_ids": list(row.event_ids) if row.event_ids is not None else [],
            }
        )
    return {
        "rule_id": rule.id,
        "label": rule.label,
        "count": rule.count.describe(),
        "at_least": _number(rule.at_least),
        "at_most": None if rule.at_most is None else _number(rule.at_most),
        "period": rule.period.describe(),
        "award": rule.award,
        "points": _number(points),
        "periods": periods,
    }


def explain_partner(
    db: Database,
    model: ScoreModel,
    partner_id: str,
    *,
    zone: ZoneInfo,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Explain a partner's score: for each rule, the periods and the events behind it.

    Raises
    ------
    NotFoundError
        If ``partner_id`` is neither in the partners table nor in any event.
    """
    events = db.table("events")
    as_of = default_as_of(events, zone) if as_of is None else as_of
    known = db.table("partners").filter(lambda t: t.partner_id == partner_id).count()
    seen = events.filter(events.partner_id == partner_id).count()
    if known.execute() == 0 and seen.execute() == 0:
        raise NotFoundError(
            f"Partner {partner_id!r} not found in partners or events. "
            "Run 'partnerlift score' to list the partner ids."
        )
    scored = _model_events(db, model, as_of, zone)
    awards = evaluate_rules(db, model.rules, zone=zone, events=scored, as_of=as_of)
    mine = awards[awards["partner_id"] == partner_id]
    earned = dict(zip(mine["rule_id"], mine["points"], strict=True))
    rules = [
        _explain_rule(
            db,
            rule,
            scored,
            partner_id=partner_id,
            as_of=as_of,
            zone=zone,
            points=earned.get(rule.id, 0.0),
        )
        for rule in model.rules
    ]
    score = sum(float(rule["points"]) for rule in rules)
    return {
        "as_of": as_of.isoformat(),
        "model": model.model,
        "partner_id": partner_id,
        "score": _number(score),
        "rules": rules,
    }


__all__ = [
    "default_as_of",
    "evaluate_rules",
    "explain_partner",
    "period_name",
    "score_partners",
]
