"""``partnerlift score`` and ``partnerlift explain``: scores, replays and sources."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

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
from partnerlift.scoring import (
    ScoreModel,
    explain_partner,
    load_model,
    score_partners,
    score_timeline,
)
from partnerlift.scoring.engines import SparkTables, scoring_tables
from partnerlift.scoring.messages import text
from partnerlift.settings import Workspace
from partnerlift.settings.times import parse_date

SHOWN_EVENT_IDS = 5

ModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        help="Score model file (YAML); the workspace's default model if omitted.",
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Count events up to the end of this day (YYYY-MM-DD) in the workspace's "
        "time zone; the day of the latest event if omitted.",
    ),
]


class TimelineUnit(StrEnum):
    """The periods of a replay."""

    week = "week"
    month = "month"
    quarter = "quarter"


TimelineOption = Annotated[
    TimelineUnit | None,
    typer.Option(
        "--timeline",
        help="Replay the model: each partner's score at the end of every ISO week, "
        "month or quarter from the first event to the as-of date.",
    ),
]


@contextmanager
def _scoring_tables(workspace: Workspace) -> Iterator[Any]:
    """Open the database and the engine that the workspace's settings choose."""
    with open_database(workspace) as db:
        tables = scoring_tables(db, workspace.settings.engine)
        try:
            yield tables
        finally:
            if isinstance(tables, SparkTables):
                tables.close()


def _as_of(value: str | None, locale: str) -> date | None:
    if value is None:
        return None
    source = text("cli.as_of_date", locale)
    return parse_date(value, source=source, locale=locale)


def _model(workspace: Workspace, path: Path | None) -> ScoreModel:
    return load_model(path if path is not None else workspace.score_model_path)


def _title(model: ScoreModel, locale: str) -> str:
    if model.label:
        return model.label.get(locale) or model.label.get("en") or model.model
    return model.model


