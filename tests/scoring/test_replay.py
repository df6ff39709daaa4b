"""Replays (score_timeline) and explanations that account for every point."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from tests.scoring.golden import FIXTURES, fill_database
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.scoring import (
    Rule,
    ScoreModel,
    explain_partner,
    score_partners,
    score_timeline,
)
from partnerlift.scoring.timeline import period_end, period_ends
from partnerlift.settings import Workspace
from partnerlift.store import Database

TOKYO = ZoneInfo("Asia/Tokyo")
runner = CliRunner()


def golden_data(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


def golden_model(data: dict) -> ScoreModel:
    rules = [Rule.model_validate(item) for item in data["rules"]]
    return ScoreModel(
        model="golden", rules=rules, half_life_days=data.get("half_life_days")
    )


@pytest.fixture
def half_life(database: Database) -> Database:
    """The half_life golden file in the Tokyo workspace."""
    fill_database(database, golden_data("half_life.yaml"), "Asia/Tokyo")
    return database


@pytest.fixture
def traps(database: Database) -> Database:
    """The traps golden file in the Tokyo workspace."""
    fill_database(database, golden_data("traps.yaml"), "Asia/Tokyo")
    return database


@pytest.mark.parametrize(
    ("day", "unit", "end"),
    [
        (date(2024, 12, 31), "week", date(2025, 1, 5)),  # Tue of 2025-W01 -> Sunday
        (date(2024, 2, 10), "month", date(2024, 2, 29)),  # leap year
        (date(2024, 11, 5), "quarter", date(2024, 12, 31)),
        (date(2024, 12, 29), "week", date(2024, 12, 29)),  # a Sunday ends its week
    ],
)
def test_period_end_by_unit(day: date, unit: str, end: date) -> None:
    assert period_end(day, unit) == end  # type: ignore[arg-type]


def test_period_ends_stop_at_as_of() -> None:
    ends = period_ends(date(2024, 1, 5), date(2024, 3, 3), "month")

    assert ends == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 3)]


def test_timeline_monthly_points(traps: Database) -> None:
    model = golden_model(golden_data("traps.yaml"))

    result = score_timeline(
        traps, model, zone=TOKYO, every="month", as_of=date(2024, 3, 31)
    )

    timelines = {item["partner_id"]: item["timeline"] for item in result["partners"]}
    # p4 (traps.yaml): February's third login is Feb 20 and March's is Mar 4.
    assert [point["period_end"] for point in timelines["p4"]] == [
        "2024-01-31",
        "2024-02-29",
        "2024-03-31",
    ]
    assert [point["score"] for point in timelines["p4"]] == [0, 10, 20]
    # p2 views pages 1-3 on Jan 2-4: views3 2 + pages3 5 from January on.
    assert [point["score"] for point in timelines["p2"]] == [7, 7, 7]
    assert timelines["p2"][0]["rules"] == {
        "views3": 2,
        "pages3": 5,
        "monthly_logins": 0,
    }


def test_timeline_shows_decay(half_life: Database) -> None:
    model = golden_model(golden_data("half_life.yaml"))

    result = score_timeline(
        half_life, model, zone=TOKYO, every="month", as_of=date(2024, 4, 30)
    )

    # The first event, 2024-01-31T15:00Z, is Feb 1 00:00 in Tokyo: the replay starts
    # with February. p1 completed on 2024-03-01T15:00Z; the end of Mar 31 in Tokyo is
    # 30 days later and the end of Apr 30 60 days later: 20 -> 10 -> 5.
    p1 = next(item for item in result["partners"] if item["partner_id"] == "p1")
    assert [point["period_end"] for point in p1["timeline"]] == [
        "2024-02-29",
        "2024-03-31",
        "2024-04-30",
    ]
    assert [point["score"] for point in p1["timeline"]] == [0, 10, 5]


def test_timeline_share_follows_users(database: Database) -> None:
    data = golden_data("share_of_users.yaml")
    fill_database(database, data, "Asia/Tokyo")

    result = score_timeline(
        database, golden_model(data), zone=TOKYO, every="month", as_of=date(2024, 3, 31)
    )

    # share_of_users.yaml: the first event is Feb 1, so the ends are Feb 29 and Mar 31.
    # p3 at the end of Feb 29 (15:00Z) still has u9 (until Mar 1 00:00Z), who
    # completed: 1/2 -> 12; on Mar 31 only u8 -> 0. p4 gets u10's Mar 20 completion.
    timelines = {item["partner_id"]: item["timeline"] for item in result["partners"]}
    assert [point["score"] for point in timelines["p3"]] == [12, 0]
    assert [point["score"] for point in timelines["p4"]] == [0, 12]
    assert [point["period_end"] for point in timelines["p4"]] == [
        "2024-02-29",
        "2024-03-31",
    ]


def test_explain_shows_decay_steps(half_life: Database) -> None:
    model = golden_model(golden_data("half_life.yaml"))

    result = explain_partner(
        half_life, model, "p3", zone=TOKYO, as_of=date(2024, 3, 31)
    )

    # p3 completed on Feb 15 15:00Z and Mar 16 15:00Z; the first earned the award.
    # Age 45 days with a half-life of 30: 20 * 0.5 ** 1.5 = 7.0710678.
    (period,) = result["rules"][0]["periods"]
    assert period["earned_at"] == "2024-02-15T15:00:00Z"
    assert period["base_points"] == 20
    assert period["decay"] == pytest.approx(0.3535534, abs=1e-6)
    assert period["points"] == pytest.approx(7.0710678, abs=1e-6)
    assert period["event_ids"] == ["h4", "h3"]
    assert result["rules"][0]["half_life_days"] == 30


def test_explain_cap_splits_period(database: Database) -> None:
    # 5 points per ISO week with 2 logins, cap 12: weeks of Jan 1, 8 and 15 qualify;
    # they get 5, 5 and the 2 left under the cap.
    data = golden_data("each_period_cap.yaml")
    data["rules"][0]["cap"] = 12
    fill_database(database, data, "Asia/Tokyo")
    model = golden_model(data)

    result = explain_partner(database, model, "p4", zone=TOKYO)

    periods = result["rules"][0]["periods"]
    assert [period["period"] for period in periods] == [
        "2024-W01",
        "2024-W02",
        "2024-W03",
    ]
    assert [period["points"] for period in periods] == [5, 5, 2]
    assert result["score"] == 12


GOLDEN_MODELS = [
    ("half_life.yaml", date(2024, 3, 31)),
    ("requires.yaml", date(2024, 1, 31)),
    ("share_of_users.yaml", date(2024, 3, 31)),
    ("moved_user.yaml", date(2024, 3, 31)),
    ("traps.yaml", date(2024, 3, 3)),
    ("negative_points.yaml", date(2024, 3, 31)),
]


@pytest.mark.parametrize(
    ("name", "as_of"), GOLDEN_MODELS, ids=[n for n, _ in GOLDEN_MODELS]
)
def test_explain_sums_to_score(database: Database, name: str, as_of: date) -> None:
    data = golden_data(name)
    data["rules"] = [rule for rule in data["rules"] if isinstance(rule, dict)]
    fill_database(database, data, "Asia/Tokyo")
    model = golden_model(data)
    scores = score_partners(database, model, zone=TOKYO, as_of=as_of)

    for partner in scores["partners"]:
        explained = explain_partner(
            database, model, partner["partner_id"], zone=TOKYO, as_of=as_of
        )

        period_points = [
            period["points"]
            for rule in explained["rules"]
            for period in rule["periods"]
        ]
        assert sum(period_points) == pytest.approx(partner["score"], abs=1e-6)
        assert explained["score"] == pytest.approx(partner["score"], abs=1e-9)
        for rule in explained["rules"]:
            assert rule["points"] == pytest.approx(
                partner["rules"][rule["rule_id"]], abs=1e-9
            )


@pytest.fixture
def replay_workspace(workspace: Workspace, tmp_path: Path) -> Workspace:
    """The traps golden file in a Tokyo workspace, with its model as a file."""
    data = golden_data("traps.yaml")
    with Database(workspace.database_path) as db:
        fill_database(db, data, "Asia/Tokyo")
    model = {"model": "traps", "rules": data["rules"]}
    (workspace.root / "traps_model.yaml").write_text(yaml.safe_dump(model))
    return workspace


def run(workspace: Workspace, *arguments: str):
    return runner.invoke(app, ["--workspace", str(workspace.root), *arguments])


def test_cli_timeline_json_shape(replay_workspace: Workspace) -> None:
    model = str(replay_workspace.root / "traps_model.yaml")

    result = run(
        replay_workspace,
        "score",
        "--model",
        model,
        "--timeline",
        "month",
        "--as-of",
        "2024-03-03",
        "--format",
        "json",
    )

    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert set(payload) == {"as_of", "model", "every", "partners"}
    p4 = next(item for item in payload["partners"] if item["partner_id"] == "p4")
    # p4: February qualifies on Feb 20; March has 2 logins by Mar 3.
    assert p4["timeline"] == [
        {
            "period_end": "2024-01-31",
            "score": 0,
            "rules": {"views3": 0, "pages3": 0, "monthly_logins": 0},
        },
        {
            "period_end": "2024-02-29",
            "score": 10,
            "rules": {"views3": 0, "pages3": 0, "monthly_logins": 10},
        },
        {
            "period_end": "2024-03-03",
            "score": 10,
            "rules": {"views3": 0, "pages3": 0, "monthly_logins": 10},
        },
    ]


def test_cli_timeline_table_lists_periods(replay_workspace: Workspace) -> None:
    model = str(replay_workspace.root / "traps_model.yaml")

    result = run(replay_workspace, "score", "--model", model, "--timeline", "quarter")

    assert result.exit_code == 0
    assert "2024-03-04" in result.stdout  # the last event's day ends the replay
    assert "period end" in result.stdout


def test_cli_explain_json_sums(replay_workspace: Workspace) -> None:
    model = str(replay_workspace.root / "traps_model.yaml")

    result = run(
        replay_workspace, "explain", "p2", "--model", model, "--format", "json"
    )

    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    # p2: views3 2 + pages3 5 = 7 (traps.yaml)
    assert payload["score"] == 7
    assert [rule["points"] for rule in payload["rules"]] == [2, 5, 0]


def test_cli_explain_table_has_decay(replay_workspace: Workspace) -> None:
    model = str(replay_workspace.root / "traps_model.yaml")

    result = run(replay_workspace, "explain", "p4", "--model", model)

    assert result.exit_code == 0
    assert "decay factor" in result.stdout
    assert "2024-02" in result.stdout


def test_cli_score_on_pyspark(replay_workspace: Workspace, spark: object) -> None:
    settings = replay_workspace.settings
    settings.engine = "pyspark"
    replay_workspace.save()
    model = str(replay_workspace.root / "traps_model.yaml")

    result = run(
        replay_workspace,
        "score",
        "--model",
        model,
        "--as-of",
        "2024-03-31",
        "--format",
        "json",
    )

    assert result.exit_code == 0
    scores = {
        item["partner_id"]: item["score"]
        for item in json.loads(result.stdout)["partners"]
    }
    # traps.yaml as of Mar 31: p1 2, p2 7, p3 2 + 10, p4 20.
    assert scores == {"p1": 2, "p2": 7, "p3": 12, "p4": 20}


test_cli_score_on_pyspark = pytest.mark.spark(test_cli_score_on_pyspark)
