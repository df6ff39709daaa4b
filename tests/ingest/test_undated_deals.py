"""The warning on won or lost deals without closed_at names them in the
workspace's language."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from partnerlift.ingest import import_file
from partnerlift.ingest.convert import Rejections
from partnerlift.ingest.mapping import MappedRows
from partnerlift.ingest.tables import convert_fields
from partnerlift.settings import Workspace, create_workspace
from partnerlift.store import Database

# D1 and D3 are closed without a date. D2 has its date and D4 is open, so neither
# is named.
DEALS = (
    "deal_id,partner_id,created_at,status,closed_at\n"
    "D1,P1,2024-04-01,won,\n"
    "D2,P1,2024-04-01,lost,2024-05-01\n"
    "D3,P2,2024-04-02,lost,\n"
    "D4,P2,2024-04-02,open,\n"
)

# Seven undated deals: the warning names the first five and counts the other two.
MANY_DEALS = "deal_id,partner_id,created_at,status\n" + "".join(
    f"M{number},P1,2024-04-01,won\n" for number in range(1, 8)
)


@pytest.fixture
def ja_workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in Asia/Tokyo with Japanese texts."""
    return create_workspace(tmp_path / "ja", timezone="Asia/Tokyo", locale="ja")


def import_warnings(
    workspace: Workspace, path: Path, caplog: pytest.LogCaptureFixture
) -> list[str]:
    caplog.set_level(logging.WARNING, logger="partnerlift.ingest.tables")
    with Database(workspace.database_path) as db:
        import_file(db, workspace, "deals", path)
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "partnerlift.ingest.tables"
    ]


def test_undated_warning_japanese(ja_workspace, tmp_path, caplog):
    path = tmp_path / "deals.csv"
    path.write_text(DEALS, encoding="utf-8")

    warnings = import_warnings(ja_workspace, path, caplog)

    assert len(warnings) == 1
    assert "受注または失注の商談 2 件に closed_at がない" in warnings[0]
    assert "'D1'（2 行目）、'D3'（4 行目）" in warnings[0]
    assert "'D2'" not in warnings[0]
    assert "'D4'" not in warnings[0]


def test_undated_warning_english(workspace, tmp_path, caplog):
    path = tmp_path / "deals.csv"
    path.write_text(DEALS, encoding="utf-8")

    warnings = import_warnings(workspace, path, caplog)

    assert len(warnings) == 1
    assert "2 won or lost deals have no closed_at" in warnings[0]
    assert "'D1' (line 2), 'D3' (line 4)" in warnings[0]


def test_undated_warning_counts_rest(workspace, tmp_path, caplog):
    path = tmp_path / "many.csv"
    path.write_text(MANY_DEALS, encoding="utf-8")

    warnings = import_warnings(workspace, path, caplog)

    assert len(warnings) == 1
    assert "7 won or lost deals" in warnings[0]
    assert "'M5' (line 6), and 2 more" in warnings[0]
    assert "'M6'" not in warnings[0]


def test_dated_deals_no_warning(workspace, tmp_path, caplog):
    path = tmp_path / "dated.csv"
    path.write_text(
        "deal_id,partner_id,created_at,status,closed_at\n"
        "D1,P1,2024-04-01,won,2024-05-01\n",
        encoding="utf-8",
    )

    warnings = import_warnings(workspace, path, caplog)

    assert warnings == []


def test_undated_warning_names_lines(caplog):
    # Rows as a CSV file with a header would give them: lines 2 and 3.
    fields = pd.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "partner_id": ["P1", "P1"],
            "created_at": ["2024-04-01", "2024-04-01"],
            "status": ["won", "lost"],
        },
        dtype=object,
    )
    mapped = MappedRows(fields, {}, np.ones(2, dtype=bool), [])
    caplog.set_level(logging.WARNING, logger="partnerlift.ingest.tables")

    convert_fields(
        "deals",
        mapped,
        pd.DataFrame(index=fields.index),
        zone=ZoneInfo("Asia/Tokyo"),
        base_date=date(2024, 1, 1),
        rejections=Rejections(2),
        locale="ja",
        lines=np.array([2, 3]),
    )
    messages = [record.getMessage() for record in caplog.records]

    assert len(messages) == 1
    assert "'D1'（2 行目）、'D2'（3 行目）" in messages[0]
