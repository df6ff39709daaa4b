"""Findings: each behaviour compared with each outcome, with its statement."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy import stats

from partnerlift.analysis.cohorts import Cohort, build_cohort
from partnerlift.analysis.estimators import (
    Interval,
    Stratum,
    bh_q_values,
    detectable_risk_ratio,
    e_value,
    fisher_exact_p,
    mantel_haenszel_risk_ratio,
    odds_ratio_woolf,
    proportion,
    risk_difference_score,
    risk_ratio_score,
    wilson_interval,
)
from partnerlift.analysis.regression import (
    covariate_matrix,
    poisson_ratio,
    ratio_of_means_bootstrap,
    standardized_differences,
)
from partnerlift.analysis.statements import state_finding
from partnerlift.analysis.study import PRIOR_REVENUE, Study
from partnerlift.analysis.survival import (
    kaplan_meier,
    logrank,
    median_time,
    restricted_mean_difference,
    weibull_time_ratio,
)
from partnerlift.scoring import Rule, ScoreModel
from partnerlift.store import Database

logger = logging.getLogger(__name__)

MISSING_COVARIATE = "(missing)"
DAYS_PER_YEAR = 365.0
Z_80_POWER = float(stats.norm.ppf(0.975) + stats.norm.ppf(0.8))

MEASURES = {
    "opportunity_rate": "risk_ratio",
    "win_rate": "risk_ratio",
    "deal_win_rate": "risk_ratio",
    "lead_time": "time_ratio",
    "revenue": "ratio_of_means",
}
TESTS = {
    "opportunity_rate": "fisher_exact",
    "win_rate": "fisher_exact",
    "deal_win_rate": "wald_clustered",
    "lead_time": "log_rank",
    "revenue": "wald_robust",
}


@dataclass
class Finding:
    """One behaviour compared with one outcome across partners.

    For the rates, ``value_with`` and ``value_without`` are the two groups'
    proportions with their Wilson intervals, ``estimate`` is their risk ratio
    (``measure``) with the Koopman score interval, ``risk_difference`` their
    difference with Newcombe's score interval, and ``odds_ratio`` a secondary
    column. For ``deal_win_rate`` the unit is the deal (``unit``) and the interval
    uses partner-clustered standard errors. For ``lead_time`` the values are each
    group's restricted mean days without a deal within the horizon and
    ``estimate`` is the Weibull time ratio; for ``revenue`` the values are each
    group's mean won amount per partner per 365 days observed and ``estimate`` is
    their ratio. ``p_value`` is the test named in ``test`` and ``q_value`` its
    Benjamini-Hochberg adjustment across every finding of the run.
    ``adjusted_estimate`` is adjusted for ``adjusted_for`` by
    ``adjustment_method``; ``e_value`` says how strong an unmeasured confounder
    would have to be to explain it away. ``detectable_effect`` is the smallest
    ratio these numbers detect with 80% power. The negative control compares the
    same groups on the outcome of the prior period, which the behaviour cannot
    have caused.
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
    rule_id: str = ""
    threshold: float | None = None
    unit: Literal["partner", "deal"] = "partner"
    value_with_ci_low: float | None = None
    value_with_ci_high: float | None = None
    value_without_ci_low: float | None = None
    value_without_ci_high: float | None = None
    odds_ratio: float | None = None
    odds_ratio_ci_low: float | None = None
    odds_ratio_ci_high: float | None = None
    adjustment_method: str | None = None
    adjustment_note: str | None = None
    e_value: float | None = None
    e_value_ci: float | None = None
    detectable_effect: float | None = None
    restricted_mean_difference: float | None = None
    restricted_mean_difference_ci_low: float | None = None
    restricted_mean_difference_ci_high: float | None = None
    median_with: float | None = None
    median_without: float | None = None
    bootstrap_ci_low: float | None = None
    bootstrap_ci_high: float | None = None
    clusters_with: int | None = None
    clusters_without: int | None = None
    n_excluded_prior: int = 0
    negative_control_estimate: float | None = None
    negative_control_ci_low: float | None = None
    negative_control_ci_high: float | None = None
    negative_control_p_value: float | None = None
    statement_en: str = ""
    statement_ja: str = ""
    curves: dict[str, Any] | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as the flat dictionary of ``analyze --format json``."""
        values = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name != "curves"
        }
        values["adjusted_for"] = list(self.adjusted_for)
        return values


def _flag(partners: pd.DataFrame, column: str) -> pd.Series:
    if column not in partners.columns:
        return pd.Series(False, index=partners.index)
    return partners[column].fillna(False).astype(bool)


def eligible_partners(cohort: Cohort, outcome: str) -> tuple[pd.DataFrame, int]:
    """Return the partners an outcome is compared on, and how many were left out
    because they had already reached it before their exposure window opened.

    A partner that created a deal before is left out of ``opportunity_rate`` and
    ``lead_time``; one that won a deal before, of ``win_rate`` and
    ``deal_win_rate``. Revenue keeps every partner and adjusts for the prior
    period's revenue when the study lists ``prior_revenue`` in ``adjust_for``.
    """
    partners = cohort.partners
    if outcome in ("opportunity_rate", "lead_time"):
        flag = "created_before"
    elif outcome in ("win_rate", "deal_win_rate"):
        flag = "won_before"
    else:
        return partners, 0
    if flag not in cohort.subsets:
        before = _flag(partners, flag)
        cohort.subsets[flag] = (partners[~before], int(before.sum()))
    return cohort.subsets[flag]


def outcome_groups(cohort: Cohort, outcome: str) -> tuple[pd.DataFrame, pd.Series]:
    """Return the partners that a rate outcome is measured on, and whether each
    had it.

    ``opportunity_rate`` is measured on every eligible partner: the outcome is a
    deal created in the outcome window. ``win_rate`` is measured on the eligible
    partners with a deal won or lost in the outcome window: the outcome is a won
    deal there.
    """
    partners, _ = eligible_partners(cohort, outcome)
    if outcome == "opportunity_rate":
        return partners, partners["deals_created"] > 0
    if outcome == "win_rate":
        if "closed" not in cohort.subsets:
            cohort.subsets["closed"] = (partners[partners["deals_closed"] > 0], 0)
        closed = cohort.subsets["closed"][0]
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

    A missing covariate value forms a stratum of its own; ``prior_revenue`` forms
    two strata, with and without revenue in the prior period.
    """
    keys = pd.DataFrame(index=partners.index)
    for name in covariates:
        if name == PRIOR_REVENUE:
            keys[name] = np.where(partners[name].fillna(0) > 0, "some", "none")
        else:
            keys[name] = partners[name].astype("object").fillna(MISSING_COVARIATE)
    codes = keys.groupby(covariates, dropna=False, sort=True).ngroup().to_numpy()
    cells = np.bincount(
        codes * 4 + done.to_numpy(dtype=int) * 2 + had_outcome.to_numpy(dtype=int),
        minlength=(codes.max() + 1 if len(codes) else 0) * 4,
    ).reshape(-1, 4)
    # Columns: without and no event, without and event, with and no event, with
    # and event.
    return [
        Stratum(int(row[3]), int(row[2] + row[3]), int(row[1]), int(row[0] + row[1]))
        for row in cells
    ]


