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
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from partnerlift.errors import ConfigError, Problem
from partnerlift.scoring import Rule, ScoreModel
from partnerlift.settings.yamlfile import YamlDocument, load_yaml, parse_model

SUPPORTED_OUTCOMES = ("opportunity_rate", "win_rate")
PLANNED_OUTCOMES = ("lead_time", "revenue", "deal_win_rate")
COVARIATES = ("tier", "size", "region", "segment")


def _check_outcome(outcome: str) -> str:
    choices = " or ".join(SUPPORTED_OUTCOMES)
    if outcome in PLANNED_OUTCOMES:
        raise ValueError(f"outcome {outcome!r} is not supported yet. Use {choices}")
    if outcome not in SUPPORTED_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}. Use {choices}")
    return outcome


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
    behaviors: list[str | Rule] = Field(min_length=1)
    exposure: Exposure
    horizon_days: int = Field(ge=1)
    outcomes: list[Annotated[str, AfterValidator(_check_outcome)]] = Field(min_length=1)
    adjust_for: list[Literal["tier", "size", "region", "segment"]] = Field(
        default_factory=list
    )
    min_partners: int = Field(default=20, ge=1)
    min_events: int = Field(default=5, ge=0)
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
            behavior_id = behavior if isinstance(behavior, str) else behavior.id
            if behavior_id in seen:
                raise ValueError(f"behaviour {behavior_id!r} is listed twice")
            seen.add(behavior_id)
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
            if not isinstance(behavior, str):
                rules.append(behavior)
                continue
            if behavior in known:
                rules.append(model.rule(behavior))
                continue
            problems.append(
                Problem(
                    self._file(),
                    self._line(("behaviors", index)),
                    f"behaviors.{index}",
                    behavior,
                    f"unknown rule of score model {model.model!r}; known rules: "
                    f"{', '.join(known)}",
                )
            )
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
