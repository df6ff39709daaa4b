"""The self-contained HTML report: summary, scores, findings and charts.

The report is one HTML file that makes no request of any kind when opened: the CSS is
inline, the charts are inline SVG drawn here, and fonts come from the system.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from partnerlift.analysis import analyze, load_study
from partnerlift.interfaces.finding_labels import measure_name, outcome_name
from partnerlift.scoring import ScoreModel, load_model, score_partners
from partnerlift.settings import Workspace, register, text
from partnerlift.store import Database

TOP_PARTNERS = 20

register(
    {
        "report.title": {
            "en": "Partner support report",
            "ja": "パートナー支援レポート",
        },
        "report.summary": {"en": "Summary", "ja": "概要"},
        "report.partners": {"en": "Partners", "ja": "パートナー数"},
        "report.events": {"en": "Support events", "ja": "支援イベント数"},
        "report.deals": {"en": "Deals", "ja": "商談数"},
        "report.as_of": {"en": "As of", "ja": "基準日"},
        "report.model": {"en": "Score model", "ja": "スコアモデル"},
        "report.study": {"en": "Study", "ja": "分析設定"},
        "report.rules": {"en": "Score rules", "ja": "スコアルール"},
        "report.rule": {"en": "Rule", "ja": "ルール"},
        "report.points": {"en": "Points", "ja": "配点"},
        "report.earned_by": {"en": "Partners who earned it", "ja": "獲得パートナー数"},
        "report.top_partners": {
            "en": "Top {count} partners by score",
            "ja": "スコア上位{count}パートナー",
        },
        "report.rank": {"en": "Rank", "ja": "順位"},
        "report.partner": {"en": "Partner", "ja": "パートナー"},
        "report.name": {"en": "Name", "ja": "名称"},
        "report.tier": {"en": "Tier", "ja": "ティア"},
        "report.size": {"en": "Size", "ja": "規模"},
        "report.score": {"en": "Score", "ja": "スコア"},
        "report.distribution": {"en": "Score distribution", "ja": "スコア分布"},
        "report.distribution_note": {
            "en": "Number of partners in each {width}-point band of the score.",
            "ja": "スコア{width}点刻みのパートナー数。",
        },
        "report.findings": {"en": "Findings", "ja": "分析結果"},
        "report.findings_note": {
            "en": (
                "Each behaviour is measured in the exposure window and compared with "
                "outcomes in the window after it. These are associations in historical "
                "data, not proof of cause. Every tested behaviour is listed."
            ),
            "ja": (
                "各行動は観測期間に測定し、その後の期間の成果と比較しています。"
                "過去データにおける関連であり、因果関係を示すものではありません。"
                "検定したすべての行動を掲載しています。"
            ),
        },
        "report.behavior": {"en": "Behaviour", "ja": "行動"},
        "report.outcome": {"en": "Outcome", "ja": "成果"},
        "report.with": {"en": "Did it", "ja": "実施あり"},
        "report.without": {"en": "Did not", "ja": "実施なし"},
        "report.measure": {"en": "Measure", "ja": "指標"},
        "report.ratio": {"en": "Ratio (95% CI)", "ja": "比（95%信頼区間）"},
        "report.adjusted": {"en": "Adjusted (95% CI)", "ja": "調整後（95%信頼区間）"},
        "report.adjusted_for": {"en": "Adjusted for", "ja": "調整した変数"},
        "report.q_value": {"en": "q-value", "ja": "q値"},
        "report.status": {"en": "Status", "ja": "状態"},
        "report.status.ok": {"en": "ok", "ja": "算出済み"},
        "report.status.insufficient_data": {
            "en": "insufficient data",
            "ja": "データ不足",
        },
        "report.statements": {"en": "Statements", "ja": "解釈"},
        "report.forest": {"en": "Ratios", "ja": "比"},
        "report.forest_note": {
            "en": (
                "Log scale. Each row names its measure. "
                "Hollow: crude ratio; filled: adjusted ratio, on the row just below; "
                "lines: 95% intervals; the vertical line marks no difference (1)."
            ),
            "ja": (
                "対数目盛。指標は行ごとに記載。白抜き: 未調整の比、"
                "塗りつぶし: 調整後の比（そのすぐ下）、横線: 95%信頼区間、"
                "縦線: 差なし(1)。"
            ),
        },
        "report.no_findings": {
            "en": "No finding has enough data for a ratio.",
            "ja": "比を算出できるだけのデータがある分析結果はありません。",
        },
        "report.no_partners": {
            "en": "No partners yet.",
            "ja": "パートナーはまだいません。",
        },
        "report.covariate.tier": {"en": "tier", "ja": "ティア"},
        "report.covariate.size": {"en": "size", "ja": "規模"},
        "report.covariate.region": {"en": "region", "ja": "地域"},
        "report.covariate.segment": {"en": "segment", "ja": "セグメント"},
        "report.covariate.prior_revenue": {
            "en": "prior-period revenue",
            "ja": "前期間の受注額",
        },
        "report.survival": {
            "en": "Time to the first deal",
            "ja": "最初の商談までの日数",
        },
        "report.survival_note": {
            "en": (
                "Kaplan-Meier curves: the share of partners still without a deal, "
                "by days since the outcome window opened; partners without a deal "
                "by the end of the horizon are censored there. Solid: with the "
                "behaviour; dashed: without it."
            ),
            "ja": (
                "カプラン・マイヤー曲線: 成果期間の開始からの日数ごとに、まだ商談の"
                "ないパートナーの割合。期間の終わりまでに商談のないパートナーはそこで"
                "打ち切り。実線: 達成、破線: 未達成。"
            ),
        },
        "report.survival_axis": {"en": "days", "ja": "日"},
        "report.value.per_year": {"en": "{value}/year", "ja": "年{value}件"},
        "report.value.days": {"en": "{value} days", "ja": "{value}日"},
    }
)


# Charts. Only coordinates and labels are computed here. The template writes the SVG
# elements, so every label passes through the template's escaping.

FOREST_WIDTH = 960
FOREST_LABEL_WIDTH = 480
FOREST_ROW_HEIGHT = 26
FOREST_MARGIN = 30
HISTOGRAM_WIDTH = 760
HISTOGRAM_HEIGHT = 260
HISTOGRAM_MARGIN = 40
HISTOGRAM_BIN_WIDTH = 10
_TICKS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)

Triple = tuple[float, float, float]


@dataclass
class ForestRow:
    """One finding's row: x positions of the crude and adjusted low, ratio and high."""

    label: str
    y: float
    crude: Triple | None
    adjusted: Triple | None