@app.command()
def score(
    ctx: typer.Context,
    model: ModelOption = None,
    as_of: AsOfOption = None,
    timeline: TimelineOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Score every partner with the points of each rule, top partners first.

    Example: partnerlift score --as-of 2024-03-31 --format json
    """
    workspace = current_workspace(ctx)
    score_model = _model(workspace, model)
    cutoff = _as_of(as_of, workspace.locale)
    if timeline is not None:
        _timeline(workspace, score_model, cutoff, timeline.value, output)
        return
    with _scoring_tables(workspace) as tables:
        result = score_partners(tables, score_model, zone=workspace.zone, as_of=cutoff)
    rule_ids = [rule.id for rule in score_model.rules]
    if output is OutputFormat.json:
        emit_json(result)
        return
    if output is OutputFormat.csv:
        rows = [
            {"partner_id": item["partner_id"], "score": item["score"], **item["rules"]}
            for item in result["partners"]
        ]
        emit_csv(rows, ["partner_id", "score", *rule_ids])
        return
    locale = workspace.locale
    columns = [
        text("scoring.column.partner", locale),
        text("scoring.column.score", locale),
        *rule_ids,
    ]
    table_rows = [
        [item["partner_id"], item["score"], *(item["rules"][key] for key in rule_ids)]
        for item in result["partners"]
    ]
    title = text(
        "scoring.title.score",
        locale,
        model=_title(score_model, locale),
        as_of=result["as_of"],
    )
    emit_table(title, columns, table_rows)


def _timeline(
    workspace: Workspace,
    score_model: ScoreModel,
    cutoff: date | None,
    every: Any,
    output: OutputFormat,
) -> None:
    """Print each partner's score at the end of every period."""
    with _scoring_tables(workspace) as tables:
        result = score_timeline(
            tables, score_model, zone=workspace.zone, every=every, as_of=cutoff
        )
    if output is OutputFormat.json:
        emit_json(result)
        return
    rule_ids = [rule.id for rule in score_model.rules]
    rows = [
        {
            "partner_id": partner["partner_id"],
            "period_end": point["period_end"],
            "score": point["score"],
            **point["rules"],
        }
        for partner in result["partners"]
        for point in partner["timeline"]
    ]
    if output is OutputFormat.csv:
        emit_csv(rows, ["partner_id", "period_end", "score", *rule_ids])
        return
    locale = workspace.locale
    columns = [
        text("scoring.column.partner", locale),
        text("scoring.column.period_end", locale),
        text("scoring.column.score", locale),
        *rule_ids,
    ]
    table_rows = [
        [
            row["partner_id"],
            row["period_end"],
            row["score"],
            *(row[key] for key in rule_ids),
        ]
        for row in rows
    ]
    title = text(
        "scoring.title.timeline",
        locale,
        model=_title(score_model, locale),
        as_of=result["as_of"],
    )
    emit_table(title, columns, table_rows)


def _threshold(rule: dict[str, Any]) -> str:
    if rule["at_most"] is None:
        return f">= {rule['at_least']}"
    return f"{rule['at_least']}..{rule['at_most']}"


def _event_list(event_ids: list[str], locale: str) -> str:
    shown = ", ".join(event_ids[:SHOWN_EVENT_IDS])
    hidden = len(event_ids) - SHOWN_EVENT_IDS
    if hidden > 0:
        shown += " " + text("scoring.more_events", locale, count=hidden)
    return shown


def _period_cell(period: str, locale: str) -> str:
    """Return the period as a table shows it: ``lifetime`` in ``locale``, and a
    calendar period or rolling window as its dates."""
    if period == "lifetime":
        return text("cli.explain.lifetime", locale)
    return period


def _explain_rows(result: dict[str, Any], locale: str) -> list[dict[str, Any]]:
    """Flatten an explanation into one row per rule and period."""
    rows = []
    for rule in result["rules"]:
        base = {"rule_id": rule["rule_id"], "threshold": _threshold(rule)}
        if not rule["periods"]:
            rows.append(
                {
                    **base,
                    "period": "",
                    "count": 0,
                    "qualifies": False,
                    "earned_at": None,
                    "base_points": 0,
                    "decay": 1,
                    "points": 0,
                    "event_ids": [],
                }
            )
        for period in rule["periods"]:
            rows.append({**base, **period})
    return rows


@app.command()
def explain(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="Partner id to explain.")],
    model: ModelOption = None,
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Show which events made each rule award points to one partner.

    Example: partnerlift explain P0001 --as-of 2024-03-31
    """
    workspace = current_workspace(ctx)
    score_model = _model(workspace, model)
    cutoff = _as_of(as_of, workspace.locale)
    with _scoring_tables(workspace) as tables:
        result = explain_partner(
            tables, score_model, partner, zone=workspace.zone, as_of=cutoff
        )
    if output is OutputFormat.json:
        emit_json(result)
        return
    locale = workspace.locale
    rows = _explain_rows(result, locale)
    if output is OutputFormat.csv:
        csv_rows = [{**row, "event_ids": " ".join(row["event_ids"])} for row in rows]
        emit_csv(
            csv_rows,
            [
                "rule_id",
                "period",
                "count",
                "threshold",
                "qualifies",
                "event_ids",
                "earned_at",
                "base_points",
                "decay",
                "points",
            ],
        )
        return
    names = (
        "rule",
        "period",
        "count",
        "threshold",
        "qualifies",
        "events",
        "earned_at",
        "base_points",
        "decay",
        "points",
    )
    columns = [text(f"scoring.column.{name}", locale) for name in names]
    table_rows = [
        [
            row["rule_id"],
            _period_cell(row["period"], locale),
            row["count"],
            row["threshold"],
            text("scoring.yes" if row["qualifies"] else "scoring.no", locale),
            _event_list(row["event_ids"], locale) or text("scoring.no_events", locale),
            row["earned_at"] or "",
            row["base_points"],
            row["decay"],
            row["points"],
        ]
        for row in rows
    ]
    title = text(
        "scoring.title.explain",
        locale,
        partner_id=result["partner_id"],
        score=result["score"],
        as_of=result["as_of"],
    )
    emit_table(title, columns, table_rows)
