from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from partnerlift.analysis import analyze, load_study
from partnerlift.scoring import ScoreModel
from partnerlift.settings import Workspace
from partnerlift.store import Database

from .conftest import InsertRows

# Follow-up of every patient ends at this local midnight, the end of the as-of day.
FOLLOW_UP_END = datetime(2011, 1, 1)

STUDY = """\
study: stanford
behaviors:
  - {id: transplant, match: {action: transplanted}}
design: time_varying
exposure: {start: joined_at, days: 1}
horizon_days: 2000
outcomes: [lead_time]
as_of: 2010-12-31
"""


@pytest.fixture
def stanford_workspace(workspace: Workspace, insert_rows: InsertRows) -> Workspace:
    """The Stanford heart transplant data (bundled with lifelines) as a program.

    Each patient is a partner, a transplant is an event and death is a deal. A
    censored patient joins ``stop`` days before the end of follow-up, so the as-of
    day censors them at ``stop``; a patient who died joins a day earlier, so the
    death falls inside the follow-up.
    """
    from lifelines.datasets import load_stanford_heart_transplants

    intervals = load_stanford_heart_transplants()
    partners, events, deals = [], [], []
    for patient, rows in intervals.groupby("id"):
        stop = float(rows["stop"].max())
        died = bool(rows["event"].max())
        joined = FOLLOW_UP_END - timedelta(days=stop + (1 if died else 0))
        partner_id = f"H{int(patient):03d}"
        partners.append({"partner_id": partner_id, "joined_at": joined.isoformat()})
        transplanted = rows[rows["transplant"] == 1]
        if len(transplanted):
            moment = joined + timedelta(days=float(transplanted["start"].min()))
            events.append(
                {
                    "event_id": f"T{partner_id}",
                    "occurred_at": moment.isoformat(),
                    "partner_id": partner_id,
                    "action": "transplanted",
                    "quantity": 1.0,
                }
            )
        if died:
            deals.append(
                {
                    "deal_id": f"D{partner_id}",
                    "partner_id": partner_id,
                    "created_at": (joined + timedelta(days=stop)).isoformat(),
                    "closed_at": None,
                    "status": "open",
                }
            )
    with Database(workspace.database_path) as db:
        insert_rows(db, "partners", partners)
        insert_rows(db, "events", events)
        insert_rows(db, "deals", deals)
    (workspace.root / "stanford.yaml").write_text(STUDY, encoding="utf-8")
    return workspace


@pytest.fixture
def stanford_finding(stanford_workspace: Workspace) -> dict[str, Any]:
    study = load_study(stanford_workspace.root / "stanford.yaml")
    model = ScoreModel.model_validate(
        {"model": "m", "rules": [{"id": "any", "match": {"action": "any"}}]}
    )
    with Database(stanford_workspace.database_path) as db:
        result = analyze(db, study, model=model, zone=stanford_workspace.zone)
    (finding,) = result["findings"]
    return finding


def test_stanford_design_gives_time_varying_ratio(
    stanford_finding: dict[str, Any],
) -> None:
    """A Cox model with the transplant as a time-varying covariate gives a hazard
    ratio of about 1.14 on these data, and "ever transplanted" as a fixed
    covariate about 0.27 (both in test_survival.py). The time-varying design,
    run from the database, must give the former.
    """
    assert stanford_finding["measure"] == "hazard_ratio"
    assert stanford_finding["estimate"] == pytest.approx(1.14, abs=0.01)


def test_stanford_counts(stanford_finding: dict[str, Any]) -> None:
    # The data set has 103 patients, 69 transplanted; 75 rows end in death, 45 of
    # them in a transplanted interval (Crowley and Hu 1977 report the same).
    assert stanford_finding["n_with"] == 69
    assert stanford_finding["n_without"] == 103
    assert stanford_finding["events_with"] + stanford_finding["events_without"] == 75
    assert stanford_finding["events_with"] == 45


def test_stanford_statement_counts_from_start(
    stanford_finding: dict[str, Any],
) -> None:
    statement = stanford_finding["statement_en"]

    assert statement.startswith("Once partners had “transplant”")
    assert "hazard ratio 1.14" in statement
