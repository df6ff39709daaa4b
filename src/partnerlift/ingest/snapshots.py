"""Records that come again: duplicates, updates of changed records, deal history.

CRM and partner exports are snapshots of records that change. A row whose key is
stored already is a duplicate when every value the file gives is the same, and an
update otherwise: the stored row takes the file's values for the columns the file
has. Every deal inserted or updated also gets a row in ``deal_history``, so a deal's
status and stage as of a date can be rebuilt; partners get rows in
``partner_history`` the same way. An export observed before the latest history row
of a deal or partner only adds to its history, and the stored row keeps the newer
values.

Within one file, a row whose key an earlier row has is a duplicate when every value
the file gives is the same. Otherwise it is rejected: one file is one snapshot, so
nothing in it tells which of two different rows is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from partnerlift.ingest.convert import Rejections
from partnerlift.ingest.tables import LOCAL_COLUMNS, TypedRows, to_arrow
from partnerlift.settings.messages import register, text
from partnerlift.store import Database

register(
    {
        "ingest.repeated_partner": {
            "en": "Partner {key!r} already appears on line {line} of this file with "
            "other values in {columns}. Keep one row per partner, or import the "
            "later export as a separate file.",
            "ja": "パートナー {key!r} はこのファイルの {line} 行目に既にあり、"
            "{columns} の値が異なります。パートナーごとに 1 行にするか、後の"
            "エクスポートを別のファイルとしてインポートしてください。",
        },
        "ingest.repeated_user": {
            "en": "User {key!r} with the same valid_from already appears on line "
            "{line} of this file with other values in {columns}. Keep one row per "
            "user and valid_from, or import the later export as a separate file.",
            "ja": "同じ valid_from のユーザー {key!r} はこのファイルの {line} 行目に"
            "既にあり、{columns} の値が異なります。ユーザーと valid_from ごとに 1 行"
            "にするか、後のエクスポートを別のファイルとしてインポートしてください。",
        },
        "ingest.repeated_asset": {
            "en": "Asset {key!r} already appears on line {line} of this file with "
            "other values in {columns}. Keep one row per asset, or import the later "
            "export as a separate file.",
            "ja": "コンテンツ {key!r} はこのファイルの {line} 行目に既にあり、"
            "{columns} の値が異なります。コンテンツごとに 1 行にするか、後の"
            "エクスポートを別のファイルとしてインポートしてください。",
        },
        "ingest.repeated_deal": {
            "en": "Deal {key!r} already appears on line {line} of this file with "
            "other values in {columns}. Keep one row per deal, or import the later "
            "export as a separate file.",
            "ja": "商談 {key!r} はこのファイルの {line} 行目に既にあり、{columns} の"
            "値が異なります。商談ごとに 1 行にするか、後のエクスポートを別の"
            "ファイルとしてインポートしてください。",
        },
        "ingest.repeated_event": {
            "en": "Event id {key!r} already appears on line {line} of this file "
            "with other values in {columns}. An event id names one event: give each "
            "event its own id, or remove one of the rows.",
            "ja": "イベント ID {key!r} はこのファイルの {line} 行目に既にあり、"
            "{columns} の値が異なります。イベント ID は一つのイベントを表します。"
            "イベントごとに別の ID にするか、どちらかの行を削除してください。",
        },
        "ingest.repeated_event_in_request": {
            "en": "Event id {key!r} already appears at index {index} of this "
            "request with other values in {columns}. An event id names one event: "
            "give each event its own id, or remove one of the items.",
            "ja": "イベント ID {key!r} はこのリクエストのインデックス {index} に既に"
            "あり、{columns} の値が異なります。イベント ID は一つのイベントを表し"
            "ます。イベントごとに別の ID にするか、どちらかの項目を削除してくださ"
            "い。",
        },
    }
)

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

# The history table of each table that keeps one, and its columns besides the key,
# observed_at, change and batch_id.
HISTORIES: dict[str, tuple[str, list[str]]] = {
    "deals": ("deal_history", HISTORY_COLUMNS[1:]),
    "partners": ("partner_history", ["tier", "region", "segment", "size"]),
}


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


@dataclass
class Repeats:
    """Rows whose key an earlier row of the same file has.

    ``rows`` are positions in the file's or chunk's rows, ``first_lines`` the line
    of the first row with that key, and ``differing`` the columns whose values
    differ from that row. An empty list of columns marks a duplicate.
    """

    rows: np.ndarray
    first_lines: np.ndarray
    differing: list[list[str]]

    def select(self, mask: np.ndarray) -> Repeats:
        """Return the repeats where the boolean ``mask`` is true."""
        return Repeats(
            self.rows[mask],
            self.first_lines[mask],
            [
                columns
                for columns, kept in zip(self.differing, mask, strict=True)
                if kept
            ],
        )


def repeat_rows(
    table: str,
    typed: TypedRows,
    rows: np.ndarray,
    lines: np.ndarray,
    offset: int = 0,
) -> pa.Table:
    """Return the rows of the mask ``rows`` to give :func:`find_repeats`.

    The table has the table's columns, ``row_number`` (the position plus
    ``offset``) and ``_line`` (the source line).
    """
    selected = to_arrow(table, typed, rows)
    positions = np.flatnonzero(rows)
    selected = selected.append_column(
        "row_number", pa.array(positions + offset, pa.int64())
    )
    return selected.append_column(
        "_line", pa.array(np.asarray(lines)[positions], pa.int64())
    )


def compared_columns(table: str, provided: list[str]) -> list[str]:
    """Return the columns in which two rows with one key may differ.

    The local wall-clock columns follow from their instants, so they are left out.
    """
    keys = KEYS[table]
    local = set(LOCAL_COLUMNS.values())
    return [name for name in provided if name not in keys and name not in local]


def find_repeats(
    db: Database,
    table: str,
    rows: pa.Table,
    provided: list[str],
    earlier: pa.Table | None = None,
) -> Repeats:
    """Find the rows whose key an earlier row of the same file has.

    Parameters
    ----------
    db
        The workspace database, used as the query engine.
    table
        The canonical table.
    rows
        Valid rows of a file or chunk from :func:`repeat_rows`, at least every row
        whose key comes more than once.
    provided
        The stored columns that the file gives values for.
    earlier
        Rows of earlier chunks of the file with keys of ``rows``, with the same
        columns except ``row_number``. A key's first row is its row in
        ``earlier``, else its first row in ``rows``.

    Returns
    -------
    Repeats
        Every row of ``rows`` that is not its key's first row, with the line of
        the first row and the columns whose typed values differ from it.
    """
    keys = KEYS[table]
    compared = compared_columns(table, provided)
    columns = ", ".join(keys + compared + ["_line"])
    firsts = f"SELECT {columns}, row_number AS _order FROM _file_rows"
    db.raw.register("_file_rows", rows)
    if earlier is not None:
        db.raw.register("_earlier_rows", earlier)
        firsts += f" UNION ALL SELECT {columns}, -1 AS _order FROM _earlier_rows"
    differs = "".join(f", r.{name} IS DISTINCT FROM f.{name}" for name in compared)
    try:
        found = db.raw.execute(
            f"""
            WITH firsts AS ({firsts}),
            key_firsts AS (
                SELECT * FROM firsts
                QUALIFY row_number() OVER (
                    PARTITION BY {", ".join(keys)} ORDER BY _order
                ) = 1
            )
            SELECT r.row_number, f._line{differs}
            FROM _file_rows r JOIN key_firsts f ON {_key_condition(keys, "r", "f")}
            WHERE r.row_number <> f._order
            ORDER BY r.row_number
            """
        ).fetchall()
    finally:
        db.raw.unregister("_file_rows")
        if earlier is not None:
            db.raw.unregister("_earlier_rows")
    return Repeats(
        rows=np.array([row[0] for row in found], dtype=np.int64),
        first_lines=np.array([row[1] for row in found], dtype=np.int64),
        differing=[
            [name for name, differs in zip(compared, row[2:], strict=True) if differs]
            for row in found
        ],
    )


def reject_repeats(
    table: str,
    columns: pd.DataFrame,
    repeats: Repeats,
    rejections: Rejections,
    locale: str,
    offset: int = 0,
    first_indexes: np.ndarray | None = None,
) -> None:
    """Reject the repeated rows that differ from their key's first row.

    The problem's field is the first key column and its value the key. ``offset``
    is subtracted from the row numbers of ``repeats`` to give positions in
    ``columns``. ``first_indexes``, for events that are the items of requests,
    gives the index (from 0) of each repeat's first row within its request, which
    the reason then names instead of the line.
    """
    field = KEYS[table][0]
    message = f"ingest.repeated_{table.removesuffix('s')}"
    positions = repeats.first_lines
    if first_indexes is not None and table == "events":
        message = "ingest.repeated_event_in_request"
        positions = first_indexes
    mask = np.zeros(len(columns), dtype=bool)
    reasons = np.full(len(columns), None, dtype=object)
    values = columns[field]
    for row, line, differing in zip(
        repeats.rows, positions, repeats.differing, strict=True
    ):
        if not differing:
            continue
        position = int(row) - offset
        mask[position] = True
        reasons[position] = text(
            message,
            locale,
            key=values.iat[position],
            line=int(line),
            index=int(line),
            columns=", ".join(differing),
        )
    rejections.reject(mask, field, values, reasons)


@dataclass
class Updates:
    """The row numbers of the rows that change their stored record or its history.

    ``changed`` has every such row. ``outdated`` has those of them that were
    observed before the latest history row of their record. Those rows add to
    the history and leave the stored row as it is.
    """

    changed: np.ndarray
    outdated: np.ndarray


def apply_updates(
    db: Database,
    table: str,
    rows: pa.Table,
    provided: list[str],
    batch_id: str,
    observed_at: datetime | None = None,
) -> Updates:
    """Update the stored rows that ``rows`` changes.

    ``rows`` has a ``row_number`` column and the table's columns; only the columns
    in ``provided`` (those the file has) are compared and written. A deal that is
    open again loses its stored close date, even when the file has no close date.

    A deal or partner whose history has a row observed after ``observed_at`` keeps
    its stored values. Its row of ``rows`` is compared with the latest history row
    observed at or before ``observed_at``. A row that differs from it is outdated
    and goes to the history only, dated ``observed_at``. A row that is the same is
    a duplicate. A record with no such history row is compared with its stored row
    instead, and a row that equals it is a duplicate that still goes to the history
    (change ``inserted``), so the record is known as of ``observed_at``. The
    history of the other changed rows is left to :func:`record_deal_history` and
    :func:`record_partner_history`. Call inside the import's transaction.
    """
    none = np.array([], dtype=np.int64)
    keys = KEYS[table]
    compared = [name for name in provided if name not in keys]
    if table == "deals":
        compared = [
            name for name in compared if name not in ("closed_at", "closed_local")
        ]
    if not compared or rows.num_rows == 0:
        return Updates(none, none)
    db.raw.register("_incoming_rows", rows)
    try:
        differs = " OR ".join(
            f"i.{name} IS DISTINCT FROM t.{name}" for name in compared
        )
        if table == "deals":
            differs += " OR " + _deal_close_change(provided)
        join = _key_condition(keys, "i", "t")
        changed = {
            row
            for (row,) in db.raw.execute(
                f"SELECT i.row_number FROM _incoming_rows i JOIN {table} t ON {join} "
                f"WHERE {differs}"
            ).fetchall()
        }
        if changed and table == "deals":
            _keep_first_snapshot(db, sorted(changed))
        values = _updated_values(table, provided, compared)
        late = Late({}, set())
        if observed_at is not None and table in HISTORIES:
            # NOTE: the columns that the file lacks are still taken from the newer
            # stored row, both for the comparison and for the history row.
            late = _compare_late(db, table, values, observed_at)
        outdated = {
            row for row, differs_earlier in late.earlier.items() if differs_earlier
        } | (late.first_seen & changed)
        current = sorted(changed - set(late.earlier) - late.first_seen)
        if current:
            assignments = [f"{name} = {value}" for name, value in values.items()]
            assignments.append("batch_id = ?")
            db.raw.execute(
                f"UPDATE {table} AS t SET {', '.join(assignments)} "
                f"FROM _incoming_rows i WHERE {join} AND i.row_number IN "
                f"(SELECT unnest(?::BIGINT[]))",
                [batch_id, current],
            )
        for change, selected in (
            ("updated", outdated),
            ("inserted", late.first_seen - changed),
        ):
            if selected:
                _record_late_rows(
                    db, table, values, sorted(selected), change, observed_at, batch_id
                )
    finally:
        db.raw.unregister("_incoming_rows")
    return Updates(
        np.array(sorted(set(current) | outdated), dtype=np.int64),
        np.array(sorted(outdated), dtype=np.int64),
    )


def _updated_values(
    table: str, provided: list[str], compared: list[str]
) -> dict[str, str]:
    """Return the SQL value of each column that an update writes, from the
    incoming row ``i`` and the stored row ``t``."""
    values = {name: f"i.{name}" for name in compared}
    if table == "deals":
        values.update(_deal_close_values(provided))
    return values


@dataclass
class Late:
    """The rows of ``_incoming_rows`` whose record has a history row observed
    after the import's observed_at.

    ``earlier`` maps each such row whose record also has a history row observed
    at or before it to whether the row differs from the latest of those.
    ``first_seen`` has the rows whose record has no such history row.
    """

    earlier: dict[int, bool]
    first_seen: set[int]


def _compare_late(
    db: Database, table: str, values: dict[str, str], observed_at: datetime
) -> Late:
    """Compare the late rows of ``_incoming_rows`` with the history their record
    had as of ``observed_at``."""
    history, columns = HISTORIES[table]
    key = KEYS[table][0]
    differs = " OR ".join(
        f"{values.get(name, f't.{name}')} IS DISTINCT FROM e.{name}" for name in columns
    )
    found = db.raw.execute(
        f"""
        WITH late AS (
            SELECT i.row_number, i.{key} FROM _incoming_rows i
            WHERE ? < (
                SELECT max(h.observed_at) FROM {history} h WHERE h.{key} = i.{key}
            )
        ),
        earlier AS (
            -- The row that deals_as_of returns for observed_at.
            SELECT h.* FROM {history} h
            WHERE h.observed_at <= ? AND h.{key} IN (SELECT {key} FROM late)
            QUALIFY row_number() OVER (
                PARTITION BY h.{key}
                ORDER BY h.observed_at DESC, h.change DESC, h.rowid DESC
            ) = 1
        )
        SELECT l.row_number, e.{key} IS NOT NULL, {differs}
        FROM late l
        JOIN _incoming_rows i ON i.row_number = l.row_number
        JOIN {table} t ON i.{key} = t.{key}
        LEFT JOIN earlier e ON e.{key} = i.{key}
        """,
        [observed_at, observed_at],
    ).fetchall()
    return Late(
        earlier={row: bool(differs) for row, known, differs in found if known},
        first_seen={row for row, known, _ in found if not known},
    )


def _record_late_rows(
    db: Database,
    table: str,
    values: dict[str, str],
    selected: list[int],
    change: str,
    observed_at: datetime,
    batch_id: str,
) -> None:
    """Append the ``selected`` rows to the history, with the file's values and the
    stored values of the columns the file does not have."""
    history, columns = HISTORIES[table]
    key = KEYS[table][0]
    picked = ", ".join(values.get(name, f"t.{name}") for name in columns)
    db.raw.execute(
        f"INSERT INTO {history} ({key}, observed_at, change, batch_id, "
        f"{', '.join(columns)}) "
        f"SELECT i.{key}, ?, ?, ?, {picked} "
        f"FROM _incoming_rows i JOIN {table} t ON i.{key} = t.{key} "
        f"WHERE i.row_number IN (SELECT unnest(?::BIGINT[]))",
        [observed_at, change, batch_id, selected],
    )


def _deal_close_change(provided: list[str]) -> str:
    if "closed_at" in provided:
        return "i.closed_at IS DISTINCT FROM t.closed_at"
    return "(i.status = 'open' AND t.closed_at IS NOT NULL)"


def _deal_close_values(provided: list[str]) -> dict[str, str]:
    if "closed_at" in provided:
        return {"closed_at": "i.closed_at", "closed_local": "i.closed_local"}
    return {
        "closed_at": "CASE WHEN i.status = 'open' THEN NULL ELSE t.closed_at END",
        "closed_local": "CASE WHEN i.status = 'open' THEN NULL ELSE t.closed_local END",
    }


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
    Of two exports observed at the same moment, the one imported last wins, as it
    does in ``deals``. The result has the columns of deal_history.

    Examples
    --------
    >>> deals_as_of(db, datetime(2024, 6, 30, 15))  # doctest: +SKIP
    """
    return db.query(
        """
        SELECT * FROM deal_history
        WHERE observed_at <= ?
        QUALIFY row_number() OVER (
            -- Rows are only ever appended, so rowid follows the import order.
            PARTITION BY deal_id ORDER BY observed_at DESC, change DESC, rowid DESC
        ) = 1
        ORDER BY deal_id
        """,
        [moment],
    )
