from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from tests.conftest import SHARED_DATA
from typer.testing import CliRunner

from partnerlift.ingest import import_file
from partnerlift.ingest.pending import list_pending, replay_pending
from partnerlift.ingest.segment import import_segment
from partnerlift.ingest.xapi import import_xapi
from partnerlift.interfaces.cli import app
from partnerlift.scoring import load_model, score_partners
from partnerlift.settings import Workspace, create_workspace
from partnerlift.store import Database

DEFAULT_MODEL = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "partnerlift"
    / "scoring"
    / "default_model.yaml"
)
XAPI = SHARED_DATA / "xapi_spec_examples" / "xapi_spec_statements.jsonl"
VERBS = "http://adlnet.gov/expapi/verbs/"
TINCAN = "http://id.tincanapi.com/verb/"
KEN = {"mbox": "mailto:Ken.Sato@Tokyo-Solutions.example"}
KEN_ACCOUNT = {"account": {"homePage": "https://lms.example", "name": "U-17"}}
VIDEO = "https://lms.example/videos/onboarding"
TEMPLATE = "https://lms.example/templates/proposal"
FAQ = "https://lms.example/faq/sales"
COMPLETED = "00000000-0000-4000-8000-000000000001"
DOWNLOADED = "00000000-0000-4000-8000-000000000002"
VIEWED = "00000000-0000-4000-8000-000000000003"
VOIDING = "00000000-0000-4000-8000-000000000004"
ATTENDED = "00000000-0000-4000-8000-000000000005"
EVENT_COLUMNS = (
    "event_id, occurred_at, partner_id, user_id, action, asset_id, source, properties"
)


def statement(statement_id, verb, actor, target, timestamp):
    return {
        "id": statement_id,
        "timestamp": timestamp,
        "actor": actor,
        "verb": {"id": verb},
        "object": target,
    }


