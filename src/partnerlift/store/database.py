"""The workspace database: DuckDB on disk, queried through Ibis."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from partnerlift.store.schema import MIGRATIONS, SCHEMA_VERSION, TABLES

logger = logging.getLogger(__name__)


class Database:
    """A connection to a workspace database with the canonical tables in place.

    Parameters
    ----------
    path
        The DuckDB file; created with the tables if missing.
    zone
        The workspace's time zone. Where the stored local times were computed for
        another zone, they are recomputed on opening.
    """

    def __init__(self, path: str | Path, *, zone: str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ibis = ibis.duckdb.connect(str(self.path))
        self.migrate()
        if zone is not None:
            self.ensure_zone(zone)

    @property
    def raw(self) -> Any:
        """The underlying ``duckdb.DuckDBPyConnection``."""
        return self.ibis.con

    def migrate(self) -> None:
        """Create missing tables and apply pending migrations."""
        self.raw.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
        )
        row = self.raw.execute("SELECT max(version) FROM schema_version").fetchall()[0]
        current = row[0] if row and row[0] is not None else None
        for statement in TABLES.values():
            self.raw.execute(statement)
        if current is None:
            self.raw.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION])
            return
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS.get(version, []):
                self.raw.execute(statement)
            self.raw.execute("INSERT INTO schema_version VALUES (?)", [version + 1])
            logger.info("Migrated %s to schema version %d", self.path, version + 1)

    def ensure_zone(self, zone: str) -> bool:
        """Recompute the local times if they were stored for a zone other than ``zone``.

        Returns True when the local times were recomputed.
        """
        self.raw.execute(
            "CREATE TABLE IF NOT EXISTS settings_state (key VARCHAR PRIMARY KEY, "
            "value VARCHAR)"
        )
        rows = self.raw.execute(
            "SELECT value FROM settings_state WHERE key = 'local_zone'"
        ).fetchall()
        if rows and rows[0][0] == zone:
            return False
        changed = bool(rows)
        if changed:
            self.relocalize(zone)
        self.raw.execute(
            "INSERT OR REPLACE INTO settings_state VALUES ('local_zone', ?)", [zone]
        )
        return changed

    def relocalize(self, zone: str) -> None:
        """Recompute every ``*_local`` column for the time zone ``zone``.

        Calendar periods are read from the local columns, so they must follow a change
        of the workspace's zone.
        """
        pairs = {
            "partners": [("joined_local", "joined_at")],
            "events": [("occurred_local", "occurred_at")],
            "deals": [("created_local", "created_at"), ("closed_local", "closed_at")],
        }
        for table, columns in pairs.items():
            assignments = ", ".join(
                f"{local} = ({instant} AT TIME ZONE 'UTC') AT TIME ZONE ?"
                for local, instant in columns
            )
            self.raw.execute(f"UPDATE {table} SET {assignments}", [zone] * len(columns))
        logger.info("Recomputed local times for time zone %s", zone)

    def table(self, name: str) -> ibis.Table:
        """Return a canonical table as an Ibis expression."""
        return self.ibis.table(name)

    def query(self, sql: str, parameters: list[Any] | None = None) -> pd.DataFrame:
        """Run SQL and return the result as a pandas DataFrame."""
        return self.raw.execute(sql, parameters or []).df()

    def insert_arrow(self, name: str, rows: pa.Table) -> None:
        """Append an Arrow table whose columns are a subset of the table's, by name."""
        columns = ", ".join(f'"{column}"' for column in rows.column_names)
        self.raw.register("_incoming", rows)
        try:
            self.raw.execute(
                f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM _incoming'
            )
        except duckdb.Error:
            # Inside a failed transaction the unregister fails too; its error would
            # hide the one that explains what went wrong.
            with contextlib.suppress(duckdb.Error):
                self.raw.unregister("_incoming")
            raise
        self.raw.unregister("_incoming")

    def close(self) -> None:
        """Close the connection."""
        self.ibis.disconnect()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
