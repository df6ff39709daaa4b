"""Traps that pass through the importer: the same file twice, users imported late."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.scoring.golden import DEFAULT_MODEL

from partnerlift.ingest import import_file
from partnerlift.scoring import load_model, score_partners
from partnerlift.settings import Workspace
from partnerlift.store import Database

# Two logins for P1 in January (Tokyo): monthly_logins needs 3, so importing the file
# twice must still give 0 points; counted twice it would be 4 logins and 10 points.
LOGINS = """occurred_at,partner_id,user_id,action
2024-01-10T12:00:00+09:00,P1,u1,logged_in
2024-01-11T12:00:00+09:00,P1,u1,logged_in
"""


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def monthly_logins(db: Database, workspace: Workspace, as_of: date) -> dict[str, int]:
    model = load_model(DEFAULT_MODEL)
    result = score_partners(db, model, zone=workspace.zone, as_of=as_of)
    return {
        item["partner_id"]: item["rules"]["monthly_logins"]
        for item in result["partners"]
    }


def test_same_file_twice_counts_once(
    tmp_path: Path, workspace: Workspace, database: Database
) -> None:
    path = write(tmp_path, "events.csv", LOGINS)
    import_file(database, workspace, "events", path)

    second = import_file(database, workspace, "events", path)

    # The second import finds both rows already there.
    assert second.inserted == 0
    assert second.duplicates == 2
    assert monthly_logins(database, workspace, date(2024, 1, 31)) == {"P1": 0}


def test_same_event_id_twice_counts_once(
    tmp_path: Path, workspace: Workspace, database: Database
) -> None:
    # b.csv repeats e2 with a date alone; its event id makes it a duplicate.
    body = (
        "event_id,occurred_at,partner_id,action\n"
        "e1,2024-01-10T12:00:00+09:00,P1,logged_in\n"
        "e2,2024-01-11T12:00:00+09:00,P1,logged_in\n"
    )
    import_file(database, workspace, "events", write(tmp_path, "a.csv", body))
    again = "event_id,occurred_at,partner_id,action\ne2,2024-01-11,P1,logged_in\n"

    result = import_file(database, workspace, "events", write(tmp_path, "b.csv", again))

    assert result.duplicates == 1
    assert monthly_logins(database, workspace, date(2024, 1, 31)) == {"P1": 0}


def test_users_imported_later_move_events(
    tmp_path: Path, workspace: Workspace, database: Database
) -> None:
    # u1 is first imported as P1's for good, and events are filled in as P1's. A later
    # users file says u1 moved to P2 on 2024-02-01 (Tokyo). The three February logins
    # then belong to P2 (3 -> 10) and P1 keeps one January login (1 -> 0).
    first_users = "user_id,partner_id\nu1,P1\n"
    import_file(database, workspace, "users", write(tmp_path, "u1.csv", first_users))
    events = (
        "occurred_at,user_id,action\n"
        "2024-01-20T12:00:00+09:00,u1,logged_in\n"
        "2024-02-05T12:00:00+09:00,u1,logged_in\n"
        "2024-02-06T12:00:00+09:00,u1,logged_in\n"
        "2024-02-07T12:00:00+09:00,u1,logged_in\n"
    )
    import_file(database, workspace, "events", write(tmp_path, "e.csv", events))
    database.raw.execute("DELETE FROM users")
    moved = (
        "user_id,partner_id,valid_from,valid_to\nu1,P1,,2024-02-01\nu1,P2,2024-02-01,\n"
    )

    import_file(database, workspace, "users", write(tmp_path, "u2.csv", moved))

    stored = database.query("SELECT DISTINCT partner_id FROM events")
    assert stored["partner_id"].tolist() == ["P1"]
    assert monthly_logins(database, workspace, date(2024, 2, 29)) == {"P1": 0, "P2": 10}