def _bounds(interval: Interval) -> tuple[float | None, float | None, float | None]:
    return interval.estimate, interval.low, interval.high


def _base_finding(
    cohort: Cohort, rule: Rule, outcome: str, study: Study, locale: str
) -> Finding:
    base_id, _, threshold = rule.id.partition(">=")
    return Finding(
        behavior=rule.id,
        behavior_label=rule.title(locale),
        outcome=outcome,
        n_with=0,
        n_without=0,
        events_with=0,
        events_without=0,
        value_with=None,
        value_without=None,
        status="ok",
        measure=MEASURES[outcome],
        test=TESTS[outcome],
        adjusted_for=list(study.adjust_for),
        n_excluded_no_start=cohort.n_excluded_no_start,
        n_excluded_followup=cohort.n_excluded_followup,
        rule_id=base_id,
        threshold=float(threshold) if threshold else None,
    )


def _too_few_per_covariate(
    events: int, non_events: int, columns: int, study: Study
) -> bool:
    """Return whether a regression has fewer than ``min_events_per_covariate`` of
    the rarer outcome per coefficient (the behaviour and each covariate column).
    """
    return min(events, non_events) < study.min_events_per_covariate * (columns + 1)


def _set_adjusted(finding: Finding, interval: Interval, method: str) -> None:
    (
        finding.adjusted_estimate,
        finding.adjusted_ci_low,
        finding.adjusted_ci_high,
    ) = _bounds(interval)
    finding.adjustment_method = method if interval.estimate is not None else None


