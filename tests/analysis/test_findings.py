from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

from partnerlift.analysis import Study, analyze, load_study
from partnerlift.analysis.cohorts import Cohort
from partnerlift.analysis.findings import Finding, compare
from partnerlift.analysis.statements import state_finding
from partnerlift.scoring import Rule, load_model
from partnerlift.settings import Workspace
from partnerlift.store import Database


def _planted_result(workspace: Workspace, locale: str = "en") -> dict[str, Any]:
    study = load_study(workspace.root / "planted_study.yaml")
    model = load_model(workspace.score_model_path)
    with Database(workspace.database_path) as db:
        return analyze(db, study, model=model, zone=workspace.zone, locale=locale)


@pytest.fixture
def planted_findings(planted_workspace: Workspace) -> dict[str, Any]:
    return _planted_result(planted_workspace)


def _finding(result: dict[str, Any], outcome: str) -> dict[str, Any]:
    (finding,) = [item for item in result["findings"] if item["outcome"] == outcome]
    return finding


def test_planted_counts(planted_findings: dict[str, Any]) -> None:
    finding = _finding(planted_findings, "opportunity_rate")

    # With the video: 18 + 2 of 30 + 10; without: 3 + 3 of 10 + 30.
    assert (finding["events_with"], finding["n_with"]) == (20, 40)
    assert (finding["events_without"], finding["n_without"]) == (6, 40)
    assert finding["value_with"] == pytest.approx(0.5)
    assert finding["value_without"] == pytest.approx(0.15)


def test_planted_crude_risk_ratio(planted_findings: dict[str, Any]) -> None:
    finding = _finding(planted_findings, "opportunity_rate")

    assert finding["status"] == "ok"
    assert finding["estimate"] == pytest.approx(0.5 / 0.15)
    assert finding["ci_low"] < finding["estimate"] < finding["ci_high"]
    assert finding["risk_difference"] == pytest.approx(0.35)


def test_planted_adjusted_risk_ratio(planted_findings: dict[str, Any]) -> None:
    """Mantel-Haenszel over tier, by hand.

    gold: a=18, n1=30, c=3, n0=10, N=40; silver: a=2, n1=10, c=3, n0=30, N=40.
    sum(a n0 / N) = 4.5 + 1.5 = 6; sum(c n1 / N) = 2.25 + 0.75 = 3; RR = 2.
    Greenland-Robins: (30*10*21 - 18*3*40) / 1600 + (10*30*5 - 2*3*40) / 1600
    = 2.5875 + 0.7875 = 3.375; var = 3.375 / (6 * 3) = 0.1875, se = 0.433013.
    95% CI = 2 * exp(-/+ 1.959964 * 0.433013) = 0.855951 to 4.673165.
    """
    finding = _finding(planted_findings, "opportunity_rate")

    assert finding["adjusted_for"] == ["tier"]
    assert finding["adjusted_estimate"] == pytest.approx(2.0)
    assert finding["adjusted_ci_low"] == pytest.approx(0.855951, abs=1e-5)
    assert finding["adjusted_ci_high"] == pytest.approx(4.673165, abs=1e-5)


def test_single_p_value_is_its_q(planted_findings: dict[str, Any]) -> None:
    # The win rate has no p-value, so BH runs over one p-value, which it keeps.
    finding = _finding(planted_findings, "opportunity_rate")

    assert finding["q_value"] == pytest.approx(finding["p_value"])


def test_win_rate_without_closed_deals(planted_findings: dict[str, Any]) -> None:
    finding = _finding(planted_findings, "win_rate")

    assert finding["status"] == "insufficient_data"
    assert finding["n_with"] == 0
    assert finding["q_value"] is None


