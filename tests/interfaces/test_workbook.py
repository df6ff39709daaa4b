"""``partnerlift report --xlsx`` against ``score`` and ``analyze`` run on their own.

A small demo program (60 partners) is reported with a study and a score model other
than the workspace's, and the workbook is read back with openpyxl.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.interfaces.workbook import _cell_value

PARTNERS = 60
STUDY = """\
study: time-and-revenue
label: {en: Time and revenue, ja: 商談までの日数と受注額}
behaviors: [onboarding_video, proposal_template]
exposure: {start: joined_at, days: 90}
horizon_days: 180
outcomes: [win_rate, lead_time, revenue]
adjust_for: [tier, size]
"""
# Three of the default rules with other points, so that the scores differ from the
# workspace model's and the rule columns show which model was used.
MODEL = """\
model: three-rules
version: 1
label: {en: Three rules, ja: 3ルール}
rules:
  - id: onboarding_video
    label: {en: Onboarding training video completed, ja: 導入トレーニング動画の完了}
    points: 30
    match: {action: completed, asset_kind: video, asset_tags: [onboarding]}
  - id: proposal_template
    label: {en: Proposal template downloaded, ja: 提案テンプレートのダウンロード}
    points: 25
    match: {action: downloaded, asset_kind: template}
  - id: sales_faq
    label: {en: Sales FAQ viewed, ja: 営業FAQの閲覧}
    points: 2.5
    match: {action: viewed, asset_kind: faq}