def _set_e_value(finding: Finding, *, invert: bool = False) -> None:
    estimate = finding.adjusted_estimate
    low, high = finding.adjusted_ci_low, finding.adjusted_ci_high
    if estimate is None:
        return
    if invert:
        # A time ratio t is the hazard ratio 1 / t of an exponential model.
        estimate = 1 / estimate
        low, high = (1 / high if high else None), (1 / low if low else None)
    finding.e_value, finding.e_value_ci = e_value(estimate, low, high)


def _adjust_binary(
    finding: Finding,
    partners: pd.DataFrame,
    done: pd.Series,
    had_outcome: pd.Series,
    study: Study,
) -> None:
    """Adjust a partner-level rate: Mantel-Haenszel over strata, or modified
    Poisson regression when a covariate is continuous or the study sets
    ``adjustment: regression``.
    Regression with too few events per covariate falls back to Mantel-Haenszel.
    """
    covariates = list(study.adjust_for)
    if not covariates:
        return
    wants_regression = study.adjustment == "regression" or (
        study.adjustment == "auto" and PRIOR_REVENUE in covariates
    )
    if wants_regression:
        design = covariate_matrix(partners, covariates)
        events = int(had_outcome.sum())
        if _too_few_per_covariate(
            events, len(had_outcome) - events, design.shape[1], study
        ):
            finding.adjustment_note = "few_events_per_covariate"
            logger.warning(
                "Behaviour %s, outcome %s: too few events for %d covariate columns; "
                "adjusting by Mantel-Haenszel strata instead",
                finding.behavior,
                finding.outcome,
                design.shape[1],
            )
        else:
            fit = poisson_ratio(
                had_outcome.to_numpy(dtype=float), done.to_numpy(dtype=float), design
            )
            _set_adjusted(finding, fit.interval, "modified_poisson")
            _set_e_value(finding)
            return
    strata = stratified_counts(partners, done, had_outcome, covariates)
    _set_adjusted(finding, mantel_haenszel_risk_ratio(strata), "mantel_haenszel")
    _set_e_value(finding)


def _prior_rate_control(
    cohort: Cohort, rule: Rule, outcome: str, study: Study
) -> tuple[Interval, float | None]:
    """Compare the groups on the prior period's rate, on every partner of the
    cohort: a deal created (for opportunity rate and lead time) or a deal won among
    partners that closed one (for the win rates).
    """
    partners = cohort.partners
    needed = ("deals_created_prior", "deals_closed_prior", "deals_won_prior")
    if any(name not in partners.columns for name in needed):
        return Interval(None, None, None), None
    if outcome in ("opportunity_rate", "lead_time"):
        measured = partners
        had = measured["deals_created_prior"] > 0
    else:
        measured = partners[partners["deals_closed_prior"] > 0]
        had = measured["deals_won_prior"] > 0
    done = measured[rule.id].astype(bool)
    counts = (
        int(done.sum()),
        int(had[done].sum()),
        int((~done).sum()),
        int(had[~done].sum()),
    )
    if too_little_data(
        *counts, min_partners=study.min_partners, min_events=study.min_events
    ):
        return Interval(None, None, None), None
    n_with, events_with, n_without, events_without = counts
    ratio = risk_ratio_score(events_with, n_with, events_without, n_without)
    return ratio, fisher_exact_p(events_with, n_with, events_without, n_without)


