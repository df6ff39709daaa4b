"""Statements whose users were stored by a users import that stopped before it
replayed the waiting statements."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from partnerlift.ingest.importer import import_source
from partnerlift.ingest.pending import list_pending
from partnerlift.ingest.readers import read_source
from partnerlift.ingest.xapi import import_xapi
from partnerlift.interfaces.cli import app
from partnerlift.store import Database

VERBS = "http://adlnet.gov/expapi/verbs/"
KEN = {"mbox": "mailto:ken.sato@tokyo-solutions.example"}
AIKO = {"mbox": "mailto:aiko@osaka-partners.example"}
COMPLETED = "00000000-0000-4000-8000-000000000001"
ATTENDED = "00000000-0000-4000-8000-000000000002"
OTHER = "00000000-0000-4000-8000-000000000003"


def statement(statement_id, verb, actor):
    return {
        "id": statement_id,
        "timestamp": "2024-06-03T09:00:00+09:00",
        "actor": actor,
        "verb": {"id": VERBS + verb},
        "object": {"id": "https://lms.example/courses/pricing"},
    }


def write_lines(tmp_path, name, statements):
    path = tmp_path / name
    path.write_text("".join(json.dumps(s) + "\n" for s in statements))
    return path


def store_users_without_replay(database, workspace, tmp_path):
    """Store Ken as a user the way a users import does before its replay runs."""
    path = tmp_path / "users.csv"
    path.write_text(
        "user_id,partner_id,email\nU-17,P1,ken.sato@tokyo-solutions.example\n"
    )
    import_source(database, workspace, "users", read_source(path))


def event_ids(database):
    rows = database.raw.execute("SELECT event_id FROM events ORDER BY 1").fetchall()
    return [event_id for (event_id,) in rows]


def waiting_statements(database, workspace, tmp_path):
    """Store two statements of Ken and one of Aiko, then Ken without a replay."""
    statements = [
        statement(COMPLETED, "completed", KEN),
        statement(ATTENDED, "attended", KEN),
        statement(OTHER, "completed", AIKO),
    ]
    import_xapi(database, workspace, write_lines(tmp_path, "s.jsonl", statements))
    store_users_without_replay(database, workspace, tmp_path)


def test_ready_statements_are_listed(database, workspace, tmp_path):
    waiting_statements(database, workspace, tmp_path)

    rows = list_pending(database, workspace)
    by_reason = {row["reason"]: row for row in rows}

    assert event_ids(database) == []
    assert sorted(by_reason) == ["ready", "unknown_mbox"]
    assert by_reason["ready"]["actor"] == "U-17"
    assert by_reason["ready"]["count"] == 2
    # 09:00 in Tokyo is the time given, shown in the workspace's zone.
    assert by_reason["ready"]["first"] == "2024-06-03T09:00:00"


def test_pending_command_replays_ready(workspace, tmp_path):
    with Database(workspace.database_path) as database:
        waiting_statements(database, workspace, tmp_path)

    listed = CliRunner().invoke(
        app,
        ["--workspace", str(workspace.root), "imports", "pending", "--format", "json"],
    )
    with Database(workspace.database_path) as database:
        events = event_ids(database)
    rows = json.loads(listed.stdout)

    assert listed.exit_code == 0
    assert [row["reason"] for row in rows] == ["unknown_mbox"]
    assert events == [COMPLETED, ATTENDED]


def test_next_xapi_import_replays_ready(database, workspace, tmp_path):
    waiting_statements(database, workspace, tmp_path)
    later = [statement(OTHER.replace("3", "4", 1), "completed", KEN)]

    import_xapi(database, workspace, write_lines(tmp_path, "later.jsonl", later))

    assert event_ids(database) == [COMPLETED, ATTENDED, later[0]["id"]]
