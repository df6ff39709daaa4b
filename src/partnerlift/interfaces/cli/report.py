"""``partnerlift report``: write the HTML report and, with --xlsx, the workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnerlift.interfaces.cli.app import app, current_workspace, open_database, stderr
from partnerlift.interfaces.report import build_report, score_and_analyze
from partnerlift.interfaces.workbook import build_workbook
from partnerlift.settings.messages import text

REPORT_FILE = "report.html"


@app.command()
def report(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="HTML file to write (default: report.html in the workspace folder).",
        ),
    ] = None,
    xlsx: Annotated[
        Path | None,
        typer.Option(
            "--xlsx",
            help=(
                "Excel workbook to write as well, with summary, scores and findings "
                "sheets (default: none)."
            ),
        ),
    ] = None,
    study: Annotated[
        Path | None,
        typer.Option(help="Study file (default: the workspace's study.yaml)."),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            help="Score model file (default: the workspace's score_model.yaml)."
        ),
    ] = None,
) -> None:
    """Write the HTML report: summary, scores, findings and charts, in one file.

    The file makes no network request when opened, so it can be sent by mail. With
    --xlsx, the same summary, every partner's scores and every finding field also go
    to an Excel workbook.

    Example: partnerlift report --out report.html --xlsx report.xlsx
    """
    workspace = current_workspace(ctx)
    path = out if out is not None else workspace.root / REPORT_FILE
    with open_database(workspace) as db:
        score_model, score, analysis = score_and_analyze(
            db, workspace, model_path=model, study_path=study
        )
        html = build_report(
            db, workspace, score=score, analysis=analysis, model=score_model
        )
        workbook = None
        if xlsx is not None:
            workbook = build_workbook(
                db, workspace, score=score, analysis=analysis, model=score_model
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    message = text("cli.report.written", workspace.locale, path=path)
    stderr.print(message, markup=False, highlight=False)
    if workbook is not None and xlsx is not None:
        xlsx.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(xlsx)
        message = text("cli.report.workbook_written", workspace.locale, path=xlsx)
        stderr.print(message, markup=False, highlight=False)
