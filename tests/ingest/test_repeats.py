from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from partnerlift.ingest import import_file, import_source
from partnerlift.ingest.readers import read_source
from partnerlift.ingest.snapshots import deals_as_of
from partnerlift.settings import create_workspace
from partnerlift.store import Database

DEALS_HEADER = "deal_id,partner_id,created_at,status,closed_at,amount\n"
# DD1 on line 2 comes again on line 4 with the same values: one row per deal
# with associations, as CRM exports repeat them.
IDENTICAL = (
    DEALS_HEADER + "DD1,P1,2024-04-01,open,,100\n"
    "DD2,P1,2024-04-02,open,,50\n"
    "DD1,P1,2024-04-01,open,,100\n"
)
# DD1 on line 2 comes again on line 4 won, with a close date and another amount.
DIFFERENT = (
    DEALS_HEADER + "DD1,P1,2024-04-01,open,,100\n"
    "DD2,P1,2024-04-02,open,,50\n"
    "DD1,P1,2024-04-01,won,2024-05-01,200\n"
)
DIFFERENT_REASON = (
    "Deal 'DD1' already appears on line 2 of this file with other values in "
    "status, closed_at, amount. Keep one row per deal, or import the later export "
    "as a separate file."
)
EVENTS = (
    "event_id,occurred_at,partner_id,action,page\n"
    "e1,2024-04-01T10:00:00,P1,viewed,3\n"
    "e2,2024-04-01T11:00:00,P1,viewed,4\n"
    "e1,2024-04-01T10:00:00,P1,viewed,3\n"
    "e1,2024-04-01T10:00:00,P1,downloaded,3\n"
    "e2,2024-04-01T11:00:00,P1,viewed,5\n"
)

# Exports of one deal: observed on 1 June, 1 August and, imported last, 15 July.
JUNE = DEALS_HEADER + "DD1,P1,2024-04-01,open,,100\n"
AUGUST = DEALS_HEADER + "DD1,P1,2024-04-01,won,2024-07-25,200\n"
JULY = DEALS_HEADER + "DD1,P1,2024-04-01,open,,150\n"
JUNE_1 = datetime(2024, 6, 1)
JULY_15 = datetime(2024, 7, 15)
AUGUST_1 = datetime(2024, 8, 1)


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def import_twice(tmp_path, table, content):
    """Import one file whole and in chunks of one row, each into a new workspace;
    return both results and the stored rows of both."""
    path = write(tmp_path, f"{table}.csv", content)
    results, rows = [], []
    for label, chunk_rows in (("whole", None), ("chunked", 1)):
        workspace = create_workspace(
            tmp_path / label, timezone="Asia/Tokyo", locale="en"
        )
        db = Database(workspace.database_path)
        try:
            results.append(
                import_file(db, workspace, table, path, chunk_rows=chunk_rows)
            )
            key = "deal_id" if table == "deals" else "event_id"
            rows.append(db.query(f"SELECT * FROM {table} ORDER BY {key}"))
        finally:
            db.close()
    return results, rows


def test_identical_repeat_is_duplicate(tmp_path):
    results, rows = import_twice(tmp_path, "deals", IDENTICAL)

    # 3 rows: DD1 and DD2 inserted, line 4 the same as line 2.
    for result in results:
        assert result.inserted == 2
        assert result.duplicates == 1
        assert result.rejected == 0
    for stored in rows:
        assert stored["deal_id"].tolist() == ["DD1", "DD2"]


@pytest.mark.parametrize("index", [0, 1], ids=["whole", "chunked"])
def test_different_repeat_is_rejected(tmp_path, index):
    results, rows = import_twice(tmp_path, "deals", DIFFERENT)
    result, stored = results[index], rows[index]

    # 3 rows: DD1 and DD2 inserted, line 4 rejected; DD1 keeps line 2's values.
    assert result.inserted == 2
    assert result.duplicates == 0
    assert result.rejected == 1
    assert [p.line for p in result.problems] == [4]
    assert result.problems[0].field == "deal_id"
    assert result.problems[0].value == "DD1"
    assert result.problems[0].reason == DIFFERENT_REASON
    assert stored["status"].tolist() == ["open", "open"]
    assert stored["amount"].tolist() == [100.0, 50.0]


def test_different_repeat_reason_japanese(tmp_path):
    japanese = create_workspace(tmp_path / "ja", timezone="Asia/Tokyo", locale="ja")
    db = Database(japanese.database_path)
    try:
        result = import_file(db, japanese, "deals", write(tmp_path, "d.csv", DIFFERENT))
    finally:
        db.close()

    assert result.problems[0].reason.startswith(
        "商談 'DD1' はこのファイルの 2 行目に既にあり、status, closed_at, amount の"
        "値が異なります。"
    )


def test_repeated_event_id_other_values(tmp_path):
    results, rows = import_twice(tmp_path, "events", EVENTS)

    # 5 rows: e1 and e2 inserted, and line 4 a duplicate of line 2. Line 5 has
    # another action than line 2 and line 6 another page than line 3, so both
    # are rejected.
    for result in results:
        assert result.inserted == 2
        assert result.duplicates == 1
        assert result.rejected == 2
        assert [p.line for p in result.problems] == [5, 6]
        assert "line 2 " in result.problems[0].reason
        assert "in action." in result.problems[0].reason
        assert "line 3 " in result.problems[1].reason
        assert "in properties." in result.problems[1].reason
    for stored in rows:
        assert stored["action"].tolist() == ["viewed", "viewed"]


