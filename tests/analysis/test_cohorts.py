"""Window logic of the landmark design on a hand-made workspace in Asia/Tokyo.

The study: exposure from joined_at for 10 days, outcomes in the 20 days after, as of
2024-03-31. A partner joined on 2024-01-01 has the exposure window 1-10 January
(local), ending at 2024-01-11 00:00 JST = 2024-01-10 15:00 UTC, and the outcome
window 11-30 January, ending at 2024-01-31 00:00 JST.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from partnerlift.analysis import analyze
from partnerlift.analysis.cohorts import Cohort, build_cohort
from partnerlift.analysis.study import Study
from partnerlift.ingest import import_file
from partnerlift.scoring import Rule, ScoreModel
from partnerlift.settings import Workspace
from partnerlift.store import Database

STUDY = {
    "study": "windows",
    "behaviors": [{"id": "video", "match": {"action": "completed"}}],
    "exposure": {"start": "joined_at", "days": 10},
    "horizon_days": 20,
    "outcomes": ["opportunity_rate", "win_rate"],
    "min_partners": 1,
    "min_events": 0,
    "as_of": "2024-03-31",
}

PARTNERS = [
    # Watched in the window; a deal created and won in the outcome window.
    {"partner_id": "in_window", "joined_at": "2024-01-01"},
    # Watched at 00:30 on the day after the window (still 10 January in UTC);
    # an open deal created before the outcome window.
    {"partner_id": "late", "joined_at": "2024-01-01"},
    # Watched in the window; an open deal created in the outcome window.
    {"partner_id": "open_deal", "joined_at": "2024-01-01"},
    # Outcome window 12-31 March, whose last day is the as-of day; a lost deal.
    {"partner_id": "last_day", "joined_at": "2024-03-02"},
    # Outcome window 15 March to 3 April, past the as-of day: excluded.
    {"partner_id": "short", "joined_at": "2024-03-05"},
    # No joined date: excluded.
    {"partner_id": "no_start", "joined_at": None},
    # Watched at the first instant of the window; a deal created at the instant the
    # outcome window ends (exclusive).
    {"partner_id": "edges", "joined_at": "2024-01-01"},
]

EVENTS = [
    ("in_window", "2024-01-10T23:30:00"),
    ("late", "2024-01-11T00:30:00"),
    ("open_deal", "2024-01-03T12:00:00"),
    ("short", "2024-03-06T12:00:00"),
    ("no_start", "2024-01-03T12:00:00"),
    ("edges", "2024-01-01T00:00:00"),
]

DEALS = [
    ("in_window", "2024-01-15T10:00:00", "2024-01-20T10:00:00", "won"),
    ("late", "2024-01-05T10:00:00", None, "open"),
    ("open_deal", "2024-01-12T10:00:00", None, "open"),
    ("last_day", "2024-03-13T10:00:00", "2024-03-31T23:00:00", "lost"),
    ("short", "2024-03-16T10:00:00", "2024-03-20T10:00:00", "won"),
    ("edges", "2024-01-31T00:00:00", None, "open"),
]


@pytest.fixture
def window_database(workspace: Workspace, insert_rows: Any) -> Database:
    db = Database(workspace.database_path)
    insert_rows(db, "partners", PARTNERS)
    insert_rows(
        db,
        "events",
        [
            {
                "event_id": f"E{index}",
                "occurred_at": occurred_at,
                "partner_id": partner_id,
                "action": "completed",
                "quantity": 1.0,
            }
            for index, (partner_id, occurred_at) in enumerate(EVENTS)
        ],
    )
    insert_rows(
        db,
        "deals",
        [
            {
                "deal_id": f"D{index}",
                "partner_id": partner_id,
                "created_at": created_at,
                "closed_at": closed_at,
                "status": status,
            }
            for index, (partner_id, created_at, closed_at, status) in enumerate(DEALS)
        ],
    )
    yield db
    db.close()


@pytest.fixture
def cohort(window_database: Database, workspace: Workspace) -> Cohort:
    study = Study.model_validate(STUDY)
    rules = [rule for rule in study.behaviors if isinstance(rule, Rule)]

    return build_cohort(window_database, study, rules, zone=workspace.zone)


def _row(cohort: Cohort, partner_id: str) -> pd.Series:
    return cohort.partners.set_index("partner_id").loc[partner_id]


def test_cohort_excludes_missing_start(cohort: Cohort) -> None:
    assert cohort.n_excluded_no_start == 1


def test_cohort_excludes_short_followup(cohort: Cohort) -> None:
    assert cohort.n_excluded_followup == 1


def test_cohort_keeps_five_partners(cohort: Cohort) -> None:
    assert sorted(cohort.partners["partner_id"]) == [
        "edges",
        "in_window",
        "last_day",
        "late",
        "open_deal",
    ]


def test_behaviour_in_window_is_done(cohort: Cohort) -> None:
    assert bool(_row(cohort, "in_window")["video"]) is True


def test_behaviour_after_window_is_not_done(cohort: Cohort) -> None:
    assert bool(_row(cohort, "late")["video"]) is False


def test_behaviour_at_window_start_is_done(cohort: Cohort) -> None:
    assert bool(_row(cohort, "edges")["video"]) is True


def test_deal_before_outcome_window_not_counted(cohort: Cohort) -> None:
    assert _row(cohort, "late")["deals_created"] == 0


def test_deal_at_outcome_window_end_not_counted(cohort: Cohort) -> None:
    assert _row(cohort, "edges")["deals_created"] == 0


def test_deal_in_outcome_window_counted(cohort: Cohort) -> None:
    assert _row(cohort, "open_deal")["deals_created"] == 1


def test_open_deal_is_not_closed(cohort: Cohort) -> None:
    assert _row(cohort, "open_deal")["deals_closed"] == 0


def test_loss_on_last_day_counted(cohort: Cohort) -> None:
    row = _row(cohort, "last_day")

    assert row["deals_closed"] == 1
    assert row["deals_won"] == 0


def test_win_in_outcome_window_counted(cohort: Cohort) -> None:
    row = _row(cohort, "in_window")

    assert row["deals_closed"] == 1
    assert row["deals_won"] == 1


def test_analyze_counts_on_window_workspace(
    window_database: Database, workspace: Workspace
) -> None:
    # Opportunity: done = in_window, open_deal, edges (2 with a deal in the window);
    # not done = late (its deal is before the window) and last_day (a deal created
    # on 13 March, in its window 12-31 March).
    # Win: the partners with a closed deal are in_window (done, won) and last_day
    # (not done, lost). The deal of open_deal is open, not a loss, so it is left out.
    study = Study.model_validate(STUDY)
    model = ScoreModel.model_validate(
        {"model": "empty", "rules": [{"id": "unused", "match": {"action": "x"}}]}
    )

    result = analyze(window_database, study, model=model, zone=workspace.zone)

    opportunity, win = result["findings"]
    assert (opportunity["events_with"], opportunity["n_with"]) == (2, 3)
    assert (opportunity["events_without"], opportunity["n_without"]) == (1, 2)
    assert (win["events_with"], win["n_with"]) == (1, 1)
    assert (win["events_without"], win["n_without"]) == (0, 1)
    assert result["as_of"] == "2024-03-31"


def test_moved_user_counts_for_new_partner(database, workspace, tmp_path) -> None:
    files = {
        # Exposure windows: "old" 1-10 February, "new" 2-11 March.
        "partners": "partner_id,joined_at\nold,2024-02-01\nnew,2024-03-02\n",
        # The export still names the old partner for the completion on 10 March,
        # and it is imported before the users file that records the move.
        "events": (
            "occurred_at,partner_id,user_id,action\n2024-03-10,old,u1,completed\n"
        ),
        # u1 left "old" for "new" on 5 March.
        "users": (
            "user_id,partner_id,valid_from,valid_to\n"
            "u1,old,2024-01-01,2024-03-05\nu1,new,2024-03-05,\n"
        ),
    }
    for table, content in files.items():
        path = tmp_path / f"{table}.csv"
        path.write_text(content, encoding="utf-8")
        import_file(database, workspace, table, path)
    study = Study.model_validate(STUDY)
    rules = [rule for rule in study.behaviors if isinstance(rule, Rule)]

    cohort = build_cohort(database, study, rules, zone=workspace.zone)

    assert bool(_row(cohort, "new")["video"]) is True
    assert bool(_row(cohort, "old")["video"]) is False
