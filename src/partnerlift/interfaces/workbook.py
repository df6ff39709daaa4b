"""The Excel report: a workbook with the summary, every partner's scores and findings.

The workbook carries the same numbers as the HTML report, unrounded and stored as
numbers, so that they can be sorted, filtered and charted in Excel.
"""

from __future__ import annotations

import math
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from partnerlift.interfaces.finding_labels import FINDING_COLUMNS
from partnerlift.interfaces.report import localized_label, partner_details, summarize
from partnerlift.scoring import ScoreModel, load_model
from partnerlift.settings import Workspace, register, text
from partnerlift.store import Database

register(
    {
        "workbook.item": {"en": "Item", "ja": "項目"},
        "workbook.value": {"en": "Value", "ja": "値"},
        "workbook.scores": {"en": "Scores", "ja": "スコア一覧"},
    }
)

# Summary rows: the message id of the label and the key of summarize().
_SUMMARY_ROWS = [
    ("report.partners", "partners"),
    ("report.events", "events"),
    ("report.deals", "deals"),
    ("report.as_of", "as_of"),
    ("report.model", "model"),
    ("report.study", "study"),
]
_MAX_COLUMN_WIDTH = 60


def _cell_value(value: Any) -> Any:
    """Return ``value`` as openpyxl stores it: numbers stay numbers.

    Excel has no NaN or infinity, so a non-finite float becomes an empty cell, and a
    list becomes its items joined by ``|`` as in ``analyze --format csv``.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return "|".join(str(item) for item in value)
    return value


def _append_header(sheet: Worksheet, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _fit_columns(sheet: Worksheet) -> None:
    for index, column in enumerate(sheet.iter_cols(values_only=True), start=1):
        longest = max(
            (len(str(value)) for value in column if value is not None), default=0
        )
        width = min(longest + 2, _MAX_COLUMN_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = width


def _summary_sheet(sheet: Worksheet, summary: dict[str, Any], locale: str) -> None:
    sheet.title = text("report.summary", locale)
    _append_header(
        sheet, [text("workbook.item", locale), text("workbook.value", locale)]
    )
    for message_id, key in _SUMMARY_ROWS:
        sheet.append([text(message_id, locale), summary[key]])
    _fit_columns(sheet)


def _scores_sheet(
    sheet: Worksheet,
    db: Database,
    model: ScoreModel,
    score: dict[str, Any],
    locale: str,
) -> None:
    sheet.title = text("workbook.scores", locale)
    rule_labels = [localized_label(rule.label, locale, rule.id) for rule in model.rules]
    headers = [
        text(f"report.{name}", locale)
        for name in ("rank", "partner", "name", "tier", "size", "score")
    ]
    _append_header(sheet, headers + rule_labels)
    partners = score.get("partners", [])
    details = partner_details(db, [partner["partner_id"] for partner in partners])
    for rank, partner in enumerate(partners, start=1):
        detail = details.get(partner["partner_id"], {})
        rules = partner.get("rules") or {}
        row = [
            rank,
            partner["partner_id"],
            detail.get("name"),
            detail.get("tier"),
            detail.get("size"),
            partner.get("score"),
        ]
        row += [rules.get(rule.id, 0) for rule in model.rules]
        sheet.append([_cell_value(value) for value in row])
    _fit_columns(sheet)


def _findings_sheet(
    sheet: Worksheet, findings: list[dict[str, Any]], locale: str
) -> None:
    sheet.title = text("report.findings", locale)
    _append_header(sheet, FINDING_COLUMNS)
    for finding in findings:
        sheet.append([_cell_value(finding.get(name)) for name in FINDING_COLUMNS])
    _fit_columns(sheet)


def build_workbook(
    db: Database,
    workspace: Workspace,
    *,
    score: dict[str, Any],
    analysis: dict[str, Any],
    model: ScoreModel | None = None,
) -> Workbook:
    """Build the Excel report: a summary, a scores and a findings sheet.

    The summary sheet lists the table counts, as-of date, score model and study. The
    scores sheet has one row per partner, in the order of ``score``, with the rank,
    id, name, tier, size, score and one column per rule headed by the rule's label in
    the workspace's locale. The findings sheet has one row per finding and one column
    per field of ``analyze --format csv``, headed by the field name. Numbers are
    stored as numbers, ``adjusted_for`` as its covariates joined by ``|``, and a
    missing or non-finite number as an empty cell.

    Parameters
    ----------
    db
        The workspace database, for the table counts and partner names.
    workspace
        The workspace; its locale picks the sheet names and labels.
    score
        The result of :func:`partnerlift.scoring.score_partners`.
    analysis
        The result of :func:`partnerlift.analysis.analyze`.
    model
        The score model behind ``score``, for the rule columns; defaults to the
        workspace's score model file.

    Returns
    -------
    openpyxl.Workbook
        The workbook, to be saved with ``Workbook.save(path)``.
    """
    locale = workspace.locale
    model = model or load_model(workspace.score_model_path)
    workbook = Workbook()
    summary = summarize(db, model, score, analysis, locale)
    _summary_sheet(workbook.active, summary, locale)
    _scores_sheet(workbook.create_sheet(), db, model, score, locale)
    _findings_sheet(workbook.create_sheet(), list(analysis.get("findings", [])), locale)
    return workbook
