"""Golden files: hand-made events and the points worked out by hand beside them."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.scoring.golden import GoldenCase, fill_database, golden_cases, load_rules

from partnerlift.scoring import evaluate_rules
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


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_golden_points(case: GoldenCase, tmp_path: Path) -> None:
    rules = load_rules(case.data)
    rule_ids = [rule.id for rule in rules]
    expected = expected_points(case, rule_ids)
    with Database(tmp_path / "golden.duckdb") as db:
        fill_database(db, case.data, case.zone)

        frame = evaluate_rules(db, rules, zone=ZoneInfo(case.zone), as_of=case.as_of)

    actual = {
        (row.partner_id, row.rule_id): float(row.points)
        for row in frame.itertuples(index=False)
    }
    for key, points in expected.items():
        assert actual.get(key, 0.0) == points, key
    unexpected = {key: value for key, value in actual.items() if key not in expected}
    assert unexpected == {}
