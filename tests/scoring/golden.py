"""Load golden rule files and insert their rows into a real DuckDB database.

A golden file lists assets, users, events and rules (and optionally the model's
``half_life_days``), then cases: a time zone, an optional as-of date and the points
each partner is expected to earn, worked out by hand in comments beside the events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import yaml

from partnerlift.scoring import Rule, load_model
from partnerlift.store import Database

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT_MODEL = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "partnerlift"
    / "scoring"
    / "default_model.yaml"
)


@dataclass
class GoldenCase:
    """One evaluation of a golden file: the zone, as-of date and expected points."""

    name: str
    zone: str
    as_of: date | None
    expected: dict[str, Any]
    data: dict[str, Any] = field(repr=False)


def utc_instant(text: str) -> datetime:
    """Parse an ISO timestamp with an offset into a naive UTC datetime."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_wall_clock(instant: datetime, zone: str) -> datetime:
    """Return the naive wall-clock time in ``zone`` of a naive UTC instant."""
    aware = instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    return aware.replace(tzinfo=None)


def insert_assets(db: Database, assets: list[dict[str, Any]]) -> None:
    """Insert assets with their kind and tags."""
    if not assets:
        return
    rows = pa.table(
        {
            "asset_id": [asset["asset_id"] for asset in assets],
            "kind": [asset["kind"] for asset in assets],
            "tags": pa.array(
                [asset.get("tags", []) for asset in assets], pa.list_(pa.string())
            ),
        }
    )
    db.insert_arrow("assets", rows)


def insert_partners(db: Database, partner_ids: list[str]) -> None:
    """Insert partners by id alone."""
    if partner_ids:
        db.insert_arrow("partners", pa.table({"partner_id": partner_ids}))


def insert_users(db: Database, users: list[dict[str, Any]]) -> None:
    """Insert users with their partner and validity (ISO instants with an offset)."""
    if not users:
        return

    def instants(key: str) -> pa.Array:
        values = [
            utc_instant(str(user[key])) if user.get(key) else None for user in users
        ]
        return pa.array(values, pa.timestamp("us"))

    rows = pa.table(
        {
            "user_id": [user["user_id"] for user in users],
            "partner_id": [user["partner_id"] for user in users],
            "valid_from": instants("valid_from"),
            "valid_to": instants("valid_to"),
        }
    )
    db.insert_arrow("users", rows)


def insert_events(db: Database, events: list[dict[str, Any]], zone: str) -> None:
    """Insert events, filling ``occurred_local`` from ``occurred_at`` in ``zone``."""
    instants = [utc_instant(str(event["occurred_at"])) for event in events]
    properties = [
        [(str(key), str(value)) for key, value in event.get("properties", {}).items()]
        for event in events
    ]
    rows = pa.table(
        {
            "event_id": [
                str(event.get("event_id", f"e{index}"))
                for index, event in enumerate(events)
            ],
            "occurred_at": pa.array(instants, pa.timestamp("us")),
            "occurred_local": pa.array(
                [local_wall_clock(instant, zone) for instant in instants],
                pa.timestamp("us"),
            ),
            "partner_id": [event.get("partner_id") for event in events],
            "user_id": [event.get("user_id") for event in events],
            "action": [event["action"] for event in events],
            "asset_id": [event.get("asset_id") for event in events],
            "quantity": pa.array(
                [float(event.get("quantity", 1)) for event in events], pa.float64()
            ),
            "properties": pa.array(properties, pa.map_(pa.string(), pa.string())),
        }
    )
    db.insert_arrow("events", rows)


def load_rules(data: dict[str, Any]) -> list[Rule]:
    """Return the file's rules: ids of default rules or inline rule mappings."""
    default = load_model(DEFAULT_MODEL)
    return [
        default.rule(item) if isinstance(item, str) else Rule.model_validate(item)
        for item in data["rules"]
    ]


def fill_database(db: Database, data: dict[str, Any], zone: str) -> None:
    """Insert the file's partners, assets, users and events."""
    insert_partners(db, list(data.get("partners", [])))
    insert_assets(db, list(data.get("assets", [])))
    insert_users(db, list(data.get("users", [])))
    insert_events(db, list(data["events"]), zone)


def golden_cases() -> list[GoldenCase]:
    """Read every golden file and return one case per entry of its ``cases``."""
    cases = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            as_of = case.get("as_of")
            name = f"{path.stem}-{case['zone']}" + (f"-{as_of}" if as_of else "")
            cases.append(GoldenCase(name, case["zone"], as_of, case["expected"], data))
    return cases
