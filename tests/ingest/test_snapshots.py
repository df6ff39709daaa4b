from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from partnerlift.ingest import import_file
from partnerlift.ingest.snapshots import deals_as_of
from partnerlift.interfaces.cli import app

HEADER = "deal_id,partner_id,created_at,status,closed_at,amount,stage\n"

# The pipeline exported on 1 May 2024 (times in UTC).
MAY = (
    HEADER + "D1,P1,2024-04-01,open,,1000000,proposal\n"
    "D2,P1,2024-04-05,open,,500000,qualification\n"
    "D3,P2,2024-03-01,won,2024-04-20,800000,closed\n"
)
# The same pipeline exported on 1 June 2024: D1 was won, D2 is unchanged, D3 was
# reopened (the export still shows an expected close date) and D4 is new.
JUNE = (
    HEADER + "D1,P1,2024-04-01,won,2024-05-15,1200000,closed\n"
    "D2,P1,2024-04-05,open,,500000,qualification\n"
    "D3,P2,2024-03-01,open,2024-07-31,800000,negotiation\n"
    "D4,P2,2024-05-10,open,,300000,proposal\n"
)
MAY_1 = datetime(2024, 5, 1)
JUNE_1 = datetime(2024, 6, 1)


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def import_both(database, workspace, tmp_path):
    may = import_file(
        database, workspace, "deals", write(tmp_path, "may.csv", MAY), observed_at=MAY_1
    )
    june = import_file(
        database,
        workspace,
        "deals",
        write(tmp_path, "june.csv", JUNE),
        observed_at=JUNE_1,
    )
    return may, june


def test_later_snapshot_counts_updates(database, workspace, tmp_path):
    _, june = import_both(database, workspace, tmp_path)

    # D1 and D3 changed, D2 is the same, D4 is new.
    assert june.read == 4
    assert june.inserted == 1
    assert june.updated == 2
    assert june.duplicates == 1
    assert june.read == (
        june.inserted + june.updated + june.duplicates + june.rejected + june.filtered
    )


def test_later_snapshot_changes_deals(database, workspace, tmp_path):
    import_both(database, workspace, tmp_path)

    deals = database.query("SELECT * FROM deals ORDER BY deal_id").set_index("deal_id")

    assert deals.loc["D1", "status"] == "won"
    assert deals.loc["D1", "amount"] == 1_200_000.0
    assert deals.loc["D1", "closed_local"] == datetime(2024, 5, 15)
    assert deals.loc["D3", "status"] == "open"
    assert deals.loc["D3", "stage"] == "negotiation"


def test_reopened_deal_drops_close_date(database, workspace, tmp_path):
    import_both(database, workspace, tmp_path)

    closed = database.query("SELECT closed_at FROM deals WHERE deal_id = 'D3'")

    # D3 was won on 20 April; reopened, it is not closed at all.
    assert pd.isna(closed["closed_at"][0])


def test_reopened_without_close_column(database, workspace, tmp_path):
    import_file(database, workspace, "deals", write(tmp_path, "may.csv", MAY))
    reopened = write(
        tmp_path,
        "june.csv",
        "deal_id,partner_id,created_at,status\nD3,P2,2024-03-01,open\n",
    )

    result = import_file(database, workspace, "deals", reopened)
    closed = database.query("SELECT closed_at FROM deals WHERE deal_id = 'D3'")

    assert result.updated == 1
    assert pd.isna(closed["closed_at"][0])


def test_deal_status_as_of_dates(database, workspace, tmp_path):
    import_both(database, workspace, tmp_path)

    april = deals_as_of(database, datetime(2024, 4, 30))
    may = deals_as_of(database, datetime(2024, 5, 20)).set_index("deal_id")
    june = deals_as_of(database, datetime(2024, 6, 2)).set_index("deal_id")

    assert april.empty
    assert may["status"].to_dict() == {"D1": "open", "D2": "open", "D3": "won"}
    assert june["status"].to_dict() == {
        "D1": "won",
        "D2": "open",
        "D3": "open",
        "D4": "open",
    }
    assert may.loc["D3", "stage"] == "closed"
    assert pd.isna(june.loc["D3", "closed_at"])


