from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from partnerlift.errors import InputError, SchemaError
from partnerlift.ingest import ImportResult, import_file, streaming
from partnerlift.ingest.streaming import is_streamable, should_stream
from partnerlift.settings import create_workspace
from partnerlift.store import Database

COUNTS = ("read", "inserted", "updated", "duplicates", "rejected", "filtered", "footer")


def import_both(
    tmp_path: Path, table: str, name: str, content: bytes
) -> tuple[ImportResult, ImportResult, pd.DataFrame, pd.DataFrame]:
    """Import one file in chunks of 3 rows and whole, each into a new workspace."""
    path = tmp_path / name
    path.write_bytes(content)
    results = []
    stored = []
    for label, chunk_rows in (("chunked", 3), ("whole", None)):
        workspace = create_workspace(
            tmp_path / label, timezone="Asia/Tokyo", locale="en"
        )
        db = Database(workspace.database_path)
        try:
            results.append(
                import_file(db, workspace, table, path, chunk_rows=chunk_rows)
            )
            rows = db.query(f"SELECT * EXCLUDE (batch_id) FROM {table}")
        finally:
            db.close()
        # Map and list cells do not sort, so rows are compared as text.
        rows = rows.astype(str)
        stored.append(rows.sort_values(list(rows.columns)).reset_index(drop=True))
    return results[0], results[1], stored[0], stored[1]


def assert_same(
    chunked: ImportResult,
    whole: ImportResult,
    chunked_rows: pd.DataFrame,
    whole_rows: pd.DataFrame,
) -> None:
    for name in COUNTS:
        assert getattr(chunked, name) == getattr(whole, name), name
    assert [p.line for p in chunked.problems] == [p.line for p in whole.problems]
    assert [p.reason for p in chunked.problems] == [p.reason for p in whole.problems]
    pd.testing.assert_frame_equal(chunked_rows, whole_rows)


def test_events_repeats_across_chunks(tmp_path: Path) -> None:
    # Lines 4, 5 and 6 are the same event, split over chunk 1 (lines 2-4) and
    # chunk 2 (lines 5-7). Line 7 has an invalid time. Line 9 repeats line 4 too.
    content = (
        b"occurred_at,partner_id,action,page\n"
        b"2024-02-01T10:00:00,p1,viewed,a\n"
        b"2024-02-01T11:00:00,p1,viewed,b\n"
        b"2024-02-01T12:00:00,p2,viewed,c\n"
        b"2024-02-01T12:00:00,p2,viewed,c\n"
        b"2024-02-01T12:00:00,p2,viewed,c\n"
        b"not a time,p2,viewed,c\n"
        b"2024-02-02T09:00:00,p3,clicked,\n"
        b"2024-02-01T12:00:00,p2,viewed,c\n"
    )

    chunked, whole, chunked_rows, whole_rows = import_both(
        tmp_path, "events", "events.csv", content
    )

    # 8 data rows: 7 valid, each a separate occurrence, and 1 rejected on line 7.
    assert chunked.read == 8
    assert chunked.inserted == 7
    assert [p.line for p in chunked.problems] == [7]
    assert chunked_rows["event_id"].nunique() == 7
    assert_same(chunked, whole, chunked_rows, whole_rows)


def test_events_ids_duplicate_across_chunks(tmp_path: Path) -> None:
    # e2 on line 3 comes again on line 6, in the second chunk.
    content = (
        b"event_id,occurred_at,partner_id,action\n"
        b"e1,2024-02-01T10:00:00,p1,viewed\n"
        b"e2,2024-02-01T11:00:00,p1,viewed\n"
        b"e3,2024-02-01T12:00:00,p2,viewed\n"
        b"e4,2024-02-01T13:00:00,p2,viewed\n"
        b"e2,2024-02-01T11:00:00,p1,viewed\n"
        b",2024-02-01T14:00:00,p2,viewed\n"
    )

    chunked, whole, chunked_rows, whole_rows = import_both(
        tmp_path, "events", "events.csv", content
    )

    # 6 rows: e1-e4 and one derived id inserted, the second e2 a duplicate.
    assert chunked.inserted == 5
    assert chunked.duplicates == 1
    assert_same(chunked, whole, chunked_rows, whole_rows)


