"""Memberships: the partner each user belonged to, and when, from the users table.

A user belongs to a partner from ``valid_from`` (included) to ``valid_to``
(excluded); an empty bound is open. Where a user's rows overlap, the row that started
last wins, as at import. The rows are cut into non-overlapping memberships, so that
joining events to them matches at most one row per event.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

# Stand-ins for open bounds. Ibis hands in-memory tables to PySpark through pandas,
# whose nanosecond timestamps end in 2262, so the open end stays before that.
OPEN_START = datetime(1900, 1, 1)
OPEN_END = datetime(2200, 1, 1)

MEMBERSHIP_SCHEMA = pa.schema(
    [
        ("member_user", pa.string()),
        ("member_partner", pa.string()),
        ("member_from", pa.timestamp("us")),
        ("member_to", pa.timestamp("us")),
    ]
)


def _instant(value: Any, default: datetime) -> datetime:
    if value is None or pd.isna(value):
        return default
    return pd.Timestamp(value).to_pydatetime()


def _user_memberships(rows: list[tuple[datetime, datetime, str]]) -> list[tuple]:
    """Cut one user's possibly overlapping rows into non-overlapping memberships."""
    if len(rows) == 1:
        return rows
    bounds = sorted({bound for start, stop, _ in rows for bound in (start, stop)})
    pieces: list[tuple[datetime, datetime, str]] = []
    for low, high in itertools.pairwise(bounds):
        covering = [row for row in rows if row[0] <= low and high <= row[1]]
        if not covering:
            continue
        partner = max(covering, key=lambda row: row[0])[2]
        if pieces and pieces[-1][1] == low and pieces[-1][2] == partner:
            pieces[-1] = (pieces[-1][0], high, partner)
        else:
            pieces.append((low, high, partner))
    return pieces


def memberships(users: pd.DataFrame) -> pa.Table:
    """Return non-overlapping memberships from rows of the users table.

    Returns
    -------
    pyarrow.Table
        Columns member_user, member_partner, member_from, member_to (naive UTC,
        ``member_from <= instant < member_to``).
    """
    grouped: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for row in users.itertuples(index=False):
        start = _instant(row.valid_from, OPEN_START)
        stop = _instant(row.valid_to, OPEN_END)
        if start < stop:
            grouped.setdefault(str(row.user_id), []).append(
                (start, stop, str(row.partner_id))
            )
    columns: dict[str, list[Any]] = {name: [] for name in MEMBERSHIP_SCHEMA.names}
    for user_id, rows in grouped.items():
        for start, stop, partner in _user_memberships(rows):
            columns["member_user"].append(user_id)
            columns["member_partner"].append(partner)
            columns["member_from"].append(start)
            columns["member_to"].append(stop)
    return pa.table(columns, schema=MEMBERSHIP_SCHEMA)


def current_members(table: pa.Table, end: datetime) -> pa.Table:
    """Return the users who belong to a partner at the last instant before ``end``.

    Returns
    -------
    pyarrow.Table
        Columns member_user, member_partner and members (the partner's number of
        users at that instant).
    """
    now = [
        (row["member_user"], row["member_partner"])
        for row in table.to_pylist()
        if row["member_from"] < end <= row["member_to"]
    ]
    sizes: dict[str, int] = {}
    for _, partner in now:
        sizes[partner] = sizes.get(partner, 0) + 1
    return pa.table(
        {
            "member_user": pa.array([user for user, _ in now], pa.string()),
            "member_partner": pa.array([partner for _, partner in now], pa.string()),
            "members": pa.array([sizes[partner] for _, partner in now], pa.int64()),
        }
    )


def current_table(table: pa.Table | None, end: datetime) -> ir.Table:
    """Return :func:`current_members` as an Ibis table; empty without memberships."""
    if table is None:
        empty = pa.table(
            {
                "member_user": pa.array([], pa.string()),
                "member_partner": pa.array([], pa.string()),
                "members": pa.array([], pa.int64()),
            }
        )
        return ibis.memtable(empty)
    return ibis.memtable(current_members(table, end))


def load_memberships(tables: Any) -> pa.Table | None:
    """Return the memberships of ``tables``'s users table, or None if it is empty.

    A source with a ``users_frame()`` method supplies the users table as a pandas
    DataFrame directly, which saves a job on engines with a high cost per query.
    """
    if hasattr(tables, "users_frame"):
        frame = tables.users_frame()
    else:
        users = tables.table("users")
        columns = users.select("user_id", "partner_id", "valid_from", "valid_to")
        frame = columns.execute()
    if frame.empty:
        return None
    return memberships(frame)