"""
RULE_IDS = ["onboarding_video", "proposal_template", "sales_faq"]
RULE_LABELS_JA = [
    "導入トレーニング動画の完了",
    "提案テンプレートのダウンロード",
    "営業FAQの閲覧",
]


def _invoke(runner: CliRunner, folder: Path, *arguments: str):
    result = runner.invoke(app, ["--workspace", str(folder), *arguments])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("workbook")
    folder = root / "demo"
    runner = CliRunner()
    demo = runner.invoke(
        app, ["demo", "--out", str(folder), "--partners", str(PARTNERS), "--seed", "3"]
    )
    assert demo.exit_code == 0, demo.output
    study = root / "study.yaml"
    study.write_text(STUDY, encoding="utf-8")
    model = root / "model.yaml"
    model.write_text(MODEL, encoding="utf-8")
    xlsx = root / "out" / "report.xlsx"
    html = root / "out" / "report.html"

    score = _invoke(runner, folder, "score", "--model", str(model), "--format", "json")
    analysis = _invoke(
        runner, folder, "analyze", "--study", str(study), "--format", "json"
    )
    analysis_csv = _invoke(
        runner, folder, "analyze", "--study", str(study), "--format", "csv"
    )
    analysis_table = _invoke(runner, folder, "analyze", "--study", str(study))
    _invoke(
        runner,
        folder,
        "report",
        "--study",
        str(study),
        "--model",
        str(model),
        "--out",
        str(html),
        "--xlsx",
        str(xlsx),
    )

    return {
        "score": json.loads(score.stdout),
        "analysis": json.loads(analysis.stdout),
        "csv_header": next(csv.reader(io.StringIO(analysis_csv.stdout))),
        "analysis_table": analysis_table.stdout,
        "html": html.read_text(encoding="utf-8"),
        "workbook": openpyxl.load_workbook(xlsx),
        "folder": folder,
    }


def _rows(run: dict, index: int) -> list[tuple]:
    sheet = run["workbook"].worksheets[index]
    return list(sheet.iter_rows(values_only=True))


def test_workbook_sheet_names_ja(run):
    # The demo workspace is in Japanese.
    assert run["workbook"].sheetnames == ["概要", "スコア一覧", "分析結果"]


def test_summary_sheet_values(run):
    values = {row[0]: row[1] for row in _rows(run, 0)[1:]}

    assert values["パートナー数"] == PARTNERS
    assert values["スコアモデル"] == "3ルール"
    assert values["分析設定"] == "time-and-revenue"
    assert values["基準日"] == run["analysis"]["as_of"]


def test_scores_sheet_headers(run):
    header = _rows(run, 1)[0]

    assert list(header[:6]) == [
        "順位",
        "パートナー",
        "名称",
        "ティア",
        "規模",
        "スコア",
    ]
    assert list(header[6:]) == RULE_LABELS_JA


def test_scores_sheet_one_row_per_partner(run):
    partners = run["score"]["partners"]
    rows = _rows(run, 1)[1:]

    assert len(rows) == len(partners)
    assert len(rows) == PARTNERS


def test_scores_sheet_matches_score_json(run):
    partners = run["score"]["partners"]
    rows = _rows(run, 1)[1:]

    for rank, (row, partner) in enumerate(zip(rows, partners, strict=True), start=1):
        assert row[0] == rank
        assert row[1] == partner["partner_id"]
        assert row[5] == partner["score"]
        assert list(row[6:]) == [partner["rules"][rule] for rule in RULE_IDS]


def test_scores_sheet_stores_numbers(run):
    rows = _rows(run, 1)[1:]

    for row in rows:
        for value in (row[0], *row[5:]):
            assert isinstance(value, int | float), row


def test_scores_follow_model_option(run):
    # The three-rule model gives 30, 25 and 2.5 points. The default model has six
    # rules and no fractional points, so these columns come from the --model file.
    rows = _rows(run, 1)[1:]

    for row in rows:
        assert row[6] in (0, 30), row
        assert row[7] in (0, 25), row
        assert row[8] in (0, 2.5), row
        assert row[5] == pytest.approx(row[6] + row[7] + row[8]), row


def test_findings_sheet_header_is_csv_header(run):
    header = _rows(run, 2)[0]

    assert list(header) == run["csv_header"]


def test_findings_sheet_matches_analyze_json(run):
    findings = run["analysis"]["findings"]
    sheet = run["workbook"].worksheets[2]
    header = [cell.value for cell in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))

    assert len(rows) == len(findings)
    assert len(rows) == 6  # 2 behaviours x 3 outcomes
    for cells, finding in zip(rows, findings, strict=True):
        for name, cell in zip(header, cells, strict=True):
            expected = finding[name]
            if name == "adjusted_for":
                assert cell.value == "|".join(expected), name
            elif expected is None:
                assert cell.value is None, name
            elif isinstance(expected, bool | str):
                assert cell.value == expected, name
            else:
                assert cell.data_type == "n", name
                assert cell.value == pytest.approx(expected, rel=1e-12), name


def test_findings_sheet_has_all_measures(run):
    sheet = run["workbook"].worksheets[2]
    header = [cell.value for cell in sheet[1]]
    measure = header.index("measure")

    measures = {row[measure] for row in sheet.iter_rows(min_row=2, values_only=True)}

    assert measures == {"risk_ratio", "time_ratio", "ratio_of_means"}


def test_revenue_named_alike_in_cli_and_report(run):
    assert "受注額" in run["analysis_table"]
    assert "受注額" in run["html"]
    assert "売上" not in run["html"]


def test_report_rows_name_measure(run):
    table = run["html"].split('id="findings"')[1].split("</table>")[0]

    assert table.count("<td>時間比</td>") == 2
    assert table.count("<td>平均の比</td>") == 2
    assert table.count("<td>リスク比</td>") == 2


def test_report_missing_study_fails(run, tmp_path):
    missing = tmp_path / "missing.yaml"

    result = CliRunner().invoke(
        app, ["--workspace", str(run["folder"]), "report", "--study", str(missing)]
    )

    assert result.exit_code == 1
    assert "missing.yaml" in result.output


def test_cell_value_drops_non_finite():
    assert _cell_value(math.nan) is None
    assert _cell_value(math.inf) is None
    assert _cell_value(2.5) == 2.5
    assert _cell_value(["tier", "size"]) == "tier|size"