def test_deals_footer_and_repeated_key(tmp_path: Path) -> None:
    # d1 on line 2 comes again with another amount on line 5 (next chunk), so
    # line 5 is rejected and names line 2. Lines 8-10 are a report footer.
    content = (
        b"deal_id,partner_id,created_at,status,amount\n"
        b"d1,p1,2024-01-05,open,100\n"
        b"d2,p1,2024-01-06,won,200\n"
        b"d3,p2,2024-01-07,lost,300\n"
        b"d1,p1,2024-01-05,open,999\n"
        b"d4,p2,2024-01-08,bogus,400\n"
        b"d5,p3,2024-01-09,open,500\n"
        b"\n"
        b'"Grand Totals (5 records)"\n'
        b"Copyright (c) 2024 Example\n"
    )

    chunked, whole, chunked_rows, whole_rows = import_both(
        tmp_path, "deals", "deals.csv", content
    )

    # 6 data rows: d1, d2, d3, d5 inserted, d1 again and d4 rejected.
    assert chunked.read == 6
    assert chunked.footer == 2
    assert chunked.duplicates == 0
    assert [p.line for p in chunked.problems] == [5, 6]
    assert "line 2 " in chunked.problems[0].reason
    assert_same(chunked, whole, chunked_rows, whole_rows)


def test_quoted_line_break_at_boundary(tmp_path: Path) -> None:
    # The page of the 3rd data row spans lines 4-5, so the 4th row starts on
    # line 6; line 7 has one field too many.
    content = (
        b"occurred_at,partner_id,action,page\n"
        b"2024-02-01T10:00:00,p1,viewed,a\n"
        b"2024-02-01T11:00:00,p1,viewed,b\n"
        b'2024-02-01T12:00:00,p2,viewed,"two\r\nlines"\r\n'
        b"2024-02-01T13:00:00,p2,viewed,d\n"
        b"2024-02-01T14:00:00,p2,viewed,e,extra\n"
        b"bad,p3,clicked,f\n"
    )

    chunked, whole, chunked_rows, whole_rows = import_both(
        tmp_path, "events", "events.csv", content
    )

    assert [p.line for p in chunked.problems] == [7, 8]
    assert_same(chunked, whole, chunked_rows, whole_rows)


def test_cp932_file(tmp_path: Path) -> None:
    # The second byte of "ソ" in CP932 is 0x5C, the byte of a backslash.
    content = (
        "occurred_at,partner_id,action,page\n"
        "2024-02-01T10:00:00,東京商事,閲覧,製品ページ\n"
        "2024-02-01T11:00:00,東京商事,閲覧,価格\n"
        "2024-02-01T12:00:00,大阪物産,申込,ソフト\n"
        "2024-02-01T13:00:00,大阪物産,閲覧,表示\n"
    ).encode("cp932")

    chunked, whole, chunked_rows, whole_rows = import_both(
        tmp_path, "events", "events.csv", content
    )

    assert chunked.encoding == "cp932"
    assert chunked.inserted == 4
    assert_same(chunked, whole, chunked_rows, whole_rows)


def test_mixed_encoding_names_line(
    tmp_path: Path, workspace, database: Database
) -> None:
    # Lines 2 and 3 are CP932, line 4 is UTF-8.
    path = tmp_path / "events.csv"
    path.write_bytes(
        b"occurred_at,partner_id,action\n"
        + "2024-02-01T10:00:00,東京商事,閲覧\n".encode("cp932")
        + "2024-02-01T11:00:00,東京商事,閲覧\n".encode("cp932")
        + "2024-02-01T12:00:00,大阪物産,閲覧\n".encode()
    )

    with pytest.raises(InputError) as caught:
        import_file(database, workspace, "events", path, chunk_rows=3)

    assert "line 4 is UTF-8 but line 2 is not" in str(caught.value)


def test_jsonl_late_column(tmp_path: Path) -> None:
    # The key "page" first appears on line 5; line 3 is not JSON.
    content = (
        b'{"occurred_at": "2024-02-01T10:00:00", "partner_id": "p1", "action": "a"}\n'
        b'{"occurred_at": "2024-02-01T10:00:00", "partner_id": "p1", "action": "a"}\n'
        b"{oops\n"
        b"\n"
        b'{"occurred_at": "2024-02-01T11:00:00", "partner_id": "p1", "action": "a",'
        b' "page": "x"}\n'
        b'{"occurred_at": "2024-02-01T10:00:00", "partner_id": "p1", "action": "a"}\n'
    )

    chunked, whole, chunked_rows, whole_rows = import_both(
        tmp_path, "events", "events.jsonl", content
    )

    # 5 rows read: 4 events inserted (three identical ones are separate
    # occurrences) and the line that is not JSON rejected.
    assert chunked.inserted == 4
    assert [p.line for p in chunked.problems] == [3]
    assert_same(chunked, whole, chunked_rows, whole_rows)


