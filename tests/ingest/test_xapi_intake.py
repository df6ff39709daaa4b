from __future__ import annotations

import hashlib
import json

import pytest

from partnerlift.ingest import import_file
from partnerlift.ingest.xapi import import_xapi
from partnerlift.settings import create_workspace
from partnerlift.store import Database

VERBS = "http://adlnet.gov/expapi/verbs/"
COURSE = {"id": "https://lms.example/courses/pricing"}
EMAIL = "Ken.Sato@Tokyo-Solutions.example"
KEN = {"mbox": f"mailto:{EMAIL}"}
FIRST = "00000000-0000-4000-8000-000000000001"
SECOND = "00000000-0000-4000-8000-000000000002"
VOIDING = "00000000-0000-4000-8000-000000000009"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


def statement(statement_id, verb="completed", actor=KEN, **extra):
    return {
        "id": statement_id,
        "timestamp": "2024-06-03T09:00:00+09:00",
        "actor": actor,
        "verb": {"id": VERBS + verb},
        "object": COURSE,
        **extra,
    }


def voiding(target):
    return {
        "id": VOIDING,
        "actor": KEN,
        "verb": {"id": VERBS + "voided"},
        "object": {"objectType": "StatementRef", "id": target},
    }


def write_lines(tmp_path, name, statements):
    path = tmp_path / name
    path.write_text("".join(json.dumps(s) + "\n" for s in statements))
    return path