def test_statement_en_gives_numbers(planted_findings: dict[str, Any]) -> None:
    statement = _finding(planted_findings, "opportunity_rate")["statement_en"]

    assert statement.startswith(
        "Partners with “Onboarding training video completed” in their first 30 days "
        "created at least one deal in the next 60 days more often: "
        "50.0% (20 of 40) against 15.0% (6 of 40); risk ratio 3.33 (95% CI "
    )
    assert "adjusted for tier 2.00 (0.86 to 4.67), q " in statement
    assert statement.endswith(
        "This is an association in past data, not proof of cause."
    )


def test_statement_ja_gives_numbers(planted_findings: dict[str, Any]) -> None:
    statement = _finding(planted_findings, "opportunity_rate")["statement_ja"]

    assert statement.startswith("「導入トレーニング動画の完了」を参加後30日間に")
    assert "50.0%（40社中20社）対 15.0%（40社中6社）" in statement
    assert "ティアで調整後 2.00（0.86～4.67）" in statement


def test_statement_insufficient_gives_counts(planted_findings: dict[str, Any]) -> None:
    statement = _finding(planted_findings, "win_rate")["statement_en"]

    assert statement.startswith("Too little data")
    assert "0 of 0 with it and 0 of 0 without it" in statement


def test_label_follows_locale(planted_workspace: Workspace) -> None:
    result = _planted_result(planted_workspace, locale="ja")

    assert result["findings"][0]["behavior_label"] == "導入トレーニング動画の完了"


RULE = Rule.model_validate({"id": "video", "match": {"action": "completed"}})
STUDY = Study.model_validate(
    {
        "study": "thresholds",
        "behaviors": [RULE.model_dump()],
        "exposure": {"start": "joined_at", "days": 30},
        "horizon_days": 60,
        "outcomes": ["opportunity_rate"],
    }
)


def _cohort(groups: list[tuple[bool, int, int]]) -> Cohort:
    """A cohort from (did the behaviour, partners, partners with a deal) groups."""
    rows = []
    for done, total, with_deal in groups:
        for index in range(total):
            rows.append(
                {
                    "partner_id": f"{done}-{index}",
                    "video": done,
                    "deals_created": 1 if index < with_deal else 0,
                    "deals_closed": 0,
                    "deals_won": 0,
                }
            )
    return Cohort(pd.DataFrame(rows), date(2024, 6, 30), 0, 0)


@pytest.mark.parametrize(
    ("groups", "status"),
    [
        pytest.param([(True, 20, 5), (False, 20, 5)], "ok", id="20-partners-5-events"),
        pytest.param(
            [(True, 19, 5), (False, 20, 5)], "insufficient_data", id="19-partners"
        ),
        pytest.param(
            [(True, 20, 5), (False, 20, 4)], "insufficient_data", id="4-events"
        ),
        pytest.param([(True, 20, 15), (False, 20, 5)], "ok", id="5-non-events"),
        pytest.param(
            [(True, 20, 16), (False, 20, 5)], "insufficient_data", id="4-non-events"
        ),
    ],
)
def test_minimum_group_thresholds(
    groups: list[tuple[bool, int, int]], status: str
) -> None:
    finding = compare(_cohort(groups), RULE, "opportunity_rate", STUDY, "en")

    assert finding.status == status


def test_insufficient_keeps_counts_only() -> None:
    cohort = _cohort([(True, 19, 5), (False, 20, 5)])

    finding = compare(cohort, RULE, "opportunity_rate", STUDY, "en")

    assert (finding.events_with, finding.n_with) == (5, 19)
    assert (finding.events_without, finding.n_without) == (5, 20)
    assert finding.estimate is None
    assert finding.ci_low is None
    assert finding.ci_high is None
    assert finding.p_value is None
    assert finding.adjusted_estimate is None


