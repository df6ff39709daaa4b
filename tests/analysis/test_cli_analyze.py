from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.settings import Workspace

CONTRACT_FIELDS = {
    "behavior",
    "behavior_label",
    "outcome",
    "measure",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "n_with",
    "n_without",
    "value_with",
    "value_without",
    "events_with",
    "events_without",
    "adjusted_estimate",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "adjusted_for",
    "status",
    "statement_en",
    "statement_ja",
    "n_excluded_no_start",
    "n_excluded_followup",
}


def _analyze(workspace: Workspace, output: str) -> tuple[int, str]:
    study = workspace.root / "planted_study.yaml"
    arguments = ["--workspace", str(workspace.root), "analyze", "--study", str(study)]

    result = CliRunner().invoke(app, [*arguments, "--format", output])

    return result.exit_code, result.stdout


def test_analyze_json_has_contract_fields(planted_workspace: Workspace) -> None:
    exit_code, stdout = _analyze(planted_workspace, "json")

    payload = json.loads(stdout)
    assert exit_code == 0
    assert set(payload) >= {"study", "as_of", "findings"}
    assert payload["study"] == "planted"
    assert payload["as_of"] == "2024-06-30"
    assert len(payload["findings"]) == 2
    for finding in payload["findings"]:
        assert set(finding) >= CONTRACT_FIELDS


def test_analyze_json_statuses(planted_workspace: Workspace) -> None:
    _, stdout = _analyze(planted_workspace, "json")

    statuses = [finding["status"] for finding in json.loads(stdout)["findings"]]

    assert statuses == ["ok", "insufficient_data"]


def test_analyze_csv_one_row_per_finding(planted_workspace: Workspace) -> None:
    exit_code, stdout = _analyze(planted_workspace, "csv")

    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert exit_code == 0
    assert len(rows) == 2
    assert rows[0]["adjusted_for"] == "tier"
    assert rows[0]["n_with"] == "40"


def test_analyze_table_prints_statements(planted_workspace: Workspace) -> None:
    exit_code, stdout = _analyze(planted_workspace, "table")

    assert exit_code == 0
    assert "50.0% (20 of 40) against 15.0% (6 of 40)" in stdout
    assert "Too little data" in stdout


def test_analyze_unknown_rule_exits_1(planted_workspace: Workspace) -> None:
    study = planted_workspace.root / "planted_study.yaml"
    study.write_text(
        study.read_text(encoding="utf-8").replace("onboarding_video", "webinar"),
        encoding="utf-8",
    )

    exit_code, stdout = _analyze(planted_workspace, "json")

    assert exit_code == 1
    assert stdout == ""


def test_analyze_csv_has_new_columns(planted_workspace: Workspace) -> None:
    exit_code, stdout = _analyze(planted_workspace, "csv")

    header = next(csv.reader(io.StringIO(stdout)))
    assert exit_code == 0
    assert "detectable_effect" in header
    assert "n_excluded_prior" in header
    assert "curves" not in header
