"""API keys of the HTTP service: created once, stored only as a SHA-256 hash.

A key reads ``pl_<key id>_<secret>``. The key id is stored in clear so that keys can
be listed and revoked by it; the whole key is shown once, when it is created.
Scopes: ``ingest`` (send events), ``read`` (read scores), ``admin`` (everything)
and ``partner:<id>`` (read that partner's score and nothing else).

The keys live in a SQLite file beside the workspace database
(:attr:`Workspace.keys_path`), not in DuckDB, whose file only one process can open.
SQLite in WAL mode lets ``partnerlift keys`` write while ``partnerlift serve`` reads,
and the server sees a created or revoked key on its next request. Keys that an older
version stored in the DuckDB table ``api_keys`` are copied into the file when it is
first opened.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from partnerlift.errors import (
    DatabaseInUseError,
    InputError,
    NotFoundError,
    PartnerliftError,
)
from partnerlift.settings import Workspace
from partnerlift.store import Database

logger = logging.getLogger(__name__)

_SCOPE = re.compile(r"ingest|read|admin|partner:[^\s:]+")
_KEY = re.compile(r"pl_([0-9a-f]{12})_[A-Za-z0-9_-]{20,}")

# How long a statement waits for another process's write lock on the keys file
# before it fails. Writes to the file are single short transactions.
BUSY_TIMEOUT_SECONDS = 10.0

# The state row that records that the keys of the DuckDB table were copied.
_COPIED_FROM_DUCKDB = "copied_from_duckdb_at"

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS api_keys (
        key_id TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL,
        label TEXT,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    )""",
    "CREATE TABLE IF NOT EXISTS store_state (name TEXT PRIMARY KEY, value TEXT)",
]

# A stored key, as a row of the DuckDB table or of the SQLite file: key_id,
# key_hash, scope, label, created_at, revoked_at.
KeyRow = tuple[str, str, str, str | None, Any, Any]


@dataclass(frozen=True)
class ApiKey:
    """A stored key: its id, scope and label (never the key itself)."""

    key_id: str
    scope: str
    label: str | None

    def allows(self, needed: str, partner_id: str | None = None) -> bool:
        """Return whether the key's scope covers ``needed`` (ingest, read or admin).

        A ``partner:<id>`` key covers ``read`` of that partner only.
        """
        if self.scope == "admin":
            return True
        if self.scope.startswith("partner:"):
            return needed == "read" and partner_id == self.scope.split(":", 1)[1]
        return self.scope == needed


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _timestamp(value: datetime | str | None) -> str | None:
    """Return a naive UTC time as ISO 8601 text with microseconds, the stored form."""
    if value is None or isinstance(value, str):
        return value
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


