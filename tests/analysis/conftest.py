from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

import pyarrow as pa
import pytest

from partnerlift.settings import Workspace
from partnerlift.settings.times import parse_instant, to_local
from partnerlift.store import Database

# The UTC instant columns and the local wall-clock column filled beside each.
LOCAL_COLUMNS = {
    "occurred_at": "occurred_local",
    "created_at": "created_local",
    "closed_at": "closed_local",
    "joined_at": "joined_local",
}

InsertRows = Callable[[Database, str, list[dict[str, Any]]], None]


@pytest.fixture
def insert_rows(workspace: Workspace) -> InsertRows:
    """Insert rows whose ``*_at`` values are local times in the workspace's zone.

    Each ``*_at`` text becomes a naive UTC instant, and its ``*_local`` column gets
    the local wall-clock time, as an import fills them.
    """
    zone = workspace.zone

    def insert(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
        filled = []
        for row in rows:
            values = dict(row)
            for instant, local in LOCAL_COLUMNS.items():
                if instant in values and values[instant] is not None:
                    values[instant] = parse_instant(values[instant], zone)
                    values[local] = to_local(values[instant], zone)
                elif instant in values:
                    values[local] = None
            filled.append(values)
        columns = sorted({name for values in filled for name in values})
        arrays = {}
        for name in columns:
            column = [values.get(name) for values in filled]
            if name.endswith(("_at", "_local")):
                arrays[name] = pa.array(column, type=pa.timestamp("us"))
            else:
                arrays[name] = pa.array(column)
        db.insert_arrow(table, pa.table(arrays))

    return insert


@pytest.fixture
def planted_workspace(workspace: Workspace, insert_rows: InsertRows) -> Workspace:
    """A workspace with 80 partners, a planted association and confounding by tier.

    Every partner joined on 2024-01-01 (Tokyo). Partners who completed the onboarding
    video in their first 30 days, and partners who created a deal in the 60 days
    after, by tier:

    ======  ===========================  ==============================
    tier    with the video: deal / all   without the video: deal / all
    ======  ===========================  ==============================
    gold    18 / 30                      3 / 10
    silver   2 / 10                      3 / 30
    ======  ===========================  ==============================

    Within each tier the risk ratio is 2 (0.6 / 0.3 and 0.2 / 0.1). Over both tiers
    it is (20 / 40) / (6 / 40) = 3.333. No deal closes, so every partner is left
    out of the win rate. The study file ``planted_study.yaml`` in the workspace
    compares the video with both outcomes, adjusting for tier.
    """
    groups = [
        ("gold", True, 30, 18),
        ("gold", False, 10, 3),
        ("silver", True, 10, 2),
        ("silver", False, 30, 3),
    ]
    partners, events, deals = [], [], []
    number = 0
    for tier, watched, total, with_deal in groups:
        for index in range(total):
            number += 1
            partner_id = f"P{number:03d}"
            partners.append(
                {"partner_id": partner_id, "tier": tier, "joined_at": "2024-01-01"}
            )
            if watched:
                events.append(
                    {
                        "event_id": f"E{number:03d}",
                        "occurred_at": "2024-01-05T10:00:00",
                        "partner_id": partner_id,
                        "action": "completed",
                        "asset_id": "V1",
                        "quantity": 1.0,
                    }
                )
            if index < with_deal:
                deals.append(
                    {
                        "deal_id": f"D{number:03d}",
                        "partner_id": partner_id,
                        "created_at": "2024-02-20T10:00:00",
                        "closed_at": None,
                        "status": "open",
                    }
                )
    with Database(workspace.database_path) as db:
        db.insert_arrow(
            "assets",
            pa.table(
                {
                    "asset_id": ["V1"],
                    "kind": ["video"],
                    "tags": pa.array([["onboarding"]], type=pa.list_(pa.string())),
                }
            ),
        )
        insert_rows(db, "partners", partners)
        insert_rows(db, "events", events)
        insert_rows(db, "deals", deals)
    default_model = resources.files("partnerlift.scoring") / "default_model.yaml"
    workspace.score_model_path.write_bytes(default_model.read_bytes())
    (workspace.root / "planted_study.yaml").write_text(
        "study: planted\n"
        "behaviors: [onboarding_video]\n"
        "exposure: {start: joined_at, days: 30}\n"
        "horizon_days: 60\n"
        "outcomes: [opportunity_rate, win_rate]\n"
        "adjust_for: [tier]\n"
        "as_of: 2024-06-30\n",
        encoding="utf-8",
    )
    return workspace
