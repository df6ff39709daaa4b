"""The sentences that state each finding, in English and Japanese.

A statement gives both groups' numbers first, then the risk ratio with its interval,
the adjusted ratio and the q-value, and ends by calling the result an association.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from partnerlift.settings.messages import register, text

if TYPE_CHECKING:
    from partnerlift.analysis.findings import Finding
    from partnerlift.analysis.study import Study

register(
    {
        "analysis.statement.ok": {
            "en": (
                "Partners with “{label}” {exposure} {outcome} {direction}: "
                "{value_with} ({events_with} of {n_with}) against {value_without} "
                "({events_without} of {n_without}); risk ratio {estimate} "
                "(95% CI {ci_low} to {ci_high}){adjusted}, {q}. "
                "This is an association in past data, not proof of cause."
            ),
            "ja": (
                "「{label}」を{exposure}達成したパートナーは、{outcome}割合が"
                "{direction}: {value_with}（{n_with}社中{events_with}社）対 "
                "{value_without}（{n_without}社中{events_without}社）。"
                "リスク比 {estimate}（95%信頼区間 {ci_low}～{ci_high}）{adjusted}、"
                "{q}。これは過去データにおける関連であり、因果関係の証明ではありません。"
            ),
        },
        "analysis.statement.insufficient": {
            "en": (
                "Too little data to compare partners with and without “{label}” "
                "{exposure} on whether they {outcome}: {events_with} of {n_with} "
                "with it and {events_without} of {n_without} without it. Each group "
                "needs at least {min_partners} partners, and at least {min_events} "
                "with and {min_events} without the outcome."
            ),
            "ja": (
                "「{label}」を{exposure}達成したかどうかで、{outcome}割合を比べるには"
                "データが不足しています: 達成 {n_with}社中{events_with}社、"
                "未達成 {n_without}社中{events_without}社。各群に{min_partners}社以上、"
                "かつ該当と非該当がそれぞれ{min_events}社以上必要です。"
            ),
        },
        "analysis.exposure.joined": {
            "en": "in their first {days} days",
            "ja": "参加後{days}日間に",
        },
        "analysis.exposure.fixed": {
            "en": "between {start} and {end}",
            "ja": "{start}から{end}までに",
        },
        "analysis.outcome.opportunity_rate": {
            "en": "created at least one deal in the next {horizon} days",
            "ja": "その後{horizon}日間に商談を1件以上作成した",
        },
        "analysis.outcome.win_rate": {
            "en": (
                "won at least one deal in the next {horizon} days (among partners "
                "that closed a deal in that time)"
            ),
            "ja": (
                "その後{horizon}日間に商談を1件以上受注した（その期間に商談が"
                "受注または失注したパートナーの中で）"
            ),
        },
        "analysis.direction.more": {"en": "more often", "ja": "高い"},
        "analysis.direction.less": {"en": "less often", "ja": "低い"},
        "analysis.direction.unclear": {
            "en": "about as often as the others (the interval includes 1)",
            "ja": "他と明確には違わない（信頼区間が1を含む）",
        },
        "analysis.adjusted.estimate": {
            "en": ", adjusted for {covariates} {estimate} ({ci_low} to {ci_high})",
            "ja": "、{covariates}で調整後 {estimate}（{ci_low}～{ci_high}）",
        },
        "analysis.adjusted.not_estimable": {
            "en": ", adjusted for {covariates}: not estimable",
            "ja": "、{covariates}で調整後: 推定できません",
        },
        "analysis.adjusted.none": {
            "en": ", not adjusted for any partner characteristic",
            "ja": "、パートナー属性による調整なし",
        },
        "analysis.not_estimable": {"en": "not estimable", "ja": "推定不能"},
        "analysis.q.value": {"en": "q = {q}", "ja": "q = {q}"},
        "analysis.q.small": {"en": "q < 0.001", "ja": "q < 0.001"},
        "analysis.covariate.tier": {"en": "tier", "ja": "ティア"},
        "analysis.covariate.size": {"en": "size", "ja": "規模"},
        "analysis.covariate.region": {"en": "region", "ja": "地域"},
        "analysis.covariate.segment": {"en": "segment", "ja": "セグメント"},
        "analysis.covariate.and": {"en": " and ", "ja": "と"},
    }
)


def format_percent(value: float | None, locale: str) -> str:
    """Format a proportion as a percentage with one decimal, such as ``45.0%``."""
    if value is None:
        return text("analysis.not_estimable", locale)
    return f"{value * 100:.1f}%"


def format_ratio(value: float | None, locale: str) -> str:
    """Format a ratio with two decimals, such as ``2.25``."""
    if value is None:
        return text("analysis.not_estimable", locale)
    return f"{value:.2f}"


def format_q(q_value: float | None, locale: str) -> str:
    """Format a q-value with three decimals, or as ``q < 0.001``."""
    if q_value is None:
        return text(
            "analysis.q.value", locale, q=text("analysis.not_estimable", locale)
        )
    if q_value < 0.001:
        return text("analysis.q.small", locale)
    return text("analysis.q.value", locale, q=f"{q_value:.3f}")


def covariate_list(covariates: Sequence[str], locale: str) -> str:
    """Join covariate names in ``locale``: ``tier and size``, ``ティアと規模``."""
    names = [text(f"analysis.covariate.{name}", locale) for name in covariates]
    if len(names) <= 1:
        return "".join(names)
    if locale == "ja":
        return (
            "、".join(names[:-1]) + text("analysis.covariate.and", locale) + names[-1]
        )
    return ", ".join(names[:-1]) + text("analysis.covariate.and", locale) + names[-1]


def exposure_phrase(study: Study, locale: str) -> str:
    """Describe the exposure window: ``in their first 90 days``."""
    exposure = study.exposure
    if exposure.from_joined:
        return text("analysis.exposure.joined", locale, days=exposure.days)
    return text(
        "analysis.exposure.fixed",
        locale,
        start=exposure.start.isoformat(),  # type: ignore[union-attr]
        end=exposure.end.isoformat() if exposure.end else "",
    )


def _direction(finding: Finding, locale: str) -> str:
    low, high = finding.ci_low, finding.ci_high
    if low is None or high is None or low <= 1 <= high:
        return text("analysis.direction.unclear", locale)
    if low > 1:
        return text("analysis.direction.more", locale)
    return text("analysis.direction.less", locale)


def _adjusted(finding: Finding, locale: str) -> str:
    if not finding.adjusted_for:
        return text("analysis.adjusted.none", locale)
    covariates = covariate_list(finding.adjusted_for, locale)
    if finding.adjusted_estimate is None:
        return text("analysis.adjusted.not_estimable", locale, covariates=covariates)
    return text(
        "analysis.adjusted.estimate",
        locale,
        covariates=covariates,
        estimate=format_ratio(finding.adjusted_estimate, locale),
        ci_low=format_ratio(finding.adjusted_ci_low, locale),
        ci_high=format_ratio(finding.adjusted_ci_high, locale),
    )


def state_finding(finding: Finding, study: Study, label: str, locale: str) -> str:
    """Write the statement of ``finding`` in ``locale``, naming the behaviour ``label``.

    An ``insufficient_data`` finding gets the counts and the minimum group sizes in
    place of an estimate.
    """
    outcome = text(
        f"analysis.outcome.{finding.outcome}", locale, horizon=study.horizon_days
    )
    counts = {
        "label": label,
        "exposure": exposure_phrase(study, locale),
        "outcome": outcome,
        "n_with": finding.n_with,
        "n_without": finding.n_without,
        "events_with": finding.events_with,
        "events_without": finding.events_without,
    }
    if finding.status == "insufficient_data":
        return text(
            "analysis.statement.insufficient",
            locale,
            min_partners=study.min_partners,
            min_events=study.min_events,
            **counts,
        )
    return text(
        "analysis.statement.ok",
        locale,
        direction=_direction(finding, locale),
        value_with=format_percent(finding.value_with, locale),
        value_without=format_percent(finding.value_without, locale),
        estimate=format_ratio(finding.estimate, locale),
        ci_low=format_ratio(finding.ci_low, locale),
        ci_high=format_ratio(finding.ci_high, locale),
        adjusted=_adjusted(finding, locale),
        q=format_q(finding.q_value, locale),
        **counts,
    )
