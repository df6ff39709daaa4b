from __future__ import annotations

from datetime import datetime

import pytest

from partnerlift.ingest import import_file
from partnerlift.ingest.snapshots import deals_as_of

DEALS_HEADER = "deal_id,partner_id,created_at,status,closed_at,amount\n"
# The export of 1 August, imported first.
AUGUST = (
    DEALS_HEADER + "D1,P1,2024-04-01,won,2024-06-25,200\n"
    "D2,P1,2024-04-02,open,,50\n"
    "D3,P1,2024-04-03,open,,70\n"
    "D4,P1,2024-07-10,open,,30\n"
)
# The export of 1 July, imported after August: D1 and D3 have other values than
# in August, D2 has the same values and D4 did not exist yet.
JULY = (
    DEALS_HEADER + "D1,P1,2024-04-01,open,,100\n"
    "D2,P1,2024-04-02,open,,50\n"
    "D3,P1,2024-04-03,open,,60\n"
)
JUNE_1 = datetime(2024, 6, 1)
JULY_1 = datetime(2024, 7, 1)
AUGUST_1 = datetime(2024, 8, 1)


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def import_deals(database, workspace, tmp_path, name, content, observed, chunks=None):
    path = write(tmp_path, name, content)
    return import_file(
        database, workspace, "deals", path, observed_at=observed, chunk_rows=chunks
    )


def count_rows(database, table):
    return int(database.query(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])


@pytest.mark.parametrize("chunks", [None, 1], ids=["whole", "chunked"])
def test_older_export_first_import(database, workspace, tmp_path, chunks):
    import_deals(database, workspace, tmp_path, "august.csv", AUGUST, AUGUST_1)

    july = import_deals(database, workspace, tmp_path, "july.csv", JULY, JULY_1, chunks)

    # D1 and D3 differ from the stored August rows and have no history row before
    # 1 July: updated and outdated. D2 equals its stored row: a duplicate.
    assert july.read == 3
    assert july.inserted == 0
    assert july.updated == 2
    assert july.outdated == 2
    assert july.duplicates == 1
    # 4 August rows, then a July row for each of D1, D2 and D3.
    assert count_rows(database, "deal_history") == 7


@pytest.mark.parametrize("chunks", [None, 1], ids=["whole", "chunked"])
def test_older_export_imported_again(database, workspace, tmp_path, chunks):
    import_deals(database, workspace, tmp_path, "august.csv", AUGUST, AUGUST_1)
    import_deals(database, workspace, tmp_path, "july.csv", JULY, JULY_1)

    again = import_deals(
        database, workspace, tmp_path, "july2.csv", JULY, JULY_1, chunks
    )
    stored = database.query("SELECT amount FROM deals ORDER BY deal_id")

    # Each July row equals the history row recorded on 1 July by the first import.
    assert again.read == 3
    assert again.updated == 0
    assert again.outdated == 0
    assert again.duplicates == 3
    # Still the 7 rows of the first two imports.
    assert count_rows(database, "deal_history") == 7
    # The stored rows keep the August amounts.
    assert stored["amount"].tolist() == [200.0, 50.0, 70.0, 30.0]


def test_newer_export_imported_again(database, workspace, tmp_path):
    import_deals(database, workspace, tmp_path, "august.csv", AUGUST, AUGUST_1)
    import_deals(database, workspace, tmp_path, "july.csv", JULY, JULY_1)

    again = import_deals(database, workspace, tmp_path, "a2.csv", AUGUST, AUGUST_1)

    # Nothing is observed after 1 August, so each row is compared with its stored
    # row, which has the August values.
    assert again.updated == 0
    assert again.duplicates == 4
    assert count_rows(database, "deal_history") == 7


def test_older_export_unchanged_deal_as_of(database, workspace, tmp_path):
    import_deals(database, workspace, tmp_path, "august.csv", AUGUST, AUGUST_1)
    import_deals(database, workspace, tmp_path, "july.csv", JULY, JULY_1)

    july = deals_as_of(database, datetime(2024, 7, 15))

    # D4 was first observed on 1 August. D2, a duplicate, is known from 1 July on.
    assert july["deal_id"].tolist() == ["D1", "D2", "D3"]
    assert july["amount"].tolist() == [100.0, 50.0, 60.0]
    assert july["change"].tolist() == ["updated", "inserted", "updated"]


def test_older_export_equal_to_stored(database, workspace, tmp_path):
    june = DEALS_HEADER + "D1,P1,2024-04-01,open,,100\n"
    august = DEALS_HEADER + "D1,P1,2024-04-01,won,2024-06-25,200\n"
    import_deals(database, workspace, tmp_path, "june.csv", june, JUNE_1)
    import_deals(database, workspace, tmp_path, "august.csv", august, AUGUST_1)

    # The July export already shows the August values.
    late = import_deals(database, workspace, tmp_path, "july.csv", august, JULY_1)
    as_of = deals_as_of(database, datetime(2024, 7, 15)).iloc[0]

    # The row equals the stored row but differs from the June history row, which
    # deals_as_of would return for July: it updates the history only.
    assert late.updated == 1
    assert late.outdated == 1
    assert late.duplicates == 0
    assert count_rows(database, "deal_history") == 3
    assert as_of["status"] == "won"
    assert as_of["amount"] == 200.0


PARTNERS_HEADER = "partner_id,name,tier\n"


def test_older_partner_export_again(database, workspace, tmp_path):
    august = PARTNERS_HEADER + "P1,Tokyo Shoji,gold\nP2,Osaka Denki,silver\n"
    # P1 has another tier than in August, P2 the same.
    july = PARTNERS_HEADER + "P1,Tokyo Shoji,silver\nP2,Osaka Denki,silver\n"
    path = write(tmp_path, "august.csv", august)
    import_file(database, workspace, "partners", path, observed_at=AUGUST_1)
    path = write(tmp_path, "july.csv", july)
    first = import_file(database, workspace, "partners", path, observed_at=JULY_1)
    history = count_rows(database, "partner_history")

    again = import_file(database, workspace, "partners", path, observed_at=JULY_1)
    tiers = database.query("SELECT tier FROM partners ORDER BY partner_id")

    # First July import: P1 updated and outdated, P2 a duplicate. Each gets a July
    # history row besides its August row: 2 + 2 rows.
    assert first.updated == 1
    assert first.outdated == 1
    assert first.duplicates == 1
    assert history == 4
    # Again: both equal their July history rows.
    assert again.updated == 0
    assert again.duplicates == 2
    assert count_rows(database, "partner_history") == 4
    assert tiers["tier"].tolist() == ["gold", "silver"]
