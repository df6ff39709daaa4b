"""Findings: each behaviour compared with each outcome, with its statement."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from partnerlift.analysis.cohorts import Cohort, build_cohort
from partnerlift.analysis.estimators import (
    Interval,
    Stratum,
    bh_q_values,
    fisher_exact_p,
    mantel_haenszel_risk_ratio,
    proportion,
    risk_difference_score,
    risk_ratio_score,
)
from partnerlift.analysis.statements import state_finding
from partnerlift.analysis.study import Study
from partnerlift.scoring import Rule, ScoreModel
from partnerlift.store import Database

logger = logging.getLogger(__name__)

MISSING_COVARIATE = "(missing)"


@dataclass
class Finding:
    """One behaviour compared with one outcome across partners.

    ``value_with`` and ``value_without`` are the two groups' proportions, ``estimate``
    is their risk ratio (``measure``) with the Koopman score interval, and
    ``risk_difference`` their difference with Newcombe's score interval. ``p_value``
    is Fisher's exact two-sided test and ``q_value`` its Benjamini-Hochberg
    adjustment across every finding of the run. ``adjusted_estimate`` is the
    Mantel-Haenszel risk ratio over the strata of ``adjusted_for``.
    """

    behavior: str
    behavior_label: str
    outcome: str
    n_with: int
    n_without: int
    events_with: int
    events_without: int
    value_with: float | None
    value_without: float | None
    status: Literal["ok", "insufficient_data"]
    measure: str = "risk_ratio"
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    risk_difference: float | None = None
    risk_difference_ci_low: float | None = None
    risk_difference_ci_high: float | None = None
    test: str = "fisher_exact"
    p_value: float | None = None
    q_value: float | None = None
    adjusted_estimate: float | None = None
    adjusted_ci_low: float | None = None
    adjusted_ci_high: float | None = None
    adjusted_for: list[str] = field(default_factory=list)
    n_excluded_no_start: int = 0
    n_excluded_followup: int = 0
    statement_en: str = ""
    statement_ja: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as the flat dictionary of ``analyze --format json``."""
        return asdict(self)


def outcome_groups(cohort: Cohort, outcome: str) -> tuple[pd.DataFrame, pd.Series]:
    """Return the partners that ``outcome`` is measured on, and whether each had it.

    ``opportunity_rate`` is measured on every partner of the cohort: the outcome is
    a deal created in the outcome window. ``win_rate`` is measured on the partners
    with a deal won or lost in the outcome window: the outcome is a won deal there.
    """
    partners = cohort.partners
    if outcome == "opportunity_rate":
        return partners, partners["deals_created"] > 0
    if outcome == "win_rate":
        closed = partners[partners["deals_closed"] > 0]
        return closed, closed["deals_won"] > 0
    raise ValueError(f"unsupported outcome {outcome!r}")


def too_little_data(
    n_with: int,
    events_with: int,
    n_without: int,
    events_without: int,
    *,
    min_partners: int,
    min_events: int,
) -> bool:
    """Return whether either group has fewer than ``min_partners`` partners, or
    fewer than ``min_events`` partners with or without the outcome.
    """
    for total, events in ((n_with, events_with), (n_without, events_without)):
        if total < min_partners:
            return True
        if events < min_events or total - events < min_events:
            return True
    return False


def stratified_counts(
    partners: pd.DataFrame,
    done: pd.Series,
    had_outcome: pd.Series,
    covariates: list[str],
) -> list[Stratum]:
    """Count events and partners per group within each combination of covariates.

    A missing covariate value forms a stratum of its own.
    """
    keys = partners[covariates].astype("object").fillna(MISSING_COVARIATE)
    table = pd.DataFrame(
        {
            "done": done.to_numpy(),
            "event": had_outcome.to_numpy(),
            **{name: keys[name].to_numpy() for name in covariates},
        }
    )
    strata = []
    for _, group in table.groupby(covariates, dropna=False):
        with_group = group[group["done"]]
        without_group = group[~group["done"]]
        strata.append(
            Stratum(
                int(with_group["event"].sum()),
                len(with_group),
                int(without_group["event"].sum()),
                len(without_group),
            )
        )
    return strata


