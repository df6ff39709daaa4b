"""The workspace database: DuckDB on disk, queried through Ibis."""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from partnerlift.errors import DatabaseInUseError
from partnerlift.settings.messages import register, text
from partnerlift.store.schema import MIGRATIONS, SCHEMA_VERSION, TABLES

logger = logging.getLogger(__name__)

register(
    {
        "store.database_in_use": {
            "en": "The workspace database {path!r} is in use by another process"
            "{holder}, such as 'partnerlift serve' or another import. Wait for "
            "that process to finish, or stop it, and run the command again. To "
            "send data to a running server, use its HTTP API.",
            "ja": "ワークスペースのデータベース {path!r} は別のプロセス{holder}が"
            "使用中です（'partnerlift serve' や別のインポートなど）。そのプロセスの"
            "終了を待つか、停止してから、コマンドをもう一度実行してください。"
            "実行中のサーバーにデータを送るには、その HTTP API を使ってください。",
        },
        "store.database_holder": {"en": " (PID {pid})", "ja": "(PID {pid})"},
    }
)

# DuckDB 2.0 reports a file locked by another process as an IOException reading
# 'Could not set lock on file "PATH": Conflicting lock is held in PROGRAM (PID N)'.
_LOCK_MESSAGE = re.compile(r"could not set lock|conflicting lock", re.IGNORECASE)
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


class Database:
    """A connection to a workspace database with the canonical tables in place.

    Parameters
    ----------
    path
        The DuckDB file; created with the tables if missing.
    zone
        The workspace's time zone. Where the stored local times were computed for
        another zone, they are recomputed on opening.
    locale
        The language (``en`` or ``ja``) of the error raised when another process
        has the file open. The default is English.

    Raises
    ------
    DatabaseInUseError
        If another process, such as ``partnerlift serve``, has the file open.
    """

    def __init__(
        self, path: str | Path, *, zone: str | None = None, locale: str = "en"
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ibis = _connect(self.path, locale)
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
            # One transaction for each step, so a failed step can be run again.
            self.raw.execute("BEGIN TRANSACTION")
            try:
                for statement in MIGRATIONS.get(version, []):
                    self.raw.execute(statement)
                self.raw.execute("INSERT INTO schema_version VALUES (?)", [version + 1])
                self.raw.execute("COMMIT")
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
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


def _connect(path: Path, locale: str) -> Any:
    """Connect Ibis to the DuckDB file ``path``.

    Raises
    ------
    DatabaseInUseError
        If another process has locked the file.
    """
    try:
        return ibis.duckdb.connect(str(path))
    except duckdb.IOException as error:
        if not _LOCK_MESSAGE.search(str(error)):
            raise
        found = _LOCK_HOLDER.search(str(error))
        pid = int(found.group(1)) if found else None
        holder = text("store.database_holder", locale, pid=pid) if found else ""
        message = text("store.database_in_use", locale, path=str(path), holder=holder)
        logger.info("Database %s is locked: %s", path, error)
        raise DatabaseInUseError(message, str(path), pid) from error
