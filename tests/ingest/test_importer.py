from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from partnerlift.errors import SchemaError
from partnerlift.ingest import import_file

CANONICAL_CSV = {
    "partners": (
        "partner_id,name,tier,region,segment,size,joined_at,country\n"
        "p1,Acme,gold,kanto,smb,50,2024-04-01,JP\n"
        "p2,Beta,silver,kansai,ent,500,2024-05-01T09:00:00+09:00,\n"
    ),
    "users": (
        "user_id,partner_id,email,valid_from,valid_to\n"
        "u1,p1,u1@example.com,2024-04-01,2024-06-01\n"
        "u1,p2,u1@example.com,2024-06-01,\n"
    ),
    "assets": (
        "asset_id,kind,title,tags,pages,duration_s\n"
        "a1,video,Onboarding,onboarding|intro,,600\n"
        "a2,forumng,Forum,,,\n"
    ),
    "events": (
        "occurred_at,partner_id,action,asset_id,quantity,page\n"
        "2024-04-02T10:00:00,p1,viewed,a1,,3\n"
        "2024-04-03T10:00:00,p1,downloaded,a2,2,\n"
    ),
    "deals": (
        "deal_id,partner_id,created_at,status,closed_at,amount,currency,stage\n"
        "d1,p1,2024-04-10,won,2024-05-10,1200000,JPY,closed\n"
        "d2,p1,2024-04-20,open,,,,proposal\n"
    ),
}


