from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import SHARED_DATA

from partnerlift.ingest import import_file

PIPELINE = SHARED_DATA / "crm_maven_sales_opportunities" / "sales_pipeline.csv"

MAPPING = """\
columns:
  deal_id: opportunity_id
  partner_id: {partner}
  created_at: engage_date
  closed_at: close_date
  amount: close_value
  stage: deal_stage
  status:
    column: deal_stage
    values: {{Won: won, Lost: lost, Engaging: open, Prospecting: open}}
"""

pytestmark = pytest.mark.skipif(not PIPELINE.exists(), reason="sample data missing")


def import_pipeline(database, workspace, tmp_path, partner):
    mapping = tmp_path / "maven.yaml"
    mapping.write_text(MAPPING.format(partner=partner), encoding="utf-8")
    return import_file(database, workspace, "deals", PIPELINE, mapping=mapping)


def test_pipeline_by_agent_counts(database, workspace, tmp_path):
    raw = pd.read_csv(PIPELINE, dtype=str, keep_default_na=False)
    # Every row has an agent; Prospecting deals have no engage_date to use as
    # created_at, so those rows are rejected.
    expected_rejected = int((raw["engage_date"] == "").sum())

    result = import_pipeline(database, workspace, tmp_path, "sales_agent")

    assert result.read == len(raw)
    assert result.rejected == expected_rejected
    assert result.inserted == len(raw) - expected_rejected
    assert result.duplicates == 0


def test_pipeline_by_account_rejects_empty(database, workspace, tmp_path):
    raw = pd.read_csv(PIPELINE, dtype=str, keep_default_na=False)
    missing = (raw["account"] == "") | (raw["engage_date"] == "")

    result = import_pipeline(database, workspace, tmp_path, "account")
    fields = pd.Series([problem.field for problem in result.problems])

    assert result.read == len(raw)
    assert result.rejected == int(missing.sum())
    assert result.inserted == int((~missing).sum())
    assert set(fields) == {"partner_id", "created_at"}


def test_pipeline_statuses_match_stages(database, workspace, tmp_path):
    raw = pd.read_csv(PIPELINE, dtype=str, keep_default_na=False)
    kept = raw[raw["engage_date"] != ""]
    stages = {"Won": "won", "Lost": "lost", "Engaging": "open", "Prospecting": "open"}
    expected = kept["deal_stage"].map(stages).value_counts().to_dict()

    import_pipeline(database, workspace, tmp_path, "sales_agent")
    stored = database.query("SELECT status, count(*) AS n FROM deals GROUP BY 1")

    assert dict(zip(stored["status"], stored["n"], strict=True)) == expected


def test_pipeline_reimport_is_duplicates(database, workspace, tmp_path):
    first = import_pipeline(database, workspace, tmp_path, "sales_agent")

    again = import_pipeline(database, workspace, tmp_path, "sales_agent")

    assert again.inserted == 0
    assert again.duplicates == first.inserted
