"""The score and explain commands on a tiny workspace."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from tests.scoring.golden import DEFAULT_MODEL, insert_assets, insert_events
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.settings import Workspace
from partnerlift.store import Database

runner = CliRunner()


@pytest.fixture
def scored_workspace(workspace: Workspace) -> Workspace:
    """A Tokyo workspace with the default model and two partners' events."""
    shutil.copyfile(DEFAULT_MODEL, workspace.score_model_path)
    with Database(workspace.database_path) as db:
        insert_assets(db, [{"asset_id": "q1", "kind": "faq"}])
        insert_events(
            db,
            [
                # a1: sales FAQ (5). a2: 3 logins in Feb in Tokyo (10); the first,
                # Jan 31 16:00Z, is Feb 1 01:00 in Tokyo.
                {"event_id": "x1", "occurred_at": "2024-02-02T03:00:00Z",
                 "partner_id": "a1", "action": "viewed", "asset_id": "q1"},
                {"event_id": "x2", "occurred_at": "2024-01-31T16:00:00Z",
                 "partner_id": "a2", "action": "logged_in"},
                {"event_id": "x3", "occurred_at": "2024-02-03T03:00:00Z",
                 "partner_id": "a2", "action": "logged_in"},
                {"event_id": "x4", "occurred_at": "2024-02-04T03:00:00Z",
                 "partner_id": "a2", "action": "logged_in"},
            ],
            "Asia/Tokyo",
        )  # fmt: skip
    return workspace


def run(workspace: Workspace, *arguments: str):
    return runner.invoke(app, ["--workspace", str(workspace.root), *arguments])


def test_score_json_shape_and_values(scored_workspace: Workspace) -> None:
    result = run(scored_workspace, "score", "--format", "json")

    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert set(payload) == {"as_of", "model", "partners"}
    assert payload["as_of"] == "2024-02-04"
    assert payload["model"] == "support-engagement"
    assert payload["partners"][0] == {
        "partner_id": "a2",
        "score": 10,
        "rules": {
            "onboarding_video": 0,
            "advanced_training": 0,
            "product_doc_pages": 0,
            "proposal_template": 0,
            "sales_faq": 0,
            "monthly_logins": 10,
        },
    }
    assert payload["partners"][1]["partner_id"] == "a1"
    assert payload["partners"][1]["score"] == 5


def test_score_as_of_cuts_events(scored_workspace: Workspace) -> None:
    # As of Feb 3 in Tokyo: a2 has 2 logins (x2, x3) and a1 its FAQ view.
    result = run(scored_workspace, "score", "--as-of", "2024-02-03", "--format", "json")

    payload = json.loads(result.stdout)
    scores = {item["partner_id"]: item["score"] for item in payload["partners"]}
    assert scores == {"a1": 5, "a2": 0}


def test_score_csv_has_rule_columns(scored_workspace: Workspace) -> None:
    result = run(scored_workspace, "score", "--format", "csv")

    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.exit_code == 0
    assert list(rows[0]) == [
        "partner_id",
        "score",
        "onboarding_video",
        "advanced_training",
        "product_doc_pages",
        "proposal_template",
        "sales_faq",
        "monthly_logins",
    ]
    assert rows[0]["partner_id"] == "a2"
    assert rows[0]["monthly_logins"] == "10"


def test_score_table_lists_partners(scored_workspace: Workspace) -> None:
    result = run(scored_workspace, "score")

    assert result.exit_code == 0
    assert result.stdout.index("a2") < result.stdout.index("a1")


def test_score_bad_as_of_names_value(scored_workspace: Workspace) -> None:
    result = run(scored_workspace, "score", "--as-of", "2024-02-30")

    assert result.exit_code == 1
    assert "'2024-02-30'" in result.stderr
    assert result.stdout == ""


def test_score_bad_model_names_line(scored_workspace: Workspace) -> None:
    bad = scored_workspace.root / "bad.yaml"
    bad.write_text("model: m\nrules:\n  - id: r\n    points: x\n    match: {}\n")

    result = run(scored_workspace, "score", "--model", str(bad))

    assert result.exit_code == 1
    assert "line 4" in result.stderr


def test_explain_json_lists_event_ids(scored_workspace: Workspace) -> None:
    result = run(scored_workspace, "explain", "a2", "--format", "json")

    payload = json.loads(result.stdout)
    logins = payload["rules"][-1]
    assert result.exit_code == 0
    assert payload["score"] == 10
    assert logins["periods"][0]["period"] == "2024-02"
    assert logins["periods"][0]["event_ids"] == ["x2", "x3", "x4"]


def test_explain_unknown_partner_fails(scored_workspace: Workspace) -> None:
    result = run(scored_workspace, "explain", "zz")

    assert result.exit_code == 1
    assert "'zz'" in result.stderr
