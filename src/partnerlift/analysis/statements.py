"""The sentences that state each finding, in English and Japanese.

A statement gives both groups' numbers first, then the ratio with its interval,
the adjusted ratio and the q-value, then the smallest effect these numbers could
detect, the E-value and the negative control, and ends by calling the result an
association. An odds ratio is never worded as "times as likely"; statements do not
use it at all.
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
                "(95% CI {ci_low} to {ci_high}){adjusted}, {q}."
            ),
            "ja": (
                "「{label}」を{exposure}達成したパートナーは、{outcome}割合が"
                "{direction}: {value_with}（{n_with}社中{events_with}社）対 "
                "{value_without}（{n_without}社中{events_without}社）。"
                "リスク比 {estimate}（95%信頼区間 {ci_low}～{ci_high}）{adjusted}、"
                "{q}。"
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
        "analysis.covariate.prior_revenue": {
            "en": "prior-period revenue",
            "ja": "前期間の受注額",
        },
        "analysis.statement.deal_win_rate": {
            "en": (
                "Deals of partners with “{label}” {exposure} that closed in the next "
                "{horizon} days were won {direction}: {value_with} ({events_with} of "
                "{n_with} deals from {clusters_with} partners) against "
                "{value_without} ({events_without} of {n_without} deals from "
                "{clusters_without} partners); risk ratio {estimate} (95% CI "
                "{ci_low} to {ci_high}, standard errors clustered by partner)"
                "{adjusted}, {q}."
            ),
            "ja": (
                "「{label}」を{exposure}達成したパートナーの商談で、その後{horizon}日間に"
                "受注または失注したものの受注率は{direction}: {value_with}"
                "（{clusters_with}社の{n_with}件中{events_with}件）対 {value_without}"
                "（{clusters_without}社の{n_without}件中{events_without}件）。"
                "リスク比 {estimate}（95%信頼区間 {ci_low}～{ci_high}、"
                "パートナー単位のクラスター標準誤差）{adjusted}、{q}。"
            ),
        },
        "analysis.statement.lead_time": {
            "en": (
                "Partners with “{label}” {exposure} created their first deal "
                "{direction}: within the next {horizon} days they spent on average "
                "{value_with} days without a deal against {value_without} "
                "({events_with} of {n_with} created one, against {events_without} "
                "of {n_without}){medians}; time ratio {estimate} (95% CI {ci_low} "
                "to {ci_high}){adjusted}, difference in days without a deal "
                "{difference} ({difference_low} to {difference_high}, bootstrap), "
                "log-rank {q}."
            ),
            "ja": (
                "「{label}」を{exposure}達成したパートナーは、最初の商談作成が"
                "{direction}: その後{horizon}日間のうち商談のない日数は平均 "
                "{value_with}日 対 {value_without}日（{n_with}社中{events_with}社 対 "
                "{n_without}社中{events_without}社が商談を作成）{medians}。"
                "時間比 {estimate}（95%信頼区間 {ci_low}～{ci_high}）{adjusted}、"
                "商談のない日数の差 {difference}日（{difference_low}～"
                "{difference_high}、ブートストラップ）、ログランク検定 {q}。"
            ),
        },
        "analysis.statement.hazard": {
            "en": (
                "Once partners had “{label}”, they created a first deal {direction}: "
                "{value_with} against {value_without} first deals per partner-year "
                "({events_with} first deals in the time of {n_with} partners with it, "
                "{events_without} in the time of {n_without} partners without it); "
                "hazard ratio {estimate} (95% CI {ci_low} to {ci_high}, the behaviour "
                "counted from the moment it started){adjusted}, {q}."
            ),
            "ja": (
                "「{label}」を達成した後のパートナーは、最初の商談作成が{direction}: "
                "パートナー1社1年あたり {value_with}件 対 {value_without}件"
                "（達成後の{n_with}社の期間で{events_with}件、未達成の{n_without}社の"
                "期間で{events_without}件）。ハザード比 {estimate}（95%信頼区間 "
                "{ci_low}～{ci_high}、達成した時点から達成として計算）{adjusted}、{q}。"
            ),
        },
        "analysis.statement.revenue": {
            "en": (
                "Partners with “{label}” {exposure} won {direction} revenue in the "
                "next {horizon} days: {value_with} against {value_without} per "
                "partner per 365 days ({events_with} of {n_with} won any, against "
                "{events_without} of {n_without}); ratio of means {estimate} (95% "
                "CI {ci_low} to {ci_high}; bootstrap {boot_low} to {boot_high})"
                "{adjusted}, {q}."
            ),
            "ja": (
                "「{label}」を{exposure}達成したパートナーは、その後{horizon}日間の"
                "受注額が{direction}: パートナー1社365日あたり {value_with} 対 "
                "{value_without}（{n_with}社中{events_with}社 対 "
                "{n_without}社中{events_without}社が受注）。平均の比 {estimate}"
                "（95%信頼区間 {ci_low}～{ci_high}、ブートストラップ {boot_low}～"
                "{boot_high}）{adjusted}、{q}。"
            ),
        },
        "analysis.statement.insufficient_survival": {
            "en": (
                "Too little data to compare partners with and without “{label}” "
                "on the time to their first deal: {events_with} of {n_with} with it "
                "and {events_without} of {n_without} without it created one. Each "
                "group needs at least {min_partners} partners and {min_events} "
                "first deals."
            ),
            "ja": (
                "「{label}」の達成有無で最初の商談までの時間を比べるにはデータが"
                "不足しています: 達成 {n_with}社中{events_with}社、未達成 "
                "{n_without}社中{events_without}社が商談を作成。各群に"
                "{min_partners}社以上、かつ最初の商談が{min_events}件以上必要です。"
            ),
        },
        "analysis.statement.insufficient_deals": {
            "en": (
                "Too little data to compare the deals of partners with and without "
                "“{label}” {exposure}: {events_with} of {n_with} deals won from "
                "{clusters_with} partners with it and {events_without} of "
                "{n_without} from {clusters_without} partners without it. Each "
                "group needs deals from at least {min_partners} partners, and at "
                "least {min_events} won and {min_events} lost deals."
            ),
            "ja": (
                "「{label}」を{exposure}達成したかどうかで商談の受注率を比べるには"
                "データが不足しています: 達成 {clusters_with}社の{n_with}件中"
                "{events_with}件、未達成 {clusters_without}社の{n_without}件中"
                "{events_without}件が受注。各群に{min_partners}社以上の商談と、"
                "受注・失注がそれぞれ{min_events}件以上必要です。"
            ),
        },
        "analysis.statement.insufficient_revenue": {
            "en": (
                "Too little data to compare the revenue of partners with and "
                "without “{label}” {exposure}: {events_with} of {n_with} with it "
                "and {events_without} of {n_without} without it won any. Each group "
                "needs at least {min_partners} partners and {min_events} that won "
                "revenue."
            ),
            "ja": (
                "「{label}」を{exposure}達成したかどうかで受注額を比べるにはデータが"
                "不足しています: 達成 {n_with}社中{events_with}社、未達成 "
                "{n_without}社中{events_without}社が受注。各群に{min_partners}社"
                "以上、かつ受注したパートナーが{min_events}社以上必要です。"
            ),
        },
        "analysis.direction.sooner": {"en": "sooner", "ja": "早い"},
        "analysis.direction.later": {"en": "later", "ja": "遅い"},
        "analysis.direction.same_time": {
            "en": "at about the same time as the others (the interval includes 1)",
            "ja": "他と明確には違わない（信頼区間が1を含む）",
        },
        "analysis.direction.more_revenue": {"en": "more", "ja": "多い"},
        "analysis.direction.less_revenue": {"en": "less", "ja": "少ない"},
        "analysis.direction.same_revenue": {
            "en": "about as much (the interval includes 1)",
            "ja": "他と明確には違わない（信頼区間が1を含む）",
        },
        "analysis.direction.more_hazard": {"en": "sooner", "ja": "早い"},
        "analysis.direction.less_hazard": {"en": "later", "ja": "遅い"},
        "analysis.medians": {
            "en": "; median {median_with} against {median_without} days",
            "ja": "、中央値 {median_with}日 対 {median_without}日",
        },
        "analysis.adjusted.few_events": {
            "en": (
                ", not adjusted for {covariates} because there are too few events "
                "per covariate"
            ),
            "ja": "、{covariates}での調整は共変量あたりの件数が少なすぎるため行わず",
        },
        "analysis.detectable.risk_ratio": {
            "en": (
                "These numbers could detect a risk ratio of {value} or more with 80% "
                "power."
            ),
            "ja": (
                "この件数で80%の検出力をもって検出できるのはリスク比{value}以上です。"
            ),
        },
        "analysis.detectable.time_ratio": {
            "en": (
                "These numbers could detect a time ratio of {value} or less with 80% "
                "power."
            ),
            "ja": (
                "この件数で80%の検出力をもって検出できるのは時間比{value}以下です。"
            ),
        },
        "analysis.detectable.hazard_ratio": {
            "en": (
                "These numbers could detect a hazard ratio of {value} or more with "
                "80% power."
            ),
            "ja": (
                "この件数で80%の検出力をもって検出できるのはハザード比{value}以上です。"
            ),
        },
        "analysis.detectable.ratio_of_means": {
            "en": (
                "These numbers could detect a ratio of means of {value} or more with "
                "80% power."
            ),
            "ja": (
                "この件数で80%の検出力をもって検出できるのは平均の比{value}以上です。"
            ),
        },
        "analysis.detectable.none": {
            "en": "These numbers are too few to detect any plausible effect.",
            "ja": "この件数では妥当な大きさの効果を検出できません。",
        },
        "analysis.e_value": {
            "en": (
                "An unmeasured confounder would need a risk ratio of {value} with "
                "both the behaviour and the outcome to explain the adjusted estimate "
                "away (E-value; {bound} for the interval)."
            ),
            "ja": (
                "調整後の推定値を未測定の交絡で説明するには、行動と成果の両方と"
                "リスク比{value}の関連をもつ交絡因子が必要です（E値、信頼区間では"
                "{bound}）。"
            ),
        },
        "analysis.negative_control": {
            "en": (
                "Negative control: on the {horizon} days before the exposure window, "
                "which the behaviour cannot have changed, the same comparison gives "
                "{estimate} ({ci_low} to {ci_high}); far from 1 it points to "
                "differences between the partners rather than the behaviour."
            ),
            "ja": (
                "負の対照: 行動が影響しえない、行動を測る期間より前の{horizon}日間で"
                "同じ比較を"
                "すると {estimate}（{ci_low}～{ci_high}）。1から離れていれば、行動では"
                "なくパートナー間の違いを示唆します。"
            ),
        },
        "analysis.association": {
            "en": "This is an association in past data, not proof of cause.",
            "ja": "これは過去データにおける関連であり、因果関係の証明ではありません。",
        },
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


def format_days(value: float | None, locale: str) -> str:
    """Format a number of days with one decimal, such as ``62.5``."""
    if value is None:
        return text("analysis.not_estimable", locale)
    return f"{value:.1f}"


def format_amount(value: float | None, locale: str) -> str:
    """Format an amount with thousands separators and no decimals."""
    if value is None:
        return text("analysis.not_estimable", locale)
    return f"{value:,.0f}"


def _spans_one(finding: Finding) -> bool:
    low, high = finding.ci_low, finding.ci_high
    return low is None or high is None or low <= 1 <= high


def _direction(finding: Finding, locale: str) -> str:
    if finding.measure == "time_ratio":
        if _spans_one(finding):
            return text("analysis.direction.same_time", locale)
        above = (finding.ci_low or 0) > 1
        return text(f"analysis.direction.{'later' if above else 'sooner'}", locale)
    if finding.measure == "ratio_of_means":
        if _spans_one(finding):
            return text("analysis.direction.same_revenue", locale)
        above = (finding.ci_low or 0) > 1
        name = "more_revenue" if above else "less_revenue"
        return text(f"analysis.direction.{name}", locale)
    if finding.measure == "hazard_ratio":
        if _spans_one(finding):
            return text("analysis.direction.same_time", locale)
        above = (finding.ci_low or 0) > 1
        name = "more_hazard" if above else "less_hazard"
        return text(f"analysis.direction.{name}", locale)
    if _spans_one(finding):
        return text("analysis.direction.unclear", locale)
    if (finding.ci_low or 0) > 1:
        return text("analysis.direction.more", locale)
    return text("analysis.direction.less", locale)


def _adjusted(finding: Finding, locale: str) -> str:
    if not finding.adjusted_for:
        return text("analysis.adjusted.none", locale)
    covariates = covariate_list(finding.adjusted_for, locale)
    if finding.adjusted_estimate is None:
        if finding.adjustment_note == "few_events_per_covariate":
            return text("analysis.adjusted.few_events", locale, covariates=covariates)
        return text("analysis.adjusted.not_estimable", locale, covariates=covariates)
    return text(
        "analysis.adjusted.estimate",
        locale,
        covariates=covariates,
        estimate=format_ratio(finding.adjusted_estimate, locale),
        ci_low=format_ratio(finding.adjusted_ci_low, locale),
        ci_high=format_ratio(finding.adjusted_ci_high, locale),
    )


def _detectable(finding: Finding, locale: str) -> str:
    if finding.detectable_effect is None:
        return text("analysis.detectable.none", locale)
    return text(
        f"analysis.detectable.{finding.measure}",
        locale,
        value=format_ratio(finding.detectable_effect, locale),
    )


def _extras(finding: Finding, study: Study, locale: str) -> list[str]:
    """Return the sentences after the numbers: the detectable effect, the E-value
    and the negative control.
    """
    sentences = [_detectable(finding, locale)]
    if finding.status != "ok":
        return sentences
    if finding.e_value is not None:
        sentences.append(
            text(
                "analysis.e_value",
                locale,
                value=format_ratio(finding.e_value, locale),
                bound=format_ratio(finding.e_value_ci, locale),
            )
        )
    if finding.negative_control_estimate is not None:
        sentences.append(
            text(
                "analysis.negative_control",
                locale,
                horizon=study.horizon_days,
                estimate=format_ratio(finding.negative_control_estimate, locale),
                ci_low=format_ratio(finding.negative_control_ci_low, locale),
                ci_high=format_ratio(finding.negative_control_ci_high, locale),
            )
        )
    return sentences


def _join(sentences: list[str], locale: str) -> str:
    return ("" if locale == "ja" else " ").join(sentence for sentence in sentences)


def _main_sentence(
    finding: Finding, study: Study, locale: str, counts: dict[str, object]
) -> str:
    common = {
        "direction": _direction(finding, locale),
        "estimate": format_ratio(finding.estimate, locale),
        "ci_low": format_ratio(finding.ci_low, locale),
        "ci_high": format_ratio(finding.ci_high, locale),
        "adjusted": _adjusted(finding, locale),
        "q": format_q(finding.q_value, locale),
        "horizon": study.horizon_days,
        **counts,
    }
    if finding.measure == "hazard_ratio":
        return text(
            "analysis.statement.hazard",
            locale,
            value_with=format_ratio(finding.value_with, locale),
            value_without=format_ratio(finding.value_without, locale),
            **common,
        )
    if finding.outcome == "lead_time":
        medians = ""
        if finding.median_with is not None and finding.median_without is not None:
            medians = text(
                "analysis.medians",
                locale,
                median_with=format_days(finding.median_with, locale),
                median_without=format_days(finding.median_without, locale),
            )
        return text(
            "analysis.statement.lead_time",
            locale,
            value_with=format_days(finding.value_with, locale),
            value_without=format_days(finding.value_without, locale),
            medians=medians,
            difference=format_days(finding.restricted_mean_difference, locale),
            difference_low=format_days(
                finding.restricted_mean_difference_ci_low, locale
            ),
            difference_high=format_days(
                finding.restricted_mean_difference_ci_high, locale
            ),
            **common,
        )
    if finding.outcome == "revenue":
        return text(
            "analysis.statement.revenue",
            locale,
            value_with=format_amount(finding.value_with, locale),
            value_without=format_amount(finding.value_without, locale),
            boot_low=format_ratio(finding.bootstrap_ci_low, locale),
            boot_high=format_ratio(finding.bootstrap_ci_high, locale),
            **common,
        )
    values = {
        "value_with": format_percent(finding.value_with, locale),
        "value_without": format_percent(finding.value_without, locale),
    }
    if finding.outcome == "deal_win_rate":
        return text(
            "analysis.statement.deal_win_rate",
            locale,
            clusters_with=finding.clusters_with,
            clusters_without=finding.clusters_without,
            **values,
            **common,
        )
    outcome = text(
        f"analysis.outcome.{finding.outcome}", locale, horizon=study.horizon_days
    )
    common.pop("horizon")
    return text("analysis.statement.ok", locale, outcome=outcome, **values, **common)


def _insufficient(
    finding: Finding, study: Study, locale: str, counts: dict[str, object]
) -> str:
    if finding.outcome == "lead_time":
        return text(
            "analysis.statement.insufficient_survival",
            locale,
            min_partners=study.min_partners,
            min_events=study.min_survival_events,
            **counts,
        )
    message = {
        "deal_win_rate": "analysis.statement.insufficient_deals",
        "revenue": "analysis.statement.insufficient_revenue",
    }.get(finding.outcome, "analysis.statement.insufficient")
    outcome = (
        text(f"analysis.outcome.{finding.outcome}", locale, horizon=study.horizon_days)
        if finding.outcome in ("opportunity_rate", "win_rate")
        else ""
    )
    return text(
        message,
        locale,
        min_partners=study.min_partners,
        min_events=study.min_events,
        outcome=outcome,
        clusters_with=finding.clusters_with,
        clusters_without=finding.clusters_without,
        **counts,
    )


def state_finding(finding: Finding, study: Study, label: str, locale: str) -> str:
    """Write the statement of ``finding`` in ``locale``, naming the behaviour ``label``.

    An ``insufficient_data`` finding gets the counts and the minimum group sizes in
    place of an estimate. Every statement gives the effect that its numbers could
    detect with 80% power.
    """
    counts = {
        "label": label,
        "exposure": exposure_phrase(study, locale),
        "n_with": finding.n_with,
        "n_without": finding.n_without,
        "events_with": finding.events_with,
        "events_without": finding.events_without,
    }
    if finding.status == "insufficient_data":
        return _join(
            [
                _insufficient(finding, study, locale, counts),
                _detectable(finding, locale),
            ],
            locale,
        )
    return _join(
        [
            _main_sentence(finding, study, locale, counts),
            *_extras(finding, study, locale),
            text("analysis.association", locale),
        ],
        locale,
    )
