"""Records that come again: duplicates, updates of changed records, deal history.

CRM and partner exports are snapshots of records that change. A row whose key is
stored already is a duplicate when every value the file gives is the same, and an
update otherwise: the stored row takes the file's values for the columns the file
has. Every deal inserted or updated also gets a row in ``deal_history``, so a deal's
status and stage as of a date can be rebuilt.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from partnerlift.store import Database

# The columns that identify a row: a row whose key is stored already is a duplicate
# or an update.
KEYS: dict[str, list[str]] = {
    "partners": ["partner_id"],
    "users": ["user_id", "valid_from"],
    "assets": ["asset_id"],
    "events": ["event_id"],
    "deals": ["deal_id"],
}

# Tables whose stored rows a later file may change. An event is a fact that
# happened, so an event id that comes again is always a duplicate.
UPDATABLE = ("partners", "users", "assets", "deals")

HISTORY_COLUMNS = [
    "deal_id",
    "partner_id",
    "created_at",
    "closed_at",
    "status",
    "amount",
    "currency",
    "stage",
]


def find_stored(
    db: Database, table: str, columns: pd.DataFrame, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mark valid rows whose key repeats an earlier row of the file, and valid rows
    (first in the file) whose key is stored already.

    Returns
    -------
    tuple of numpy.ndarray
        ``(repeated, stored)``, boolean masks over the rows of ``columns``.
    """
    keys = KEYS[table]
    repeated = np.zeros(len(columns), dtype=bool)
    stored = np.zeros(len(columns), dtype=bool)
    candidates = columns.loc[valid, keys]
    repeated[np.flatnonzero(valid)] = candidates.duplicated(keep="first").to_numpy()
    lookup = {"row_number": pa.array(np.flatnonzero(valid), pa.int64())}
    for key in keys:
        if key == "valid_from":
            lookup[key] = pa.array(
                candidates[key], pa.timestamp("us"), from_pandas=True
            )
        else:
            lookup[key] = pa.array(candidates[key].tolist(), pa.string())
    db.raw.register("_incoming_keys", pa.table(lookup))
    try:
        condition = _key_condition(keys, "k", "t")
        found = db.raw.execute(
            f"SELECT k.row_number FROM _incoming_keys k "
            f"WHERE EXISTS (SELECT 1 FROM {table} t WHERE {condition})"
        ).fetchall()
    finally:
        db.raw.unregister("_incoming_keys")
    stored[[row for (row,) in found]] = True
    return repeated, stored & ~repeated


def _key_condition(keys: list[str], left: str, right: str) -> str:
    return " AND ".join(
        f"{left}.{key} IS NOT DISTINCT FROM {right}.{key}" for key in keys
    )


def apply_updates(
    db: Database,
    table: str,
    rows: pa.Table,
    provided: list[str],
    batch_id: str,
) -> np.ndarray:
    """Update the stored rows that ``rows`` changes; return the changed row numbers.

    ``rows`` has a ``row_number`` column and the table's columns; only the columns
    in ``provided`` (those the file has) are compared and written. A deal that is
    open again loses its stored close date, even when the file has no close date.
    Call inside the import's transaction.
    """
    keys = KEYS[table]
    compared = [name for name in provided if name not in keys]
    if table == "deals":
        compared = [
            name for name in compared if name not in ("closed_at", "closed_local")
        ]
    if not compared or rows.num_rows == 0:
        return np.array([], dtype=np.int64)
    db.raw.register("_incoming_rows", rows)
    try:
        differs = " OR ".join(
            f"i.{name} IS DISTINCT FROM t.{name}" for name in compared
        )
        if table == "deals":
            differs += " OR " + _deal_close_change(provided)
        join = _key_condition(keys, "i", "t")
        changed = [
            row
            for (row,) in db.raw.execute(
                f"SELECT i.row_number FROM _incoming_rows i JOIN {table} t ON {join} "
                f"WHERE {differs}"
            ).fetchall()
        ]
        if changed:
            if table == "deals":
                _keep_first_snapshot(db, changed)
            assignments = [f"{name} = i.{name}" for name in compared]
            if table == "deals":
                assignments += _deal_close_assignments(provided)
            assignments.append("batch_id = ?")
            db.raw.execute(
                f"UPDATE {table} AS t SET {', '.join(assignments)} "
                f"FROM _incoming_rows i WHERE {join} AND i.row_number IN "
                f"(SELECT unnest(?::BIGINT[]))",
                [batch_id, changed],
            )
    finally:
        db.raw.unregister("_incoming_rows")
    return np.array(sorted(changed), dtype=np.int64)


