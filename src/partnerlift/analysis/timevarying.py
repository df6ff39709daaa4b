"""The time-varying design: a behaviour that can start at any time.

Each partner is followed from the start of its exposure window (its joined date, or
the study's fixed start date) until its first deal, the end of the horizon or the
as-of day, whichever comes first. A behaviour counts from the moment its rule first
reaches its threshold, so the time before it is credited to "without": comparing
"ever did it" with the same period's outcomes would credit the behaviour with the
time a partner had to survive to do it. A Cox model with the behaviour as a
time-varying covariate gives the hazard ratio of a first deal.
"""

from __future__ import annotations

import logging
import math
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from partnerlift.analysis.cohorts import Cohort, default_as_of
from partnerlift.analysis.estimators import e_value
from partnerlift.analysis.findings import Z_80_POWER, Finding, _base_finding
from partnerlift.analysis.regression import covariate_matrix
from partnerlift.analysis.study import COVARIATES, PRIOR_REVENUE, Study
from partnerlift.analysis.survival import cox_time_varying_fit, time_varying_table
from partnerlift.errors import ConfigError, Problem
from partnerlift.scoring import Rule
from partnerlift.scoring.compile import rule_events
from partnerlift.settings.times import end_of_day_utc, local_midnight_utc
from partnerlift.store import Database

logger = logging.getLogger(__name__)

DAY_SECONDS = 86400.0


def _check_rule(rule: Rule) -> None:
    if rule.period.kind == "rolling_days" or rule.count.kind == "share":
        raise ConfigError(
            f"Behaviour {rule.id!r} cannot be followed over time: a rolling window "
            "or a share of users has no single moment when it is reached. Use a "
            "lifetime or calendar period and a count of occurrences, distinct "
            "values, a sum or a maximum.",
            [Problem(None, None, "behaviors", rule.id, "not usable over time")],
        )


def behavior_start_times(
    db: Database, rule: Rule, *, zone: ZoneInfo, as_of: date
) -> pd.Series:
    """Return, per partner, the UTC instant at which ``rule`` first reached its
    ``at_least`` threshold within one of its periods, up to the end of ``as_of``.

    The running count follows the rule's ``count``: occurrences add each event's
    quantity, distinct counts add a value the first time it appears in the period,
    a sum adds the property and a maximum keeps the largest value so far.
    """
    _check_rule(rule)
    events = rule_events(
        db.table("events"), db.table("assets"), rule, as_of=as_of, zone=zone
    )
    kind, target = rule.count.kind, rule.count.target
    columns = {
        "partner_id": events.partner_id,
        "occurred_at": events.occurred_at,
        "event_id": events.event_id,
        "quantity": events.quantity,
        "period_start": events.period_start,
    }
    if kind == "distinct":
        if target == "asset":
            columns["value"] = events.asset_id
        elif target == "day":
            columns["value"] = events.occurred_local.date().cast("string")
        elif target == "user":
            columns["value"] = events.user_id
        else:
            columns["value"] = events.properties[str(target)]
    elif kind in ("sum", "max"):
        columns["value"] = events.properties[str(target)].try_cast("float64")
    frame = events.select(**columns).to_pandas()
    if frame.empty:
        return pd.Series(dtype="datetime64[us]")
    frame["period_start"] = frame["period_start"].fillna(pd.Timestamp(0))
    frame = frame.sort_values(["partner_id", "occurred_at", "event_id"])
    keys = [frame["partner_id"], frame["period_start"]]
    if kind == "occurrences":
        running = frame["quantity"].fillna(1.0).groupby(keys).cumsum()
    elif kind == "distinct":
        fresh = ~frame.duplicated(["partner_id", "period_start", "value"])
        fresh &= frame["value"].notna()
        running = fresh.astype(float).groupby(keys).cumsum()
    elif kind == "sum":
        running = frame["value"].fillna(0.0).groupby(keys).cumsum()
    else:
        running = frame["value"].groupby(keys).cummax()
    reached = frame[running.to_numpy() >= rule.at_least]
    return reached.groupby("partner_id")["occurred_at"].min()


def _followed_partners(
    db: Database, study: Study, *, zone: ZoneInfo, as_of: date
) -> tuple[pd.DataFrame, int, int]:
    partners = (
        db.table("partners")
        .select("partner_id", "joined_local", *COVARIATES)
        .to_pandas()
    )
    exposure = study.exposure
    if exposure.from_joined:
        has_start = partners["joined_local"].notna()
        n_no_start = int((~has_start).sum())
        partners = partners[has_start].copy()
        days = [pd.Timestamp(value).date() for value in partners["joined_local"]]
    else:
        n_no_start = 0
        days = [exposure.start] * len(partners)  # type: ignore[list-item]
    partners["start_day"] = days
    started = partners["start_day"] <= as_of
    n_late = int((~started).sum())
    partners = partners[started].copy()
    horizon = timedelta(days=study.horizon_days)
    cutoff = end_of_day_utc(as_of, zone)
    partners["follow_start"] = [
        local_midnight_utc(day, zone) for day in partners["start_day"]
    ]
    partners["follow_end"] = [
        min(local_midnight_utc(day + horizon, zone), cutoff)
        for day in partners["start_day"]
    ]
    for column in ("follow_start", "follow_end"):
        partners[column] = pd.to_datetime(partners[column])
    return partners.reset_index(drop=True), n_no_start, n_late


