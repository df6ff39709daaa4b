from __future__ import annotations

import pytest

from partnerlift.errors import InputError
from partnerlift.ingest import detect_encoding, import_file, read_source

PARTNERS_JA = "partner_id,name,region\np1,株式会社山田商事,関東\np2,ソフト販売,関西\n"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        pytest.param("utf-8", "utf-8", id="utf8"),
        pytest.param("utf-8-sig", "utf-8-sig", id="utf8-bom"),
        pytest.param("cp932", "cp932", id="cp932"),
    ],
)
def test_japanese_names_import_in_each_encoding(
    database, workspace, tmp_path, encoding, expected
):
    path = tmp_path / "partners.csv"
    path.write_bytes(PARTNERS_JA.encode(encoding))

    result = import_file(database, workspace, "partners", path)
    rows = database.query("SELECT partner_id, name, region FROM partners ORDER BY 1")
    batch = database.query("SELECT encoding FROM import_batches").iloc[0]

    assert result.encoding == expected
    assert batch["encoding"] == expected
    assert rows["name"].tolist() == ["株式会社山田商事", "ソフト販売"]
    assert rows["region"].tolist() == ["関東", "関西"]


def test_bom_is_not_part_of_first_column(tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes(PARTNERS_JA.encode("utf-8-sig"))

    source = read_source(path)

    assert source.columns[0] == "partner_id"


def test_ascii_detected_as_ascii():
    assert detect_encoding(b"partner_id\np1\n") == "ascii"


def test_quoted_line_breaks_keep_line_numbers(database, workspace, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,partner_id,created_at,status,stage\n"
        'd1,p1,2024-04-01,won,"first\nsecond\nthird"\n'
        "d2,p1,2024-04-01,maybe,x\n",
        encoding="utf-8",
    )

    result = import_file(database, workspace, "deals", path)

    # d1 spans lines 2 to 4, so d2 starts on line 5.
    assert result.problems[0].line == 5
    assert result.problems[0].value == "maybe"


def test_crlf_line_numbers(tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes(b"partner_id,name\r\np1,a\r\n\r\np2,b\r\n")

    source = read_source(path)

    # The blank line 3 is skipped and not counted as a row.
    assert source.lines.tolist() == [2, 4]
    assert source.read == 2


def test_short_row_is_rejected(database, workspace, tmp_path):
    path = tmp_path / "partners.csv"
    path.write_text("partner_id,name\np1,a\np2\np3,c\n", encoding="utf-8")

    result = import_file(database, workspace, "partners", path)

    assert result.inserted == 2
    assert result.rejected == 1
    assert result.problems[0].line == 3


def test_invalid_json_line_is_rejected(database, workspace, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"occurred_at": "2024-04-01", "partner_id": "p1", "action": "viewed"}\n'
        '{"occurred_at": "2024-04-02", "partner_id": \n'
        "\n"
        '["not", "an", "object"]\n'
        '{"occurred_at": "2024-04-03", "partner_id": "p1", "action": "viewed"}\n',
        encoding="utf-8",
    )

    result = import_file(database, workspace, "events", path)

    assert result.read == 4
    assert result.inserted == 2
    assert [problem.line for problem in result.problems] == [2, 4]
    assert "Invalid JSON" in result.problems[0].reason


def test_json_numbers_and_objects_become_text(database, workspace, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"occurred_at": "2024-04-01", "partner_id": 7, "action": "viewed", '
        '"quantity": 3, "progress": 0.5, "extra": {"a": 1}}\n',
        encoding="utf-8",
    )

    import_file(database, workspace, "events", path)
    row = database.query(
        "SELECT partner_id, quantity, properties['progress'] AS progress, "
        "properties['extra'] AS extra FROM events"
    ).iloc[0]

    assert row["partner_id"] == "7"
    assert row["quantity"] == 3.0
    assert row["progress"] == "0.5"
    assert row["extra"] == '{"a": 1}'


def test_parquet_imports(database, workspace, tmp_path):
    import pandas as pd

    path = tmp_path / "partners.parquet"
    pd.DataFrame({"partner_id": ["p1", "p2"], "size": [10, 20]}).to_parquet(path)

    result = import_file(database, workspace, "partners", path)
    sizes = database.query("SELECT size FROM partners ORDER BY partner_id")["size"]

    assert result.inserted == 2
    assert sizes.tolist() == ["10", "20"]


def test_mixed_encodings_are_an_error(tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes(
        b"partner_id,name\n" + "M1,日本\n".encode() + "M2,髙橋商事\n".encode("cp932")
    )

    with pytest.raises(InputError, match="line 2 is UTF-8 but line 3 is not"):
        read_source(path)
