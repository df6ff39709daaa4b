"""The reasons of the mapping file's own checks, in English and Japanese."""

from __future__ import annotations

from pathlib import Path

import pytest

from partnerlift.errors import ConfigError
from partnerlift.ingest.mapping import load_mapping

# Line 2 names both a column and a constant, and line 7 a number locale that
# does not exist.
BOTH_SOURCES = (
    "columns:\n"
    "  status:\n"
    "    column: Stage\n"
    "    constant: won\n"
    "  amount:\n"
    "    column: Amount\n"
    "    number: {locale: xx}\n"
)

BOTH_DATE_FORMS = (
    "base_date: 2024-01-01\n"
    "columns:\n"
    "  created_at:\n"
    "    column: Day\n"
    "    day_offset: true\n"
    "    date_format: '%Y/%m/%d'\n"
)


def reasons(path: Path, locale: str) -> dict[int | None, str]:
    with pytest.raises(ConfigError) as caught:
        load_mapping(path, "deals", locale=locale)
    return {problem.line: problem.reason for problem in caught.value.problems}


def test_one_source_japanese(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(BOTH_SOURCES, encoding="utf-8")

    found = reasons(path, "ja")

    assert found[2] == "'column' と 'constant' のどちらか一方だけを書いてください。"


def test_one_source_english(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(BOTH_SOURCES, encoding="utf-8")

    found = reasons(path, "en")

    assert found[2] == "Give exactly one of 'column' or 'constant'."


def test_unknown_locale_japanese(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(BOTH_SOURCES, encoding="utf-8")

    found = reasons(path, "ja")

    assert found[7].startswith("数値のロケール 'xx' は使えません。")
    assert "de_CH" in found[7]
    assert "Value error" not in found[7]


def test_offset_and_format_english(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(BOTH_DATE_FORMS, encoding="utf-8")

    found = reasons(path, "en")

    assert found[3] == "Give either 'day_offset' or 'date_format', not both."


def test_strict_and_otherwise_japanese(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text(
        "columns:\n"
        "  status:\n"
        "    column: Stage\n"
        "    values: {Closed Won: won}\n"
        "    strict: true\n"
        "    otherwise: open\n",
        encoding="utf-8",
    )

    found = reasons(path, "ja")

    assert found[2] == "'strict' と 'otherwise' はどちらか一方だけを書いてください。"
