from __future__ import annotations

from datetime import datetime

from partnerlift.ingest.segment import import_segment
from partnerlift.interfaces.http.statements import StatementStore

# 2024-06-01 01:00 UTC is 10:00 the same day in Asia/Tokyo (UTC+9).
RECEIVED = datetime(2024, 6, 1, 1, 0)


def stored_times(database):
    return database.raw.execute(
        "SELECT occurred_at, occurred_local FROM events ORDER BY occurred_at"
    ).fetchall()


def test_segment_without_timestamp_uses_utc(database, workspace):
    message = {"type": "track", "event": "Viewed", "userId": "u-1"}

    import_segment(database, workspace, [message], source="k1", received_at=RECEIVED)

    assert stored_times(database) == [(RECEIVED, datetime(2024, 6, 1, 10, 0))]


def test_segment_received_at_field_is_used(database, workspace):
    # Segment's receivedAt, in UTC, is 2024-05-31 22:30 UTC, 07:30 in Tokyo.
    message = {
        "type": "track",
        "event": "Viewed",
        "userId": "u-1",
        "receivedAt": "2024-05-31T22:30:00.000Z",
    }

    import_segment(database, workspace, [message], source="k1", received_at=RECEIVED)

    assert stored_times(database) == [
        (datetime(2024, 5, 31, 22, 30), datetime(2024, 6, 1, 7, 30))
    ]


def test_segment_device_clock_skew_corrected(database, workspace):
    # The device clock is 40 s behind: it sent at 00:59:20 by its own clock, and
    # the call was made 20 s before that, so at 01:00:00 - 20 s = 00:59:40 UTC,
    # 09:59:40 in Tokyo.
    message = {
        "type": "track",
        "event": "Viewed",
        "userId": "u-1",
        "originalTimestamp": "2024-06-01T00:59:00Z",
        "sentAt": "2024-06-01T00:59:20Z",
    }

    import_segment(database, workspace, [message], source="k1", received_at=RECEIVED)

    assert stored_times(database) == [
        (datetime(2024, 6, 1, 0, 59, 40), datetime(2024, 6, 1, 9, 59, 40))
    ]


def test_xapi_without_timestamp_uses_stored(database, workspace):
    statement = {
        "actor": {"account": {"homePage": "https://lms.example", "name": "u-1"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example/courses/a"},
    }
    database.raw.execute("INSERT INTO users (user_id, partner_id) VALUES ('u-1', 'P1')")

    StatementStore(database, workspace).store([statement])
    stored_at = database.raw.execute(
        "SELECT stored_at FROM xapi_statements"
    ).fetchall()[0][0]

    # The statement's time is the instant it was stored, read as UTC.
    assert stored_times(database)[0][0] == stored_at
