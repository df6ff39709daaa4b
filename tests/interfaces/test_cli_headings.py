"""Table headings follow the workspace's language, and JSON and CSV keys stay
the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.settings import Workspace, create_workspace

# Line 3 has an unknown status, so the batch has one rejected row.
DEALS = (
    "deal_id,partner_id,created_at,status\n"
    "d1,p1,2024-04-01,won\n"
    "d2,p1,2024-04-01,pending\n"
)


@pytest.fixture
def ja_workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in Asia/Tokyo with Japanese texts."""
    return create_workspace(tmp_path / "ja", timezone="Asia/Tokyo", locale="ja")


def run(workspace: Workspace, *arguments: str):
    return CliRunner().invoke(app, ["--workspace", str(workspace.root), *arguments])


def imported_batch(workspace: Workspace, tmp_path: Path) -> str:
    path = tmp_path / "deals.csv"
    path.write_text(DEALS, encoding="utf-8")
    result = run(workspace, "import", "deals", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["batch_id"]


def test_imports_headings_japanese(ja_workspace, tmp_path):
    imported_batch(ja_workspace, tmp_path)

    result = run(ja_workspace, "imports")

    assert result.exit_code == 0
    assert "バッチ ID" in result.stdout
    assert "テーブル" in result.stdout
    assert "開始日時（UTC）" in result.stdout
    assert "読み込み" in result.stdout
    assert "started_at" not in result.stdout
    assert "table_name" not in result.stdout


def test_imports_headings_english(workspace, tmp_path):
    imported_batch(workspace, tmp_path)

    result = run(workspace, "imports")

    assert result.exit_code == 0
    assert "started_at" in result.stdout
    assert "バッチ ID" not in result.stdout


def test_imports_json_keys_japanese(ja_workspace, tmp_path):
    imported_batch(ja_workspace, tmp_path)

    result = run(ja_workspace, "imports", "--format", "json")
    batches = json.loads(result.stdout)

    assert result.exit_code == 0
    assert "started_at" in batches[0]
    assert "table_name" in batches[0]
    # The deals file has no character outside ASCII.
    assert batches[0]["encoding"] == "ascii"


def test_imports_show_headings_japanese(ja_workspace, tmp_path):
    batch_id = imported_batch(ja_workspace, tmp_path)

    result = run(ja_workspace, "imports", "show", batch_id)
    heading = result.stdout.splitlines()[1]

    assert result.exit_code == 0
    for label in ("ファイル", "行", "項目", "値", "理由"):
        assert label in heading
    assert "reason" not in heading


def test_imports_show_csv_keys_japanese(ja_workspace, tmp_path):
    batch_id = imported_batch(ja_workspace, tmp_path)

    result = run(ja_workspace, "imports", "show", batch_id, "--format", "csv")

    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "file,line,field,value,reason"


def test_keys_list_headings_japanese(ja_workspace):
    created = run(ja_workspace, "keys", "create", "--scope", "read")

    result = run(ja_workspace, "keys", "list")

    assert created.exit_code == 0
    assert "スコープ read のキー" in created.stderr
    assert result.exit_code == 0
    assert "キー ID" in result.stdout
    assert "作成日時（UTC）" in result.stdout
    assert "key_id" not in result.stdout


def test_init_help_shows_defaults():
    result = CliRunner().invoke(app, ["init", "--help"])
    # Rich draws the help in a box and wraps it, so the test compares the words.
    words = " ".join(result.stdout.replace("│", " ").split())

    assert result.exit_code == 0
    assert "or Asia/Tokyo for a new workspace)." in words
    assert "or ja for a new workspace)." in words
    assert "or JPY for a new workspace)." in words
    assert " ." not in words


def test_pending_headings_japanese(ja_workspace, tmp_path):
    # The actor's email belongs to no user, so the statement waits for one.
    statement = {
        "id": "6fa459ea-ee8a-3ca4-894e-db77e160355e",
        "actor": {"mbox": "mailto:a@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "http://example.com/video"},
        "timestamp": "2024-04-01T09:00:00+09:00",
    }
    path = tmp_path / "statements.jsonl"
    path.write_text(json.dumps(statement) + "\n", encoding="utf-8")
    imported = run(ja_workspace, "import", "xapi", str(path))

    result = run(ja_workspace, "imports", "pending")

    assert imported.exit_code == 0
    assert result.exit_code == 0
    assert "種類" in result.stdout
    assert "理由と対処" in result.stdout
    assert "ステートメント" in result.stdout
    assert "actor" not in result.stdout


def test_explain_lifetime_japanese(ja_workspace, tmp_path):
    # One download of a template meets the default rule proposal_template, whose
    # period is the partner's lifetime. Init writes the default score model.
    CliRunner().invoke(app, ["init", str(ja_workspace.root)])
    assets = tmp_path / "assets.csv"
    assets.write_text("asset_id,kind\nT1,template\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text(
        "occurred_at,action,partner_id,asset_id\n2024-04-01,downloaded,P1,T1\n",
        encoding="utf-8",
    )
    for table, path in (("assets", assets), ("events", events)):
        assert run(ja_workspace, "import", table, str(path)).exit_code == 0

    result = run(ja_workspace, "explain", "P1", "--as-of", "2024-04-30")
    row = next(
        line for line in result.stdout.splitlines() if "proposal_template" in line
    )

    assert result.exit_code == 0
    assert "全期間" in row
    assert "lifetime" not in result.stdout