@dataclass
class ForestPlot:
    """A forest plot of ratios on a log scale."""

    width: int
    height: int
    plot_left: int
    plot_right: int
    axis_y: float
    one_x: float
    ticks: list[tuple[float, str]] = field(default_factory=list)
    rows: list[ForestRow] = field(default_factory=list)


@dataclass
class HistogramBar:
    """One bin of the score histogram, in SVG coordinates."""

    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass
class Histogram:
    """A histogram of scores."""

    width: int
    height: int
    base_y: float
    max_count: int
    bars: list[HistogramBar] = field(default_factory=list)


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _triple(low: Any, estimate: Any, high: Any) -> Triple | None:
    values = (_positive(low), _positive(estimate), _positive(high))
    if values[0] is None or values[1] is None or values[2] is None:
        return None
    return (values[0], values[1], values[2])


def forest_plot(findings: list[dict[str, Any]], labels: list[str]) -> ForestPlot | None:
    """Lay out crude and adjusted ratios on a log axis, or None if none exist.

    ``labels`` contains each finding's row label, in the order of ``findings``.
    """
    rows = []
    for finding, label in zip(findings, labels, strict=True):
        crude = _triple(
            finding.get("ci_low"), finding.get("estimate"), finding.get("ci_high")
        )
        adjusted = _triple(
            finding.get("adjusted_ci_low"),
            finding.get("adjusted_estimate"),
            finding.get("adjusted_ci_high"),
        )
        if crude or adjusted:
            rows.append((label, crude, adjusted))
    if not rows:
        return None

    values = []
    for _, crude, adjusted in rows:
        for ratios in (crude, adjusted):
            if ratios:
                values.extend(ratios)
    low = math.log(min(*values, 0.5) / 1.2)
    high = math.log(max(*values, 2.0) * 1.2)
    left, right = FOREST_LABEL_WIDTH, FOREST_WIDTH - 20

    def x_of(value: float) -> float:
        return round(left + (math.log(value) - low) / (high - low) * (right - left), 1)

    def xs_of(ratios: Triple | None) -> Triple | None:
        return (x_of(ratios[0]), x_of(ratios[1]), x_of(ratios[2])) if ratios else None

    height = 2 * FOREST_MARGIN + len(rows) * FOREST_ROW_HEIGHT
    plot = ForestPlot(
        width=FOREST_WIDTH,
        height=height,
        plot_left=left,
        plot_right=right,
        axis_y=height - FOREST_MARGIN + 4,
        one_x=x_of(1.0),
    )
    plot.ticks = [(x_of(t), f"{t:g}") for t in _TICKS if low <= math.log(t) <= high]
    for index, (label, crude, adjusted) in enumerate(rows):
        y = FOREST_MARGIN + (index + 0.5) * FOREST_ROW_HEIGHT
        plot.rows.append(ForestRow(label, y, xs_of(crude), xs_of(adjusted)))
    return plot


