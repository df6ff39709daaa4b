"""Cohorts of a landmark design: behaviour in the exposure window, outcomes after it.

Each partner's exposure window is a run of whole local days. The outcome window opens
at the UTC instant of the next local midnight and lasts ``horizon_days`` local days, so
a behaviour is always measured before the outcomes it is compared with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd

from partnerlift.analysis.study import COVARIATES, Study
from partnerlift.scoring import Rule, evaluate_rules
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
    ``deals_closed`` (won or lost) and ``deals_won`` in the outcome window.
    """

    partners: pd.DataFrame
    as_of: date
    n_excluded_no_start: int
    n_excluded_followup: int


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
    # The outcome window's last local day must not be after the as-of day.
    followed = pd.Series(
        [day + horizon <= as_of for day in end_days], index=frame.index, dtype=bool
    )
    n_short = int((~followed).sum())
    frame = frame[followed].reset_index(drop=True)
    for column in WINDOW_COLUMNS[1:]:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame, n_no_start, n_short


def events_in_exposure(db: Database, windows: ir.Table) -> ir.Table:
    """Return the events that fall in their partner's exposure window.

    The result has exactly the columns of the events table, so the scoring layer
    evaluates rules on it as on the full table.
    """
    events = db.table("events")
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


def outcome_counts(db: Database, windows: ir.Table) -> pd.DataFrame:
    """Count each partner's deals created, closed and won in the outcome window.

    A deal counts as closed when its status is won or lost and ``closed_at`` falls in
    the window. Open deals are neither wins nor losses.
    """
    deals = db.table("deals")
    window = windows.select(
        window_partner=windows.partner_id,
        window_start=windows.outcome_start,
        window_end=windows.outcome_end,
    )
    joined = deals.join(window, deals.partner_id == window.window_partner)
    created = (joined.created_at >= joined.window_start) & (
        joined.created_at < joined.window_end
    )
    closed_in_window = (
        joined.closed_at.notnull()
        & (joined.closed_at >= joined.window_start)
        & (joined.closed_at < joined.window_end)
    )
    closed = closed_in_window & joined.status.isin(["won", "lost"])
    won = closed_in_window & (joined.status == "won")
    counts = joined.group_by(partner_id=joined.window_partner).aggregate(
        deals_created=created.cast("int64").sum(),
        deals_closed=closed.cast("int64").sum(),
        deals_won=won.cast("int64").sum(),
    )
    return counts.to_pandas()


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
    """
    events = events_in_exposure(db, windows)
    # NOTE: a rule with a rolling_days period ends its window on `last_day`, the
    # latest exposure end of the cohort, not on each partner's own exposure end.
    points = evaluate_rules(db, rules, zone=zone, events=events, as_of=last_day)
    done = points[points["points"] != 0]
    return done[["partner_id", "rule_id"]]


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
    logger.info(
        "Study %s as of %s: %d partners in the cohort, %d without a joined date, "
        "%d with too short a follow-up",
        study.study,
        as_of,
        len(frame),
        n_no_start,
        n_short,
    )
    for rule in rules:
        frame[rule.id] = False
    for name in ("deals_created", "deals_closed", "deals_won"):
        frame[name] = 0
    if frame.empty:
        return Cohort(frame, as_of, n_no_start, n_short)
    windows = ibis.memtable(frame[WINDOW_COLUMNS])
    last_day = max(frame["exposure_last_day"])
    done = behaviours_done(db, rules, windows, zone=zone, last_day=last_day)
    for rule in rules:
        done_ids = set(done.loc[done["rule_id"] == rule.id, "partner_id"])
        frame[rule.id] = frame["partner_id"].isin(done_ids)
    counts = outcome_counts(db, windows).set_index("partner_id")
    for name in ("deals_created", "deals_closed", "deals_won"):
        mapped = frame["partner_id"].map(counts[name]) if len(counts) else None
        frame[name] = 0 if mapped is None else mapped.fillna(0).astype(int)
    return Cohort(frame, as_of, n_no_start, n_short)