class KeyStore:
    """The API keys in a SQLite file that several processes can open at once.

    Use :func:`open_key_store` to open the store of a workspace.

    Parameters
    ----------
    path
        The SQLite file; created if missing.
    read_duckdb_keys
        Returns the rows of the DuckDB table ``api_keys``, or None when the table
        cannot be read now. It is called, and its keys are copied in, while the
        file has no record of an earlier copy.

    Raises
    ------
    PartnerliftError
        If the file cannot be opened as a SQLite database, or stays locked by
        another process for longer than ``BUSY_TIMEOUT_SECONDS``.
    """

    def __init__(
        self, path: str | Path, read_duckdb_keys: Callable[[], list[KeyRow] | None]
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection serves every thread of the server, so the lock serialises
        # its statements.
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            self._prepare(read_duckdb_keys)
        except BaseException:
            self._connection.close()
            raise
        # The found keys by hash, valid while the file's data_version is unchanged.
        self._found: dict[str, ApiKey] = {}
        self._data_version: int | None = None

    def _prepare(self, read_duckdb_keys: Callable[[], list[KeyRow] | None]) -> None:
        with self._sqlite_errors():
            mode = self._connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            logger.warning(
                "The keys file %s is in %s mode, not WAL: its file system may not "
                "support WAL, so the server and the CLI may block each other",
                self.path,
                mode,
            )
        with self._transaction() as connection:
            for statement in _SCHEMA:
                connection.execute(statement)
            copied = connection.execute(
                "SELECT 1 FROM store_state WHERE name = ?", [_COPIED_FROM_DUCKDB]
            ).fetchall()
        if copied:
            return
        # Read the DuckDB keys outside the SQLite transaction, which would keep
        # other processes waiting while DuckDB opens.
        rows = read_duckdb_keys()
        if rows is None:
            return
        with self._transaction() as connection:
            connection.executemany(
                "INSERT OR IGNORE INTO api_keys (key_id, key_hash, scope, label, "
                "created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        key_id,
                        key_hash,
                        scope,
                        label,
                        _timestamp(created),
                        _timestamp(revoked),
                    )
                    for key_id, key_hash, scope, label, created, revoked in rows
                ],
            )
            connection.execute(
                "INSERT OR IGNORE INTO store_state VALUES (?, ?)",
                [_COPIED_FROM_DUCKDB, _now()],
            )
        if rows:
            logger.info(
                "Copied %d API keys from the workspace database into %s",
                len(rows),
                self.path,
            )

    @contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        """Turn SQLite's lock and file errors into a PartnerliftError."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            raise PartnerliftError(
                f"Timed out after {BUSY_TIMEOUT_SECONDS:g} s waiting for another "
                f"process to release the keys file {str(self.path)!r}. Run the "
                "command again."
            ) from error
        except sqlite3.DatabaseError as error:
            raise PartnerliftError(
                f"Cannot read the keys file {str(self.path)!r}: {error}. Restore it "
                "from a backup, or move it away and create new keys."
            ) from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements in one write transaction, rolled back on an error."""
        with self._lock, self._sqlite_errors():
            # IMMEDIATE takes the write lock at BEGIN, so a busy file makes the
            # transaction wait there instead of failing after its first statements.
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def create_key(self, scope: str, label: str | None = None) -> tuple[ApiKey, str]:
        """Create a key with ``scope``; return it and the key text, shown only now.

        Raises
        ------
        InputError
            If the scope is not ingest, read, admin or partner:<id>.
        """
        if not _SCOPE.fullmatch(scope):
            raise InputError(
                f"Invalid scope {scope!r}. Use ingest, read, admin or partner:<id> "
                "such as partner:P0001."
            )
        key_id = secrets.token_hex(6)
        key = f"pl_{key_id}_{secrets.token_urlsafe(24)}"
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO api_keys (key_id, key_hash, scope, label, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [key_id, _hash(key), scope, label, _now()],
            )
        logger.info("Created API key %s with scope %s", key_id, scope)
        return ApiKey(key_id, scope, label), key

    def list_keys(self) -> list[dict[str, Any]]:
        """Return every key's id, scope, label, creation and revocation time (UTC)."""
        with self._lock, self._sqlite_errors():
            cursor = self._connection.execute(
                "SELECT key_id, scope, label, created_at, revoked_at FROM api_keys "
                "ORDER BY created_at, key_id"
            )
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        return [dict(zip(names, row, strict=True)) for row in rows]

    def revoke_key(self, key_id: str) -> None:
        """Revoke the key ``key_id``; a revoked key authenticates nothing.

        Raises
        ------
        NotFoundError
            If no active key has that id.
        """
        with self._transaction() as connection:
            found = connection.execute(
                "UPDATE api_keys SET revoked_at = ? "
                "WHERE key_id = ? AND revoked_at IS NULL",
                [_now(), key_id],
            ).rowcount
        if not found:
            raise NotFoundError(
                f"API key {key_id!r} not found or already revoked. Run 'partnerlift "
                "keys list' to see the key ids."
            )
        logger.info("Revoked API key %s", key_id)

    def authenticate(self, key: str) -> ApiKey | None:
        """Return the active key whose text is ``key``, or None.

        A key found once is remembered until any process changes the file, so a
        key created or revoked elsewhere counts from the next call on.
        """
        match = _KEY.fullmatch(key.strip())
        if not match:
            return None
        digest = _hash(key.strip())
        with self._lock, self._sqlite_errors():
            # data_version changes when another connection commits to the file.
            version = self._connection.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._found.clear()
                self._data_version = version
            found = self._found.get(digest)
            if found is not None:
                return found
            rows = self._connection.execute(
                "SELECT key_hash, scope, label FROM api_keys "
                "WHERE key_id = ? AND revoked_at IS NULL",
                [match.group(1)],
            ).fetchall()
            if not rows or not hmac.compare_digest(rows[0][0], digest):
                return None
            found = ApiKey(match.group(1), rows[0][1], rows[0][2])
            self._found[digest] = found
            return found

    def close(self) -> None:
        """Close the connection to the file."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _duckdb_keys(db: Database) -> list[KeyRow]:
    return db.raw.execute(
        "SELECT key_id, key_hash, scope, label, created_at, revoked_at FROM api_keys"
    ).fetchall()


def open_key_store(workspace: Workspace, db: Database | None = None) -> KeyStore:
    """Open the API keys of ``workspace``.

    The first time, the keys in the DuckDB table ``api_keys`` are copied in. They
    are read through ``db`` when given, else from the database file if it exists.
    While another process has that file open, the copy waits for a later opening,
    and only the keys already in the SQLite file are valid.

    Raises
    ------
    PartnerliftError
        If the keys file is unreadable, or locked for too long.
    """

    def read_duckdb_keys() -> list[KeyRow] | None:
        if db is not None:
            return _duckdb_keys(db)
        if not workspace.database_path.exists():
            return []
        try:
            opened = Database(workspace.database_path, locale=workspace.locale)
        except DatabaseInUseError as error:
            logger.warning(
                "The API keys of the workspace database were not copied into %s "
                "yet, because another process (PID %s) has the database open. The "
                "next command or server start that can open it copies them",
                workspace.keys_path,
                error.pid,
            )
            return None
        with opened:
            return _duckdb_keys(opened)

    return KeyStore(workspace.keys_path, read_duckdb_keys)


def create_key(
    workspace: Workspace, scope: str, label: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key with ``scope`` in ``workspace``; return it and the key text.

    Raises
    ------
    InputError
        If the scope is not ingest, read, admin or partner:<id>.
    """
    with open_key_store(workspace) as store:
        return store.create_key(scope, label)


def list_keys(workspace: Workspace) -> list[dict[str, Any]]:
    """Return every key's id, scope, label, creation and revocation time (UTC)."""
    with open_key_store(workspace) as store:
        return store.list_keys()


def revoke_key(workspace: Workspace, key_id: str) -> None:
    """Revoke the key ``key_id`` of ``workspace``.

    Raises
    ------
    NotFoundError
        If no active key has that id.
    """
    with open_key_store(workspace) as store:
        store.revoke_key(key_id)


def authenticate(workspace: Workspace, key: str) -> ApiKey | None:
    """Return the active key of ``workspace`` whose text is ``key``, or None."""
    with open_key_store(workspace) as store:
        return store.authenticate(key)
