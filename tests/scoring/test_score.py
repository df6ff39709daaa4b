"""score_partners, evaluate_rules and explain_partner on small hand-made programs."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from tests.scoring.golden import (
    DEFAULT_MODEL,
    insert_assets,
    insert_events,
    insert_partners,
)

from partnerlift.errors import NotFoundError
from partnerlift.scoring import (
    Rule,
    ScoreModel,
    evaluate_rules,
    explain_partner,
    load_model,
    score_partners,
)
from partnerlift.store import Database

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def program(database: Database) -> Database:
    """Three partners in the Tokyo workspace: p1 active, p2 idle, p9 only in events."""
    insert_partners(database, ["p1", "p2"])
    insert_assets(
        database,
        [
            {"asset_id": "v1", "kind": "video", "tags": ["onboarding"]},
            {"asset_id": "t1", "kind": "template"},
        ],
    )
    insert_events(
        database,
        [
            # p1: onboarding video (20) and 3 logins in January (10) -> 30
            {"event_id": "e1", "occurred_at": "2024-01-05T03:00:00Z",
             "partner_id": "p1", "action": "completed", "asset_id": "v1"},
            {"event_id": "e2", "occurred_at": "2024-01-06T03:00:00Z",
             "partner_id": "p1", "action": "logged_in"},
            {"event_id": "e3", "occurred_at": "2024-01-07T03:00:00Z",
             "partner_id": "p1", "action": "logged_in"},
            {"event_id": "e4", "occurred_at": "2024-01-08T03:00:00Z",
             "partner_id": "p1", "action": "logged_in"},
            # p9: template download (15); Feb 10 12:00 in Tokyo is the latest event
            {"event_id": "e5", "occurred_at": "2024-02-10T03:00:00Z",
             "partner_id": "p9", "action": "downloaded", "asset_id": "t1"},
        ],
        "Asia/Tokyo",
    )  # fmt: skip
    return database


def test_score_lists_every_partner(program: Database) -> None:
    model = load_model(DEFAULT_MODEL)

    result = score_partners(program, model, zone=TOKYO)

    # p1 30, p9 15, p2 0 (in the partners table with no events)
    assert [item["partner_id"] for item in result["partners"]] == ["p1", "p9", "p2"]
    assert [item["score"] for item in result["partners"]] == [30, 15, 0]


def test_score_has_every_rule(program: Database) -> None:
    model = load_model(DEFAULT_MODEL)

    result = score_partners(program, model, zone=TOKYO)

    p1 = result["partners"][0]
    assert p1["rules"] == {
        "onboarding_video": 20,
        "advanced_training": 0,
        "product_doc_pages": 0,
        "proposal_template": 0,
        "sales_faq": 0,
        "monthly_logins": 10,
    }
    assert isinstance(p1["score"], int)
    assert isinstance(p1["rules"]["onboarding_video"], int)


def test_score_as_of_defaults_to_latest(program: Database) -> None:
    model = load_model(DEFAULT_MODEL)

    result = score_partners(program, model, zone=TOKYO)

    assert result["as_of"] == "2024-02-10"
    assert result["model"] == "support-engagement"


def test_score_empty_database_uses_today(database: Database) -> None:
    model = load_model(DEFAULT_MODEL)
    before = datetime.now(TOKYO).date()

    result = score_partners(database, model, zone=TOKYO)

    after = datetime.now(TOKYO).date()
    assert result["as_of"] in {before.isoformat(), after.isoformat()}
    assert result["partners"] == []


def test_score_keeps_fractional_points(program: Database) -> None:
    rule = Rule.model_validate(
        {"id": "half", "points": 2.5, "match": {"action": "logged_in"}}
    )
    model = ScoreModel(model="m", rules=[rule])

    result = score_partners(program, model, zone=TOKYO)

    assert result["partners"][0] == {
        "partner_id": "p1",
        "score": 2.5,
        "rules": {"half": 2.5},
    }


def test_lookback_days_ignores_old_events(program: Database) -> None:
    # As of Feb 10 with 31 days: from Jan 11 00:00 Tokyo. p1's events (Jan 5-8) drop.
    model = load_model(DEFAULT_MODEL).model_copy(update={"lookback_days": 31})

    result = score_partners(program, model, zone=TOKYO, as_of=date(2024, 2, 10))

    scores = {item["partner_id"]: item["score"] for item in result["partners"]}
    assert scores == {"p1": 0, "p9": 15, "p2": 0}


def test_evaluate_accepts_filtered_events(program: Database) -> None:
    model = load_model(DEFAULT_MODEL)
    events = program.table("events")
    without_e4 = events.filter(events.event_id != "e4")

    frame = evaluate_rules(program, model.rules, zone=TOKYO, events=without_e4)

    # p1 keeps the video (20) but has only 2 logins; p9 keeps the template (15)
    rows = {(row.partner_id, row.rule_id): row.points for row in frame.itertuples()}
    assert rows == {("p1", "onboarding_video"): 20.0, ("p9", "proposal_template"): 15.0}


def test_evaluate_returns_contract_columns(program: Database) -> None:
    model = load_model(DEFAULT_MODEL)

    frame = evaluate_rules(program, model.rules, zone=TOKYO)

    assert list(frame.columns) == ["partner_id", "rule_id", "points"]


def test_explain_lists_events_behind_award(program: Database) -> None:
    model = load_model(DEFAULT_MODEL)

    result = explain_partner(program, model, "p1", zone=TOKYO)

    logins = next(
        rule for rule in result["rules"] if rule["rule_id"] == "monthly_logins"
    )
    assert result["score"] == 30
    assert logins["points"] == 10
    # The third login, e4 on Jan 8 03:00Z, met at_least 3; no decay.
    assert logins["periods"] == [
        {
            "period": "2024-01",
            "count": 3,
            "qualifies": True,
            "earned_at": "2024-01-08T03:00:00Z",
            "base_points": 10,
            "decay": 1,
            "points": 10,
            "event_ids": ["e2", "e3", "e4"],
        }
    ]


def test_explain_shows_unmet_threshold(program: Database) -> None:
    model = load_model(DEFAULT_MODEL)

    result = explain_partner(program, model, "p1", zone=TOKYO, as_of=date(2024, 1, 7))

    # As of Jan 7 only e2 and e3 are in: 2 logins against at_least 3
    logins = next(
        rule for rule in result["rules"] if rule["rule_id"] == "monthly_logins"
    )
    assert logins["points"] == 0
    assert logins["periods"][0]["count"] == 2
    assert logins["periods"][0]["qualifies"] is False


def test_explain_unknown_partner_not_found(program: Database) -> None:
    model = load_model(DEFAULT_MODEL)

    with pytest.raises(NotFoundError, match="'nobody'"):
        explain_partner(program, model, "nobody", zone=TOKYO)
