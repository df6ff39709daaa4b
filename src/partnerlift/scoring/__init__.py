"""Support engagement scores: the rule language and its evaluation."""

from __future__ import annotations

from partnerlift.scoring.explain import explain_partner
from partnerlift.scoring.rules import (
    Condition,
    Count,
    Match,
    Period,
    Rule,
    ScoreModel,
    load_model,
)
from partnerlift.scoring.score import (
    award_periods,
    default_as_of,
    evaluate_rules,
    score_partners,
)
from partnerlift.scoring.timeline import score_timeline

__all__ = [
    "Condition",
    "Count",
    "Match",
    "Period",
    "Rule",
    "ScoreModel",
    "award_periods",
    "default_as_of",
    "evaluate_rules",
    "explain_partner",
    "load_model",
    "score_partners",
    "score_timeline",
]
