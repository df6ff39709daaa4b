"""The import batches stored in a workspace and their rejected rows."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from partnerlift.errors import NotFoundError
from partnerlift.ingest import file_messages  # noqa: F401 (registers the texts)
from partnerlift.settings.messages import text
from partnerlift.store import Database

BATCH_COLUMNS = [
    "batch_id",
    "table_name",
    "file",
    "encoding",
    "started_at",
    "read",
    "inserted",
    "updated",
    "duplicates",
    "rejected",
    "filtered",
    "footer",
]
REJECTED_COLUMNS = ["file", "line", "field", "value", "reason"]


def list_batches(db: Database) -> list[dict[str, Any]]:
    """Return every import batch, oldest first, with its counts."""
    frame = db.query(
        f"SELECT {', '.join(BATCH_COLUMNS)} FROM import_batches "
        "ORDER BY started_at, batch_id"
    )
    return _records(frame)


def rejected_rows(
    db: Database, batch_id: str, *, locale: str = "en"
) -> list[dict[str, Any]]:
    """Return the rejected rows of a batch in line order.

    Raises
    ------
    NotFoundError
        If no batch has the id ``batch_id``. The message is in ``locale``.
    """
    found = db.query("SELECT 1 FROM import_batches WHERE batch_id = ?", [batch_id])
    if found.empty:
        raise NotFoundError(text("ingest.batch_not_found", locale, batch_id=batch_id))
    frame = db.query(
        f"SELECT {', '.join(REJECTED_COLUMNS)} FROM rejected_rows "
        "WHERE batch_id = ? ORDER BY line NULLS FIRST",
        [batch_id],
    )
    return _records(frame)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return JSON-ready records: numbers as int, timestamps as ISO 8601 text."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))