def _prior_revenue_control(
    cohort: Cohort, rule: Rule, study: Study
) -> tuple[Interval, float | None]:
    partners = cohort.partners
    if PRIOR_REVENUE not in partners.columns:
        return Interval(None, None, None), None
    done = partners[rule.id].astype(bool)
    positive = partners[PRIOR_REVENUE] > 0
    if (
        done.sum() < study.min_partners
        or (~done).sum() < study.min_partners
        or positive[done].sum() < study.min_events
        or positive[~done].sum() < study.min_events
    ):
        return Interval(None, None, None), None
    fit = poisson_ratio(
        partners[PRIOR_REVENUE].to_numpy(dtype=float), done.to_numpy(dtype=float)
    )
    return fit.interval, fit.p_value


def _set_control(finding: Finding, control: tuple[Interval, float | None]) -> None:
    interval, p_value = control
    (
        finding.negative_control_estimate,
        finding.negative_control_ci_low,
        finding.negative_control_ci_high,
    ) = _bounds(interval)
    finding.negative_control_p_value = p_value


def compare_rate(
    cohort: Cohort, rule: Rule, outcome: str, study: Study, locale: str
) -> Finding:
    """Compare partners with and without ``rule`` on ``opportunity_rate`` or
    ``win_rate``.
    """
    finding = _base_finding(cohort, rule, outcome, study, locale)
    _, finding.n_excluded_prior = eligible_partners(cohort, outcome)
    partners, had_outcome = outcome_groups(cohort, outcome)
    done = partners[rule.id].astype(bool)
    n_with = int(done.sum())
    n_without = len(partners) - n_with
    events_with = int(had_outcome[done].sum())
    events_without = int(had_outcome[~done].sum())
    finding.n_with, finding.n_without = n_with, n_without
    finding.events_with, finding.events_without = events_with, events_without
    with_rate = wilson_interval(events_with, n_with)
    without_rate = wilson_interval(events_without, n_without)
    finding.value_with, finding.value_with_ci_low, finding.value_with_ci_high = _bounds(
        with_rate
    )
    (
        finding.value_without,
        finding.value_without_ci_low,
        finding.value_without_ci_high,
    ) = _bounds(without_rate)
    pooled = proportion(events_with + events_without, n_with + n_without)
    baseline = finding.value_without if finding.value_without else pooled
    if baseline is not None:
        finding.detectable_effect = detectable_risk_ratio(n_with, n_without, baseline)
    counts = (n_with, events_with, n_without, events_without)
    if too_little_data(
        *counts, min_partners=study.min_partners, min_events=study.min_events
    ):
        finding.status = "insufficient_data"
        return finding

    ratio = risk_ratio_score(events_with, n_with, events_without, n_without)
    difference = risk_difference_score(events_with, n_with, events_without, n_without)
    odds = odds_ratio_woolf(events_with, n_with, events_without, n_without)
    finding.estimate, finding.ci_low, finding.ci_high = _bounds(ratio)
    (
        finding.risk_difference,
        finding.risk_difference_ci_low,
        finding.risk_difference_ci_high,
    ) = _bounds(difference)
    finding.odds_ratio, finding.odds_ratio_ci_low, finding.odds_ratio_ci_high = _bounds(
        odds
    )
    finding.p_value = fisher_exact_p(events_with, n_with, events_without, n_without)
    _adjust_binary(finding, partners, done, had_outcome, study)
    if study.negative_control:
        _set_control(finding, _prior_rate_control(cohort, rule, outcome, study))
    return finding