def test_history_has_one_row_per_change(database, workspace, tmp_path):
    import_both(database, workspace, tmp_path)

    history = database.query(
        "SELECT deal_id, change FROM deal_history ORDER BY deal_id, observed_at"
    )

    # Three deals inserted in May, D1 and D3 updated and D4 inserted in June.
    assert list(zip(history["deal_id"], history["change"], strict=True)) == [
        ("D1", "inserted"),
        ("D1", "updated"),
        ("D2", "inserted"),
        ("D3", "inserted"),
        ("D3", "updated"),
        ("D4", "inserted"),
    ]


def test_identical_snapshot_is_duplicates(database, workspace, tmp_path):
    path = write(tmp_path, "may.csv", MAY)
    import_file(database, workspace, "deals", path)

    again = import_file(database, workspace, "deals", path)
    history = database.query("SELECT count(*) AS n FROM deal_history")["n"][0]

    assert again.duplicates == 3
    assert again.updated == 0
    assert history == 3


def test_deal_stored_before_history_keeps_it(database, workspace, tmp_path):
    import_file(
        database, workspace, "deals", write(tmp_path, "may.csv", MAY), observed_at=MAY_1
    )
    # A deal stored by a version without deal history has no history row.
    database.raw.execute("DELETE FROM deal_history WHERE deal_id = 'D3'")

    import_file(
        database,
        workspace,
        "deals",
        write(tmp_path, "june.csv", JUNE),
        observed_at=JUNE_1,
    )
    may = deals_as_of(database, datetime(2024, 5, 20)).set_index("deal_id")

    assert may.loc["D3", "status"] == "won"


def test_failed_snapshot_leaves_nothing(database, workspace, tmp_path):
    import_file(database, workspace, "deals", write(tmp_path, "may.csv", MAY))
    # The history insert comes after the deals are updated, so this fails midway.
    database.raw.execute("DROP TABLE deal_history")

    with pytest.raises(duckdb.Error):
        import_file(database, workspace, "deals", write(tmp_path, "june.csv", JUNE))

    deals = database.query("SELECT deal_id, status FROM deals ORDER BY 1")
    batches = database.query("SELECT count(*) AS n FROM import_batches")["n"][0]
    assert deals["status"].tolist() == ["open", "open", "won"]
    assert batches == 1


def test_changed_asset_is_updated(database, workspace, tmp_path):
    first = write(
        tmp_path, "a.csv", "asset_id,kind,title\nA1,video,Intro\nA2,faq,FAQ\n"
    )
    second = write(
        tmp_path, "b.csv", "asset_id,kind,title\nA1,video,Intro (2024)\nA2,faq,FAQ\n"
    )
    import_file(database, workspace, "assets", first)

    result = import_file(database, workspace, "assets", second)
    titles = database.query("SELECT title FROM assets ORDER BY asset_id")["title"]

    assert result.updated == 1
    assert result.duplicates == 1
    assert titles.tolist() == ["Intro (2024)", "FAQ"]


def test_user_end_date_is_updated(database, workspace, tmp_path):
    first = write(
        tmp_path, "a.csv", "user_id,partner_id,valid_from,valid_to\nU1,P1,2024-04-01,\n"
    )
    second = write(
        tmp_path,
        "b.csv",
        "user_id,partner_id,valid_from,valid_to\nU1,P1,2024-04-01,2024-06-01\n",
    )
    import_file(database, workspace, "users", first)

    result = import_file(database, workspace, "users", second)
    users = database.query("SELECT valid_to FROM users")

    assert result.updated == 1
    assert len(users) == 1
    # 2024-06-01 00:00 in Tokyo is 2024-05-31 15:00 UTC.
    assert users["valid_to"][0] == datetime(2024, 5, 31, 15, 0)


def test_changed_event_stays_duplicate(database, workspace, tmp_path):
    header = "event_id,occurred_at,partner_id,action\n"
    first = write(tmp_path, "a.csv", header + "E1,2024-04-01,P1,viewed\n")
    second = write(tmp_path, "b.csv", header + "E1,2024-04-01,P1,downloaded\n")
    import_file(database, workspace, "events", first)

    result = import_file(database, workspace, "events", second)
    action = database.query("SELECT action FROM events")["action"][0]

    assert result.duplicates == 1
    assert action == "viewed"


