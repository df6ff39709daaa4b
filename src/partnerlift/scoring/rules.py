"""The rule language of score models: pydantic models loaded from YAML.

A rule selects events (``match``), counts them per partner and period (``count``,
``period``), compares the count with a threshold (``at_least``, ``at_most``) and awards
points once or for each qualifying period (``award``, ``cap``). An award may decay with
a half-life (``half_life_days``), and a rule may count only events that follow the
awards of other rules (``requires``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from partnerlift.errors import ConfigError, Problem
from partnerlift.settings.yamlfile import YamlDocument, load_yaml, parse_model

CALENDAR_PERIODS = ("lifetime", "day", "week", "month", "quarter")
DISTINCT_UNITS = ("asset", "day", "user")
SHARE_UNITS = ("user",)
COUNT_FORMS = (
    "'occurrences', {distinct: X}, {sum: PROPERTY}, {max: PROPERTY} or {share: user}"
)
PERIOD_FORMS = "'lifetime', 'day', 'week', 'month', 'quarter' or {rolling_days: N}"

Scalar = StrictStr | StrictInt | StrictFloat | StrictBool


@dataclass(frozen=True)
class Count:
    """The measure a rule takes per partner and period.

    ``kind`` is ``occurrences`` (rows weighted by quantity), ``distinct`` (distinct
    values of ``target``: ``asset``, ``day``, ``user`` or a property name), ``sum`` or
    ``max`` (of the numeric property ``target``), or ``share`` (with ``target``
    ``user``: the fraction of the partner's users at the as-of date who have a
    selected event).
    """

    kind: Literal["occurrences", "distinct", "sum", "max", "share"] = "occurrences"
    target: str | None = None

    def describe(self) -> str | dict[str, str]:
        """Return the count in the form a score model file writes it."""
        if self.kind == "occurrences":
            return "occurrences"
        return {self.kind: str(self.target)}


@dataclass(frozen=True)
class Period:
    """The span a rule counts over: a calendar period or the last ``days`` days."""

    kind: Literal["lifetime", "day", "week", "month", "quarter", "rolling_days"] = (
        "lifetime"
    )
    days: int | None = None

    def describe(self) -> str | dict[str, int]:
        """Return the period in the form a score model file writes it."""
        if self.kind == "rolling_days":
            return {"rolling_days": int(self.days or 0)}
        return self.kind


def parse_count(value: Any) -> Count:
    """Parse the ``count`` of a rule.

    Raises
    ------
    ValueError
        If ``value`` matches no count form.
    """
    if isinstance(value, Count):
        return value
    if value is None or value == "occurrences":
        return Count()
    if isinstance(value, dict) and len(value) == 1:
        ((kind, target),) = value.items()
        if kind in ("distinct", "sum", "max") and isinstance(target, str) and target:
            return Count(kind, target)
        if kind == "share" and target in SHARE_UNITS:
            return Count("share", target)
    raise ValueError(f"unknown count form {value!r}: use {COUNT_FORMS}")


def parse_period(value: Any) -> Period:
    """Parse the ``period`` of a rule.

    Raises
    ------
    ValueError
        If ``value`` matches no period form.
    """
    if isinstance(value, Period):
        return value
    if value is None:
        return Period()
    if isinstance(value, str) and value in CALENDAR_PERIODS:
        return Period(value)  # type: ignore[arg-type]
    if isinstance(value, dict) and list(value) == ["rolling_days"]:
        days = value["rolling_days"]
        if isinstance(days, int) and not isinstance(days, bool) and days >= 1:
            return Period("rolling_days", days)
        raise ValueError(
            f"rolling_days must be a whole number of 1 or more, not {days!r}"
        )
    raise ValueError(f"unknown period {value!r}: use {PERIOD_FORMS}")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Condition(BaseModel):
    """A condition on one event property; every operator given must hold.

    A number compares numerically with the property (stored as text); text compares
    as text.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    eq: Scalar | None = None
    ne: Scalar | None = None
    gt: Scalar | None = None
    gte: Scalar | None = None
    lt: Scalar | None = None
    lte: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")

    @model_validator(mode="before")
    @classmethod
    def _bare_value_means_eq(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        return {"eq": value}

    @model_validator(mode="after")
    def _needs_an_operator(self) -> Condition:
        if not self.operators():
            raise ValueError("a condition needs one of eq, ne, gt, gte, lt, lte, in")
        return self

    @model_validator(mode="after")
    def _bounds_can_hold(self) -> Condition:
        lower = [value for value in (self.gt, self.gte) if _is_number(value)]
        upper = [value for value in (self.lt, self.lte) if _is_number(value)]
        if lower and upper:
            low, high = max(lower), min(upper)
            touching = low == high and (self.gt == low or self.lt == high)
            if low > high or touching:
                raise ValueError(
                    f"no number is above {low:g} and below {high:g}, so the "
                    "condition can never hold; check gt, gte, lt and lte"
                )
        if self.eq is not None and self.ne is not None and self.eq == self.ne:
            raise ValueError(f"eq and ne are both {self.eq!r}, so nothing can match")
        if self.in_ is not None and not self.in_:
            raise ValueError("'in' needs at least one value")
        return self

    def operators(self) -> dict[str, Any]:
        """Return the operators that are set, by their name in the file."""
        values = {
            "eq": self.eq,
            "ne": self.ne,
            "gt": self.gt,
            "gte": self.gte,
            "lt": self.lt,
            "lte": self.lte,
            "in": self.in_,
        }
        return {name: value for name, value in values.items() if value is not None}


class Match(BaseModel):
    """The event filter of a rule; every key given must hold.

    ``action``, ``asset_kind`` and ``asset_id`` take a value or a list of values, and
    an event matches any of them. The asset must carry all ``asset_tags``. ``where``
    contains the property conditions.
    """

    model_config = ConfigDict(extra="forbid")

    action: list[str] | None = None
    asset_kind: list[str] | None = None
    asset_id: list[str] | None = None
    asset_tags: list[str] | None = None
    where: dict[str, Condition] | None = None

    @field_validator("action", "asset_kind", "asset_id", mode="before")
    @classmethod
    def _value_or_list(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("action", "asset_kind", "asset_id", "asset_tags")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError(
                "an empty list matches no event; list a value or remove the key"
            )
        return value


class Rule(BaseModel):
    """One rule of a score model."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    label: dict[str, str] | None = None
    points: float = 1
    match: Match
    count: Count = Count()
    at_least: float = 1
    at_most: float | None = None
    period: Period = Period()
    award: Literal["once", "each_period"] = "once"
    cap: float | None = None
    half_life_days: float | None = Field(default=None, gt=0)
    requires: list[str] | None = None

    @field_validator("count", mode="plain")
    @classmethod
    def _parse_count(cls, value: Any) -> Count:
        return parse_count(value)

    @field_validator("period", mode="plain")
    @classmethod
    def _parse_period(cls, value: Any) -> Period:
        return parse_period(value)

    @field_serializer("count", "period")
    def _describe(self, value: Count | Period) -> Any:
        return value.describe()

    @field_validator("at_least")
    @classmethod
    def _share_at_most_one(cls, value: float, info: ValidationInfo) -> float:
        count = info.data.get("count")
        if isinstance(count, Count) and count.kind == "share" and value > 1:
            raise ValueError(
                "a share of users is a fraction from 0 to 1, so at_least must not "
                "be above 1 (write 0.5 for half of the users)"
            )
        return value

    @field_validator("at_most")
    @classmethod
    def _at_most_not_below_at_least(
        cls, value: float | None, info: ValidationInfo
    ) -> float | None:
        at_least = info.data.get("at_least")
        if value is not None and at_least is not None and at_least > value:
            raise ValueError(f"at_most must not be below at_least ({at_least:g})")
        if value is not None and value < 0:
            raise ValueError(
                "at_most below 0 can never be met, because counts are >= 0"
            )
        return value

    @field_validator("period", mode="after")
    @classmethod
    def _share_needs_one_period(cls, value: Period, info: ValidationInfo) -> Period:
        count = info.data.get("count")
        share = isinstance(count, Count) and count.kind == "share"
        if share and value.kind not in ("lifetime", "rolling_days"):
            raise ValueError(
                "a share of users is taken against the users at the as-of date, so "
                "its period must be 'lifetime' or {rolling_days: N}"
            )
        return value

    @field_validator("award")
    @classmethod
    def _each_period_needs_calendar(cls, value: str, info: ValidationInfo) -> str:
        period = info.data.get("period")
        single = isinstance(period, Period) and period.kind in (
            "lifetime",
            "rolling_days",
        )
        if value == "each_period" and single:
            raise ValueError(
                "award 'each_period' needs a calendar period (day, week, month or "
                f"quarter); a {period.kind} period has one period only, so use "
                "award 'once'"
            )
        return value

    @field_validator("cap")
    @classmethod
    def _cap_positive(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("cap limits the size of the rule's total and must be > 0")
        if value is not None and info.data.get("award", "once") == "once":
            raise ValueError(
                "cap limits the total of award 'each_period'; an award 'once' "
                "cannot exceed its points, so remove cap or set award: each_period"
            )
        return value

    @field_validator("requires", mode="before")
    @classmethod
    def _one_or_more_rules(cls, value: Any, info: ValidationInfo) -> Any:
        value = _as_list(value)
        if isinstance(value, list) and not value:
            raise ValueError("requires needs at least one rule id")
        if isinstance(value, list) and info.data.get("id") in value:
            raise ValueError("a rule cannot require itself")
        return value

    def title(self, locale: str = "en") -> str:
        """Return the rule's label in ``locale``, or its id when it has none."""
        if not self.label:
            return self.id
        return self.label.get(locale) or self.label.get("en") or self.id


def requires_problem(rules: list[Any], index: int, required: Any) -> str | None:
    """Return why rule ``index`` cannot require ``required``, or None if it can.

    A rule may require only rules listed above it, so a model is evaluated top down
    and requirements never form a cycle.
    """
    ids = [rule.get("id") if isinstance(rule, dict) else rule.id for rule in rules]
    if required not in ids:
        return f"requires unknown rule {required!r}: use the id of a rule in the model"
    if ids.index(required) > index:
        return (
            f"requires rule {required!r}, which is listed below; move {required!r} "
            "above the rules that require it"
        )
    return None


class ScoreModel(BaseModel):
    """A versioned set of rules; a partner's score is the sum of their points.

    ``lookback_days`` ignores events older than that many days before the as-of date.
    ``half_life_days`` applies to every rule without its own.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    version: int | str | None = None
    label: dict[str, str] | None = None
    rules: list[Rule] = Field(min_length=1)
    lookback_days: int | None = Field(default=None, ge=1)
    half_life_days: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _rule_ids_unique(self) -> ScoreModel:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return self

    @model_validator(mode="after")
    def _requires_rules_above(self) -> ScoreModel:
        for index, rule in enumerate(self.rules):
            for required in rule.requires or []:
                problem = requires_problem(self.rules, index, required)
                if problem:
                    raise ValueError(f"rule {rule.id!r} {problem}")
        return self

    def rule(self, rule_id: str) -> Rule:
        """Return the rule ``rule_id``.

        Raises
        ------
        KeyError
            If the model has no such rule.
        """
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def half_life(self, rule: Rule) -> float | None:
        """Return the half-life in days that applies to ``rule``, if any."""
        return rule.half_life_days if rule.half_life_days else self.half_life_days


def _requires_problems(
    document: YamlDocument, rules: list[Any], index: int
) -> list[Problem]:
    required = _as_list(rules[index].get("requires"))
    if not isinstance(required, list):
        return []
    problems = []
    for position, rule_id in enumerate(required):
        if rule_id == rules[index].get("id"):
            continue  # the rule's own validator reports a rule that requires itself
        reason = requires_problem(rules, index, rule_id)
        if reason:
            location = ("rules", index, "requires", position)
            if not isinstance(rules[index].get("requires"), list):
                location = ("rules", index, "requires")
            problems.append(
                Problem(
                    str(document.path),
                    document.line_of(location),
                    f"rules.{index}.requires",
                    rule_id,
                    reason,
                )
            )
    return problems


def _raw_rule_problems(document: YamlDocument) -> list[Problem]:
    """Check what pydantic cannot place on a line: points, ids and requirements."""
    rules = document.value_at(("rules",))
    if not isinstance(rules, list):
        return []
    problems = []
    first_line: dict[str, int | None] = {}
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        if "points" not in rule:
            problems.append(
                Problem(
                    str(document.path),
                    document.line_of(("rules", index)),
                    f"rules.{index}.points",
                    None,
                    "missing: every rule of a score model needs points",
                )
            )
        problems.extend(_requires_problems(document, rules, index))
        rule_id = rule.get("id")
        if not isinstance(rule_id, str):
            continue
        if rule_id in first_line:
            problems.append(
                Problem(
                    str(document.path),
                    document.line_of(("rules", index, "id")),
                    f"rules.{index}.id",
                    rule_id,
                    f"rule id is used twice (first on line {first_line[rule_id]})",
                )
            )
        else:
            first_line[rule_id] = document.line_of(("rules", index, "id"))
    return problems


def load_model(path: str | Path) -> ScoreModel:
    """Load a score model from a YAML file.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or breaks the rule language; each problem
        names the file, line, field and value.
    """
    document = load_yaml(path)
    problems = _raw_rule_problems(document)
    if problems:
        raise ConfigError(f"Invalid score model in {document.path}.", problems)
    model: ScoreModel = parse_model(document, ScoreModel, "score model")
    return model
