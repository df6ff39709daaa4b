"""Cohorts of a landmark design: behaviour in the exposure window, outcomes after it.

Each partner's exposure window is a run of whole local days. The outcome window opens
at the UTC instant of the next local midnight and lasts ``horizon_days`` local days, so
a behaviour is always measured before the outcomes it is compared with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd

from partnerlift.analysis.study import COVARIATES, Study
from partnerlift.scoring import Rule, award_periods, evaluate_rules
from partnerlift.scoring.compile import attribute_events
from partnerlift.scoring.members import load_memberships
from partnerlift.settings.times import local_midnight_utc
from partnerlift.store import Database

logger = logging.getLogger(__name__)

WINDOW_COLUMNS = [
    "partner_id",
    "exposure_start",
    "exposure_end",
    "outcome_start",
    "outcome_end",
]


@dataclass
class Cohort:
    """The partners of a study, one row each, with their behaviours and outcomes.

    ``partners`` has ``partner_id``, the covariates, one boolean column per behaviour
    id (done in the exposure window), and the outcome counts ``deals_created``,
    ``deals_closed`` (won or lost) and ``deals_won`` in the outcome window. When
    built from the database it also has ``first_deal_days`` (days from the start of
    the outcome window to the first deal created in it, NaN without one),
    ``revenue`` (the amount won in the outcome window), ``observed_days``, the
    same counts over the prior period of ``horizon_days`` before the exposure
    window (``deals_created_prior``, ``deals_closed_prior``, ``deals_won_prior``,
    ``prior_revenue``) and ``created_before``, ``won_before``: whether the partner
    created or won a deal before its exposure window opened. ``deals`` lists the
    deals closed in each partner's outcome window (``partner_id``, ``won``).
    """

    partners: pd.DataFrame
    as_of: date
    n_excluded_no_start: int
    n_excluded_followup: int
    deals: pd.DataFrame | None = None
    subsets: dict[str, tuple[pd.DataFrame, int]] = field(default_factory=dict)


def default_as_of(db: Database, zone: ZoneInfo) -> date:
    """Return the local date of the latest event or deal, or today in ``zone``."""
    row = db.query(
        """
        SELECT max(latest) FROM (
            SELECT max(occurred_local) AS latest FROM events
            UNION ALL SELECT max(created_local) FROM deals
            UNION ALL SELECT max(closed_local) FROM deals
        )
        """
    ).iloc[0, 0]
    if row is None or pd.isna(row):
        return datetime.now(zone).date()
    return pd.Timestamp(row).date()


def partner_windows(
    partners: pd.DataFrame, study: Study, *, zone: ZoneInfo, as_of: date
) -> tuple[pd.DataFrame, int, int]:
    """Compute each partner's exposure and outcome windows as naive UTC instants.

    Returns
    -------
    tuple
        First the partners that stay in the cohort. They keep the columns of
        ``partners`` and gain ``exposure_start``, ``exposure_end``,
        ``outcome_start``, ``outcome_end`` (the ends exclusive) and
        ``exposure_last_day`` (a local date). Then the number of partners left out
        for lack of a joined date, and the number left out because their outcome
        window ends after ``as_of``.
    """
    exposure = study.exposure
    frame = partners.copy()
    if exposure.from_joined:
        has_start = frame["joined_local"].notna()
        n_no_start = int((~has_start).sum())
        frame = frame[has_start].copy()
        start_days = [pd.Timestamp(value).date() for value in frame["joined_local"]]
        length = timedelta(days=int(exposure.days or 0) - 1)
        end_days = [day + length for day in start_days]
    else:
        n_no_start = 0
        start_days = [exposure.start] * len(frame)  # type: ignore[list-item]
        end_days = [exposure.end] * len(frame)  # type: ignore[list-item]
    horizon = timedelta(days=study.horizon_days)
    one_day = timedelta(days=1)
    midnights: dict[date, datetime] = {}

    def midnight(day: date) -> datetime:
        if day not in midnights:
            midnights[day] = local_midnight_utc(day, zone)
        return midnights[day]

    frame["exposure_start"] = [midnight(day) for day in start_days]
    frame["exposure_end"] = [midnight(day + one_day) for day in end_days]
    frame["exposure_last_day"] = end_days
    frame["outcome_start"] = frame["exposure_end"]
    frame["outcome_end"] = [midnight(day + one_day + horizon) for day in end_days]
    frame["prior_start"] = [midnight(day - horizon) for day in start_days]
    # The outcome window's last local day must not be after the as-of day.
    followed = pd.Series(
        [day + horizon <= as_of for day in end_days], index=frame.index, dtype=bool
    )
    n_short = int((~followed).sum())
    frame = frame[followed].reset_index(drop=True)
    for column in [*WINDOW_COLUMNS[1:], "prior_start"]:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame, n_no_start, n_short


def events_in_exposure(db: Database, windows: ir.Table) -> ir.Table:
    """Return the events that fall in their partner's exposure window.

    The result has exactly the columns of the events table, so the scoring layer
    evaluates rules on it as on the full table. An event belongs to the partner its
    user belonged to when it happened, as in scoring.
    """
    events = db.table("events")
    memberships = load_memberships(db)
    if memberships is not None:
        events = attribute_events(events, ibis.memtable(memberships))
    window = windows.select(
        window_partner=windows.partner_id,
        window_start=windows.exposure_start,
        window_end=windows.exposure_end,
    )
    joined = events.join(
        window,
        [
            events.partner_id == window.window_partner,
            events.occurred_at >= window.window_start,
            events.occurred_at < window.window_end,
        ],
    )
    return joined.select(*events.columns)


OUTCOME_COLUMNS = {
    "deals_created": 0,
    "deals_closed": 0,
    "deals_won": 0,
    "revenue": 0.0,
    "deals_created_prior": 0,
    "deals_closed_prior": 0,
    "deals_won_prior": 0,
    "prior_revenue": 0.0,
    "created_before": False,
    "won_before": False,
}


def outcome_counts(db: Database, windows: ir.Table) -> pd.DataFrame:
    """Count each partner's deals created, closed and won in the outcome window.

    A deal counts as closed when its status is won or lost and ``closed_at`` falls in
    the window. Open deals are neither wins nor losses. ``windows`` may also carry
    ``prior_start`` and ``exposure_start``; then the same counts are taken over the
    prior period between them (columns ending in ``_prior``, and
    ``prior_revenue``), and ``created_before`` and ``won_before`` tell whether the
    partner created or won a deal before ``exposure_start``. ``first_deal_at`` is
    the first deal created in the outcome window and ``revenue`` the amount won
    there.
    """
    deals = db.table("deals")
    with_prior = "prior_start" in windows.columns
    extra = (
        {"prior_from": windows.prior_start, "exposure_from": windows.exposure_start}
        if with_prior
        else {}
    )
    window = windows.select(
        window_partner=windows.partner_id,
        window_start=windows.outcome_start,
        window_end=windows.outcome_end,
        **extra,
    )
    joined = deals.join(window, deals.partner_id == window.window_partner)

    def measures(start: ir.Value, end: ir.Value, suffix: str) -> dict[str, ir.Value]:
        created = (joined.created_at >= start) & (joined.created_at < end)
        closed_in_window = (
            joined.closed_at.notnull()
            & (joined.closed_at >= start)
            & (joined.closed_at < end)
        )
        closed = closed_in_window & joined.status.isin(["won", "lost"])
        won = closed_in_window & (joined.status == "won")
        amount = won.ifelse(joined.amount.fill_null(0.0), 0.0)
        revenue_name = "revenue" if not suffix else "prior_revenue"
        return {
            f"deals_created{suffix}": created.cast("int64").sum(),
            f"deals_closed{suffix}": closed.cast("int64").sum(),
            f"deals_won{suffix}": won.cast("int64").sum(),
            revenue_name: amount.cast("float64").sum(),
        }

    created_now = (joined.created_at >= joined.window_start) & (
        joined.created_at < joined.window_end
    )
    aggregates = measures(joined.window_start, joined.window_end, "")
    aggregates["first_deal_at"] = created_now.ifelse(
        joined.created_at, ibis.null("timestamp")
    ).min()
    if with_prior:
        aggregates.update(measures(joined.prior_from, joined.exposure_from, "_prior"))
        aggregates["created_before"] = (
            (joined.created_at < joined.exposure_from).cast("int64").max()
        )
        aggregates["won_before"] = (
            (
                (joined.status == "won")
                & joined.closed_at.notnull()
                & (joined.closed_at < joined.exposure_from)
            )
            .cast("int64")
            .max()
        )
    counts = joined.group_by(partner_id=joined.window_partner).aggregate(**aggregates)
    return counts.to_pandas()


def closed_deals(db: Database, windows: ir.Table) -> pd.DataFrame:
    """Return the deals won or lost in their partner's outcome window: columns
    ``partner_id`` and ``won`` (bool), one row per deal.
    """
    deals = db.table("deals")
    window = windows.select(
        window_partner=windows.partner_id,
        window_start=windows.outcome_start,
        window_end=windows.outcome_end,
    )
    joined = deals.join(window, deals.partner_id == window.window_partner)
    closed = joined.filter(
        joined.closed_at.notnull(),
        joined.closed_at >= joined.window_start,
        joined.closed_at < joined.window_end,
        joined.status.isin(["won", "lost"]),
    )
    result = closed.select(
        partner_id=closed.window_partner, won=closed.status == "won"
    ).to_pandas()
    return result.astype({"won": bool})


def behaviours_done(
    db: Database,
    rules: list[Rule],
    windows: ir.Table,
    *,
    zone: ZoneInfo,
    last_day: date,
) -> pd.DataFrame:
    """Return ``partner_id``, ``rule_id`` for each rule that awarded non-zero points
    on the partner's events inside its exposure window.

    The thresholds of one behaviour (ids such as ``proposal_template>=3``) are
    evaluated together: the rule runs once at the lowest threshold, and a partner
    meets a higher one when one of its qualifying periods counts that much.
    """
    events = events_in_exposure(db, windows)
    # NOTE: a rule with a rolling_days period ends its window on `last_day`, the
    # latest exposure end of the cohort, not on each partner's own exposure end.
    if any(getattr(rule, "requires", None) for rule in rules):
        points = evaluate_rules(db, rules, zone=zone, events=events, as_of=last_day)
        done = points[points["points"] != 0]
        return done[["partner_id", "rule_id"]]
    groups: dict[str, list[Rule]] = {}
    for rule in rules:
        groups.setdefault(rule.id.partition(">=")[0], []).append(rule)
    bases = [
        group[0].model_copy(
            update={"id": base, "at_least": min(rule.at_least for rule in group)}
        )
        for base, group in groups.items()
    ]
    periods = award_periods(db, bases, zone=zone, as_of=last_day, events=events)
    parts = [pd.DataFrame({"partner_id": pd.Series(dtype=str), "rule_id": []})]
    for base, group in groups.items():
        mine = periods[periods["rule_id"] == base]
        for rule in group:
            if rule.points == 0:
                continue
            kept = mine[mine["value"] >= rule.at_least]
            if rule.at_most is not None:
                kept = kept[kept["value"] <= rule.at_most]
            partner_ids = kept["partner_id"].drop_duplicates()
            parts.append(pd.DataFrame({"partner_id": partner_ids, "rule_id": rule.id}))
    return pd.concat(parts, ignore_index=True)


def covariates_as_of(db: Database, frame: pd.DataFrame) -> pd.DataFrame:
    """Read tier, size, region and segment as each partner's exposure window opened.

    The values come from the latest partner import observed at or before that instant
    (``partner_history``). A partner first observed later keeps its stored values,
    because nothing earlier is known about it.
    """
    if frame.empty:
        return frame
    db.raw.register("_cohort_starts", frame[["partner_id", "exposure_start"]])
    try:
        history = db.raw.execute(
            """
            SELECT s.partner_id, h.tier, h.size, h.region, h.segment
            FROM _cohort_starts s
            ASOF JOIN partner_history h
              ON s.partner_id = h.partner_id AND s.exposure_start >= h.observed_at
            """
        ).df()
    finally:
        db.raw.unregister("_cohort_starts")
    if history.empty:
        return frame
    frame = frame.copy()
    known = history.set_index("partner_id")
    observed = frame["partner_id"].isin(known.index)
    for column in COVARIATES:
        values = frame.loc[observed, "partner_id"].map(known[column])
        frame.loc[observed, column] = values
    return frame


def build_cohort(
    db: Database,
    study: Study,
    rules: list[Rule],
    *,
    zone: ZoneInfo,
) -> Cohort:
    """Build the cohort of ``study``: windows, behaviours done and outcome counts.

    Partners without a joined date (when the exposure starts at it) and partners
    whose outcome window ends after the study's as-of day are left out and counted.
    """
    as_of = study.as_of or default_as_of(db, zone)
    partners = (
        db.table("partners")
        .select("partner_id", "joined_local", *COVARIATES)
        .to_pandas()
    )
    frame, n_no_start, n_short = partner_windows(
        partners, study, zone=zone, as_of=as_of
    )
    frame = covariates_as_of(db, frame)
    logger.info(
        "Study %s as of %s: %d partners in the cohort, %d without a joined date, "
        "%d with too short a follow-up",
        study.study,
        as_of,
        len(frame),
        n_no_start,
        n_short,
    )
    defaults = {rule.id: False for rule in rules}
    defaults.update(OUTCOME_COLUMNS)
    defaults["first_deal_days"] = float("nan")
    defaults["observed_days"] = float(study.horizon_days)
    frame = pd.concat([frame, pd.DataFrame(defaults, index=frame.index)], axis=1).copy()
    if frame.empty:
        return Cohort(frame, as_of, n_no_start, n_short, _no_deals())
    windows = ibis.memtable(frame[[*WINDOW_COLUMNS, "prior_start"]])
    last_day = max(frame["exposure_last_day"])
    done = behaviours_done(db, rules, windows, zone=zone, last_day=last_day)
    done_columns = {
        rule.id: frame["partner_id"].isin(
            set(done.loc[done["rule_id"] == rule.id, "partner_id"])
        )
        for rule in rules
    }
    frame = frame.drop(columns=list(done_columns))
    frame = pd.concat([frame, pd.DataFrame(done_columns, index=frame.index)], axis=1)
    counts = outcome_counts(db, windows).set_index("partner_id")
    for name, empty in OUTCOME_COLUMNS.items():
        if not len(counts):
            continue
        mapped = frame["partner_id"].map(counts[name]).fillna(empty)
        frame[name] = mapped.astype(type(empty))
    if len(counts):
        first = pd.to_datetime(frame["partner_id"].map(counts["first_deal_at"]))
        elapsed = first - pd.to_datetime(frame["outcome_start"])
        frame["first_deal_days"] = elapsed.dt.total_seconds() / 86400.0
    return Cohort(frame, as_of, n_no_start, n_short, closed_deals(db, windows))


def _no_deals() -> pd.DataFrame:
    return pd.DataFrame({"partner_id": pd.Series(dtype=str), "won": []})