def run(workspace, *arguments):
    return CliRunner().invoke(app, ["--workspace", str(workspace.root), *arguments])


def test_imports_command_lists_batches(workspace, tmp_path):
    run(workspace, "import", "deals", str(write(tmp_path, "may.csv", MAY)))
    run(workspace, "import", "deals", str(write(tmp_path, "june.csv", JUNE)))

    result = run(workspace, "imports", "--format", "json")
    batches = json.loads(result.stdout)

    assert result.exit_code == 0
    assert [batch["file"].rsplit("/", 1)[-1] for batch in batches] == [
        "may.csv",
        "june.csv",
    ]
    assert batches[1]["updated"] == 2
    assert batches[1]["inserted"] == 1


def test_imports_show_lists_rejected_rows(workspace, tmp_path):
    bad = write(
        tmp_path,
        "bad.csv",
        HEADER + "D1,P1,2024-04-01,open,,100,x\nD2,P1,2024-13-01,open,,100,x\n"
        "D3,P1,2024-04-01,maybe,,100,x\n",
    )
    imported = run(workspace, "import", "deals", str(bad), "--format", "json")
    batch_id = json.loads(imported.stdout)["batch_id"]

    result = run(workspace, "imports", "show", batch_id, "--format", "json")
    rows = json.loads(result.stdout)

    assert result.exit_code == 0
    assert [(row["line"], row["field"], row["value"]) for row in rows] == [
        (3, "created_at", "2024-13-01"),
        (4, "status", "maybe"),
    ]
    assert rows[0]["file"] == str(bad)
    assert rows[1]["reason"].startswith("Invalid status")


def test_imports_show_unknown_batch(workspace):
    result = run(workspace, "imports", "show", "nope")

    assert result.exit_code == 1
    assert "'nope' not found" in result.stderr


def test_observed_at_option_dates_history(workspace, tmp_path):
    run(
        workspace,
        "import",
        "deals",
        str(write(tmp_path, "may.csv", MAY)),
        "--observed-at",
        "2024-05-01",
    )

    history = run(workspace, "imports", "--format", "json")
    from partnerlift.store import Database

    with Database(workspace.database_path) as db:
        observed = db.query("SELECT DISTINCT observed_at FROM deal_history")

    assert history.exit_code == 0
    # 2024-05-01 00:00 in Tokyo is 2024-04-30 15:00 UTC.
    assert observed["observed_at"].tolist() == [datetime(2024, 4, 30, 15, 0)]


def test_version_2_database_migrates(tmp_path):
    import duckdb as raw_duckdb

    from partnerlift.store import Database

    path = tmp_path / "old.duckdb"
    old = raw_duckdb.connect(str(path))
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    old.execute("INSERT INTO schema_version VALUES (2)")
    old.execute(
        "CREATE TABLE import_batches (batch_id VARCHAR PRIMARY KEY, table_name "
        "VARCHAR NOT NULL, file VARCHAR, encoding VARCHAR, started_at TIMESTAMP NOT "
        "NULL, read BIGINT NOT NULL, inserted BIGINT NOT NULL, duplicates BIGINT NOT "
        "NULL, rejected BIGINT NOT NULL, filtered BIGINT NOT NULL DEFAULT 0)"
    )
    old.execute(
        "INSERT INTO import_batches VALUES ('b1', 'deals', 'd.csv', 'utf-8', "
        "TIMESTAMP '2024-04-01', 3, 3, 0, 0, 0)"
    )
    old.close()

    with Database(path) as db:
        batch = db.query("SELECT updated, footer, observed_at FROM import_batches")
        tables = set(db.query("SELECT table_name FROM duckdb_tables()")["table_name"])

    assert batch["updated"][0] == 0
    assert batch["footer"][0] == 0
    assert pd.isna(batch["observed_at"][0])
    assert {"deal_history", "api_keys", "xapi_statements", "identities"} <= tables