def test_late_chunk_failure_stores_nothing(
    tmp_path: Path, workspace, database: Database
) -> None:
    # About 6 MiB of ASCII rows, a UTF-8 row that decides the encoding, 6 MiB more
    # and a CP932 row that is no UTF-8: the error comes after many chunks of 1,000
    # rows were staged.
    path = tmp_path / "events.csv"
    row = "2024-02-01T10:00:00,p1,viewed,{:06d},/docs/a-long-page-name-to-fill-space\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("occurred_at,partner_id,action,event_id,page\n")
        for number in range(100_000):
            handle.write(row.format(number))
        handle.write("2024-02-01T10:00:00,p1,viewed,utf8,/docs/製品紹介\n")
        for number in range(100_000, 200_000):
            handle.write(row.format(number))
    with path.open("ab") as handle:
        handle.write("2024-02-01T10:00:00,p1,viewed,bad,/docs/髙橋\n".encode("cp932"))

    with pytest.raises(InputError, match="not valid utf-8"):
        import_file(database, workspace, "events", path, chunk_rows=1_000)

    stored = database.query("SELECT count(*) AS n FROM events")["n"].iat[0]
    batches = database.query("SELECT count(*) AS n FROM import_batches")["n"].iat[0]
    staged = list(database.path.parent.glob(".*.import-*"))
    assert stored == 0
    assert batches == 0
    assert staged == []