SURVIVAL_WIDTH = 360
SURVIVAL_HEIGHT = 220
SURVIVAL_MARGIN = 36


@dataclass
class SurvivalPlot:
    """Two Kaplan-Meier step curves in SVG coordinates, with and without."""

    label: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    with_points: str
    without_points: str
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)


def _steps(times: list[float], survival: list[float], horizon: float) -> list:
    """Turn a step function into the corners of its polyline, up to ``horizon``."""
    corners: list[tuple[float, float]] = []
    previous = None
    for time, value in zip(times, survival, strict=True):
        if previous is not None:
            corners.append((time, previous))
        corners.append((time, value))
        previous = value
    if previous is not None:
        corners.append((horizon, previous))
    return corners


def survival_plot(curve: dict[str, Any], label: str) -> SurvivalPlot | None:
    """Lay out one finding's Kaplan-Meier curves, or None without both curves."""
    with_curve, without_curve = curve.get("with"), curve.get("without")
    if not with_curve or not without_curve:
        return None
    horizon = max(
        [*with_curve["times"], *without_curve["times"], 1.0],
    )
    horizon = float(curve.get("horizon") or horizon)
    left, right = SURVIVAL_MARGIN, SURVIVAL_WIDTH - 12
    top, bottom = 12, SURVIVAL_HEIGHT - SURVIVAL_MARGIN

    def point(time: float, value: float) -> str:
        x = left + min(time, horizon) / horizon * (right - left)
        y = bottom - value * (bottom - top)
        return f"{x:.1f},{y:.1f}"

    def polyline(data: dict[str, Any]) -> str:
        corners = _steps(list(data["times"]), list(data["survival"]), horizon)
        return " ".join(point(time, value) for time, value in corners)

    plot = SurvivalPlot(
        label=label,
        width=SURVIVAL_WIDTH,
        height=SURVIVAL_HEIGHT,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        with_points=polyline(with_curve),
        without_points=polyline(without_curve),
    )
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = left + fraction * (right - left)
        plot.x_ticks.append((round(x, 1), f"{horizon * fraction:g}"))
        y = bottom - fraction * (bottom - top)
        plot.y_ticks.append((round(y, 1), f"{fraction:g}"))
    return plot