def compare_deals(cohort: Cohort, rule: Rule, study: Study, locale: str) -> Finding:
    """Compare the deals won among deals closed, by whether their partner did
    ``rule``, with standard errors clustered by partner.
    """
    finding = _base_finding(cohort, rule, "deal_win_rate", study, locale)
    finding.unit = "deal"
    partners, finding.n_excluded_prior = eligible_partners(cohort, "deal_win_rate")
    deals = cohort.deals
    if deals is None:
        deals = pd.DataFrame({"partner_id": pd.Series(dtype=str), "won": []})
    keep = ["partner_id", rule.id, *study.adjust_for]
    table = deals.merge(partners[keep], on="partner_id", how="inner")
    done = table[rule.id].astype(bool)
    won = table["won"].astype(bool)
    finding.n_with, finding.n_without = int(done.sum()), int((~done).sum())
    finding.events_with = int(won[done].sum())
    finding.events_without = int(won[~done].sum())
    finding.clusters_with = int(table.loc[done, "partner_id"].nunique())
    finding.clusters_without = int(table.loc[~done, "partner_id"].nunique())
    finding.value_with = proportion(finding.events_with, finding.n_with)
    finding.value_without = proportion(finding.events_without, finding.n_without)
    pooled = proportion(
        finding.events_with + finding.events_without, finding.n_with + finding.n_without
    )
    baseline = finding.value_without if finding.value_without else pooled
    if baseline is not None:
        # Partners, not deals, bound what the clustered comparison can detect.
        finding.detectable_effect = detectable_risk_ratio(
            finding.clusters_with, finding.clusters_without, baseline
        )
    few_partners = min(finding.clusters_with, finding.clusters_without) < (
        study.min_partners
    )
    if few_partners or too_little_data(
        finding.n_with,
        finding.events_with,
        finding.n_without,
        finding.events_without,
        min_partners=0,
        min_events=study.min_events,
    ):
        finding.status = "insufficient_data"
        return finding
    clusters = table["partner_id"].to_numpy()
    fit = poisson_ratio(
        won.to_numpy(dtype=float), done.to_numpy(dtype=float), clusters=clusters
    )
    finding.estimate, finding.ci_low, finding.ci_high = _bounds(fit.interval)
    finding.p_value = fit.p_value
    if fit.log_se is not None:
        finding.detectable_effect = math.exp(Z_80_POWER * fit.log_se)
    if study.adjust_for:
        design = covariate_matrix(table, list(study.adjust_for))
        events = int(won.sum())
        if _too_few_per_covariate(events, len(won) - events, design.shape[1], study):
            finding.adjustment_note = "few_events_per_covariate"
        else:
            adjusted = poisson_ratio(
                won.to_numpy(dtype=float),
                done.to_numpy(dtype=float),
                design,
                clusters=clusters,
            )
            _set_adjusted(finding, adjusted.interval, "modified_poisson_clustered")
            _set_e_value(finding)
    if study.negative_control:
        _set_control(finding, _prior_rate_control(cohort, rule, "win_rate", study))
    return finding


