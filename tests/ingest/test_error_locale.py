"""File-level import errors in Japanese keep the file, line, field and value."""

from __future__ import annotations

import pytest

from partnerlift.errors import ConfigError, InputError, NotFoundError, SchemaError
from partnerlift.ingest.batches import rejected_rows
from partnerlift.ingest.mapping import apply_mapping, load_mapping
from partnerlift.ingest.readers import read_source


def test_repeated_column_problem_japanese(tmp_path):
    path = tmp_path / "partners.csv"
    path.write_text("partner_id,name,name\np1,A,B\n", encoding="utf-8")

    with pytest.raises(SchemaError) as raised:
        read_source(path, locale="ja")
    problem = raised.value.problems[0]

    assert "列名 'name' が見出しに 2 回出てきます" in str(raised.value)
    assert problem.file == str(path)
    assert problem.line == 1
    assert problem.field == "name"
    assert problem.value == "name"
    assert problem.reason == "列名が重複しています。"


def test_mixed_encodings_japanese(tmp_path):
    path = tmp_path / "partners.csv"
    # Line 2 is CP932 and line 3 is UTF-8, as after pasting into an Excel export.
    path.write_bytes(
        b"partner_id,name\n" + "p1,東京\n".encode("cp932") + "p2,大阪\n".encode()
    )

    with pytest.raises(InputError) as raised:
        read_source(path, locale="ja")

    assert f"{path} には複数の文字コードが混在しています" in str(raised.value)
    assert "3 行目は UTF-8 ですが、2 行目は UTF-8 ではありません" in str(raised.value)


def test_no_header_japanese(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")

    with pytest.raises(SchemaError, match="見出し行がありません"):
        read_source(path, locale="ja")


def test_missing_file_default_english(tmp_path):
    path = tmp_path / "none.csv"

    with pytest.raises(NotFoundError, match="File not found"):
        read_source(path)


def test_mapping_other_table_japanese(tmp_path):
    mapping = tmp_path / "deals.yaml"
    mapping.write_text("table: deals\n", encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_mapping(mapping, "events", locale="ja")
    problem = raised.value.problems[0]

    assert f"マッピングファイル {mapping} が不正です" in str(raised.value)
    assert problem.line == 1
    assert problem.value == "deals"
    assert "このマッピングは events ではなく deals 用です" in problem.reason


def test_mapping_missing_column_japanese(tmp_path):
    mapping = tmp_path / "crm.yaml"
    mapping.write_text("columns:\n  partner_id: Account\n", encoding="utf-8")
    path = tmp_path / "partners.csv"
    path.write_text("partner_id,name\np1,A\n", encoding="utf-8")
    source = read_source(path, locale="ja")

    with pytest.raises(SchemaError) as raised:
        apply_mapping(load_mapping(mapping, "partners"), source, "partners")
    problem = raised.value.problems[0]

    assert f"{path} にない列が書かれています" in str(raised.value)
    assert problem.line == 2
    assert problem.value == "Account"
    assert problem.reason.startswith(f"列 'Account' が {path} にありません")


def test_unknown_profile_japanese():
    with pytest.raises(NotFoundError, match="マッピング 'nope' が見つかりません"):
        load_mapping("nope", "deals", locale="ja")


def test_unknown_batch_japanese(database):
    with pytest.raises(NotFoundError, match="インポートバッチ 'nope' が見つかりません"):
        rejected_rows(database, "nope", locale="ja")