def _deal_outcomes(db: Database, partners: pd.DataFrame) -> pd.DataFrame:
    deals = db.query(
        "SELECT partner_id, created_at, closed_at, status, amount FROM deals"
    )
    merged = deals.merge(
        partners[["partner_id", "follow_start", "follow_end"]], on="partner_id"
    )
    created = pd.to_datetime(merged["created_at"])
    before = merged[created < merged["follow_start"]]
    inside = merged[
        (created >= merged["follow_start"]) & (created < merged["follow_end"])
    ]
    prior_won = merged[
        (merged["status"] == "won")
        & pd.to_datetime(merged["closed_at"]).notna()
        & (pd.to_datetime(merged["closed_at"]) < merged["follow_start"])
    ]
    result = pd.DataFrame({"partner_id": partners["partner_id"]})
    result["created_before"] = result["partner_id"].isin(set(before["partner_id"]))
    first = inside.groupby("partner_id")["created_at"].min()
    result["first_deal_at"] = pd.to_datetime(result["partner_id"].map(first))
    revenue = prior_won.groupby("partner_id")["amount"].sum()
    result[PRIOR_REVENUE] = result["partner_id"].map(revenue).fillna(0.0)
    return result


def analyze_time_varying(
    db: Database, study: Study, rules: list[Rule], *, zone: ZoneInfo, locale: str
) -> tuple[list[Finding], date]:
    """Fit, for each behaviour, a Cox model of the time to the first deal with the
    behaviour as a time-varying covariate.

    Returns
    -------
    tuple
        The findings (``measure`` ``hazard_ratio``; ``value_with`` and
        ``value_without`` are first deals per partner-year with and without the
        behaviour) and the as-of day.
    """
    as_of = study.as_of or default_as_of(db, zone)
    partners, n_no_start, n_late = _followed_partners(db, study, zone=zone, as_of=as_of)
    outcomes = _deal_outcomes(db, partners)
    partners = partners.merge(outcomes, on="partner_id")
    n_prior = int(partners["created_before"].sum())
    partners = partners[~partners["created_before"]].reset_index(drop=True)
    start = partners["follow_start"]
    has_deal = partners["first_deal_at"].notna()
    end_instant = partners["first_deal_at"].where(has_deal, partners["follow_end"])
    partners["end"] = (end_instant - start).dt.total_seconds() / DAY_SECONDS
    partners["event"] = has_deal
    partners = partners[partners["end"] > 0].reset_index(drop=True)
    findings = []
    for rule in rules:
        began = behavior_start_times(db, rule, zone=zone, as_of=as_of)
        began_at = pd.to_datetime(partners["partner_id"].map(began))
        subjects = pd.DataFrame(
            {
                "id": partners["partner_id"],
                "end": partners["end"],
                "event": partners["event"],
                "behavior_start": (
                    began_at - partners["follow_start"]
                ).dt.total_seconds()
                / DAY_SECONDS,
            }
        )
        finding = _base_finding_for(rule, study, locale, n_no_start, n_late)
        finding.n_excluded_prior = n_prior
        _fit_one(finding, subjects, partners, study)
        findings.append(finding)
    return findings, as_of


def _base_finding_for(
    rule: Rule, study: Study, locale: str, n_no_start: int, n_late: int
) -> Finding:
    cohort = Cohort(pd.DataFrame(), date.today(), n_no_start, n_late)
    finding = _base_finding(cohort, rule, "lead_time", study, locale)
    finding.measure = "hazard_ratio"
    finding.test = "wald_cox"
    return finding


def _fit_one(
    finding: Finding, subjects: pd.DataFrame, partners: pd.DataFrame, study: Study
) -> None:
    table = time_varying_table(subjects)
    exposed = table["behavior"] == 1
    time_with = float((table["stop"] - table["start"])[exposed].sum())
    time_without = float((table["stop"] - table["start"])[~exposed].sum())
    finding.n_with = int(table.loc[exposed, "id"].nunique())
    finding.n_without = int(table.loc[~exposed, "id"].nunique())
    finding.events_with = int(table.loc[exposed, "event"].sum())
    finding.events_without = int(table.loc[~exposed, "event"].sum())
    if time_with > 0:
        finding.value_with = finding.events_with / time_with * 365.0
    if time_without > 0:
        finding.value_without = finding.events_without / time_without * 365.0
    total_events = finding.events_with + finding.events_without
    share = time_with / (time_with + time_without) if time_with + time_without else 0
    if total_events and 0 < share < 1:
        finding.detectable_effect = math.exp(
            Z_80_POWER / math.sqrt(total_events * share * (1 - share))
        )
    if (
        min(finding.n_with, finding.n_without) < study.min_partners
        or min(finding.events_with, finding.events_without) < study.min_survival_events
    ):
        finding.status = "insufficient_data"
        return
    interval, finding.p_value, _ = cox_time_varying_fit(
        table[["id", "start", "stop", "event", "behavior"]]
    )
    finding.estimate, finding.ci_low, finding.ci_high = (
        interval.estimate,
        interval.low,
        interval.high,
    )
    if not study.adjust_for:
        return
    design = covariate_matrix(partners, list(study.adjust_for))
    # A Cox model needs enough events per coefficient; censored partners do not
    # count as the other outcome the way non-events do in a rate.
    if total_events < study.min_events_per_covariate * (design.shape[1] + 1):
        finding.adjustment_note = "few_events_per_covariate"
        return
    design = design.rename(columns=lambda name: f"x{list(design.columns).index(name)}")
    design["id"] = partners["partner_id"].to_numpy()
    adjusted_table = table.merge(design, on="id", how="left")
    adjusted, _, _ = cox_time_varying_fit(adjusted_table)
    finding.adjusted_estimate = adjusted.estimate
    finding.adjusted_ci_low = adjusted.low
    finding.adjusted_ci_high = adjusted.high
    finding.adjustment_method = "cox_time_varying" if adjusted.estimate else None
    if adjusted.estimate is not None:
        finding.e_value, finding.e_value_ci = e_value(
            adjusted.estimate, adjusted.low, adjusted.high
        )
