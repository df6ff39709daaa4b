"""Covariates are read as each partner's exposure window opened."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from partnerlift.analysis.cohorts import covariates_as_of
from partnerlift.ingest import import_file

JANUARY = "partner_id,tier,size\np1,bronze,small\np2,silver,medium\n"
JUNE = "partner_id,tier,size\np1,gold,large\np2,silver,medium\np3,gold,small\n"


def cohort_starts(*rows: tuple[str, datetime]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["partner_id", "exposure_start"])
    frame["tier"] = "stored"
    frame["size"] = "stored"
    frame["region"] = None
    frame["segment"] = None
    return frame


def test_tier_read_as_of_window_start(database, workspace, tmp_path):
    january = tmp_path / "january.csv"
    june = tmp_path / "june.csv"
    january.write_text(JANUARY, encoding="utf-8")
    june.write_text(JUNE, encoding="utf-8")
    import_file(
        database, workspace, "partners", january, observed_at=datetime(2024, 1, 1)
    )
    import_file(database, workspace, "partners", june, observed_at=datetime(2024, 6, 1))
    frame = cohort_starts(
        ("p1", datetime(2024, 3, 1)),
        ("p9", datetime(2024, 3, 1)),
        ("p2", datetime(2024, 7, 1)),
        ("p3", datetime(2024, 3, 1)),
    )

    result = covariates_as_of(database, frame).set_index("partner_id")

    # p1 was bronze and small from January until the June export made it gold.
    assert result.loc["p1", "tier"] == "bronze"
    assert result.loc["p1", "size"] == "small"
    assert result.loc["p2", "tier"] == "silver"
    # p3 was first seen in June, after its window opened, so nothing earlier is
    # known and its stored values stay; p9 was never imported.
    assert result.loc["p3", "tier"] == "stored"
    assert result.loc["p9", "tier"] == "stored"


def test_partner_update_keeps_history(database, workspace, tmp_path):
    january = tmp_path / "january.csv"
    june = tmp_path / "june.csv"
    january.write_text(JANUARY, encoding="utf-8")
    june.write_text(JUNE, encoding="utf-8")
    import_file(
        database, workspace, "partners", january, observed_at=datetime(2024, 1, 1)
    )

    result = import_file(
        database, workspace, "partners", june, observed_at=datetime(2024, 6, 1)
    )
    history = database.query(
        "SELECT partner_id, change, tier FROM partner_history ORDER BY observed_at, "
        "partner_id"
    )

    assert result.updated == 1
    assert result.duplicates == 1
    assert result.inserted == 1
    assert history.values.tolist() == [
        ["p1", "inserted", "bronze"],
        ["p2", "inserted", "silver"],
        ["p1", "updated", "gold"],
        ["p3", "inserted", "gold"],
    ]