def test_statement_unclear_when_interval_spans_one() -> None:
    study = Study.model_validate(
        {
            "study": "s",
            "behaviors": ["onboarding_video"],
            "exposure": {"start": "joined_at", "days": 30},
            "horizon_days": 60,
            "outcomes": ["win_rate"],
        }
    )
    # 12/40 against 10/40: risk ratio 1.2, and its interval plainly spans 1.
    finding = Finding(
        behavior="onboarding_video",
        behavior_label="Video",
        outcome="win_rate",
        n_with=40,
        n_without=40,
        events_with=12,
        events_without=10,
        value_with=0.3,
        value_without=0.25,
        status="ok",
        estimate=1.2,
        ci_low=0.6,
        ci_high=2.4,
    )

    english = state_finding(finding, study, "Video", "en")
    japanese = state_finding(finding, study, "Video", "ja")

    assert "about as often as the others (the interval includes 1)" in english
    assert "more often" not in english
    assert "他と明確には違わない" in japanese


def test_planted_e_value(planted_findings: dict[str, Any]) -> None:
    # Adjusted 2.00 (0.86 to 4.67): E-value 2 + sqrt(2 * 1) = 3.414214, and 1 for
    # the interval because it includes 1.
    finding = _finding(planted_findings, "opportunity_rate")

    assert finding["e_value"] == pytest.approx(3.414214, abs=1e-6)
    assert finding["e_value_ci"] == 1.0
    assert finding["adjustment_method"] == "mantel_haenszel"


def _sized_cohort(prior: list[tuple[bool, int, int]]) -> Cohort:
    """The cohort of ``_cohort`` for 40/40 partners, with 10 deals each side, a
    size and prior-period deals from (did the behaviour, partners, with a prior
    deal) groups.
    """
    cohort = _cohort([(True, 40, 10), (False, 40, 10)])
    partners = cohort.partners
    partners["size"] = ["small", "large"] * 40
    partners["deals_created_prior"] = 0
    partners["deals_closed_prior"] = 0
    partners["deals_won_prior"] = 0
    for done, total, with_deal in prior:
        rows = partners.index[partners["video"] == done][:total]
        partners.loc[rows[:with_deal], "deals_created_prior"] = 1
    return cohort


def _study_with(**changes: Any) -> Study:
    data = STUDY.model_dump()
    data.update(changes)
    return Study.model_validate(data)


def test_negative_control_prior_period() -> None:
    # Prior period: 20 of 40 with the behaviour had a deal, 10 of 40 without it,
    # so the negative control's risk ratio is 0.5 / 0.25 = 2.
    cohort = _sized_cohort([(True, 40, 20), (False, 40, 10)])

    finding = compare(cohort, RULE, "opportunity_rate", _study_with(), "en")

    assert finding.negative_control_estimate == pytest.approx(2.0)
    assert finding.negative_control_ci_low > 1


def test_regression_falls_back_with_few_events() -> None:
    """20 events against 60 non-events: the rarer outcome has 20. Size and region
    add one column each, so with the behaviour the model has three coefficients
    and needs 10 * 3 = 30.
    """
    cohort = _sized_cohort([])
    cohort.partners["region"] = ["east", "east", "west", "west"] * 20
    study = _study_with(adjust_for=["size", "region"], adjustment="regression")

    finding = compare(cohort, RULE, "opportunity_rate", study, "en")

    assert finding.adjustment_note == "few_events_per_covariate"
    assert finding.adjustment_method == "mantel_haenszel"


def test_regression_with_enough_events() -> None:
    cohort = _sized_cohort([])
    study = _study_with(adjust_for=["size"], adjustment="regression")

    finding = compare(cohort, RULE, "opportunity_rate", study, "en")

    # 10/40 against 10/40 in both sizes alike: the adjusted ratio is 1.
    assert finding.adjustment_method == "modified_poisson"
    assert finding.adjusted_estimate == pytest.approx(1.0)


def test_detectable_effect_on_insufficient() -> None:
    cohort = _cohort([(True, 19, 5), (False, 20, 5)])

    finding = compare(cohort, RULE, "opportunity_rate", STUDY, "en")

    assert finding.status == "insufficient_data"
    assert finding.detectable_effect is not None
    assert "80% power" in state_finding(finding, STUDY, "Video", "en")
