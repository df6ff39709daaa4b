from __future__ import annotations

from datetime import datetime

from tests.http.conftest import start_server, stop_server
from tests.http.test_service import XAPI_HEADERS
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app

COMPLETED = "00000000-0000-4000-8000-0000000000a1"
ATTENDED = "00000000-0000-4000-8000-0000000000a2"


def statement(statement_id, actor, verb, timestamp):
    return {
        "id": statement_id,
        "timestamp": timestamp,
        "actor": actor,
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": {"id": "https://lms.example/courses/pricing"},
    }


def stored_events(server):
    with server.database() as db:
        return db.raw.execute(
            "SELECT event_id, occurred_at, user_id, partner_id, action FROM events "
            "ORDER BY event_id"
        ).fetchall()


def test_statement_before_users_import(tmp_path):
    aiko = {"mbox": "mailto:aiko@osaka-partners.example"}
    sent = statement(COMPLETED, aiko, "completed", "2024-06-03T09:00:00+09:00")
    server = start_server(tmp_path)
    try:
        with server.client("ingest") as client:
            posted = client.post("/xapi/statements", json=sent, headers=XAPI_HEADERS)
    finally:
        stop_server(server)
    before = stored_events(server)
    users = tmp_path / "users.csv"
    users.write_text("user_id,partner_id,email\nU-5,P1,aiko@osaka-partners.example\n")

    imported = CliRunner().invoke(
        app, ["--workspace", str(server.workspace), "import", "users", str(users)]
    )
    after = stored_events(server)

    assert posted.status_code == 200
    assert before == []
    assert imported.exit_code == 0
    # 09:00 in Tokyo (UTC+9) is 00:00 UTC.
    assert after == [(COMPLETED, datetime(2024, 6, 3, 0, 0), "U-5", "P1", "completed")]


def test_group_call_turns_statement_event(tmp_path):
    account = {"account": {"homePage": "https://lms.example", "name": "U-50"}}
    first = statement(COMPLETED, account, "completed", "2024-06-03T09:00:00+09:00")
    second = statement(ATTENDED, account, "attended", "2024-06-04T09:00:00+09:00")
    server = start_server(tmp_path)
    try:
        with server.client("ingest") as client:
            early = client.post("/xapi/statements", json=first, headers=XAPI_HEADERS)
            group = client.post("/v1/group", json={"userId": "U-50", "groupId": "P2"})
            late = client.post("/xapi/statements", json=second, headers=XAPI_HEADERS)
    finally:
        stop_server(server)

    events = stored_events(server)

    assert early.status_code == 200
    assert group.status_code == 200
    assert late.status_code == 200
    # The first statement became its event when the group call made U-50 a user
    # of P2. The second was an event on arrival.
    assert events == [
        (COMPLETED, datetime(2024, 6, 3, 0, 0), "U-50", "P2", "completed"),
        (ATTENDED, datetime(2024, 6, 4, 0, 0), "U-50", "P2", "attended"),
    ]
