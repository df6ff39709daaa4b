from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from partnerlift.analysis import Study, load_study
from partnerlift.errors import ConfigError
from partnerlift.scoring import Rule, load_model

BASE = (
    "study: s\n"
    "behaviors: [onboarding_video]\n"
    "exposure: {start: joined_at, days: 90}\n"
    "horizon_days: 180\n"
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _default_model_path() -> Path:
    return Path(str(resources.files("partnerlift.scoring") / "default_model.yaml"))


def test_default_study_loads() -> None:
    path = resources.files("partnerlift.analysis") / "default_study.yaml"

    study = load_study(Path(str(path)))

    assert study.outcomes == ["opportunity_rate", "win_rate"]
    assert study.min_partners == 20
    assert study.min_events == 5


def test_default_study_rules_exist_in_default_model() -> None:
    path = resources.files("partnerlift.analysis") / "default_study.yaml"
    study = load_study(Path(str(path)))

    rules = study.resolve_behaviors(load_model(_default_model_path()))

    assert [rule.id for rule in rules] == study.behaviors


def test_all_outcomes_accepted(tmp_path: Path) -> None:
    outcomes = "[opportunity_rate, win_rate, deal_win_rate, lead_time, revenue]"
    path = _write(tmp_path, BASE + f"outcomes: {outcomes}\n")

    study = load_study(path)

    assert study.outcomes[3] == "lead_time"


def test_unknown_outcome_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "outcomes: [win_rate, ever_won]\n")

    with pytest.raises(ConfigError) as caught:
        load_study(path)

    (problem,) = caught.value.problems
    assert problem.line == 5
    assert problem.field == "outcomes.1"
    assert problem.value == "ever_won"


def test_thresholds_expand_to_rules(tmp_path: Path) -> None:
    text = BASE.replace(
        "behaviors: [onboarding_video]",
        "behaviors:\n  - {rule: proposal_template, at_least: [1, 3, 5]}",
    )
    study = load_study(_write(tmp_path, text + "outcomes: [win_rate]\n"))

    rules = study.resolve_behaviors(load_model(_default_model_path()))

    assert [rule.id for rule in rules] == [
        "proposal_template>=1",
        "proposal_template>=3",
        "proposal_template>=5",
    ]
    assert [rule.at_least for rule in rules] == [1, 3, 5]
    assert rules[1].title("en") == "Proposal template downloaded (at least 3)"
    assert rules[1].title("ja") == "提案テンプレートのダウンロード（3以上）"


def test_inline_rule_with_threshold_list(tmp_path: Path) -> None:
    text = BASE.replace(
        "behaviors: [onboarding_video]",
        "behaviors:\n  - {id: webinar, match: {action: attended}, at_least: [2, 4]}",
    )
    study = load_study(_write(tmp_path, text + "outcomes: [win_rate]\n"))

    rules = study.resolve_behaviors(load_model(_default_model_path()))

    assert [rule.id for rule in rules] == ["webinar>=2", "webinar>=4"]


def test_threshold_of_unknown_rule_names_line(tmp_path: Path) -> None:
    text = BASE.replace(
        "behaviors: [onboarding_video]",
        "behaviors:\n  - onboarding_video\n  - {rule: webinar, at_least: [1, 2]}",
    )
    study = load_study(_write(tmp_path, text + "outcomes: [win_rate]\n"))

    with pytest.raises(ConfigError) as caught:
        study.resolve_behaviors(load_model(_default_model_path()))

    (problem,) = caught.value.problems
    assert problem.field == "behaviors.1.rule"
    assert problem.value == "webinar"
    assert problem.line == 4


def test_repeated_threshold_rejected(tmp_path: Path) -> None:
    text = BASE.replace(
        "behaviors: [onboarding_video]",
        "behaviors:\n  - {rule: sales_faq, at_least: [2, 2]}",
    )

    with pytest.raises(ConfigError) as caught:
        load_study(_write(tmp_path, text + "outcomes: [win_rate]\n"))

    assert "listed twice" in caught.value.problems[0].reason


def test_time_varying_needs_lead_time(tmp_path: Path) -> None:
    text = BASE + "outcomes: [win_rate]\ndesign: time_varying\n"

    with pytest.raises(ConfigError) as caught:
        load_study(_write(tmp_path, text))

    assert "lead_time" in caught.value.problems[0].reason


def test_unknown_outcome_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "outcomes: [ever_won]\n")

    with pytest.raises(ConfigError, match="Invalid study") as caught:
        load_study(path)

    assert "unknown outcome 'ever_won'" in caught.value.problems[0].reason


def test_unknown_key_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "outcomes: [win_rate]\nhorizon: 10\n")

    with pytest.raises(ConfigError) as caught:
        load_study(path)

    (problem,) = caught.value.problems
    assert problem.line == 6
    assert problem.reason == "unknown key 'horizon'"


def test_unknown_rule_lists_known_ids(tmp_path: Path) -> None:
    text = BASE.replace("[onboarding_video]", "[onboarding_video, webinar]")
    study = load_study(_write(tmp_path, text + "outcomes: [win_rate]\n"))
    model = load_model(_default_model_path())

    with pytest.raises(ConfigError) as caught:
        study.resolve_behaviors(model)

    (problem,) = caught.value.problems
    assert problem.value == "webinar"
    assert problem.line == 2
    assert "proposal_template" in problem.reason


def test_inline_rule_points_default_one(tmp_path: Path) -> None:
    text = BASE.replace(
        "behaviors: [onboarding_video]",
        "behaviors:\n  - {id: webinar, match: {action: attended}}",
    )
    study = load_study(_write(tmp_path, text + "outcomes: [win_rate]\n"))

    (rule,) = study.behaviors

    assert isinstance(rule, Rule)
    assert rule.points == 1


def test_fixed_exposure_dates() -> None:
    study = Study.model_validate(
        {
            "study": "s",
            "behaviors": ["x"],
            "exposure": {"start": "2024-04-01", "end": "2024-06-30"},
            "horizon_days": 90,
            "outcomes": ["opportunity_rate"],
        }
    )

    assert study.exposure.start == date(2024, 4, 1)
    assert study.exposure.from_joined is False


@pytest.mark.parametrize(
    "exposure",
    [
        pytest.param({"start": "joined_at"}, id="joined-without-days"),
        pytest.param({"start": "joined_at", "days": 0}, id="zero-days"),
        pytest.param({"start": "2024-04-01"}, id="date-without-end"),
        pytest.param({"start": "2024-04-01", "days": 9}, id="date-with-days"),
        pytest.param({"start": "2024-04-01", "end": "2024-03-01"}, id="end-first"),
    ],
)
def test_invalid_exposure_rejected(exposure: dict[str, object]) -> None:
    data = {
        "study": "s",
        "behaviors": ["x"],
        "exposure": exposure,
        "horizon_days": 90,
        "outcomes": ["win_rate"],
    }

    with pytest.raises(ValueError, match="exposure"):
        Study.model_validate(data)


def test_repeated_behaviour_rejected(tmp_path: Path) -> None:
    text = BASE.replace("[onboarding_video]", "[sales_faq, sales_faq]")

    with pytest.raises(ConfigError) as caught:
        load_study(_write(tmp_path, text + "outcomes: [win_rate]\n"))

    assert "listed twice" in caught.value.problems[0].reason