def compare(
    cohort: Cohort, rule: Rule, outcome: str, study: Study, locale: str
) -> Finding:
    """Compare the partners who did ``rule`` in the exposure window with the rest."""
    partners, had_outcome = outcome_groups(cohort, outcome)
    done = partners[rule.id].astype(bool)
    n_with = int(done.sum())
    n_without = len(partners) - n_with
    events_with = int(had_outcome[done].sum())
    events_without = int(had_outcome[~done].sum())

    finding = Finding(
        behavior=rule.id,
        behavior_label=rule.title(locale),
        outcome=outcome,
        n_with=n_with,
        n_without=n_without,
        events_with=events_with,
        events_without=events_without,
        value_with=proportion(events_with, n_with),
        value_without=proportion(events_without, n_without),
        status="ok",
        adjusted_for=list(study.adjust_for),
        n_excluded_no_start=cohort.n_excluded_no_start,
        n_excluded_followup=cohort.n_excluded_followup,
    )
    counts = (n_with, events_with, n_without, events_without)
    if too_little_data(
        *counts, min_partners=study.min_partners, min_events=study.min_events
    ):
        finding.status = "insufficient_data"
        return finding

    ratio = risk_ratio_score(events_with, n_with, events_without, n_without)
    difference = risk_difference_score(events_with, n_with, events_without, n_without)
    finding.estimate, finding.ci_low, finding.ci_high = _bounds(ratio)
    (
        finding.risk_difference,
        finding.risk_difference_ci_low,
        finding.risk_difference_ci_high,
    ) = _bounds(difference)
    finding.p_value = fisher_exact_p(events_with, n_with, events_without, n_without)

    if study.adjust_for:
        strata = stratified_counts(partners, done, had_outcome, list(study.adjust_for))
        adjusted = mantel_haenszel_risk_ratio(strata)
        (
            finding.adjusted_estimate,
            finding.adjusted_ci_low,
            finding.adjusted_ci_high,
        ) = _bounds(adjusted)
    return finding


def _bounds(interval: Interval) -> tuple[float | None, float | None, float | None]:
    return interval.estimate, interval.low, interval.high


def analyze(
    db: Database,
    study: Study,
    *,
    model: ScoreModel,
    zone: ZoneInfo,
    locale: str = "en",
) -> dict[str, Any]:
    """Compare every behaviour of ``study`` with every outcome.

    Parameters
    ----------
    db
        The workspace database.
    study
        The study: behaviours, exposure window, horizon, outcomes, covariates.
    model
        The score model whose rules the study's behaviour ids name.
    zone
        The workspace's time zone, in which the windows' whole days are taken.
    locale
        The language of ``behavior_label``; statements come in both languages.

    Returns
    -------
    dict
        ``{"study", "as_of", "findings"}``, ``findings`` a list of flat dictionaries
        (see :class:`Finding`), behaviours in study order, each with its outcomes in
        study order.

    Raises
    ------
    ConfigError
        If a behaviour names a rule that ``model`` does not have.
    """
    rules = study.resolve_behaviors(model)
    cohort = build_cohort(db, study, rules, zone=zone)
    findings = [
        compare(cohort, rule, outcome, study, locale)
        for rule in rules
        for outcome in study.outcomes
    ]
    q_values = bh_q_values([finding.p_value for finding in findings])
    for finding, q_value in zip(findings, q_values, strict=True):
        finding.q_value = q_value
    for rule, finding in zip(
        [rule for rule in rules for _ in study.outcomes], findings, strict=True
    ):
        finding.statement_en = state_finding(finding, study, rule.title("en"), "en")
        finding.statement_ja = state_finding(finding, study, rule.title("ja"), "ja")
    logger.info(
        "Study %s: %d findings, %d with too little data",
        study.study,
        len(findings),
        sum(finding.status == "insufficient_data" for finding in findings),
    )
    return {
        "study": study.study,
        "as_of": cohort.as_of.isoformat(),
        "findings": [finding.as_dict() for finding in findings],
    }
