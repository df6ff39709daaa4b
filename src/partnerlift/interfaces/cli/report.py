"""``partnerlift report``: write the self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnerlift.interfaces.cli.app import app, current_workspace, open_database, stderr
from partnerlift.interfaces.report import build_report, score_and_analyze

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
) -> None:
    """Write the HTML report: summary, scores, findings and charts, in one file.

    The file makes no network request when opened, so it can be sent by mail.

    Example: partnerlift report --out report.html
    """
    workspace = current_workspace(ctx)
    path = out if out is not None else workspace.root / REPORT_FILE
    with open_database(workspace) as db:
        model, score, analysis = score_and_analyze(db, workspace)
        html = build_report(db, workspace, score=score, analysis=analysis, model=model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    stderr.print(f"Report written: {path}", markup=False, highlight=False)