def import_ken(database, workspace, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(f"user_id,partner_id,email\nU-17,P1,{EMAIL}\n")
    import_file(database, workspace, "users", path)


def event_users(database):
    rows = database.raw.execute("SELECT event_id, user_id FROM events ORDER BY 1")
    return rows.fetchall()


def reasons(result):
    return [problem.reason for problem in result.problems]


def balanced(result):
    return result.read == (
        result.inserted
        + result.updated
        + result.duplicates
        + result.rejected
        + result.filtered
    )


# mbox_sha1sum


def test_sha1sum_of_email_as_stored(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    # xAPI hashes the mailto IRI as the sender wrote it, here with capitals.
    digest = hashlib.sha1(f"mailto:{EMAIL}".encode()).hexdigest()
    path = write_lines(
        tmp_path, "s.jsonl", [statement(FIRST, actor={"mbox_sha1sum": digest})]
    )

    import_xapi(database, workspace, path)

    assert event_users(database) == [(FIRST, "U-17")]


def test_sha1sum_of_lowercase_email(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    digest = hashlib.sha1(f"mailto:{EMAIL.lower()}".encode()).hexdigest()
    path = write_lines(
        tmp_path, "s.jsonl", [statement(FIRST, actor={"mbox_sha1sum": digest})]
    )

    import_xapi(database, workspace, path)

    assert event_users(database) == [(FIRST, "U-17")]


def test_sha1sum_of_other_casing_waits(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    # Neither the stored nor the lower-case form: the hash matches no user.
    digest = hashlib.sha1(f"mailto:{EMAIL.upper()}".encode()).hexdigest()
    path = write_lines(
        tmp_path, "s.jsonl", [statement(FIRST, actor={"mbox_sha1sum": digest})]
    )

    result = import_xapi(database, workspace, path)

    assert result.filtered == 1
    assert event_users(database) == []


# StatementResult files


def test_statement_result_file_is_read(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    broken = statement(SECOND)
    del broken["verb"]
    page = {"statements": [statement(FIRST), broken], "more": "/xapi/statements?p=2"}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page, indent=2))
    # With indent=2 the file is "{", '  "statements": [', "    {" (line 3, the
    # first statement), then the first statement's lines up to its "    },".
    first_lines = json.dumps(statement(FIRST), indent=2).count("\n") + 1
    second_line = 3 + first_lines

    result = import_xapi(database, workspace, path)

    assert result.read == 2
    assert result.inserted == 1
    assert result.rejected == 1
    assert [problem.line for problem in result.problems] == [second_line]
    assert reasons(result) == ["Invalid xAPI statement: missing 'verb'."]


def test_statement_result_on_one_line(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    page = {"statements": [statement(FIRST), statement(SECOND)], "more": ""}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))

    result = import_xapi(database, workspace, path)

    assert result.read == 2
    assert result.inserted == 2


# Counts


def test_identical_statement_again_duplicate(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    path = write_lines(tmp_path, "s.jsonl", [statement(FIRST)])
    import_xapi(database, workspace, path)

    again = import_xapi(database, workspace, path)

    assert again.duplicates == 1
    assert again.updated == 0
    assert again.inserted == 0
    assert balanced(again)


def test_repeats_before_users_duplicates(database, workspace, tmp_path):
    path = write_lines(
        tmp_path, "s.jsonl", [statement(FIRST), statement(FIRST), statement(SECOND)]
    )

    result = import_xapi(database, workspace, path)

    # Two distinct statements wait for Ken, and the second line repeats the first.
    assert result.filtered == 2
    assert result.duplicates == 1
    assert result.rejected == 0
    assert balanced(result)


def test_waiting_statement_again_duplicate(database, workspace, tmp_path):
    path = write_lines(tmp_path, "s.jsonl", [statement(FIRST)])
    import_xapi(database, workspace, path)

    again = import_xapi(database, workspace, path)

    assert again.duplicates == 1
    assert again.filtered == 0
    assert balanced(again)


def test_repeat_with_other_values_rejected(database, workspace, tmp_path):
    path = write_lines(
        tmp_path, "s.jsonl", [statement(FIRST), statement(FIRST, verb="attended")]
    )

    result = import_xapi(database, workspace, path)

    assert result.filtered == 1
    assert result.rejected == 1
    assert [problem.line for problem in result.problems] == [2]
    assert "line 1" in reasons(result)[0]
    assert "action" in reasons(result)[0]
    assert balanced(result)


def test_batch_counts_stored_as_returned(database, workspace, tmp_path):
    path = write_lines(tmp_path, "s.jsonl", [statement(FIRST), statement(FIRST)])

    result = import_xapi(database, workspace, path)
    stored = database.raw.execute(
        "SELECT duplicates, filtered FROM import_batches WHERE batch_id = ?",
        [result.batch_id],
    ).fetchone()

    assert stored == (1, 1)


def test_statement_voided_earlier_not_inserted(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    import_xapi(database, workspace, write_lines(tmp_path, "v.jsonl", [voiding(FIRST)]))
    path = write_lines(tmp_path, "s.jsonl", [statement(FIRST)])

    result = import_xapi(database, workspace, path)
    again = import_xapi(database, workspace, path)

    assert result.inserted == 0
    assert result.filtered == 1
    assert result.voided == 0
    assert again.duplicates == 1
    assert again.inserted == 0
    assert event_users(database) == []


def test_voiding_earlier_in_same_file(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    path = write_lines(tmp_path, "s.jsonl", [voiding(FIRST), statement(FIRST)])

    result = import_xapi(database, workspace, path)

    assert result.inserted == 0
    assert result.filtered == 2
    assert result.voided == 0
    assert event_users(database) == []


def test_voiding_sent_again_duplicate(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    path = write_lines(tmp_path, "v.jsonl", [voiding(FIRST)])
    import_xapi(database, workspace, path)

    again = import_xapi(database, workspace, path)

    assert again.duplicates == 1
    assert again.filtered == 0


# Invalid JSON Lines


def test_broken_line_reason_names_column(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(statement(FIRST)) + '\n{"bad json\n')

    result = import_xapi(database, workspace, path)

    assert result.inserted == 1
    assert result.rejected == 1
    assert [problem.line for problem in result.problems] == [2]
    # The unterminated string starts at the quote, the line's second character.
    assert reasons(result)[0].startswith(
        "Invalid JSON at line 2, column 2: Unterminated string"
    )


def test_broken_first_line_of_jsonl(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    path = tmp_path / "s.jsonl"
    path.write_text('{"bad json\n' + json.dumps(statement(FIRST)) + "\n")

    result = import_xapi(database, workspace, path)

    assert result.inserted == 1
    assert [problem.line for problem in result.problems] == [1]
    assert reasons(result)[0].startswith("Invalid JSON at line 1, column 2")


# Japanese reasons


def test_reason_in_japanese_workspace(tmp_path):
    workspace = create_workspace(tmp_path / "ws", timezone="Asia/Tokyo", locale="ja")
    broken = statement(FIRST)
    del broken["verb"]
    path = write_lines(tmp_path, "s.jsonl", [broken])

    with Database(workspace.database_path) as database:
        result = import_xapi(database, workspace, path)

    assert reasons(result) == ["xAPI ステートメントが不正です: 'verb' がありません。"]


def test_json_reason_in_japanese_workspace(tmp_path):
    workspace = create_workspace(tmp_path / "ws", timezone="Asia/Tokyo", locale="ja")
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(statement(FIRST)) + '\n{"bad json\n')

    with Database(workspace.database_path) as database:
        result = import_xapi(database, workspace, path)

    assert reasons(result)[0].startswith("2 行 2 列目の JSON が不正です")


# Values


def test_values_out_of_range_rejected(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    cases = [
        ({"score": {"scaled": 1.5}}, "invalid result.score.scaled 1.5"),
        ({"score": {"scaled": -1.01}}, "invalid result.score.scaled -1.01"),
        ({"extensions": {PROGRESS: 101}}, "invalid cmi5 progress 101"),
        ({"extensions": {PROGRESS: -5}}, "invalid cmi5 progress -5"),
        ({"duration": "PT1H30X"}, "invalid result.duration 'PT1H30X'"),
        ({"duration": "PT"}, "invalid result.duration 'PT'"),
        ({"duration": 90}, "invalid result.duration 90"),
    ]
    statements = [
        statement(f"00000000-0000-4000-8000-0000000001{index:02d}", result=result)
        for index, (result, _) in enumerate(cases)
    ]
    path = write_lines(tmp_path, "s.jsonl", statements)

    result = import_xapi(database, workspace, path)

    assert result.rejected == len(cases)
    for found, (_, expected) in zip(reasons(result), cases, strict=True):
        assert expected in found


def test_values_at_bounds_accepted(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    results = [
        {"score": {"scaled": -1}, "extensions": {PROGRESS: 0}},
        {"score": {"scaled": 1}, "extensions": {PROGRESS: 100}},
    ]
    statements = [
        statement(FIRST, result=results[0]),
        statement(SECOND, result=results[1]),
    ]
    path = write_lines(tmp_path, "s.jsonl", statements)

    result = import_xapi(database, workspace, path)

    assert result.inserted == 2
    assert result.rejected == 0


def test_durations_in_seconds(database, workspace, tmp_path):
    import_ken(database, workspace, tmp_path)
    # 1 week is 7 * 86400 = 604800 s. "PT1,5S" is 1.5 s with a decimal comma.
    durations = {FIRST: "P1W", SECOND: "PT1,5S"}
    statements = [
        statement(statement_id, result={"duration": duration})
        for statement_id, duration in durations.items()
    ]
    path = write_lines(tmp_path, "s.jsonl", statements)

    import_xapi(database, workspace, path)
    rows = database.raw.execute(
        "SELECT event_id, properties['duration_s'] FROM events ORDER BY 1"
    ).fetchall()

    assert rows == [(FIRST, "604800.0"), (SECOND, "1.5")]


def test_mbox_without_mailto_rejected(database, workspace, tmp_path):
    path = write_lines(tmp_path, "s.jsonl", [statement(FIRST, actor={"mbox": EMAIL})])

    result = import_xapi(database, workspace, path)

    assert result.rejected == 1
    assert reasons(result) == [
        f"Invalid xAPI statement: invalid mbox {EMAIL!r}: it must be a mailto IRI "
        "such as 'mailto:aiko@example.jp'."
    ]


@pytest.mark.parametrize("content", ["", "\n\n", "\ufeff"])
def test_empty_statement_file(database, workspace, tmp_path, content):
    path = tmp_path / "statements.jsonl"
    path.write_text(content, encoding="utf-8")

    result = import_xapi(database, workspace, path)

    assert result.read == 0
    assert result.inserted == 0


def test_wrong_types_rejected_not_stuck(database, workspace, tmp_path):
    # Line 1 has a number as object id, line 2 a number as timestamp and line 3 a
    # lone surrogate. Line 4 is valid and waits for user u1.
    def statement(number: int, object_id: object, timestamp: object) -> str:
        return json.dumps(
            {
                "id": f"10000000-0000-4000-8000-00000000000{number}",
                "actor": {"account": {"homePage": "http://lms", "name": "u1"}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": object_id},
                "timestamp": timestamp,
            }
        )

    moment = "2024-08-05T09:00:00+09:00"
    lines = [
        statement(1, 5, moment),
        statement(2, "http://x/a", 1722816000),
        statement(3, "http://x/\ud800", moment),
        statement(4, "http://x/b", moment),
    ]
    path = tmp_path / "statements.jsonl"
    # json.dumps writes the lone surrogate as the escape \ud800.
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    users = tmp_path / "users.csv"
    users.write_text("user_id,partner_id\nu1,P1\n", encoding="utf-8")

    result = import_xapi(database, workspace, path)
    import_file(database, workspace, "users", users)
    events = database.query("SELECT asset_id FROM events")["asset_id"].tolist()

    assert [problem.line for problem in result.problems] == [1, 2, 3]
    assert "object.id must be a text" in result.problems[0].reason
    assert "timestamp must be a text" in result.problems[1].reason
    assert result.filtered == 1
    assert events == ["http://x/b"]