def compare_lead_time(cohort: Cohort, rule: Rule, study: Study, locale: str) -> Finding:
    """Compare the days to the first deal in the outcome window, censored at the
    horizon, between partners with and without ``rule``.
    """
    finding = _base_finding(cohort, rule, "lead_time", study, locale)
    partners, finding.n_excluded_prior = eligible_partners(cohort, "lead_time")
    horizon = float(study.horizon_days)
    first = partners["first_deal_days"].astype(float)
    observed = first.notna().to_numpy()
    durations = np.minimum(first.fillna(horizon).to_numpy(), horizon)
    done = partners[rule.id].astype(bool).to_numpy()
    finding.n_with, finding.n_without = int(done.sum()), int((~done).sum())
    finding.events_with = int(observed[done].sum())
    finding.events_without = int(observed[~done].sum())
    total_events = finding.events_with + finding.events_without
    total = finding.n_with + finding.n_without
    if total and total_events and finding.n_with and finding.n_without:
        share = finding.n_with / total
        # Schoenfeld: the hazard ratio detectable with 80% power from the events,
        # as the time ratio 1 / HR of an exponential model.
        log_hazard = Z_80_POWER / math.sqrt(total_events * share * (1 - share))
        finding.detectable_effect = math.exp(-log_hazard)
    curves = {}
    for name, member in (("with", True), ("without", False)):
        chosen = done == member
        curve = kaplan_meier(durations[chosen], observed[chosen])
        curves[name] = {"times": curve.times, "survival": curve.survival}
    finding.curves = curves
    if (
        min(finding.n_with, finding.n_without) < study.min_partners
        or min(finding.events_with, finding.events_without) < study.min_survival_events
    ):
        finding.status = "insufficient_data"
        return finding
    mean_with, mean_without, difference = restricted_mean_difference(
        durations,
        observed,
        done,
        horizon,
        resamples=study.resamples,
        seed=study.seed,
    )
    finding.value_with, finding.value_without = mean_with, mean_without
    (
        finding.restricted_mean_difference,
        finding.restricted_mean_difference_ci_low,
        finding.restricted_mean_difference_ci_high,
    ) = _bounds(difference)
    medians = [
        median_time(kaplan_meier(durations[done == member], observed[done == member]))
        for member in (True, False)
    ]
    if None not in medians:
        finding.median_with, finding.median_without = medians
    _, finding.p_value = logrank(durations, observed, done)
    ratio = weibull_time_ratio(durations, observed, done)
    finding.estimate, finding.ci_low, finding.ci_high = _bounds(ratio)
    if study.adjust_for:
        design = covariate_matrix(partners, list(study.adjust_for))
        if _too_few_per_covariate(total_events, total, design.shape[1], study):
            finding.adjustment_note = "few_events_per_covariate"
        else:
            adjusted = weibull_time_ratio(durations, observed, done, design)
            _set_adjusted(finding, adjusted, "weibull_aft")
            _set_e_value(finding, invert=True)
    if study.negative_control:
        _set_control(finding, _prior_rate_control(cohort, rule, "lead_time", study))
    return finding


def compare_revenue(cohort: Cohort, rule: Rule, study: Study, locale: str) -> Finding:
    """Compare the amount won per partner per day observed, with and without
    ``rule``, as a ratio of means from a Poisson-family model with robust standard
    errors, checked by a bootstrap.
    """
    finding = _base_finding(cohort, rule, "revenue", study, locale)
    partners = cohort.partners
    done = partners[rule.id].astype(bool).to_numpy()
    amounts = partners["revenue"].astype(float).fillna(0.0).to_numpy()
    days = partners["observed_days"].astype(float).to_numpy()
    positive = amounts > 0
    finding.n_with, finding.n_without = int(done.sum()), int((~done).sum())
    finding.events_with = int(positive[done].sum())
    finding.events_without = int(positive[~done].sum())
    for name, member in (("with", True), ("without", False)):
        chosen = done == member
        if chosen.any() and days[chosen].sum() > 0:
            mean = amounts[chosen].sum() / days[chosen].sum() * DAYS_PER_YEAR
            setattr(finding, f"value_{name}", float(mean))
    if (
        min(finding.n_with, finding.n_without) < study.min_partners
        or min(finding.events_with, finding.events_without) < study.min_events
    ):
        finding.status = "insufficient_data"
        return finding
    fit = poisson_ratio(amounts, done, exposure=days)
    finding.estimate, finding.ci_low, finding.ci_high = _bounds(fit.interval)
    finding.p_value = fit.p_value
    if fit.log_se is not None:
        finding.detectable_effect = math.exp(Z_80_POWER * fit.log_se)
    check = ratio_of_means_bootstrap(
        amounts, done, exposure=days, resamples=study.resamples, seed=study.seed
    )
    finding.bootstrap_ci_low, finding.bootstrap_ci_high = check.low, check.high
    if study.adjust_for:
        design = covariate_matrix(partners, list(study.adjust_for))
        earners = int(positive.sum())
        if _too_few_per_covariate(
            earners, len(amounts) - earners, design.shape[1], study
        ):
            finding.adjustment_note = "few_events_per_covariate"
        else:
            adjusted = poisson_ratio(amounts, done, design, exposure=days)
            _set_adjusted(finding, adjusted.interval, "poisson_glm_robust")
            _set_e_value(finding)
    if study.negative_control:
        _set_control(finding, _prior_revenue_control(cohort, rule, study))
    return finding


