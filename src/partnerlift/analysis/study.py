"""Study files: the question that ``analyze`` answers.

A study names behaviours: rules of the score model, or rules written inline. It sets
the exposure window in which each behaviour is measured and the horizon of the outcome
window that opens when the exposure window closes. It lists the outcomes and the
partner covariates to adjust for.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

from partnerlift.errors import ConfigError, Problem
from partnerlift.scoring import Rule, ScoreModel
from partnerlift.settings.messages import register, text
from partnerlift.settings.yamlfile import YamlDocument, load_yaml, parse_model

register(
    {
        "analysis.threshold.label": {
            "en": "{label} (at least {n})",
            "ja": "{label}（{n}以上）",
        }
    }
)

SUPPORTED_OUTCOMES = (
    "opportunity_rate",
    "win_rate",
    "deal_win_rate",
    "lead_time",
    "revenue",
)
RATE_OUTCOMES = ("opportunity_rate", "win_rate")
COVARIATES = ("tier", "size", "region", "segment")
PRIOR_REVENUE = "prior_revenue"


def _check_outcome(outcome: str) -> str:
    if outcome not in SUPPORTED_OUTCOMES:
        choices = ", ".join(SUPPORTED_OUTCOMES)
        raise ValueError(f"unknown outcome {outcome!r}. Use one of {choices}")
    return outcome


def threshold_id(rule_id: str, at_least: float) -> str:
    """Return the id of one threshold of a behaviour: ``proposal_template>=3``."""
    return f"{rule_id}>={at_least:g}"


class Thresholds(BaseModel):
    """A behaviour tested at several thresholds, each one its own hypothesis.

    ``rule`` names a rule of the score model or is a rule written inline; the rule
    is evaluated once for each value of ``at_least``.
    """

    model_config = ConfigDict(extra="forbid")

    rule: str | Rule
    at_least: list[Annotated[float, Field(gt=0)]] = Field(min_length=1)

    @field_validator("at_least", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @field_validator("at_least")
    @classmethod
    def _unique(cls, values: list[float]) -> list[float]:
        if len(set(values)) != len(values):
            raise ValueError("a threshold is listed twice in at_least")
        return values

    @property
    def rule_id(self) -> str:
        """The id of the rule that the thresholds apply to."""
        return self.rule if isinstance(self.rule, str) else self.rule.id


def _thresholds_inline(value: Any) -> Any:
    """Read an inline rule whose ``at_least`` is a list as :class:`Thresholds`."""
    if isinstance(value, dict) and isinstance(value.get("at_least"), list):
        if "rule" in value:
            return value
        rule = {key: item for key, item in value.items() if key != "at_least"}
        return {"rule": rule, "at_least": value["at_least"]}
    return value


def _behavior_kind(value: Any) -> str:
    if isinstance(value, str):
        return "name"
    if isinstance(value, Thresholds) or (isinstance(value, dict) and "rule" in value):
        return "thresholds"
    return "rule"


def behavior_id(behavior: str | Rule | Thresholds) -> str:
    """Return the rule id that a study's behaviour entry names or defines."""
    if isinstance(behavior, str):
        return behavior
    if isinstance(behavior, Thresholds):
        return behavior.rule_id
    return behavior.id


class Exposure(BaseModel):
    """The exposure window: ``days`` whole local days from each partner's joined date,
    or the fixed local dates ``start`` to ``end``, both included.
    """

    model_config = ConfigDict(extra="forbid")

    start: Literal["joined_at"] | date
    days: int | None = Field(default=None, ge=1)
    end: date | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Exposure:
        if self.start == "joined_at":
            if self.days is None:
                raise ValueError("exposure from joined_at needs days, such as 90")
            if self.end is not None:
                raise ValueError("exposure from joined_at takes days, not end")
            return self
        if self.end is None:
            raise ValueError("exposure from a fixed date needs end, such as 2024-06-30")
        if self.days is not None:
            raise ValueError("exposure from a fixed date takes end, not days")
        if self.end < self.start:  # type: ignore[operator]
            raise ValueError(f"exposure end {self.end} is before start {self.start}")
        return self

    @property
    def from_joined(self) -> bool:
        """Whether the window starts at each partner's joined date."""
        return self.start == "joined_at"


