"""Explain a partner's score: every rule, period, count, event and point."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd

from partnerlift.errors import NotFoundError
from partnerlift.scoring.compile import as_of_window, count_measure, rule_bucketed
from partnerlift.scoring.members import current_table, load_memberships
from partnerlift.scoring.rules import Period, Rule, ScoreModel
from partnerlift.scoring.score import (
    Tables,
    attributed_events,
    award_periods,
    default_as_of,
    model_events,
    number,
)


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


def _instant_text(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat() + "Z"


def _unlock_table(awarded: pd.DataFrame, rule: Rule, partner_id: str) -> Any:
    """Return the partner's unlock moment as a one-row table, or None if locked."""
    earned = awarded[awarded["rule_id"].isin(rule.requires or [])]
    firsts = earned.groupby("rule_id")["earned_at"].min()
    if len(firsts) < len(rule.requires or []):
        return None
    return ibis.memtable(
        pd.DataFrame(
            {"unlock_partner": [partner_id], "unlock_at": [firsts.max()]}
        ).astype({"unlock_at": "datetime64[us]"})
    )


def _period_rows(
    bucketed: ir.Table, rule: Rule, awarded: pd.DataFrame, as_of: date
) -> list[dict[str, Any]]:
    """Return each period's count, events and points for one rule and partner."""
    grouped = (
        bucketed.group_by("period_start")
        .aggregate(
            value=count_measure(bucketed, rule.count),
            event_ids=bucketed.event_id.collect(order_by=bucketed.occurred_at),
        )
        .execute()
    )
    grouped["period_start"] = pd.to_datetime(grouped["period_start"])
    mine = awarded[awarded["rule_id"] == rule.id]
    by_start = {
        (None if pd.isna(row.period_start) else pd.Timestamp(row.period_start)): row
        for row in mine.itertuples(index=False)
    }
    periods = []
    for row in grouped.sort_values("period_start").itertuples(index=False):
        start = None if pd.isna(row.period_start) else pd.Timestamp(row.period_start)
        award = by_start.get(start)
        value = None if pd.isna(row.value) else float(row.value)
        periods.append(
            {
                "period": period_name(rule.period, row.period_start, as_of),
                "count": None if value is None else number(value),
                "qualifies": award is not None,
                "earned_at": None if award is None else _instant_text(award.earned_at),
                "base_points": 0 if award is None else number(award.base_points),
                "decay": 1 if award is None else number(award.decay),
                "points": 0 if award is None else number(award.points),
                "event_ids": list(row.event_ids) if row.event_ids is not None else [],
            }
        )
    return periods


def explain_partner(
    tables: Tables,
    model: ScoreModel,
    partner_id: str,
    *,
    zone: ZoneInfo,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Explain a partner's score: for each rule, the periods and the events behind it.

    Each period shows its count, whether it met the threshold, the moment it did
    (``earned_at``), the points before decay (``base_points``), the decay factor and
    the points, so the rule's points are the sum of its periods' points and the
    score is the sum of the rules' points.

    Raises
    ------
    NotFoundError
        If ``partner_id`` is neither in the partners table nor in any event.
    """
    events = tables.table("events")
    as_of = default_as_of(events, zone) if as_of is None else as_of
    attributed = attributed_events(tables)
    known = tables.table("partners").filter(lambda t: t.partner_id == partner_id)
    seen = attributed.filter(attributed.partner_id == partner_id)
    if known.count().execute() == 0 and seen.count().execute() == 0:
        raise NotFoundError(
            f"Partner {partner_id!r} not found in partners or events. "
            "Run 'partnerlift score' to list the partner ids."
        )
    scored = model_events(tables, model, as_of, zone)
    awarded = award_periods(
        tables,
        model.rules,
        zone=zone,
        as_of=as_of,
        events=scored,
        half_life_days=model.half_life_days,
        partner_id=partner_id,
        timed=True,
    )
    own = attributed_events(tables, scored)
    own = own.filter(own.partner_id == partner_id)
    members = load_memberships(tables)
    rules = []
    for rule in model.rules:
        unlocks = _unlock_table(awarded, rule, partner_id) if rule.requires else None
        if rule.requires and unlocks is None:
            periods: list[dict[str, Any]] = []
        else:
            current = None
            if rule.count.kind == "share":
                current = current_table(members, as_of_window(as_of, zone).end)
            bucketed = rule_bucketed(
                own,
                tables.table("assets"),
                rule,
                as_of=as_of,
                zone=zone,
                current=current,
                unlocks=unlocks,
            )
            periods = _period_rows(bucketed, rule, awarded, as_of)
        rules.append(_rule_entry(rule, model, periods))
    score = sum(float(rule["points"]) for rule in rules)
    return {
        "as_of": as_of.isoformat(),
        "model": model.model,
        "partner_id": partner_id,
        "score": number(score),
        "rules": rules,
    }


def _rule_entry(
    rule: Rule, model: ScoreModel, periods: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "rule_id": rule.id,
        "label": rule.label,
        "count": rule.count.describe(),
        "at_least": number(rule.at_least),
        "at_most": None if rule.at_most is None else number(rule.at_most),
        "period": rule.period.describe(),
        "award": rule.award,
        "cap": None if rule.cap is None else number(rule.cap),
        "half_life_days": model.half_life(rule),
        "requires": list(rule.requires or []),
        "points": number(sum(float(period["points"]) for period in periods)),
        "periods": periods,
    }


__all__ = ["explain_partner", "period_name"]