PROGRAM = [
    statement(
        COMPLETED, VERBS + "completed", KEN, {"id": VIDEO}, "2024-04-01T10:00:00+09:00"
    ),
    statement(
        DOWNLOADED,
        TINCAN + "downloaded",
        KEN_ACCOUNT,
        {"id": TEMPLATE},
        "2024-04-03T15:30:00+09:00",
    ),
    statement(VIEWED, TINCAN + "viewed", KEN, {"id": FAQ}, "2024-04-05T09:00:00+09:00"),
    statement(
        VOIDING,
        VERBS + "voided",
        KEN,
        {"objectType": "StatementRef", "id": VIEWED},
        "2024-04-06T09:00:00+09:00",
    ),
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_statements(path: Path, statements: list[dict]) -> Path:
    return write(path, "".join(json.dumps(item) + "\n" for item in statements))


def users_file(tmp_path: Path) -> Path:
    # Ken is U-17 at P7, and his account name is also U-17.
    return write(
        tmp_path / "users.csv",
        "user_id,partner_id,email\nU-17,P7,ken.sato@tokyo-solutions.example\n",
    )


def fill_reference_data(db: Database, workspace: Workspace, tmp_path: Path) -> None:
    partners = write(tmp_path / "partners.csv", "partner_id,name\nP7,Tokyo Solutions\n")
    assets = write(
        tmp_path / "assets.csv",
        "asset_id,kind,title,tags\n"
        f"{VIDEO},video,Onboarding video,onboarding\n"
        f"{TEMPLATE},template,Proposal template,\n"
        f"{FAQ},faq,Sales FAQ,\n",
    )
    import_file(db, workspace, "partners", partners)
    import_file(db, workspace, "assets", assets)


def p7_score(db: Database, workspace: Workspace) -> float:
    model = load_model(DEFAULT_MODEL)
    scores = score_partners(db, model, zone=workspace.zone, as_of=date(2024, 4, 30))
    return next(p["score"] for p in scores["partners"] if p["partner_id"] == "P7")


def stored_events(db: Database) -> list[tuple]:
    rows = db.raw.execute(
        f"SELECT {EVENT_COLUMNS} FROM events ORDER BY event_id"
    ).fetchall()
    return [(*row[:-1], sorted(row[-1].items())) for row in rows]


@pytest.fixture
def statements_file(tmp_path: Path) -> Path:
    return write_statements(tmp_path / "statements.jsonl", PROGRAM)


def test_statements_before_users_score_same(tmp_path, statements_file):
    first = create_workspace(tmp_path / "users-first", timezone="Asia/Tokyo")
    second = create_workspace(tmp_path / "statements-first", timezone="Asia/Tokyo")
    with Database(first.database_path) as db:
        fill_reference_data(db, first, tmp_path)
        import_file(db, first, "users", users_file(tmp_path))
        import_xapi(db, first, statements_file)
        users_first = (p7_score(db, first), stored_events(db))

    with Database(second.database_path) as db:
        fill_reference_data(db, second, tmp_path)
        import_xapi(db, second, statements_file)
        before = p7_score(db, second)
        import_file(db, second, "users", users_file(tmp_path))
        statements_first = (p7_score(db, second), stored_events(db))

    # Completed onboarding video 20 + proposal template downloaded 15 = 35. The
    # viewed FAQ (5) is voided. Before the users import, P7 has no events at all.
    assert before == 0
    assert users_first[0] == 35
    assert statements_first[0] == 35
    assert statements_first[1] == users_first[1]


def test_replayed_event_keeps_statement_fields(database, workspace, statements_file):
    import_xapi(database, workspace, statements_file)

    import_file(database, workspace, "users", users_file(workspace.root))
    row = database.raw.execute(
        "SELECT occurred_at, occurred_local, partner_id, user_id, action, asset_id "
        "FROM events WHERE event_id = ?",
        [COMPLETED],
    ).fetchall()

    # 2024-04-01 10:00 in Tokyo (UTC+9) is 01:00 UTC.
    assert row == [
        (
            datetime(2024, 4, 1, 1, 0),
            datetime(2024, 4, 1, 10, 0),
            "P7",
            "U-17",
            "completed",
            VIDEO,
        )
    ]


def test_chunked_users_import_replays(database, workspace, statements_file):
    import_xapi(database, workspace, statements_file)

    import_file(database, workspace, "users", users_file(workspace.root), chunk_rows=1)
    events = database.query("SELECT event_id FROM events ORDER BY event_id")

    assert events["event_id"].tolist() == [COMPLETED, DOWNLOADED]


def test_users_import_twice_adds_nothing(database, workspace, statements_file):
    import_xapi(database, workspace, statements_file)
    users = users_file(workspace.root)

    import_file(database, workspace, "users", users)
    import_file(database, workspace, "users", users)
    again = replay_pending(database, workspace)
    events = database.query("SELECT count(*) AS n FROM events")["n"][0]
    replays = database.query(
        "SELECT count(*) AS n FROM import_batches WHERE file = 'xapi:pending'"
    )["n"][0]

    # COMPLETED and DOWNLOADED are events. VIEWED is voided, and VOIDING is no event.
    assert events == 2
    assert replays == 1
    assert again.statements is None


def test_voided_pending_statement_stays_out(database, workspace, statements_file):
    import_xapi(database, workspace, statements_file)

    import_file(database, workspace, "users", users_file(workspace.root))
    voided = database.query(
        "SELECT count(*) AS n FROM events WHERE event_id = ?", [VIEWED]
    )
    pending = list_pending(database, workspace)

    assert voided["n"][0] == 0
    assert pending == []


def test_voiding_after_arrival_of_pending(database, workspace, tmp_path):
    # The voiding statement comes in a later batch than the statement it voids,
    # while both wait for their user.
    import_xapi(
        database, workspace, write_statements(tmp_path / "a.jsonl", PROGRAM[2:3])
    )
    import_xapi(
        database, workspace, write_statements(tmp_path / "b.jsonl", PROGRAM[3:])
    )

    import_file(database, workspace, "users", users_file(tmp_path))
    events = database.query("SELECT count(*) AS n FROM events")["n"][0]

    assert events == 0


def test_pending_statement_counts_as_filtered(database, workspace, statements_file):
    result = import_xapi(database, workspace, statements_file)

    # Three statements wait for Ken and one is a voiding statement: all four
    # are stored, and none is an event yet.
    assert result.filtered == 4
    assert result.rejected == 0
    assert result.inserted == 0


def test_replay_keeps_source(database, workspace, statements_file):
    import_xapi(database, workspace, statements_file, source="lms-tokyo")

    import_file(database, workspace, "users", users_file(workspace.root))
    sources = database.query("SELECT DISTINCT source FROM events")["source"]

    assert sources.tolist() == ["lms-tokyo"]


def test_invalid_timestamp_is_rejected_not_pending(database, workspace, tmp_path):
    bad = statement(COMPLETED, VERBS + "completed", KEN, {"id": VIDEO}, "yesterday")
    path = write_statements(tmp_path / "bad.jsonl", [bad])

    result = import_xapi(database, workspace, path)
    pending = list_pending(database, workspace)

    assert result.rejected == 1
    assert result.problems[0].field == "occurred_at"
    assert pending == []


def test_pending_lists_reasons(database, workspace, tmp_path):
    digest = hashlib.sha1(b"mailto:aya@osaka.example").hexdigest()
    items = [
        statement(COMPLETED, VERBS + "completed", KEN, {"id": VIDEO}, "2024-04-01"),
        statement(VIEWED, TINCAN + "viewed", KEN, {"id": FAQ}, "2024-04-02"),
        statement(
            DOWNLOADED,
            TINCAN + "downloaded",
            {"mbox_sha1sum": digest},
            {"id": TEMPLATE},
            "2024-04-03",
        ),
        statement(
            ATTENDED,
            VERBS + "attended",
            {"account": {"homePage": "https://lms.example", "name": "U-99"}},
            {"id": VIDEO},
            "2024-04-04",
        ),
    ]
    import_xapi(database, workspace, write_statements(tmp_path / "s.jsonl", items))

    rows = {row["actor"]: row for row in list_pending(database, workspace)}
    found = {actor: (row["reason"], row["count"]) for actor, row in rows.items()}
    ken = rows["ken.sato@tokyo-solutions.example"]

    assert found == {
        "ken.sato@tokyo-solutions.example": ("unknown_mbox", 2),
        digest: ("unknown_mbox_sha1sum", 1),
        "U-99": ("unknown_account", 1),
    }
    # A date alone is the start of that day in Tokyo, shown as local time.
    assert ken["first"] == "2024-04-01T00:00:00"
    assert ken["last"] == "2024-04-02T00:00:00"


def test_pending_message_in_japanese(database, workspace, statements_file):
    import_xapi(database, workspace, statements_file)

    rows = list_pending(database, workspace, locale="ja")

    assert rows[0]["message"].startswith("user_id が 'U-17'")


def test_user_without_partner_then_period(database, workspace, tmp_path):
    # U-17 joins P7 on 2024-05-01, after the statement of 2024-04-01.
    later = write(
        tmp_path / "later.csv",
        "user_id,partner_id,email,valid_from\n"
        "U-17,P7,ken.sato@tokyo-solutions.example,2024-05-01\n",
    )
    import_file(database, workspace, "users", later)
    path = write_statements(tmp_path / "s.jsonl", PROGRAM[:1])
    import_xapi(database, workspace, path)
    waiting = [
        (row["actor"], row["reason"]) for row in list_pending(database, workspace)
    ]
    earlier = write(
        tmp_path / "earlier.csv",
        "user_id,partner_id,email,valid_from,valid_to\n"
        "U-17,P3,ken.sato@tokyo-solutions.example,2024-01-01,2024-05-01\n",
    )

    import_file(database, workspace, "users", earlier)
    partners = database.query("SELECT partner_id FROM events")["partner_id"]

    assert waiting == [("U-17", "no_partner")]
    assert partners.tolist() == ["P3"]


def spec_statements() -> list[dict]:
    return [json.loads(line) for line in XAPI.read_text().splitlines() if line]


def spec_actor_ids(statements: list[dict]) -> set[str]:
    ids = set()
    for item in statements:
        actor = item.get("actor", {})
        if "mbox" in actor:
            ids.add(actor["mbox"].removeprefix("mailto:"))
        elif "account" in actor:
            ids.add(actor["account"]["name"])
    return ids


@pytest.mark.skipif(not XAPI.exists(), reason="sample data missing")
def test_spec_examples_before_users(database, workspace, tmp_path):
    items = spec_statements()
    users = write(
        tmp_path / "users.csv",
        "user_id,partner_id\n"
        + "".join(f"{user},P1\n" for user in sorted(spec_actor_ids(items))),
    )
    # Counted with plain json, as in the users-first import: a SubStatement on
    # its own is invalid and a voiding statement is no event.
    events = [
        item
        for item in items
        if item.get("objectType") != "SubStatement"
        and item["verb"]["id"] != VERBS + "voided"
    ]
    given_ids = {item["id"] for item in events if "id" in item}
    distinct = {item.get("id") or json.dumps(item, sort_keys=True) for item in events}
    import_xapi(database, workspace, XAPI)

    import_file(database, workspace, "users", users)
    stored = set(database.query("SELECT event_id FROM events")["event_id"])
    partners = database.query("SELECT DISTINCT partner_id FROM events")["partner_id"]

    assert len(stored) == len(distinct)
    assert given_ids <= stored
    assert partners.tolist() == ["P1"]


def segment_users(tmp_path: Path) -> Path:
    return write(tmp_path / "users.csv", "user_id,partner_id\nU-30,P3\n")


def track(**fields):
    return {
        "type": "track",
        "event": "Template Downloaded",
        "timestamp": "2024-04-03T06:30:00Z",
        **fields,
    }


def test_segment_user_imported_later(database, workspace, tmp_path):
    import_segment(
        database, workspace, [track(userId="U-30", messageId="m1")], source="k"
    )
    waiting = [
        (row["actor"], row["reason"]) for row in list_pending(database, workspace)
    ]

    import_file(database, workspace, "users", segment_users(tmp_path))
    partners = database.query("SELECT partner_id FROM events")["partner_id"]

    assert waiting == [("U-30", "unknown_user")]
    assert partners.tolist() == ["P3"]
    assert list_pending(database, workspace) == []


def test_segment_anonymous_after_identify(database, workspace, tmp_path):
    import_file(database, workspace, "users", segment_users(tmp_path))
    identify = {"type": "identify", "anonymousId": "a-1", "userId": "U-30"}
    import_segment(database, workspace, [identify], source="k")

    import_segment(
        database, workspace, [track(anonymousId="a-1", messageId="m2")], source="k"
    )
    row = database.raw.execute("SELECT user_id, partner_id FROM events").fetchall()

    assert row == [("U-30", "P3")]


def test_segment_anonymous_waits_for_identify(database, workspace):
    import_segment(
        database, workspace, [track(anonymousId="a-2", messageId="m3")], source="k"
    )

    rows = list_pending(database, workspace)

    assert [(row["actor"], row["reason"]) for row in rows] == [("a-2", "anonymous")]
    assert rows[0]["source"] == "segment:k"


def test_segment_group_turns_statement_event(database, workspace, statements_file):
    import_xapi(database, workspace, statements_file)
    group = {"type": "group", "userId": "U-17", "groupId": "P9"}

    import_segment(database, workspace, [group], source="k")
    rows = database.raw.execute(
        "SELECT event_id, partner_id FROM events ORDER BY event_id"
    ).fetchall()

    # Only DOWNLOADED names U-17, by account name. COMPLETED and VIEWED name Ken's
    # email, which no user carries.
    assert rows == [(DOWNLOADED, "P9")]


def test_pending_command_lists_json(workspace, statements_file):
    runner = CliRunner()
    root = ["--workspace", str(workspace.root)]
    runner.invoke(app, [*root, "import", "xapi", str(statements_file)])

    result = runner.invoke(app, [*root, "imports", "pending", "--format", "json"])
    rows = json.loads(result.stdout)

    assert result.exit_code == 0
    assert [(row["actor"], row["count"]) for row in rows] == [
        ("U-17", 1),
        ("ken.sato@tokyo-solutions.example", 1),
    ]
    assert rows[0]["reason"] == "unknown_account"


def test_pending_command_empty_table(workspace):
    result = CliRunner().invoke(
        app, ["--workspace", str(workspace.root), "imports", "pending"]
    )

    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No statements or events are waiting" in result.stderr