def write(folder: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(content.encode(encoding))
    return path


def as_jsonl(csv_text: str) -> str:
    """Turn a small CSV text without quoting into JSON Lines, dropping empty cells."""
    header, *rows = csv_text.strip().split("\n")
    names = header.split(",")
    lines = []
    for row in rows:
        record = {name: cell for name, cell in zip(names, row.split(","), strict=True)}
        lines.append(json.dumps({key: value for key, value in record.items() if value}))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("table", list(CANONICAL_CSV))
def test_canonical_csv_imports_every_row(database, workspace, tmp_path, table):
    path = write(tmp_path, f"{table}.csv", CANONICAL_CSV[table])

    result = import_file(database, workspace, table, path)

    assert result.read == 2
    assert result.inserted == 2
    assert result.rejected == 0
    assert database.query(f"SELECT count(*) AS n FROM {table}")["n"][0] == 2


@pytest.mark.parametrize("table", list(CANONICAL_CSV))
def test_canonical_jsonl_imports_every_row(database, workspace, tmp_path, table):
    path = write(tmp_path, f"{table}.jsonl", as_jsonl(CANONICAL_CSV[table]))

    result = import_file(database, workspace, table, path)

    assert result.inserted == 2
    assert result.rejected == 0


@pytest.mark.parametrize("table", list(CANONICAL_CSV))
def test_reimport_adds_nothing(database, workspace, tmp_path, table):
    path = write(tmp_path, f"{table}.csv", CANONICAL_CSV[table])
    import_file(database, workspace, table, path)

    again = import_file(database, workspace, table, path)

    assert again.inserted == 0
    assert again.duplicates == 2
    assert database.query(f"SELECT count(*) AS n FROM {table}")["n"][0] == 2


def test_canonical_values_are_typed(database, workspace, tmp_path):
    import_file(
        database, workspace, "assets", write(tmp_path, "a.csv", CANONICAL_CSV["assets"])
    )
    import_file(
        database, workspace, "deals", write(tmp_path, "d.csv", CANONICAL_CSV["deals"])
    )

    asset = database.query("SELECT * FROM assets WHERE asset_id = 'a1'").iloc[0]
    deal = database.query("SELECT * FROM deals WHERE deal_id = 'd1'").iloc[0]

    assert list(asset["tags"]) == ["onboarding", "intro"]
    assert asset["duration_s"] == 600.0
    assert deal["amount"] == 1_200_000.0
    # 2024-05-10 00:00 in Tokyo (UTC+9) is 2024-05-09 15:00 UTC.
    assert deal["closed_at"] == datetime(2024, 5, 9, 15, 0)
    assert deal["closed_local"] == datetime(2024, 5, 10, 0, 0)


def test_partner_extra_columns_become_attributes(database, workspace, tmp_path):
    path = write(tmp_path, "partners.csv", CANONICAL_CSV["partners"])

    import_file(database, workspace, "partners", path)
    rows = database.query(
        "SELECT partner_id, attributes['country'] AS country FROM partners ORDER BY 1"
    )

    assert rows["country"][0] == "JP"
    assert rows["country"][1] is None


def test_event_properties_drop_empty_values(database, workspace, tmp_path):
    path = write(tmp_path, "events.csv", CANONICAL_CSV["events"])

    import_file(database, workspace, "events", path)
    rows = database.query(
        "SELECT action, cardinality(properties) AS size, properties['page'] AS page "
        "FROM events ORDER BY occurred_at"
    )

    assert rows["page"][0] == "3"
    assert rows["size"][1] == 0


def test_event_quantity_defaults_to_one(database, workspace, tmp_path):
    path = write(tmp_path, "events.csv", CANONICAL_CSV["events"])

    import_file(database, workspace, "events", path)
    rows = database.query("SELECT quantity FROM events ORDER BY occurred_at")

    assert rows["quantity"].tolist() == [1.0, 2.0]


def test_offsetless_time_is_tokyo_local(database, workspace, tmp_path):
    path = write(
        tmp_path,
        "events.csv",
        "occurred_at,partner_id,action\n2024-02-01T00:30:00,p1,logged_in\n",
    )

    import_file(database, workspace, "events", path)
    row = database.query("SELECT occurred_at, occurred_local FROM events").iloc[0]

    # Asia/Tokyo is UTC+9 all year: 00:30 on 1 February is 15:30 on 31 January UTC.
    assert row["occurred_at"] == datetime(2024, 1, 31, 15, 30)
    assert row["occurred_local"] == datetime(2024, 2, 1, 0, 30)


def test_offset_time_keeps_its_instant(database, workspace, tmp_path):
    path = write(
        tmp_path,
        "events.csv",
        "occurred_at,partner_id,action\n2024-02-01T00:30:00Z,p1,logged_in\n",
    )

    import_file(database, workspace, "events", path)
    row = database.query("SELECT occurred_at, occurred_local FROM events").iloc[0]

    assert row["occurred_at"] == datetime(2024, 2, 1, 0, 30)
    assert row["occurred_local"] == datetime(2024, 2, 1, 9, 30)


BAD_DEALS = (
    "deal_id,partner_id,created_at,status,amount\n"
    "d1,p1,2024-04-01,won,100\n"
    "d2,p1,2024-13-45,won,100\n"
    "d3,p1,2024-04-01,won,12abc\n"
    "d4,p1,2024-04-01,pending,100\n"
    "d5,,2024-04-01,lost,100\n"
    "d6,p2,2024-04-02,lost,\n"
)


def test_bad_rows_are_rejected_with_details(database, workspace, tmp_path):
    path = write(tmp_path, "deals.csv", BAD_DEALS)

    result = import_file(database, workspace, "deals", path)
    found = [(p.line, p.field, p.value) for p in result.problems]

    # Line 1 is the header, so the deals d2..d5 sit on lines 3..6.
    assert found == [
        (3, "created_at", "2024-13-45"),
        (4, "amount", "12abc"),
        (5, "status", "pending"),
        (6, "partner_id", None),
    ]
    assert all(p.file == str(path) for p in result.problems)


def test_bad_rows_counts_add_up(database, workspace, tmp_path):
    path = write(tmp_path, "deals.csv", BAD_DEALS)

    result = import_file(database, workspace, "deals", path)
    stored = database.query("SELECT deal_id FROM deals ORDER BY deal_id")

    # Six rows: d1 and d6 are valid, the four others each have one error.
    assert result.read == 6
    assert result.inserted == 2
    assert result.rejected == 4
    assert result.read == result.inserted + result.duplicates + result.rejected
    assert stored["deal_id"].tolist() == ["d1", "d6"]


def test_rejected_rows_are_stored(database, workspace, tmp_path):
    path = write(tmp_path, "deals.csv", BAD_DEALS)

    result = import_file(database, workspace, "deals", path)
    rows = database.query("SELECT * FROM rejected_rows ORDER BY line")
    batch = database.query("SELECT * FROM import_batches").iloc[0]

    assert rows["line"].tolist() == [3, 4, 5, 6]
    assert set(rows["batch_id"]) == {result.batch_id}
    assert json.loads(rows["raw"][2])["status"] == "pending"
    assert batch["rejected"] == 4
    assert batch["inserted"] == 2


def test_missing_required_column_imports_nothing(database, workspace, tmp_path):
    path = write(tmp_path, "deals.csv", "deal_id,partner_id,status\nd1,p1,won\n")

    with pytest.raises(SchemaError, match="created_at") as raised:
        import_file(database, workspace, "deals", path)

    assert "deal_id, partner_id, status" in str(raised.value)
    assert str(path) in str(raised.value)
    assert database.query("SELECT count(*) AS n FROM deals")["n"][0] == 0
    assert database.query("SELECT count(*) AS n FROM import_batches")["n"][0] == 0


def test_events_need_partner_or_user_column(database, workspace, tmp_path):
    path = write(tmp_path, "events.csv", "occurred_at,action\n2024-04-01,viewed\n")

    with pytest.raises(SchemaError, match="partner_id or user_id"):
        import_file(database, workspace, "events", path)


def test_repeated_row_without_id_is_new_occurrence(database, workspace, tmp_path):
    row = "2024-04-02T10:00:00,p1,viewed\n"
    path = write(tmp_path, "events.csv", "occurred_at,partner_id,action\n" + row + row)

    first = import_file(database, workspace, "events", path)
    again = import_file(database, workspace, "events", path)

    assert first.inserted == 2
    assert again.inserted == 0
    assert again.duplicates == 2


def test_repeated_event_id_in_file_is_duplicate(database, workspace, tmp_path):
    row = "e1,2024-04-02T10:00:00,p1,viewed\n"
    header = "event_id,occurred_at,partner_id,action\n"
    path = write(tmp_path, "events.csv", header + row + row)

    result = import_file(database, workspace, "events", path)

    assert result.inserted == 1
    assert result.duplicates == 1


def test_changed_partner_is_updated(database, workspace, tmp_path):
    first = write(tmp_path, "a.csv", "partner_id,name,tier\np1,Acme,gold\n")
    second = write(tmp_path, "b.csv", "partner_id,tier\np1,silver\n")
    import_file(database, workspace, "partners", first)

    result = import_file(database, workspace, "partners", second)
    row = database.query("SELECT name, tier, batch_id FROM partners").iloc[0]

    assert result.updated == 1
    assert result.duplicates == 0
    assert row["tier"] == "silver"
    # The second file has no name column, so the stored name stays.
    assert row["name"] == "Acme"
    assert row["batch_id"] == result.batch_id


USERS_WITH_MOVE = (
    "user_id,partner_id,valid_from,valid_to\n"
    "u1,p1,2024-04-01,2024-06-01\n"
    "u1,p2,2024-06-01,\n"
    "u2,p3,2024-05-01,2024-05-15\n"
)


def test_user_events_get_partner_of_the_day(database, workspace, tmp_path):
    import_file(database, workspace, "users", write(tmp_path, "u.csv", USERS_WITH_MOVE))
    events = write(
        tmp_path,
        "events.csv",
        "occurred_at,user_id,action\n"
        "2024-05-31T23:59:00,u1,viewed\n"
        "2024-06-01T00:00:00,u1,viewed\n",
    )

    result = import_file(database, workspace, "events", events)
    rows = database.query("SELECT partner_id FROM events ORDER BY occurred_at")

    # u1 belongs to p1 until the start of 1 June (valid_to is exclusive), then p2.
    assert result.inserted == 2
    assert rows["partner_id"].tolist() == ["p1", "p2"]


def test_unknown_user_says_import_users(database, workspace, tmp_path):
    import_file(database, workspace, "users", write(tmp_path, "u.csv", USERS_WITH_MOVE))
    events = write(
        tmp_path, "e.csv", "occurred_at,user_id,action\n2024-05-01,u9,viewed\n"
    )

    result = import_file(database, workspace, "events", events)

    assert result.rejected == 1
    assert result.problems[0].field == "user_id"
    assert "Import users first" in result.problems[0].reason


def test_user_outside_validity_is_rejected(database, workspace, tmp_path):
    import_file(database, workspace, "users", write(tmp_path, "u.csv", USERS_WITH_MOVE))
    events = write(
        tmp_path, "e.csv", "occurred_at,user_id,action\n2024-05-20,u2,viewed\n"
    )

    result = import_file(database, workspace, "events", events)

    # u2 belonged to p3 from 1 May to 15 May only.
    assert result.rejected == 1
    assert "valid_from" in result.problems[0].reason


def test_failed_insert_leaves_nothing(database, workspace, tmp_path):
    path = write(tmp_path, "deals.csv", BAD_DEALS)
    database.raw.execute("DROP TABLE rejected_rows")

    with pytest.raises(duckdb.Error):
        import_file(database, workspace, "deals", path)

    assert database.query("SELECT count(*) AS n FROM deals")["n"][0] == 0


CLOSE_DATES = (
    "deal_id,partner_id,created_at,status,closed_at\n"
    "Q1,p1,2024-03-01,won,2024-03-20\n"
    "Q2,p1,2024-03-01,won,\n"
    "Q3,p1,2024-03-01,lost,2024-02-01\n"
    "Q4,p1,2024-03-01,open,\n"
)


def test_deal_closing_before_creation_rejected(database, workspace, tmp_path):
    path = write(tmp_path, "deals.csv", CLOSE_DATES)

    result = import_file(database, workspace, "deals", path)

    assert result.inserted == 3
    assert result.rejected == 1
    assert result.problems[0].line == 4
    assert result.problems[0].field == "closed_at"
    assert result.problems[0].value == "2024-02-01"
    assert "before it was created (2024-03-01 00:00)" in result.problems[0].reason


AMOUNT_CURRENCIES = (
    "deal_id,partner_id,created_at,status,amount,currency\n"
    'Q1,p1,2024-03-01,open,"$1,200.50",\n'
    "Q2,p1,2024-03-01,open,EUR 12,\n"
    "Q3,p1,2024-03-01,open,1200円,\n"
    "Q4,p1,2024-03-01,open,500,JPY\n"
    "Q5,p1,2024-03-01,open,$500,JPY\n"
)


def test_amount_sign_sets_currency(database, workspace, tmp_path):
    path = write(tmp_path, "deals.csv", AMOUNT_CURRENCIES)

    result = import_file(database, workspace, "deals", path)
    stored = dict(
        database.raw.execute("SELECT deal_id, currency FROM deals").fetchall()
    )

    assert stored == {"Q1": "USD", "Q2": "EUR", "Q3": "JPY", "Q4": "JPY"}
    assert result.rejected == 1
    assert result.problems[0].line == 6
    assert "written in USD but the currency column says JPY" in (
        result.problems[0].reason
    )