def test_failure_while_storing_stores_nothing(
    tmp_path: Path, workspace, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.csv"
    rows = [f"2024-02-01T{hour:02d}:00:00,p1,viewed" for hour in range(9)]
    path.write_text("occurred_at,partner_id,action\n" + "\n".join(rows) + "\n")

    def failing_batch(*arguments: object) -> None:
        raise InputError("Planted failure after the rows were stored.")

    monkeypatch.setattr(streaming, "_store_batch", failing_batch)

    with pytest.raises(InputError, match="Planted failure"):
        import_file(database, workspace, "events", path, chunk_rows=3)

    stored = database.query("SELECT count(*) AS n FROM events")["n"].iat[0]
    assert stored == 0


def test_streamable_formats(tmp_path: Path) -> None:
    array = tmp_path / "array.json"
    array.write_text('  [{"a": 1}]')
    lines = tmp_path / "lines.json"
    lines.write_text('{"a": 1}\n')
    small = tmp_path / "small.csv"
    small.write_text("a,b\n1,2\n")

    assert not is_streamable(array)
    assert is_streamable(lines)
    assert not is_streamable(tmp_path / "book.xlsx")
    assert not should_stream(small, None)
    assert should_stream(small, 3)


def test_cp932_after_ascii_first_mib(
    tmp_path: Path, workspace, database: Database
) -> None:
    # 30,000 ASCII rows of 38 bytes (1,140,000 bytes) fill the first MiB; the CP932
    # row after them decides the encoding.
    path = tmp_path / "events.csv"
    rows = b"2024-02-01T10:00:00,p1,viewed,abcdefg\n" * 30_000
    path.write_bytes(
        b"occurred_at,partner_id,action,page\n"
        + rows
        + "2024-02-01T11:00:00,東京商事,閲覧,x\n".encode("cp932")
    )

    result = import_file(database, workspace, "events", path, chunk_rows=100_000)
    last = database.query("SELECT action FROM events WHERE partner_id = '東京商事'")

    assert result.encoding == "cp932"
    assert result.inserted == 30_001
    assert last["action"].tolist() == ["閲覧"]


def test_users_repeated_key(tmp_path: Path) -> None:
    # u1 from 2024-01-01 on line 2 comes again with another partner on line 6, in
    # the second chunk, so line 6 is rejected and names line 2.
    content = (
        b"user_id,partner_id,valid_from\n"
        b"u1,p1,2024-01-01\n"
        b"u2,p1,2024-01-01\n"
        b"u1,p2,2024-03-01\n"
        b"u3,p2,\n"
        b"u1,p9,2024-01-01\n"
        b"u4,,2024-01-01\n"
    )

    chunked, whole, chunked_rows, whole_rows = import_both(
        tmp_path, "users", "users.csv", content
    )

    # 6 rows: 4 inserted, u1 again and u4 without a partner rejected.
    assert chunked.inserted == 4
    assert chunked.duplicates == 0
    assert [p.line for p in chunked.problems] == [6, 7]
    assert "line 2 " in chunked.problems[0].reason
    assert_same(chunked, whole, chunked_rows, whole_rows)


def test_japanese_errors_in_chunks(tmp_path: Path) -> None:
    workspace = create_workspace(tmp_path / "ws", timezone="Asia/Tokyo", locale="ja")
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("occurred_at,action,action\n2024-02-01,a,b\n")
    late = tmp_path / "late.csv"
    # A UTF-8 row decides the encoding; 6 MiB later, a CP932 row is no UTF-8.
    late.write_bytes(
        "occurred_at,partner_id,action\n2024-02-01T10:00:00,東京,viewed\n".encode()
        + b"2024-02-01T10:00:00,p1,viewed\n" * 220_000
        + "2024-02-01T10:00:00,髙橋,viewed\n".encode("cp932")
    )
    db = Database(workspace.database_path)

    with pytest.raises(SchemaError) as header_error:
        import_file(db, workspace, "events", repeated, chunk_rows=2)
    with pytest.raises(InputError) as bytes_error:
        import_file(db, workspace, "events", late, chunk_rows=50_000)
    db.close()

    assert "が見出しに 2 回出てきます" in str(header_error.value)
    assert "'action'" in str(header_error.value)
    assert "判定した文字コード utf-8 として正しくありません" in str(bytes_error.value)
    assert "late.csv" in str(bytes_error.value)


def test_cp932_after_ascii_start(tmp_path: Path) -> None:
    # Over 1 MiB of ASCII rows, then CP932 rows with 髙橋 and a yen amount: the
    # encoding is decided at the first block that is not ASCII.
    path = tmp_path / "deals.csv"
    rows = [f"d{n},p1,2024-04-01,open,100" for n in range(60_000)]
    rows.append('dx,髙橋,2024-04-02,won,"\\1,234,567"')
    path.write_bytes(
        (
            "deal_id,partner_id,created_at,status,amount\n" + "\n".join(rows) + "\n"
        ).encode("cp932")
    )
    workspace = create_workspace(tmp_path / "ws", timezone="Asia/Tokyo")
    db = Database(workspace.database_path)

    result = import_file(db, workspace, "deals", path, chunk_rows=20_000)
    last = db.query("SELECT partner_id, amount FROM deals WHERE deal_id = 'dx'")
    db.close()

    assert result.encoding == "cp932"
    assert result.inserted == 60_001
    assert last["partner_id"].tolist() == ["髙橋"]
    assert last["amount"].tolist() == [1_234_567.0]


@pytest.mark.parametrize("chunk_rows", [10, None])
def test_stale_stage_folder_removed(
    tmp_path: Path, workspace, database: Database, chunk_rows: int | None
) -> None:
    # A folder as a killed import leaves it, with a staged Parquet file. The next
    # import removes it, read in chunks or whole.
    stale = database.path.parent / f".{database.path.stem}.import-killed"
    stale.mkdir()
    (stale / "rows-000000.parquet").write_bytes(b"PAR1")
    path = tmp_path / "events.csv"
    path.write_text("occurred_at,partner_id,action\n2024-02-01T10:00:00,p1,viewed\n")

    result = import_file(database, workspace, "events", path, chunk_rows=chunk_rows)

    assert result.inserted == 1
    assert not stale.exists()


def test_totals_row_at_chunk_end(tmp_path: Path) -> None:
    # Three deals, then a totals row with an amount and a copyright line: with
    # chunks of 4 rows, the totals row is the last of the first chunk.
    content = (
        b"deal_id,partner_id,created_at,status,amount\n"
        b"D1,P1,2024-04-01,won,1000\n"
        b"D2,P1,2024-04-02,open,2000\n"
        b"D3,P1,2024-04-03,lost,500\n"
        b'"Grand Totals (3 records)","","","","3,500"\n'
        b'"Copyright (c) 2000-2024 salesforce.com, inc."\n'
    )
    path = tmp_path / "deals.csv"
    path.write_bytes(content)
    workspace = create_workspace(tmp_path / "ws", timezone="Asia/Tokyo")
    db = Database(workspace.database_path)

    result = import_file(db, workspace, "deals", path, chunk_rows=4)
    db.close()

    assert result.read == 3
    assert result.inserted == 3
    assert result.footer == 2
