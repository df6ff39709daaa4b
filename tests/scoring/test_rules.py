"""Loading score model files: the default model and the errors of bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.scoring.golden import DEFAULT_MODEL

from partnerlift.errors import ConfigError
from partnerlift.scoring import Count, Period, Rule, ScoreModel, load_model

VALID_RULE = """\
model: m
rules:
  - id: logins
    points: 10
    match: {action: logged_in}
"""


def write_model(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def only_problem(error: pytest.ExceptionInfo[ConfigError]):
    (problem,) = error.value.problems
    return problem


def test_default_model_has_six_rules() -> None:
    model = load_model(DEFAULT_MODEL)

    assert [rule.id for rule in model.rules] == [
        "onboarding_video",
        "advanced_training",
        "product_doc_pages",
        "proposal_template",
        "sales_faq",
        "monthly_logins",
    ]


def test_default_model_reads_every_form() -> None:
    model = load_model(DEFAULT_MODEL)

    pages = model.rule("product_doc_pages")
    logins = model.rule("monthly_logins")
    assert pages.count == Count("distinct", "page")
    assert pages.at_least == 3
    assert pages.match.asset_tags == ["product"]
    assert logins.period == Period("month")
    assert logins.match.action == ["logged_in"]
    assert model.rule("onboarding_video").points == 20


def test_rule_defaults_follow_language() -> None:
    rule = Rule.model_validate({"id": "r", "match": {"action": "viewed"}})

    assert rule.points == 1
    assert rule.count == Count("occurrences")
    assert rule.at_least == 1
    assert rule.period == Period("lifetime")
    assert rule.award == "once"


def test_rolling_days_period_parses() -> None:
    rule = Rule.model_validate({"id": "r", "match": {}, "period": {"rolling_days": 30}})

    assert rule.period == Period("rolling_days", 30)


def test_where_bare_value_means_eq() -> None:
    rule = Rule.model_validate(
        {"id": "r", "match": {"where": {"channel": "portal", "step": {"in": [1, 2]}}}}
    )

    where = rule.match.where or {}
    assert where["channel"].operators() == {"eq": "portal"}
    assert where["step"].operators() == {"in": [1, 2]}


BAD_MODELS = [
    pytest.param(
        VALID_RULE.replace("points: 10", "points: 10\n    colour: red"),
        5,
        "rules.0.colour",
        None,
        "unknown key",
        id="unknown-rule-key",
    ),
    pytest.param(
        VALID_RULE.replace("{action: logged_in}", "{action: logged_in, tag: x}"),
        5,
        "rules.0.match.tag",
        None,
        "unknown key",
        id="unknown-match-key",
    ),
    pytest.param(
        VALID_RULE.replace("points: 10", "points: ten"),
        4,
        "rules.0.points",
        "ten",
        "valid number",
        id="wrong-type",
    ),
    pytest.param(
        VALID_RULE + "    at_least: 5\n    at_most: 2\n",
        7,
        "rules.0.at_most",
        2,
        "at_most must not be below at_least",
        id="at-least-above-at-most",
    ),
    pytest.param(
        VALID_RULE + "    period: fortnight\n",
        6,
        "rules.0.period",
        "fortnight",
        "unknown period",
        id="unknown-period",
    ),
    pytest.param(
        VALID_RULE + "    period: {rolling_days: 0}\n",
        6,
        "rules.0.period",
        None,
        "rolling_days must be a whole number",
        id="rolling-days-zero",
    ),
    pytest.param(
        VALID_RULE + "    count: {unique: page}\n",
        6,
        "rules.0.count",
        None,
        "unknown count form",
        id="unknown-count-form",
    ),
    pytest.param(
        VALID_RULE + "    count: pages\n",
        6,
        "rules.0.count",
        "pages",
        "unknown count form",
        id="unknown-count-word",
    ),
    pytest.param(
        VALID_RULE + "    award: twice\n",
        6,
        "rules.0.award",
        "twice",
        "'once' or 'each_period'",
        id="unknown-award",
    ),
    pytest.param(
        VALID_RULE + "    half_life_days: 0\n",
        6,
        "rules.0.half_life_days",
        0,
        "greater than 0",
        id="rule-half-life-zero",
    ),
    pytest.param(
        VALID_RULE + "half_life_days: -30\n",
        6,
        "half_life_days",
        -30,
        "greater than 0",
        id="model-half-life-negative",
    ),
    pytest.param(
        VALID_RULE + "    cap: 20\n",
        6,
        "rules.0.cap",
        20,
        "award 'once' cannot exceed its points",
        id="cap-with-award-once",
    ),
    pytest.param(
        VALID_RULE + "    award: each_period\n",
        6,
        "rules.0.award",
        "each_period",
        "needs a calendar period",
        id="each-period-over-lifetime",
    ),
    pytest.param(
        VALID_RULE + "    count: {share: user}\n    at_least: 50\n",
        7,
        "rules.0.at_least",
        50,
        "must not be above 1",
        id="share-above-one",
    ),
    pytest.param(
        VALID_RULE + "    count: {share: user}\n    period: month\n",
        7,
        "rules.0.period",
        "month",
        "'lifetime' or {rolling_days: N}",
        id="share-over-calendar-period",
    ),
    pytest.param(
        VALID_RULE + "    count: {share: asset}\n",
        6,
        "rules.0.count",
        None,
        "unknown count form",
        id="share-of-assets",
    ),
    pytest.param(
        VALID_RULE + "    at_least: -5\n    at_most: -1\n",
        7,
        "rules.0.at_most",
        -1,
        "can never be met",
        id="at-most-negative",
    ),
    pytest.param(
        VALID_RULE.replace(
            "{action: logged_in}", "{where: {progress: {gt: 0.9, lte: 0.5}}}"
        ),
        5,
        "rules.0.match.where.progress",
        None,
        "can never hold",
        id="where-empty-range",
    ),
    pytest.param(
        VALID_RULE.replace("{action: logged_in}", "{where: {step: {gt: 3, lt: 3}}}"),
        5,
        "rules.0.match.where.step",
        None,
        "can never hold",
        id="where-open-bounds-touch",
    ),
    pytest.param(
        VALID_RULE.replace("{action: logged_in}", "{action: []}"),
        5,
        "rules.0.match.action",
        None,
        "empty list",
        id="empty-action-list",
    ),
    pytest.param(
        VALID_RULE + "    requires: [logins]\n",
        6,
        "rules.0.requires",
        None,
        "cannot require itself",
        id="requires-itself",
    ),
    pytest.param(
        VALID_RULE + "    requires: [onboarding]\n",
        6,
        "rules.0.requires",
        "onboarding",
        "requires unknown rule 'onboarding'",
        id="requires-unknown-rule",
    ),
    pytest.param(
        VALID_RULE.replace("{action: logged_in}", "{where: {progress: {above: 1}}}"),
        5,
        "rules.0.match.where.progress.above",
        None,
        "unknown key",
        id="unknown-condition-operator",
    ),
    pytest.param(
        VALID_RULE + "    cap: -5\n",
        6,
        "rules.0.cap",
        -5,
        "must be > 0",
        id="negative-cap",
    ),
]


@pytest.mark.parametrize(("body", "line", "field", "value", "reason"), BAD_MODELS)
def test_bad_model_names_line_and_field(
    tmp_path: Path, body: str, line: int, field: str, value: object, reason: str
) -> None:
    path = write_model(tmp_path, body)

    with pytest.raises(ConfigError) as error:
        load_model(path)

    problem = only_problem(error)
    assert problem.file == str(path)
    assert problem.line == line
    assert problem.field == field
    assert problem.value == value
    assert reason in problem.reason


def test_duplicate_rule_id_names_second(tmp_path: Path) -> None:
    body = VALID_RULE + "  - id: logins\n    points: 5\n    match: {action: viewed}\n"
    path = write_model(tmp_path, body)

    with pytest.raises(ConfigError) as error:
        load_model(path)

    problem = only_problem(error)
    assert problem.line == 6
    assert problem.field == "rules.1.id"
    assert problem.value == "logins"
    assert "used twice (first on line 3)" in problem.reason


def test_missing_points_is_error(tmp_path: Path) -> None:
    path = write_model(tmp_path, VALID_RULE.replace("    points: 10\n", ""))

    with pytest.raises(ConfigError) as error:
        load_model(path)

    problem = only_problem(error)
    assert problem.line == 3
    assert problem.field == "rules.0.points"


def test_missing_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="File not found"):
        load_model(tmp_path / "absent.yaml")


def test_inline_duplicate_ids_rejected() -> None:
    rule = {"id": "r", "match": {}}

    with pytest.raises(ValueError, match="used twice"):
        ScoreModel.model_validate({"model": "m", "rules": [rule, rule]})


def test_requires_later_rule_names_line(tmp_path: Path) -> None:
    body = (
        VALID_RULE
        + "    requires:\n      - video\n"
        + "  - id: video\n    points: 5\n    match: {action: completed}\n"
    )
    path = write_model(tmp_path, body)

    with pytest.raises(ConfigError) as error:
        load_model(path)

    problem = only_problem(error)
    assert problem.line == 7
    assert problem.field == "rules.0.requires"
    assert problem.value == "video"
    assert "listed below; move 'video' above" in problem.reason


def test_requires_earlier_rule_loads(tmp_path: Path) -> None:
    body = VALID_RULE + "  - id: more\n    points: 5\n    match: {action: viewed}\n"
    path = write_model(tmp_path, body + "    requires: logins\n")

    model = load_model(path)

    assert model.rule("more").requires == ["logins"]


def test_half_life_rule_overrides_model(tmp_path: Path) -> None:
    body = VALID_RULE + "    half_life_days: 7\n"
    body += "  - id: more\n    points: 5\n    match: {action: viewed}\n"
    path = write_model(tmp_path, body + "half_life_days: 30\n")

    model = load_model(path)

    assert model.half_life(model.rule("logins")) == 7
    assert model.half_life(model.rule("more")) == 30


def test_share_count_parses() -> None:
    rule = Rule.model_validate(
        {"id": "r", "match": {}, "count": {"share": "user"}, "at_least": 0.5}
    )

    assert rule.count == Count("share", "user")
    assert rule.count.describe() == {"share": "user"}
