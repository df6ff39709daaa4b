"""Golden files: hand-made events and the points worked out by hand beside them.

Every case runs on DuckDB and on PySpark in local mode, against the same expected
points.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.scoring.golden import GoldenCase, fill_database, golden_cases, load_rules

from partnerlift.scoring import evaluate_rules
from partnerlift.scoring.engines import SparkTables
from partnerlift.store import Database

CASES = golden_cases()


def expected_points(
    case: GoldenCase, rule_ids: list[str]
) -> dict[tuple[str, str], float]:
    """Spread the expected points over (partner, rule); a bare number is one rule's."""
    points = {}
    for partner_id, value in case.expected.items():
        if isinstance(value, dict):
            for rule_id, rule_points in value.items():
                points[(partner_id, rule_id)] = float(rule_points)
        else:
            (rule_id,) = rule_ids
            points[(partner_id, rule_id)] = float(value)
    return points


ENGINES = ["duckdb", pytest.param("pyspark", marks=pytest.mark.spark)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden_points(
    case: GoldenCase, engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rules = load_rules(case.data)
    rule_ids = [rule.id for rule in rules]
    expected = expected_points(case, rule_ids)
    with Database(tmp_path / "golden.duckdb") as db:
        fill_database(db, case.data, case.zone)
        tables: Any = db
        if engine == "pyspark":
            tables = SparkTables(db, request.getfixturevalue("spark"))

        frame = evaluate_rules(
            tables,
            rules,
            zone=ZoneInfo(case.zone),
            as_of=case.as_of,
            half_life_days=case.data.get("half_life_days"),
        )

    actual = {
        (row.partner_id, row.rule_id): float(row.points)
        for row in frame.itertuples(index=False)
    }
    for key, points in expected.items():
        assert actual.get(key, 0.0) == pytest.approx(points, abs=1e-6), key
    unexpected = {key: value for key, value in actual.items() if key not in expected}
    assert unexpected == {}
