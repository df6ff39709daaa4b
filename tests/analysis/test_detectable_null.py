"""When ``detectable_effect`` is null: empty arm, no events, unfitted revenue."""

from __future__ import annotations

from datetime import date

import pandas as pd

from partnerlift.analysis import Study
from partnerlift.analysis.cohorts import Cohort
from partnerlift.analysis.findings import compare
from partnerlift.scoring import Rule

RULE = Rule.model_validate({"id": "video", "match": {"action": "completed"}})


def _study(outcome: str) -> Study:
    return Study.model_validate(
        {
            "study": "detectable",
            "behaviors": [RULE.model_dump()],
            "exposure": {"start": "joined_at", "days": 30},
            "horizon_days": 60,
            "outcomes": [outcome],
        }
    )


def _cohort(groups: list[tuple[bool, int, int]]) -> Cohort:
    """A cohort from (did the behaviour, partners, partners with a deal) groups.

    A partner with a deal created it on day 10 of the outcome window.
    """
    rows = []
    for done, total, with_deal in groups:
        for index in range(total):
            has_deal = index < with_deal
            rows.append(
                {
                    "partner_id": f"{done}-{index}",
                    "video": done,
                    "deals_created": 1 if has_deal else 0,
                    "deals_closed": 0,
                    "deals_won": 0,
                    "first_deal_days": 10.0 if has_deal else None,
                }
            )
    return Cohort(pd.DataFrame(rows), date(2024, 6, 30), 0, 0)


def test_rate_empty_arm_is_null() -> None:
    # Every partner did the behaviour, so the arm without it is empty.
    cohort = _cohort([(True, 40, 10)])

    finding = compare(
        cohort, RULE, "opportunity_rate", _study("opportunity_rate"), "en"
    )

    assert finding.n_without == 0
    assert finding.detectable_effect is None


def test_rate_without_events_is_null() -> None:
    # 0 of 40 partners created a deal: no baseline rate to compare against.
    cohort = _cohort([(True, 20, 0), (False, 20, 0)])

    finding = compare(
        cohort, RULE, "opportunity_rate", _study("opportunity_rate"), "en"
    )

    assert finding.detectable_effect is None


def test_rate_with_both_arms_is_given() -> None:
    # 5 of 20 in each arm: a baseline of 0.25 and two non-empty arms.
    cohort = _cohort([(True, 20, 5), (False, 20, 5)])

    finding = compare(
        cohort, RULE, "opportunity_rate", _study("opportunity_rate"), "en"
    )

    assert finding.detectable_effect is not None
    assert finding.detectable_effect > 1


def test_lead_time_empty_arm_is_null() -> None:
    cohort = _cohort([(False, 40, 20)])

    finding = compare(cohort, RULE, "lead_time", _study("lead_time"), "en")

    assert finding.n_with == 0
    assert finding.detectable_effect is None


def test_revenue_insufficient_is_null() -> None:
    # 19 partners with the behaviour, one below the 20 a group needs: the ratio of
    # means is not fitted, and its standard error gives the detectable ratio.
    rows = [
        {
            "partner_id": f"{done}-{index}",
            "video": done,
            "revenue": 1000.0 * (index % 4),
            "observed_days": 365.0,
        }
        for done, total in ((True, 19), (False, 20))
        for index in range(total)
    ]
    cohort = Cohort(pd.DataFrame(rows), date(2024, 6, 30), 0, 0)

    finding = compare(cohort, RULE, "revenue", _study("revenue"), "en")

    assert finding.status == "insufficient_data"
    assert finding.detectable_effect is None
