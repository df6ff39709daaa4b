from __future__ import annotations

from importlib import resources
from typing import Any

import pyarrow as pa
import pytest

from partnerlift.analysis import analyze, load_study
from partnerlift.scoring import load_model
from partnerlift.settings import Workspace
from partnerlift.store import Database

from .conftest import InsertRows

STUDY = """\
study: outcomes
behaviors:
  - onboarding_video
  - {rule: proposal_template, at_least: [1, 3]}
exposure: {start: joined_at, days: 30}
horizon_days: 60
outcomes: [opportunity_rate, win_rate, deal_win_rate, lead_time, revenue]
min_partners: 10
resamples: 100
as_of: 2024-06-30
"""


@pytest.fixture
def outcomes_workspace(workspace: Workspace, insert_rows: InsertRows) -> Workspace:
    """65 partners who joined on 2024-01-01 (Tokyo); exposure 30 days, so the
    outcome window runs from 2024-01-31 to the end of 2024-03-30.

    - P01-P30 completed the onboarding video on 2024-01-05. P01-P20 each created
      one deal at 10:00 on day i of the outcome window (2024-01-31 plus i days);
      P01-P12 won it (amount 1000), P13-P20 lost it, all closed on 2024-03-20.
      P01-P10 also downloaded the proposal template 3 times, P11-P20 once.
    - P31-P60 did not. P31-P40 each created one deal at 10:00 on day 20 + k
      (k = 1 to 10); P31-P35 won it (amount 500), P36-P40 lost it.
    - P61-P65 completed the video but had already created a deal on 2023-12-15,
      before their exposure window: they are left out of the opportunity rate and
      the lead time.
    """
    partners, events, deals = [], [], []

    def deal(number: int, day: int, status: str, amount: float | None) -> None:
        created = "2024-01-31T10:00:00"
        deals.append(
            {
                "deal_id": f"D{number:02d}",
                "partner_id": f"P{number:02d}",
                "created_at": _plus_days(created, day),
                "closed_at": "2024-03-20T10:00:00" if status != "open" else None,
                "status": status,
                "amount": amount,
            }
        )

    for number in range(1, 66):
        partner_id = f"P{number:02d}"
        partners.append(
            {"partner_id": partner_id, "tier": "gold", "joined_at": "2024-01-01"}
        )
        if number <= 30 or number > 60:
            events.append(_event(f"V{number:02d}", partner_id, "completed", "V1"))
        downloads = 0
        if number <= 10:
            downloads = 3
        elif number <= 20:
            downloads = 1
        for index in range(downloads):
            events.append(
                _event(f"T{number:02d}-{index}", partner_id, "downloaded", "T1")
            )
        if number <= 20:
            deal(number, number, "won" if number <= 12 else "lost", 1000.0)
        elif 31 <= number <= 40:
            deal(number, number - 10, "won" if number <= 35 else "lost", 500.0)
        elif number > 60:
            deals.append(
                {
                    "deal_id": f"D{number:02d}",
                    "partner_id": partner_id,
                    "created_at": "2023-12-15T10:00:00",
                    "closed_at": None,
                    "status": "open",
                    "amount": None,
                }
            )
    with Database(workspace.database_path) as db:
        db.insert_arrow(
            "assets",
            pa.table(
                {
                    "asset_id": ["V1", "T1"],
                    "kind": ["video", "template"],
                    "tags": pa.array([["onboarding"], []], type=pa.list_(pa.string())),
                }
            ),
        )
        insert_rows(db, "partners", partners)
        insert_rows(db, "events", events)
        insert_rows(db, "deals", deals)
    default_model = resources.files("partnerlift.scoring") / "default_model.yaml"
    workspace.score_model_path.write_bytes(default_model.read_bytes())
    (workspace.root / "outcomes_study.yaml").write_text(STUDY, encoding="utf-8")
    return workspace


def _plus_days(text: str, days: int) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(text) + timedelta(days=days)).isoformat()


def _event(event_id: str, partner_id: str, action: str, asset: str) -> dict:
    return {
        "event_id": event_id,
        "occurred_at": "2024-01-05T10:00:00",
        "partner_id": partner_id,
        "action": action,
        "asset_id": asset,
        "quantity": 1.0,
    }


@pytest.fixture
def outcome_findings(outcomes_workspace: Workspace) -> dict[str, Any]:
    study = load_study(outcomes_workspace.root / "outcomes_study.yaml")
    model = load_model(outcomes_workspace.score_model_path)
    with Database(outcomes_workspace.database_path) as db:
        return analyze(db, study, model=model, zone=outcomes_workspace.zone)


def _finding(result: dict[str, Any], behavior: str, outcome: str) -> dict[str, Any]:
    (finding,) = [
        item
        for item in result["findings"]
        if item["behavior"] == behavior and item["outcome"] == outcome
    ]
    return finding


def test_prior_deal_partners_left_out(outcome_findings: dict[str, Any]) -> None:
    finding = _finding(outcome_findings, "onboarding_video", "opportunity_rate")

    # 30 of the 35 video partners remain; 20 of them and 10 of 30 others dealt.
    assert finding["n_excluded_prior"] == 5
    assert (finding["events_with"], finding["n_with"]) == (20, 30)
    assert (finding["events_without"], finding["n_without"]) == (10, 30)
    assert finding["estimate"] == pytest.approx(2.0)