class Study(BaseModel):
    """A study file, validated."""

    model_config = ConfigDict(extra="forbid")

    study: str = Field(min_length=1)
    label: dict[str, str] | None = None
    behaviors: list[
        Annotated[
            Annotated[
                Annotated[str, Tag("name")]
                | Annotated[Thresholds, Tag("thresholds")]
                | Annotated[Rule, Tag("rule")],
                Discriminator(_behavior_kind),
            ],
            BeforeValidator(_thresholds_inline),
        ]
    ] = Field(min_length=1)
    exposure: Exposure
    horizon_days: int = Field(ge=1)
    outcomes: list[Annotated[str, AfterValidator(_check_outcome)]] = Field(min_length=1)
    adjust_for: list[Literal["tier", "size", "region", "segment", "prior_revenue"]] = (
        Field(default_factory=list)
    )
    design: Literal["landmark", "time_varying"] = "landmark"
    adjustment: Literal["auto", "mantel_haenszel", "regression"] = "auto"
    min_partners: int = Field(default=20, ge=1)
    min_events: int = Field(default=5, ge=0)
    min_survival_events: int = Field(default=10, ge=0)
    min_events_per_covariate: int = Field(default=10, ge=1)
    negative_control: bool = True
    resamples: int = Field(default=200, ge=0)
    seed: int = 0
    as_of: date | None = None

    _document: YamlDocument | None = PrivateAttr(default=None)

    @field_validator("outcomes")
    @classmethod
    def _outcomes_unique(cls, outcomes: list[str]) -> list[str]:
        if len(set(outcomes)) != len(outcomes):
            raise ValueError("an outcome is listed twice")
        return outcomes

    @model_validator(mode="after")
    def _behavior_ids_unique(self) -> Study:
        seen: set[str] = set()
        for behavior in self.behaviors:
            identity = behavior_id(behavior)
            if identity in seen:
                raise ValueError(f"behaviour {identity!r} is listed twice")
            seen.add(identity)
        return self

    @model_validator(mode="after")
    def _design_outcomes(self) -> Study:
        if self.design == "time_varying" and self.outcomes != ["lead_time"]:
            raise ValueError(
                "design time_varying follows partners until their first deal; "
                "its outcomes must be [lead_time]"
            )
        return self

    def title(self, locale: str = "en") -> str:
        """Return the study's label in ``locale``, or its id when it has none."""
        if not self.label:
            return self.study
        return self.label.get(locale) or self.label.get("en") or self.study

    def resolve_behaviors(self, model: ScoreModel) -> list[Rule]:
        """Return the rule of each behaviour, looking rule ids up in ``model``.

        Raises
        ------
        ConfigError
            If a behaviour names a rule that ``model`` does not have; the error lists
            the model's rule ids.
        """
        known = [rule.id for rule in model.rules]
        rules: list[Rule] = []
        problems: list[Problem] = []
        for index, behavior in enumerate(self.behaviors):
            named = behavior.rule if isinstance(behavior, Thresholds) else behavior
            if isinstance(named, str) and named not in known:
                location: tuple[str | int, ...] = ("behaviors", index)
                field = f"behaviors.{index}"
                if isinstance(behavior, Thresholds):
                    location = (*location, "rule")
                    field = f"{field}.rule"
                problems.append(
                    Problem(
                        self._file(),
                        self._line(location),
                        field,
                        named,
                        f"unknown rule of score model {model.model!r}; known rules: "
                        f"{', '.join(known)}",
                    )
                )
                continue
            rule = model.rule(named) if isinstance(named, str) else named
            if isinstance(behavior, Thresholds):
                rules.extend(
                    threshold_rule(rule, at_least) for at_least in behavior.at_least
                )
            else:
                rules.append(rule)
        if problems:
            raise ConfigError(
                f"Study {self.study!r} names rules that score model {model.model!r} "
                "does not have. Use one of its rule ids or write the rule inline.",
                problems,
            )
        return rules

    def _file(self) -> str | None:
        return str(self._document.path) if self._document is not None else None

    def _line(self, location: tuple[str | int, ...]) -> int | None:
        return self._document.line_of(location) if self._document is not None else None


def threshold_rule(rule: Rule, at_least: float) -> Rule:
    """Return a copy of ``rule`` that needs ``at_least``, with its own id and label.

    The id is ``RULE>=N``; the label adds the threshold, such as "Proposal template
    downloaded (at least 3)".
    """
    label = {
        locale: text(
            "analysis.threshold.label",
            locale,
            label=rule.title(locale),
            n=f"{at_least:g}",
        )
        for locale in ("en", "ja")
    }
    return rule.model_copy(
        update={
            "id": threshold_id(rule.id, at_least),
            "at_least": at_least,
            "label": label,
        }
    )


def load_study(path: str | Path) -> Study:
    """Load a study from a YAML file.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML or is not a valid study; each problem
        names the file, line, field and value.
    """
    document = load_yaml(path)
    data: Any = document.data
    if not isinstance(data, dict):
        raise ConfigError(
            f"Invalid study in {document.path}: expected keys such as 'study', "
            "'behaviors', 'exposure', 'horizon_days' and 'outcomes'."
        )
    study: Study = parse_model(document, Study, "study")
    study._document = document
    return study