def compare(
    cohort: Cohort, rule: Rule, outcome: str, study: Study, locale: str
) -> Finding:
    """Compare the partners who did ``rule`` in the exposure window with the rest."""
    if outcome in ("opportunity_rate", "win_rate"):
        return compare_rate(cohort, rule, outcome, study, locale)
    if outcome == "deal_win_rate":
        return compare_deals(cohort, rule, study, locale)
    if outcome == "lead_time":
        return compare_lead_time(cohort, rule, study, locale)
    if outcome == "revenue":
        return compare_revenue(cohort, rule, study, locale)
    raise ValueError(f"unsupported outcome {outcome!r}")


def balance_table(cohort: Cohort, rules: list[Rule], study: Study) -> list[dict]:
    """Return, for each behaviour, the covariates' means in both groups and their
    standardized differences (the balance table of the adjustment).
    """
    covariates = [name for name in study.adjust_for if name in cohort.partners.columns]
    rows: list[dict] = []
    if not covariates or cohort.partners.empty:
        return rows
    for rule in rules:
        done = cohort.partners[rule.id].astype(bool)
        for row in standardized_differences(cohort.partners, done, covariates):
            rows.append({"behavior": rule.id, **row})
    return rows


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
        ``{"study", "as_of", "design", "findings", "curves", "balance"}``:
        ``findings`` a list of flat dictionaries (see :class:`Finding`), behaviours
        and their thresholds in study order, each with its outcomes in study order;
        ``curves`` the Kaplan-Meier curves of each ``lead_time`` finding; ``balance``
        the covariates' balance between the groups of each behaviour.

    Raises
    ------
    ConfigError
        If a behaviour names a rule that ``model`` does not have.
    """
    rules = study.resolve_behaviors(model)
    if study.design == "time_varying":
        from partnerlift.analysis.timevarying import analyze_time_varying

        findings, as_of = analyze_time_varying(
            db, study, rules, zone=zone, locale=locale
        )
        balance: list[dict] = []
    else:
        cohort = build_cohort(db, study, rules, zone=zone)
        as_of = cohort.as_of
        findings = [
            compare(cohort, rule, outcome, study, locale)
            for rule in rules
            for outcome in study.outcomes
        ]
        balance = balance_table(cohort, rules, study)
    q_values = bh_q_values([finding.p_value for finding in findings])
    for finding, q_value in zip(findings, q_values, strict=True):
        finding.q_value = q_value
    titles = {rule.id: rule for rule in rules}
    for finding in findings:
        rule = titles[finding.behavior]
        finding.statement_en = state_finding(finding, study, rule.title("en"), "en")
        finding.statement_ja = state_finding(finding, study, rule.title("ja"), "ja")
    logger.info(
        "Study %s: %d findings, %d with too little data",
        study.study,
        len(findings),
        sum(finding.status == "insufficient_data" for finding in findings),
    )
    curves = [
        {
            "behavior": finding.behavior,
            "outcome": finding.outcome,
            "horizon": study.horizon_days,
            **finding.curves,
        }
        for finding in findings
        if finding.curves
    ]
    return {
        "study": study.study,
        "as_of": as_of.isoformat(),
        "design": study.design,
        "findings": [finding.as_dict() for finding in findings],
        "curves": curves,
        "balance": balance,
    }
