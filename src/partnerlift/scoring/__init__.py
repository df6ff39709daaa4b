"""Support engagement scores: the rule language and its evaluation."""

from __future__ import annotations

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
    default_as_of,
    evaluate_rules,
    explain_partner,
    score_partners,
)

__all__ = [
    "Condition",
    "Count",
    "Match",
    "Period",
    "Rule",
    "ScoreModel",
    "default_as_of",
    "evaluate_rules",
    "explain_partner",
    "load_model",
    "score_partners",
]