def _deal_close_change(provided: list[str]) -> str:
    if "closed_at" in provided:
        return "i.closed_at IS DISTINCT FROM t.closed_at"
    return "(i.status = 'open' AND t.closed_at IS NOT NULL)"


def _deal_close_assignments(provided: list[str]) -> list[str]:
    if "closed_at" in provided:
        return ["closed_at = i.closed_at", "closed_local = i.closed_local"]
    return [
        "closed_at = CASE WHEN i.status = 'open' THEN NULL ELSE t.closed_at END",
        "closed_local = CASE WHEN i.status = 'open' THEN NULL ELSE t.closed_local END",
    ]


def _keep_first_snapshot(db: Database, changed: list[int]) -> None:
    """Copy into deal_history the stored state of changed deals that have none yet.

    Deals stored before deal_history existed have no history row. Their state as
    stored is dated when the batch that stored them was observed, or else started.
    """
    targets = ", ".join(HISTORY_COLUMNS)
    columns = ", ".join(f"t.{name}" for name in HISTORY_COLUMNS)
    db.raw.execute(
        f"""
        INSERT INTO deal_history (observed_at, change, batch_id, {targets})
        SELECT coalesce(b.observed_at, b.started_at, TIMESTAMP '1970-01-01'),
               'inserted',
               coalesce(t.batch_id, ''), {columns}
        FROM deals t
        JOIN _incoming_rows i ON i.deal_id = t.deal_id
        LEFT JOIN import_batches b ON b.batch_id = t.batch_id
        WHERE i.row_number IN (SELECT unnest(?::BIGINT[]))
          AND NOT EXISTS (SELECT 1 FROM deal_history h WHERE h.deal_id = t.deal_id)
        """,
        [changed],
    )


def record_deal_history(
    db: Database,
    deal_ids: list[str],
    change: str,
    observed_at: datetime,
    batch_id: str,
) -> None:
    """Append the stored state of ``deal_ids`` to deal_history as observed then."""
    if not deal_ids:
        return
    columns = ", ".join(HISTORY_COLUMNS)
    db.raw.execute(
        f"INSERT INTO deal_history (observed_at, change, batch_id, {columns}) "
        f"SELECT ?, ?, ?, {columns} FROM deals "
        f"WHERE deal_id IN (SELECT unnest(?::VARCHAR[]))",
        [observed_at, change, batch_id, deal_ids],
    )


def record_partner_history(
    db: Database,
    partner_ids: list[str],
    change: str,
    observed_at: datetime,
    batch_id: str,
) -> None:
    """Append the stored tier, size, region and segment of ``partner_ids``."""
    if not partner_ids:
        return
    db.raw.execute(
        "INSERT INTO partner_history (partner_id, observed_at, change, batch_id, "
        "tier, region, segment, size) "
        "SELECT partner_id, ?, ?, ?, tier, region, segment, size FROM partners "
        "WHERE partner_id IN (SELECT unnest(?::VARCHAR[]))",
        [observed_at, change, batch_id, partner_ids],
    )


def deals_as_of(db: Database, moment: datetime) -> pd.DataFrame:
    """Return each deal as the latest export observed at or before ``moment`` showed it.

    ``moment`` is a naive UTC datetime. Deals first observed after it are left out.
    The result has the columns of deal_history.

    Examples
    --------
    >>> deals_as_of(db, datetime(2024, 6, 30, 15))  # doctest: +SKIP
    """
    return db.query(
        """
        SELECT * FROM deal_history
        WHERE observed_at <= ?
        QUALIFY row_number() OVER (
            PARTITION BY deal_id ORDER BY observed_at DESC, change DESC
        ) = 1
        ORDER BY deal_id
        """,
        [moment],
    )
