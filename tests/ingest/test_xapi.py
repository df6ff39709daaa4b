from __future__ import annotations

import hashlib
import json

import pytest
from tests.conftest import SHARED_DATA
from typer.testing import CliRunner

from partnerlift.errors import InputError
from partnerlift.ingest import import_file
from partnerlift.ingest.xapi import import_xapi
from partnerlift.interfaces.cli import app

XAPI = SHARED_DATA / "xapi_spec_examples" / "xapi_spec_statements.jsonl"
CMI5 = SHARED_DATA / "cmi5_spec_samples" / "cmi5_scenario_statements.jsonl"
CMI5_INVALID = (
    SHARED_DATA
    / "cmi5_spec_samples"
    / "samples"
    / "scenarios"
    / "16-not_applicable-no_launch"
    / "05-initialized_statement.json"
)
VOIDED = "http://adlnet.gov/expapi/verbs/voided"

pytestmark = pytest.mark.skipif(not XAPI.exists(), reason="sample data missing")


def load(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def actor_ids(statements):
    """The user id each actor should get: its email, hash or account name."""
    ids = set()
    for statement in statements:
        actor = statement.get("actor", {})
        if "mbox" in actor:
            ids.add(actor["mbox"].removeprefix("mailto:"))
        elif "account" in actor:
            ids.add(actor["account"]["name"])
    return ids


def import_users(database, workspace, tmp_path, user_ids):
    path = tmp_path / "users.csv"
    rows = [f"{user_id},P1\n" for user_id in sorted(user_ids)]
    path.write_text("user_id,partner_id\n" + "".join(rows), encoding="utf-8")
    import_file(database, workspace, "users", path)


def test_spec_examples_import_counts(database, workspace, tmp_path):
    statements = load(XAPI)
    import_users(database, workspace, tmp_path, actor_ids(statements))
    # Counted with plain json: a SubStatement on its own is invalid, a voiding
    # statement is no event, and a repeated id is a duplicate.
    invalid = [s for s in statements if s.get("objectType") == "SubStatement"]
    voiding = [s for s in statements if s["verb"]["id"] == VOIDED]
    events = [s for s in statements if s not in invalid and s not in voiding]
    ids = [s.get("id") or json.dumps(s, sort_keys=True) for s in events]

    result = import_xapi(database, workspace, XAPI)

    assert result.read == len(statements)
    assert result.rejected == len(invalid)
    assert result.filtered == len(voiding)
    assert result.inserted == len(set(ids))
    assert result.duplicates == len(ids) - len(set(ids))
    assert database.query("SELECT count(*) AS n FROM events")["n"][0] == len(set(ids))


def test_spec_examples_keep_results(database, workspace, tmp_path):
    statements = load(XAPI)
    import_users(database, workspace, tmp_path, actor_ids(statements))
    attempted = next(s for s in statements if s["verb"]["id"].endswith("attempted"))

    import_xapi(database, workspace, XAPI)
    row = database.query(
        "SELECT action, asset_id, user_id, properties FROM events WHERE event_id = ?",
        [attempted["id"]],
    ).iloc[0]
    properties = dict(row["properties"])

    assert row["action"] == "attempted"
    assert row["asset_id"] == attempted["object"]["id"]
    assert row["user_id"] == attempted["actor"]["mbox"].removeprefix("mailto:")
    assert float(properties["score_scaled"]) == attempted["result"]["score"]["scaled"]
    # PT1234S is 1234 seconds.
    assert float(properties["duration_s"]) == 1234.0
    assert properties["success"] == "true"


def test_cmi5_scenarios_import_counts(database, workspace, tmp_path):
    statements = load(CMI5)
    import_users(database, workspace, tmp_path, actor_ids(statements))
    # Counted with plain json: the first statement of each id is stored, a later
    # one with the same content (the keys without "_") is a duplicate, and one
    # with other content is rejected.
    first: dict[str, dict] = {}
    same = other = 0
    for statement in statements:
        content = {k: v for k, v in statement.items() if not k.startswith("_")}
        if statement["id"] not in first:
            first[statement["id"]] = content
        elif first[statement["id"]] == content:
            same += 1
        else:
            other += 1
    completed = [s for s in first.values() if s["verb"]["id"].endswith("/completed")]

    result = import_xapi(database, workspace, CMI5)
    stored = database.query(
        "SELECT count(*) AS n FROM events WHERE action = 'completed'"
    )["n"][0]

    assert result.read == len(statements)
    assert result.inserted == len(first)
    assert result.duplicates == same
    assert result.rejected == other
    assert stored == len(completed)


def test_cmi5_progress_is_a_fraction(database, workspace, tmp_path):
    statements = load(CMI5)
    import_users(database, workspace, tmp_path, actor_ids(statements))

    import_xapi(database, workspace, CMI5)
    progress = database.query(
        "SELECT DISTINCT properties['progress'] AS p FROM events "
        "WHERE action = 'progressed' ORDER BY 1"
    )["p"]

    # The progress scenario reports 25, 50 and 75 percent.
    assert progress.tolist() == ["0.25", "0.5", "0.75"]


def test_invalid_cmi5_file_names_line(database, workspace):
    try:
        json.loads(CMI5_INVALID.read_text())
    except json.JSONDecodeError as error:
        expected_line = error.lineno

    with pytest.raises(InputError, match=f"line {expected_line}, column") as raised:
        import_xapi(database, workspace, CMI5_INVALID)

    assert "Expecting ',' delimiter" in str(raised.value)
    assert database.query("SELECT count(*) AS n FROM import_batches")["n"][0] == 0


def statement(statement_id, verb, actor, target):
    return {
        "id": statement_id,
        "timestamp": "2024-04-01T10:00:00+09:00",
        "actor": actor,
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": target,
    }


LEARNER = {"mbox": "mailto:Ken.Sato@Tokyo-Solutions.example"}
COURSE = {"id": "https://lms.example/courses/onboarding"}
FIRST = "9d3b6a52-5a7e-4c1e-9f5e-2a1b3c4d5e6f"
SECOND = "1a2b3c4d-0000-4000-8000-000000000002"
VOIDING = "1a2b3c4d-0000-4000-8000-000000000003"


def write_statements(tmp_path, name, statements, *, array=False):
    path = tmp_path / name
    if array:
        path.write_text(json.dumps(statements, indent=2), encoding="utf-8")
    else:
        path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    return path


def test_actor_mbox_matches_user_email(database, workspace, tmp_path):
    users = tmp_path / "users.csv"
    users.write_text(
        "user_id,partner_id,email\nU-17,P7,ken.sato@tokyo-solutions.example\n"
    )
    import_file(database, workspace, "users", users)
    path = write_statements(
        tmp_path, "s.json", [statement(FIRST, "completed", LEARNER, COURSE)], array=True
    )

    result = import_xapi(database, workspace, path)
    row = database.query("SELECT user_id, partner_id FROM events").iloc[0]

    assert result.inserted == 1
    assert row["user_id"] == "U-17"
    assert row["partner_id"] == "P7"


def test_actor_sha1_matches_user_email(database, workspace, tmp_path):
    users = tmp_path / "users.csv"
    users.write_text("user_id,partner_id,email\nU-17,P7,aya@osaka.example\n")
    import_file(database, workspace, "users", users)
    digest = hashlib.sha1(b"mailto:aya@osaka.example").hexdigest()
    path = write_statements(
        tmp_path,
        "s.jsonl",
        [statement(FIRST, "passed", {"mbox_sha1sum": digest}, COURSE)],
    )

    import_xapi(database, workspace, path)
    row = database.query("SELECT user_id, action FROM events").iloc[0]

    assert row["user_id"] == "U-17"
    assert row["action"] == "passed"


def test_voiding_removes_voided_event(database, workspace, tmp_path):
    import_users(database, workspace, tmp_path, {"ken.sato@tokyo-solutions.example"})
    first = write_statements(
        tmp_path,
        "a.jsonl",
        [
            statement(FIRST, "completed", LEARNER, COURSE),
            statement(SECOND, "attended", LEARNER, COURSE),
        ],
    )
    voiding = statement(
        VOIDING, "voided", LEARNER, {"objectType": "StatementRef", "id": FIRST}
    )
    second = write_statements(tmp_path, "b.jsonl", [voiding])
    import_xapi(database, workspace, first)

    result = import_xapi(database, workspace, second)
    again = import_xapi(database, workspace, first)
    events = database.query("SELECT event_id FROM events")["event_id"]

    assert result.voided == 1
    assert result.filtered == 1
    assert events.tolist() == [SECOND]
    # Both statements are stored already: the voided one stays out, and both are
    # duplicates.
    assert again.inserted == 0
    assert again.filtered == 0
    assert again.duplicates == 2


def test_voiding_before_target_arrives(database, workspace, tmp_path):
    import_users(database, workspace, tmp_path, {"ken.sato@tokyo-solutions.example"})
    voiding = statement(
        VOIDING, "voided", LEARNER, {"objectType": "StatementRef", "id": FIRST}
    )
    import_xapi(database, workspace, write_statements(tmp_path, "v.jsonl", [voiding]))

    result = import_xapi(
        database,
        workspace,
        write_statements(
            tmp_path, "a.jsonl", [statement(FIRST, "completed", LEARNER, COURSE)]
        ),
    )

    # The statement is stored voided and never becomes an event, so no event is
    # inserted or removed.
    assert result.inserted == 0
    assert result.filtered == 1
    assert result.voided == 0
    assert database.query("SELECT count(*) AS n FROM events")["n"][0] == 0


def test_anonymous_group_is_rejected(database, workspace, tmp_path):
    group = {"objectType": "Group", "member": [LEARNER]}
    path = write_statements(
        tmp_path, "g.jsonl", [statement(FIRST, "attended", group, COURSE)]
    )

    result = import_xapi(database, workspace, path)

    assert result.rejected == 1
    assert "no mbox" in result.problems[0].reason


def test_xapi_command_prints_counts(workspace, tmp_path):
    path = write_statements(
        tmp_path, "s.jsonl", [statement(FIRST, "completed", LEARNER, COURSE)]
    )

    result = CliRunner().invoke(
        app,
        ["--workspace", str(workspace.root), "import", "xapi", str(path), "-f", "json"],
    )
    counts = json.loads(result.stdout)

    # No users yet, so the one statement is kept pending, with no event.
    assert result.exit_code == 0
    assert counts["read"] == 1
    assert counts["rejected"] == 0
    assert counts["filtered"] == 1
    assert counts["voided"] == 0
    assert "1 statements wait for their users" in result.stderr