def score_histogram(
    scores: list[float], bin_width: float = HISTOGRAM_BIN_WIDTH
) -> Histogram | None:
    """Lay out a histogram of ``scores`` in bins of ``bin_width`` points."""
    if not scores:
        return None
    first = math.floor(min(scores) / bin_width) * bin_width
    bins = (
        int(math.floor(max(scores) / bin_width) * bin_width - first) // int(bin_width)
        + 1
    )
    counts = [0] * bins
    for score in scores:
        counts[int((score - first) // bin_width)] += 1

    inner_width = HISTOGRAM_WIDTH - 2 * HISTOGRAM_MARGIN
    inner_height = HISTOGRAM_HEIGHT - 2 * HISTOGRAM_MARGIN
    bar_width = inner_width / bins
    base_y = HISTOGRAM_HEIGHT - HISTOGRAM_MARGIN
    histogram = Histogram(HISTOGRAM_WIDTH, HISTOGRAM_HEIGHT, base_y, max(counts))
    for index, count in enumerate(counts):
        bar_height = inner_height * count / histogram.max_count
        histogram.bars.append(
            HistogramBar(
                x=round(HISTOGRAM_MARGIN + index * bar_width, 1),
                y=round(base_y - bar_height, 1),
                width=round(max(bar_width - 2, 1), 1),
                height=round(bar_height, 1),
                count=count,
                label=f"{first + index * bin_width:g}",
            )
        )
    return histogram


# Numbers as the report shows them.


def format_percent(value: Any) -> str:
    """Format a proportion such as 0.345 as ``34.5%``, or a dash when missing."""
    number = _finite(value)
    return "—" if number is None else f"{number * 100:.1f}%"


def format_ratio(estimate: Any, low: Any, high: Any) -> str:
    """Format a ratio with its interval, such as ``2.05 (1.60–2.63)``."""
    values = [_finite(estimate), _finite(low), _finite(high)]
    if values[0] is None:
        return "—"
    if values[1] is None or values[2] is None:
        return f"{values[0]:.2f}"
    return f"{values[0]:.2f} ({values[1]:.2f}–{values[2]:.2f})"


def format_q_value(value: Any) -> str:
    """Format a q-value with three decimals, or ``<0.001``."""
    number = _finite(value)
    if number is None:
        return "—"
    return "<0.001" if number < 0.001 else f"{number:.3f}"


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _points(value: Any) -> str:
    number = _finite(value) or 0.0
    return f"{number:g}"


# The report's content.


def localized_label(labels: dict[str, str] | None, locale: str, fallback: str) -> str:
    """Return the label in ``locale``, else the English one, else ``fallback``."""
    if not labels:
        return fallback
    return labels.get(locale) or labels.get("en") or fallback


def _count(db: Database, table: str) -> int:
    return int(db.raw.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])


def partner_details(db: Database, partner_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Return the name, tier and size of each partner in ``partner_ids``, by id."""
    if not partner_ids:
        return {}
    frame = db.query(
        "SELECT partner_id, name, tier, size FROM partners "
        "WHERE list_contains(?, partner_id)",
        [partner_ids],
    )
    return {row["partner_id"]: row for row in frame.to_dict("records")}


def _rule_rows(model: ScoreModel, score: dict[str, Any], locale: str) -> list[dict]:
    partners = score.get("partners", [])
    rows = []
    for rule in model.rules:
        earned = sum(1 for p in partners if (p.get("rules") or {}).get(rule.id))
        rows.append(
            {
                "id": rule.id,
                "label": localized_label(rule.label, locale, rule.id),
                "points": _points(rule.points),
                "earned": earned,
            }
        )
    return rows


def _top_rows(
    db: Database, model: ScoreModel, score: dict[str, Any], top: int
) -> list[dict]:
    leaders = score.get("partners", [])[:top]
    details = partner_details(db, [p["partner_id"] for p in leaders])
    rows = []
    for rank, partner in enumerate(leaders, start=1):
        detail = details.get(partner["partner_id"], {})
        rules = partner.get("rules") or {}
        rows.append(
            {
                "rank": rank,
                "partner_id": partner["partner_id"],
                "name": detail.get("name") or "",
                "tier": detail.get("tier") or "",
                "size": detail.get("size") or "",
                "score": _points(partner.get("score")),
                "points": [_points(rules.get(rule.id)) for rule in model.rules],
            }
        )
    return rows


def _covariates(adjusted_for: Any, locale: str) -> str:
    if not adjusted_for:
        return "—"
    names = [adjusted_for] if isinstance(adjusted_for, str) else list(adjusted_for)
    labels = []
    for name in names:
        message_id = f"report.covariate.{name}"
        labels.append(text(message_id, locale) if _known(message_id) else str(name))
    return ", ".join(labels)


def _known(message_id: str) -> bool:
    try:
        text(message_id)
    except KeyError:
        return False
    return True


def _group(
    value: Any,
    events: Any,
    partners: Any,
    finding: dict | None = None,
    locale: str = "en",
) -> str:
    finding = finding or {}
    number = _finite(value)
    if finding.get("measure") == "hazard_ratio":
        shown = (
            "—"
            if number is None
            else text("report.value.per_year", locale, value=f"{number:.2f}")
        )
    elif finding.get("outcome") == "lead_time":
        shown = (
            "—"
            if number is None
            else text("report.value.days", locale, value=f"{number:.1f}")
        )
    elif finding.get("outcome") == "revenue":
        shown = "—" if number is None else f"{number:,.0f}"
    else:
        shown = format_percent(value)
    return f"{shown} ({events}/{partners})"


def _finding_rows(findings: list[dict[str, Any]], locale: str) -> list[dict]:
    rows = []
    for finding in findings:
        status = finding.get("status", "")
        status_id = f"report.status.{status}"
        rows.append(
            {
                "behavior": finding.get("behavior_label") or finding.get("behavior"),
                "outcome": outcome_name(finding.get("outcome", ""), locale),
                "with": _group(
                    finding.get("value_with"),
                    finding.get("events_with"),
                    finding.get("n_with"),
                    finding,
                    locale,
                ),
                "without": _group(
                    finding.get("value_without"),
                    finding.get("events_without"),
                    finding.get("n_without"),
                    finding,
                    locale,
                ),
                "measure": measure_name(finding.get("measure") or "risk_ratio", locale),
                "ratio": format_ratio(
                    finding.get("estimate"),
                    finding.get("ci_low"),
                    finding.get("ci_high"),
                ),
                "adjusted": format_ratio(
                    finding.get("adjusted_estimate"),
                    finding.get("adjusted_ci_low"),
                    finding.get("adjusted_ci_high"),
                ),
                "adjusted_for": _covariates(finding.get("adjusted_for"), locale),
                "q_value": format_q_value(finding.get("q_value")),
                "status": text(status_id, locale) if _known(status_id) else status,
                "is_ok": status == "ok",
                "statement": finding.get(f"statement_{locale}")
                or finding.get("statement_en")
                or "",
            }
        )
    return rows


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("partnerlift.interfaces", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def build_report(
    db: Database,
    workspace: Workspace,
    *,
    score: dict[str, Any],
    analysis: dict[str, Any],
    model: ScoreModel | None = None,
    top: int = TOP_PARTNERS,
) -> str:
    """Render the workspace's report as one self-contained HTML page.

    The page makes no network request: CSS is inline, the forest plot and the score
    histogram are inline SVG, and all text is escaped. Labels are in the workspace's
    locale.

    Parameters
    ----------
    db
        The workspace database, for the table counts and partner names.
    workspace
        The workspace; its locale picks the language.
    score
        The result of :func:`partnerlift.scoring.score_partners`.
    analysis
        The result of :func:`partnerlift.analysis.analyze`.
    model
        The score model behind ``score``, for rule labels and points; defaults to the
        workspace's score model file.
    top
        How many partners the score table lists.

    Returns
    -------
    str
        The HTML document.
    """
    locale = workspace.locale
    model = model or load_model(workspace.score_model_path)
    findings = list(analysis.get("findings", []))

    finding_rows = _finding_rows(findings, locale)
    forest_labels = [
        f"{row['behavior']} · {row['outcome']} · {row['measure']}"
        for row in finding_rows
    ]
    survival_plots = []
    for curve in analysis.get("curves", []) or []:
        behavior = next(
            (
                row["behavior"]
                for row, finding in zip(finding_rows, findings, strict=True)
                if finding.get("behavior") == curve.get("behavior")
            ),
            curve.get("behavior", ""),
        )
        plot = survival_plot(curve, str(behavior))
        if plot is not None:
            survival_plots.append(plot)
    scores = [float(p.get("score") or 0) for p in score.get("partners", [])]
    context = {
        "locale": locale,
        "t": lambda message_id, **values: text(message_id, locale, **values),
        "summary": summarize(db, model, score, analysis, locale),
        "rules": _rule_rows(model, score, locale),
        "top": top,
        "partners": _top_rows(db, model, score, top),
        "findings": finding_rows,
        "excluded": _excluded_note(analysis, findings, locale),
        "forest": forest_plot(findings, forest_labels),
        "survival_plots": survival_plots,
        "histogram": score_histogram(scores),
        "bin_width": HISTOGRAM_BIN_WIDTH,
    }
    return _environment().get_template("report.html.j2").render(context)


def _excluded_note(
    analysis: dict[str, Any], findings: list[dict[str, Any]], locale: str
) -> str:
    """Say how many partners the study left out, as the command line does."""
    if not findings:
        return ""
    return text(
        "analysis.table.excluded",
        locale,
        as_of=analysis.get("as_of") or "—",
        no_start=findings[0].get("n_excluded_no_start") or 0,
        followup=findings[0].get("n_excluded_followup") or 0,
    )


def summarize(
    db: Database,
    model: ScoreModel,
    score: dict[str, Any],
    analysis: dict[str, Any],
    locale: str,
) -> dict[str, Any]:
    """Return the report's summary: table counts, as-of date, model and study.

    ``partners``, ``events`` and ``deals`` are row counts of those tables. ``as_of``
    is the analysis's as-of date, or the score's if the analysis has none, and
    ``model`` is the score model's label in ``locale``.
    """
    return {
        "partners": _count(db, "partners"),
        "events": _count(db, "events"),
        "deals": _count(db, "deals"),
        "as_of": analysis.get("as_of") or score.get("as_of") or "—",
        "model": localized_label(model.label, locale, model.model),
        "study": analysis.get("study") or "—",
    }


def score_and_analyze(
    db: Database,
    workspace: Workspace,
    *,
    model_path: Path | None = None,
    study_path: Path | None = None,
) -> tuple[ScoreModel, dict[str, Any], dict[str, Any]]:
    """Score and analyse with a score model and study, by default the workspace's.

    Parameters
    ----------
    db
        The workspace database.
    workspace
        The workspace; its zone and locale apply.
    model_path
        Score model file (default: the workspace's score_model.yaml). The analysis
        reads its rule-based behaviours from this model too.
    study_path
        Study file (default: the workspace's study.yaml).

    Returns
    -------
    tuple
        The score model, the scores of :func:`partnerlift.scoring.score_partners` and
        the findings of :func:`partnerlift.analysis.analyze`.

    Raises
    ------
    ConfigError
        If the score model or study file is missing or invalid.
    """
    model = load_model(model_path or workspace.score_model_path)
    score = score_partners(db, model, zone=workspace.zone)
    study = load_study(study_path or workspace.study_path)
    analysis = analyze(
        db, study, model=model, zone=workspace.zone, locale=workspace.locale
    )
    return model, score, analysis
