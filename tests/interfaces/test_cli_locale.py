"""Import errors and summaries follow the workspace's language, ja or en."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.settings import Workspace, create_workspace

DEALS = (
    "deal_id,partner_id,created_at,status\n"
    "d1,p1,2024-04-01,won\n"
    "d2,p1,2024-04-01,pending\n"
)

# Bytes 0x80-0xFF repeated: neither UTF-8, UTF-16 nor CP932, and charset-normalizer
# finds no encoding for them.
UNREADABLE = bytes(range(0x80, 0x100)) * 4


@pytest.fixture
def ja_workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in Asia/Tokyo with Japanese texts."""
    return create_workspace(tmp_path / "ja", timezone="Asia/Tokyo", locale="ja")


def import_deals(workspace: Workspace, path: Path, *options: str):
    arguments = ["--workspace", str(workspace.root), "import", "deals", str(path)]
    return CliRunner().invoke(app, [*arguments, *options])


def test_duplicate_header_japanese(ja_workspace, tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("deal_id,partner_id,deal_id\nd1,p1,d2\n", encoding="utf-8")

    result = import_deals(ja_workspace, path)

    assert result.exit_code == 1
    assert "エラー:" in result.stderr
    assert "列名 'deal_id' が見出しに 2 回出てきます" in result.stderr
    assert "twice.csv" in result.stderr
    assert "列名が重複しています。（値 'deal_id'）" in result.stderr


def test_missing_column_japanese(ja_workspace, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("deal_id\nd1\n", encoding="utf-8")

    result = import_deals(ja_workspace, path)

    assert result.exit_code == 1
    assert "deals に必須の列 'partner_id' がありません" in result.stderr
    assert "short.csv" in result.stderr
    assert "1 行目、項目 'created_at': 必須の列がありません" in result.stderr


def test_missing_file_japanese(ja_workspace, tmp_path):
    path = tmp_path / "none.csv"

    result = import_deals(ja_workspace, path)

    assert result.exit_code == 1
    assert f"ファイル {str(path)!r} が見つかりません" in result.stderr


def test_unreadable_encoding_japanese(ja_workspace, tmp_path):
    path = tmp_path / "garbled.csv"
    path.write_bytes(UNREADABLE)

    result = import_deals(ja_workspace, path)

    assert result.exit_code == 1
    assert f"{path}: 文字コードを判定できません" in result.stderr


def test_summary_labels_japanese(ja_workspace, tmp_path, monkeypatch):
    # A short relative path keeps the table title on one line.
    monkeypatch.chdir(tmp_path)
    Path("d.csv").write_text(DEALS, encoding="utf-8")

    result = import_deals(ja_workspace, Path("d.csv"))

    assert result.exit_code == 0
    assert "d.csv から deals へのインポート" in result.stdout
    assert "件数" in result.stdout
    assert "読み込み" in result.stdout
    assert "除外" in result.stdout
    assert "inserted" not in result.stdout
    assert "取り込めなかった行: 1 件" in result.stderr
    assert "3 行目、項目 'status'" in result.stderr


def test_duplicate_header_english(workspace, tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("deal_id,partner_id,deal_id\nd1,p1,d2\n", encoding="utf-8")

    result = import_deals(workspace, path)

    assert result.exit_code == 1
    assert "Error:" in result.stderr
    assert "the column 'deal_id' appears twice in the header" in result.stderr
    assert "line 1, field 'deal_id': The column name is repeated." in result.stderr


def test_missing_column_english(workspace, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("deal_id\nd1\n", encoding="utf-8")

    result = import_deals(workspace, path)

    assert result.exit_code == 1
    assert f"{path}: missing required column 'partner_id' for deals" in result.stderr


def test_missing_file_english(workspace, tmp_path):
    path = tmp_path / "none.csv"

    result = import_deals(workspace, path)

    assert result.exit_code == 1
    assert f"File not found: {str(path)!r}. Check the path." in result.stderr


def test_unreadable_encoding_english(workspace, tmp_path):
    path = tmp_path / "garbled.csv"
    path.write_bytes(UNREADABLE)

    result = import_deals(workspace, path)

    assert result.exit_code == 1
    assert f"{path}: could not detect the text encoding" in result.stderr


def test_summary_labels_english(workspace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("d.csv").write_text(DEALS, encoding="utf-8")

    result = import_deals(workspace, Path("d.csv"))

    assert result.exit_code == 0
    assert "Import of deals from d.csv" in result.stdout
    assert "inserted" in result.stdout
    assert "読み込み" not in result.stdout
    assert "1 rejected rows:" in result.stderr


def test_unknown_batch_japanese(ja_workspace):
    arguments = ["--workspace", str(ja_workspace.root), "imports", "show", "nope"]

    result = CliRunner().invoke(app, arguments)

    assert result.exit_code == 1
    assert "インポートバッチ 'nope' が見つかりません" in result.stderr


def test_init_follows_locale_option(tmp_path):
    folder = str(tmp_path / "new")

    result = CliRunner().invoke(app, ["init", folder, "--locale", "ja"])

    assert result.exit_code == 0
    assert f"ワークスペースを用意しました: {folder}" in result.stderr


def test_init_without_locale_english(tmp_path):
    folder = str(tmp_path / "new")

    result = CliRunner().invoke(app, ["init", folder, "--timezone", "Mars/Base"])

    assert result.exit_code == 1
    assert "Error:" in result.stderr
    assert "unknown time zone 'Mars/Base'" in result.stderr