def test_rate_wilson_and_odds_ratio(outcome_findings: dict[str, Any]) -> None:
    """20/30 against 10/30: odds 2 against 0.5, odds ratio 4."""
    finding = _finding(outcome_findings, "onboarding_video", "opportunity_rate")

    assert finding["value_with_ci_low"] < 2 / 3 < finding["value_with_ci_high"]
    assert finding["odds_ratio"] == pytest.approx(4.0)
    assert finding["detectable_effect"] > 1


def test_threshold_groups(outcome_findings: dict[str, Any]) -> None:
    once = _finding(outcome_findings, "proposal_template>=1", "opportunity_rate")
    thrice = _finding(outcome_findings, "proposal_template>=3", "opportunity_rate")

    # P01-P20 downloaded at least once, P01-P10 three times; 60 partners compared.
    assert (once["n_with"], once["n_without"]) == (20, 40)
    assert (thrice["n_with"], thrice["n_without"]) == (10, 50)
    assert thrice["threshold"] == 3
    assert thrice["rule_id"] == "proposal_template"


def test_lead_time_restricted_means(outcome_findings: dict[str, Any]) -> None:
    """Every partner is followed the full 60 days, so each group's restricted mean
    is the mean of min(days to first deal, 60).
    With: (sum of i + 10/24 for i = 1..20) + 10 * 60 = 210 + 8.333333 + 600,
    over 30 = 27.277778. Without: (sum of 20 + k + 10/24 for k = 1..10)
    + 20 * 60 = 259.166667 + 1200, over 30 = 48.638889.
    """
    finding = _finding(outcome_findings, "onboarding_video", "lead_time")

    assert finding["status"] == "ok"
    assert finding["value_with"] == pytest.approx(27.277778, abs=1e-5)
    assert finding["value_without"] == pytest.approx(48.638889, abs=1e-5)
    assert finding["restricted_mean_difference"] == pytest.approx(-21.361111, abs=1e-5)
    assert finding["estimate"] < 1
    assert finding["measure"] == "time_ratio"


def test_lead_time_median_needs_both_curves(outcome_findings: dict[str, Any]) -> None:
    # 20 of 30 with the video had a deal by day 20, so their curve reaches one
    # half. Only 10 of 30 without it ever had one, so theirs never does.
    finding = _finding(outcome_findings, "onboarding_video", "lead_time")

    assert finding["median_with"] is None
    assert finding["median_without"] is None


def test_lead_time_curves_reported(outcome_findings: dict[str, Any]) -> None:
    (curve,) = [
        item
        for item in outcome_findings["curves"]
        if item["behavior"] == "onboarding_video"
    ]

    # The curve without the video ends at 20 of 30 partners without a deal.
    assert curve["without"]["survival"][-1] == pytest.approx(2 / 3)


def test_win_rate_counts(outcome_findings: dict[str, Any]) -> None:
    finding = _finding(outcome_findings, "onboarding_video", "win_rate")

    # 12 of 20 against 5 of 10 closed-deal partners: risk ratio 0.6 / 0.5 = 1.2.
    assert (finding["events_with"], finding["n_with"]) == (12, 20)
    assert (finding["events_without"], finding["n_without"]) == (5, 10)
    assert finding["estimate"] == pytest.approx(1.2)


def test_deal_win_rate_clusters(outcome_findings: dict[str, Any]) -> None:
    finding = _finding(outcome_findings, "onboarding_video", "deal_win_rate")

    assert finding["unit"] == "deal"
    assert (finding["clusters_with"], finding["clusters_without"]) == (20, 10)
    assert finding["estimate"] == pytest.approx(1.2)
    assert finding["test"] == "wald_clustered"


def test_revenue_ratio_of_means(outcome_findings: dict[str, Any]) -> None:
    """Revenue keeps all 35 video partners: 12 * 1000 over 35 partners against
    5 * 500 over 30, each for 60 days. Per partner per 365 days:
    12000 / (35 * 60) * 365 = 2085.714286 and 2500 / (30 * 60) * 365 = 506.944444;
    their ratio is 4.114286.
    """
    finding = _finding(outcome_findings, "onboarding_video", "revenue")

    assert finding["value_with"] == pytest.approx(2085.714286, abs=1e-4)
    assert finding["value_without"] == pytest.approx(506.944444, abs=1e-4)
    assert finding["estimate"] == pytest.approx(4.114286, abs=1e-5)
    assert finding["bootstrap_ci_low"] < finding["estimate"]
    assert finding["bootstrap_ci_high"] > finding["estimate"]


def test_q_values_span_whole_family(outcome_findings: dict[str, Any]) -> None:
    tested = [item for item in outcome_findings["findings"] if item["p_value"]]

    # Every finding with a p-value has a q-value, no smaller than its p-value.
    assert tested
    for item in tested:
        assert item["q_value"] >= item["p_value"]


def test_statements_name_measures(outcome_findings: dict[str, Any]) -> None:
    lead = _finding(outcome_findings, "onboarding_video", "lead_time")
    revenue = _finding(outcome_findings, "onboarding_video", "revenue")

    assert "time ratio" in lead["statement_en"]
    assert "時間比" in lead["statement_ja"]
    assert "ratio of means" in revenue["statement_en"]
    assert "80% power" in revenue["statement_en"]
    assert revenue["statement_en"].endswith("not proof of cause.")
    assert "odds" not in revenue["statement_en"]
