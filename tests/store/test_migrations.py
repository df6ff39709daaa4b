from __future__ import annotations

from pathlib import Path

import duckdb

from partnerlift.store import Database


def test_events_key_dropped_rows_kept(tmp_path: Path) -> None:
    # A version 6 database, whose events table has event_id as primary key.
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    old.execute("INSERT INTO schema_version VALUES (6)")
    old.execute(
        "CREATE TABLE events (event_id VARCHAR PRIMARY KEY, occurred_at TIMESTAMP "
        "NOT NULL, occurred_local TIMESTAMP NOT NULL, partner_id VARCHAR, user_id "
        "VARCHAR, action VARCHAR NOT NULL, asset_id VARCHAR, quantity DOUBLE NOT "
        "NULL, source VARCHAR, properties MAP(VARCHAR, VARCHAR), batch_id VARCHAR)"
    )
    old.execute(
        "INSERT INTO events VALUES ('e1', TIMESTAMP '2024-04-01 01:00', "
        "TIMESTAMP '2024-04-01 10:00', 'p1', NULL, 'viewed', 'a1', 1, 'portal', "
        "MAP {'page': '/docs'}, 'b1')"
    )
    old.close()

    with Database(path) as db:
        stored = db.query("SELECT event_id, partner_id, properties FROM events")
        keys = db.query(
            "SELECT count(*) AS n FROM duckdb_constraints() "
            "WHERE table_name = 'events' AND constraint_type = 'PRIMARY KEY'"
        )["n"].iat[0]
        version = db.query("SELECT max(version) AS v FROM schema_version")["v"].iat[0]

    assert stored["event_id"].tolist() == ["e1"]
    assert stored["partner_id"].tolist() == ["p1"]
    assert dict(stored["properties"].iat[0]) == {"page": "/docs"}
    assert keys == 0
    assert version == 7