def import_late(database, workspace, tmp_path, chunk_rows=None):
    """Import the June and August exports, then the July export; return the last
    result."""
    for name, content, observed in (
        ("june.csv", JUNE, JUNE_1),
        ("august.csv", AUGUST, AUGUST_1),
    ):
        import_file(
            database,
            workspace,
            "deals",
            write(tmp_path, name, content),
            observed_at=observed,
        )
    return import_file(
        database,
        workspace,
        "deals",
        write(tmp_path, "july.csv", JULY),
        observed_at=JULY_15,
        chunk_rows=chunk_rows,
    )


@pytest.mark.parametrize("chunk_rows", [None, 1], ids=["whole", "chunked"])
def test_older_snapshot_keeps_newer_deal(database, workspace, tmp_path, chunk_rows):
    late = import_late(database, workspace, tmp_path, chunk_rows)
    deal = database.query("SELECT status, amount, closed_at FROM deals").iloc[0]

    # The July row differs from the stored August row, so it counts as updated,
    # and as outdated because the history has August.
    assert late.updated == 1
    assert late.outdated == 1
    assert deal["status"] == "won"
    assert deal["amount"] == 200.0
    # 2024-07-25 00:00 in Tokyo is 24 July 15:00 UTC.
    assert deal["closed_at"] == datetime(2024, 7, 24, 15)


def test_older_snapshot_goes_to_history(database, workspace, tmp_path):
    import_late(database, workspace, tmp_path)
    history = database.query(
        "SELECT observed_at, change, status, amount FROM deal_history "
        "ORDER BY observed_at"
    )

    assert history["observed_at"].tolist() == [JUNE_1, JULY_15, AUGUST_1]
    assert history["change"].tolist() == ["inserted", "updated", "updated"]
    assert history["status"].tolist() == ["open", "open", "won"]
    assert history["amount"].tolist() == [100.0, 150.0, 200.0]


def test_older_snapshot_deals_as_of(database, workspace, tmp_path):
    import_late(database, workspace, tmp_path)
    july = deals_as_of(database, datetime(2024, 7, 20)).iloc[0]
    now = deals_as_of(database, datetime(2030, 1, 1)).iloc[0]
    stored = database.query("SELECT status, amount FROM deals").iloc[0]

    assert july["status"] == "open"
    assert july["amount"] == 150.0
    assert now["status"] == stored["status"]
    assert now["amount"] == stored["amount"]


def test_older_partner_keeps_newer_tier(database, workspace, tmp_path):
    header = "partner_id,name,tier\n"
    for name, tier, observed in (
        ("august.csv", "gold", AUGUST_1),
        ("july.csv", "silver", JULY_15),
    ):
        path = write(tmp_path, name, header + f"P1,Tokyo Shoji,{tier}\n")
        late = import_file(database, workspace, "partners", path, observed_at=observed)
    stored = database.query("SELECT tier FROM partners")["tier"].tolist()
    history = database.query("SELECT tier FROM partner_history ORDER BY observed_at")[
        "tier"
    ].tolist()

    assert late.outdated == 1
    assert stored == ["gold"]
    assert history == ["silver", "gold"]


# e1 on line 2 comes again on line 3 with another action.
TWO_ACTIONS = (
    "event_id,occurred_at,partner_id,action\n"
    "e1,2024-04-01T10:00:00,P1,viewed\n"
    "e1,2024-04-01T10:00:00,P1,downloaded\n"
)


@pytest.mark.parametrize(
    ("groups", "duplicates", "rejected"),
    [([0, 0, 0], 0, 1), ([0, 0, 1], 1, 0)],
    ids=["same group", "other group"],
)
def test_repeat_across_line_groups(
    database, workspace, tmp_path, groups, duplicates, rejected
):
    source = read_source(write(tmp_path, "events.csv", TWO_ACTIONS))

    result = import_source(
        database, workspace, "events", source, line_groups=np.array(groups)
    )

    # Line n is in group groups[n - 1]; a repeat from another group is as if
    # stored already, so it is a duplicate.
    assert result.inserted == 1
    assert result.duplicates == duplicates
    assert result.rejected == rejected


def test_conflicting_repeats_as_duplicates(database, workspace, tmp_path):
    source = read_source(write(tmp_path, "events.csv", TWO_ACTIONS))

    result = import_source(
        database, workspace, "events", source, conflicting_repeats="duplicate"
    )

    assert result.inserted == 1
    assert result.duplicates == 1
    assert result.rejected == 0


@pytest.mark.parametrize("chunk_rows", [None, 1, 2], ids=["whole", "1", "2"])
def test_repeat_of_stored_deal(database, workspace, tmp_path, chunk_rows):
    stored = write(
        tmp_path, "stored.csv", DEALS_HEADER + "DD1,P1,2024-04-01,open,,100\n"
    )
    # DD1 changes to 120 on line 2, line 4 repeats line 2, line 5 differs from it.
    later = write(
        tmp_path,
        "later.csv",
        DEALS_HEADER + "DD1,P1,2024-04-01,open,,120\n"
        "DD2,P1,2024-04-02,open,,50\n"
        "DD1,P1,2024-04-01,open,,120\n"
        "DD1,P1,2024-04-01,won,2024-05-01,200\n",
    )
    import_file(database, workspace, "deals", stored)

    result = import_file(database, workspace, "deals", later, chunk_rows=chunk_rows)
    amount = database.query("SELECT amount FROM deals WHERE deal_id = 'DD1'")

    assert result.inserted == 1
    assert result.updated == 1
    assert result.duplicates == 1
    assert [p.line for p in result.problems] == [5]
    assert amount["amount"].tolist() == [120.0]
