"""``partnerlift analyze``: compare behaviours with outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from partnerlift.analysis import analyze, load_study
from partnerlift.analysis.statements import (
    format_amount,
    format_days,
    format_percent,
    format_ratio,
)
from partnerlift.interfaces.cli.app import (
    FormatOption,
    OutputFormat,
    app,
    current_workspace,
    emit_csv,
    emit_json,
    emit_table,
    open_database,
)
from partnerlift.interfaces.finding_labels import FINDING_COLUMNS
from partnerlift.scoring import load_model
from partnerlift.settings.messages import register, text

register(
    {
        "analysis.table.title": {"en": "Findings: {study}", "ja": "分析結果: {study}"},
        "analysis.table.behavior": {"en": "Behaviour", "ja": "行動"},
        "analysis.table.outcome": {"en": "Outcome", "ja": "成果"},
        "analysis.table.with": {"en": "With", "ja": "達成"},
        "analysis.table.without": {"en": "Without", "ja": "未達成"},
        "analysis.table.ratio": {
            "en": "Ratio (95% CI)",
            "ja": "比（95%CI）",
        },
        "analysis.table.detectable": {
            "en": "Detectable (80% power)",
            "ja": "検出可能（検出力80%）",
        },
        "analysis.table.days": {
            "en": "{value} days ({events} of {total})",
            "ja": "{value}日（{total}社中{events}社）",
        },
        "analysis.table.deals": {
            "en": "{value} ({events} of {total} deals)",
            "ja": "{value}（{total}件中{events}件）",
        },
        "analysis.table.rate": {
            "en": "{value}/yr ({events} of {total})",
            "ja": "年{value}件（{total}社中{events}社）",
        },
        "analysis.table.prior": {
            "en": "Left out as already reached before the exposure window: {counts}.",
            "ja": "行動を測る期間の前にすでに成果に達していたため除外: {counts}。",
        },
        "analysis.table.prior_count": {
            "en": "{outcome} {count}",
            "ja": "{outcome} {count}社",
        },
        "analysis.table.adjusted": {"en": "Adjusted", "ja": "調整後"},
        "analysis.table.q": {"en": "q", "ja": "q"},
        "analysis.table.status": {"en": "Status", "ja": "状態"},
        "analysis.table.counts": {
            "en": "{value} ({events} of {total})",
            "ja": "{value}（{total}社中{events}社）",
        },
        "analysis.table.interval": {
            "en": "{estimate} ({ci_low} to {ci_high})",
            "ja": "{estimate}（{ci_low}～{ci_high}）",
        },
        "analysis.status.ok": {"en": "ok", "ja": "算出済み"},
        "analysis.status.insufficient_data": {
            "en": "insufficient data",
            "ja": "データ不足",
        },
    }
)

CSV_COLUMNS = FINDING_COLUMNS


def _interval(
    estimate: Any, low: Any, high: Any, locale: str, measure: str | None = None
) -> str:
    if estimate is None:
        return ""
    cell = text(
        "analysis.table.interval",
        locale,
        estimate=format_ratio(estimate, locale),
        ci_low=format_ratio(low, locale),
        ci_high=format_ratio(high, locale),
    )
    if measure is None or measure == "risk_ratio":
        return cell
    return f"{text(f'analysis.measure.{measure}', locale)} {cell}"


def _group(
    value: Any, events: int, total: int, locale: str, finding: dict[str, Any]
) -> str:
    outcome = finding.get("outcome")
    if finding.get("measure") == "hazard_ratio":
        shown = "-" if value is None else f"{value:.2f}"
        return text(
            "analysis.table.rate", locale, value=shown, events=events, total=total
        )
    if outcome == "lead_time":
        shown = "-" if value is None else format_days(value, locale)
        return text(
            "analysis.table.days", locale, value=shown, events=events, total=total
        )
    if outcome == "revenue":
        shown = "-" if value is None else format_amount(value, locale)
        return text(
            "analysis.table.counts", locale, value=shown, events=events, total=total
        )
    name = (
        "analysis.table.deals"
        if outcome == "deal_win_rate"
        else ("analysis.table.counts")
    )
    return text(
        name,
        locale,
        value=format_percent(value, locale) if total else "-",
        events=events,
        total=total,
    )


def _q_cell(q_value: float | None) -> str:
    if q_value is None:
        return ""
    return "<0.001" if q_value < 0.001 else f"{q_value:.3f}"


def _detectable_cell(value: float | None, locale: str) -> str:
    return "" if value is None else format_ratio(value, locale)


def _prior_line(findings: list[dict[str, Any]], locale: str) -> str | None:
    counts: dict[str, int] = {}
    for finding in findings:
        count = finding.get("n_excluded_prior") or 0
        if count:
            counts.setdefault(finding["outcome"], count)
    if not counts:
        return None
    parts = [
        text(
            "analysis.table.prior_count",
            locale,
            outcome=text(f"analysis.outcome_name.{outcome}", locale),
            count=count,
        )
        for outcome, count in counts.items()
    ]
    return text("analysis.table.prior", locale, counts=", ".join(parts))


def _table_row(finding: dict[str, Any], locale: str) -> list[str]:
    q_value = finding["q_value"]
    return [
        finding["behavior_label"],
        text(f"analysis.outcome_name.{finding['outcome']}", locale),
        _group(
            finding["value_with"],
            finding["events_with"],
            finding["n_with"],
            locale,
            finding,
        ),
        _group(
            finding["value_without"],
            finding["events_without"],
            finding["n_without"],
            locale,
            finding,
        ),
        _interval(
            finding["estimate"],
            finding["ci_low"],
            finding["ci_high"],
            locale,
            finding.get("measure"),
        ),
        _interval(
            finding["adjusted_estimate"],
            finding["adjusted_ci_low"],
            finding["adjusted_ci_high"],
            locale,
        ),
        _q_cell(q_value),
        _detectable_cell(finding.get("detectable_effect"), locale),
        text(f"analysis.status.{finding['status']}", locale),
    ]


def print_findings(result: dict[str, Any], locale: str) -> None:
    """Print the findings as a table, then each statement in ``locale``."""
    headers = [
        text(f"analysis.table.{name}", locale)
        for name in (
            "behavior",
            "outcome",
            "with",
            "without",
            "ratio",
            "adjusted",
            "q",
            "detectable",
            "status",
        )
    ]
    findings = result["findings"]
    emit_table(
        text("analysis.table.title", locale, study=result["study"]),
        headers,
        [_table_row(finding, locale) for finding in findings],
    )
    if findings:
        typer.echo(
            text(
                "analysis.table.excluded",
                locale,
                as_of=result["as_of"],
                no_start=findings[0]["n_excluded_no_start"],
                followup=findings[0]["n_excluded_followup"],
            )
        )
        prior = _prior_line(findings, locale)
        if prior:
            typer.echo(prior)
    statement_key = "statement_ja" if locale == "ja" else "statement_en"
    for finding in findings:
        typer.echo("")
        typer.echo(finding[statement_key])


def _csv_row(finding: dict[str, Any]) -> dict[str, Any]:
    row = dict(finding)
    row["adjusted_for"] = "|".join(finding["adjusted_for"])
    return row


@app.command(name="analyze")
def analyze_command(
    ctx: typer.Context,
    study: Annotated[
        Path | None,
        typer.Option(help="Study file (default: the workspace's study.yaml)."),
    ] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Compare each behaviour of a study with its outcomes.

    Example: partnerlift analyze --study study.yaml --format json
    """
    workspace = current_workspace(ctx)
    study_file = load_study(study if study is not None else workspace.study_path)
    model = load_model(workspace.score_model_path)
    locale = workspace.locale
    with open_database(workspace) as db:
        result = analyze(
            db, study_file, model=model, zone=workspace.zone, locale=locale
        )
    if output is OutputFormat.json:
        emit_json(result)
    elif output is OutputFormat.csv:
        emit_csv([_csv_row(finding) for finding in result["findings"]], CSV_COLUMNS)
    else:
        print_findings(result, locale)
