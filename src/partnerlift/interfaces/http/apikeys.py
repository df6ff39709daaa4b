"""API keys of the HTTP service: created once, stored only as a SHA-256 hash.

A key reads ``pl_<key id>_<secret>``. The key id is stored in clear so that keys can
be listed and revoked by it; the whole key is shown once, when it is created.
Scopes: ``ingest`` (send events), ``read`` (read scores), ``admin`` (everything)
and ``partner:<id>`` (read that partner's score and nothing else).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from partnerlift.errors import InputError, NotFoundError
from partnerlift.store import Database

_SCOPE = re.compile(r"ingest|read|admin|partner:[^\s:]+")
_KEY = re.compile(r"pl_([0-9a-f]{12})_[A-Za-z0-9_-]{20,}")


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


def create_key(
    db: Database, scope: str, label: str | None = None
) -> tuple[ApiKey, str]:
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
    db.raw.execute(
        "INSERT INTO api_keys (key_id, key_hash, scope, label, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [key_id, _hash(key), scope, label, datetime.now(UTC).replace(tzinfo=None)],
    )
    return ApiKey(key_id, scope, label), key


def list_keys(db: Database) -> list[dict[str, Any]]:
    """Return every key's id, scope, label, creation and revocation time."""
    frame = db.query(
        "SELECT key_id, scope, label, created_at, revoked_at FROM api_keys "
        "ORDER BY created_at, key_id"
    )
    frame = frame.astype(object).where(frame.notna(), None)
    return [
        {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in row.items()
        }
        for row in frame.to_dict(orient="records")
    ]


def revoke_key(db: Database, key_id: str) -> None:
    """Revoke the key ``key_id``; a revoked key authenticates nothing.

    Raises
    ------
    NotFoundError
        If no active key has that id.
    """
    found = db.raw.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL "
        "RETURNING key_id",
        [datetime.now(UTC).replace(tzinfo=None), key_id],
    ).fetchall()
    if not found:
        raise NotFoundError(
            f"API key {key_id!r} not found or already revoked. Run 'partnerlift "
            "keys list' to see the key ids."
        )


def authenticate(db: Database, key: str) -> ApiKey | None:
    """Return the active key whose text is ``key``, or None."""
    match = _KEY.fullmatch(key.strip())
    if not match:
        return None
    # fetchall: DuckDB 2.0 refuses further statements on a connection whose last
    # result was not read to the end.
    rows = db.raw.execute(
        "SELECT key_hash, scope, label FROM api_keys "
        "WHERE key_id = ? AND revoked_at IS NULL",
        [match.group(1)],
    ).fetchall()
    if not rows or not hmac.compare_digest(rows[0][0], _hash(key.strip())):
        return None
    return ApiKey(match.group(1), rows[0][1], rows[0][2])
