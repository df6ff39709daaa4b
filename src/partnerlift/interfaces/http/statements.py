"""The xAPI statement resource (xAPI 1.0.3, storing statements) and the stored
responses of requests sent with an ``Idempotency-Key``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from partnerlift.errors import InputError, Problem
from partnerlift.ingest.xapi import StatementError, import_statements, parse_statement
from partnerlift.settings import Workspace
from partnerlift.store import Database


class ConflictError(InputError):
    """A statement id that is stored already with other content."""


class StatementStore:
    """Stores the statements sent to the service and returns them on request."""

    def __init__(self, db: Database, workspace: Workspace) -> None:
        self.db = db
        self.workspace = workspace

    def store(self, items: list[Any]) -> list[str]:
        """Validate and store statements as one batch; return their ids.

        Nothing is stored if any statement is invalid, if two share an id, or if
        one has the id of a stored statement with other content (xAPI 1.0.3: an
        LRS does not change a stored statement). A statement stored already with
        the same content is accepted and stored once.

        Raises
        ------
        InputError
            If a statement is invalid or an id repeats within the request.
        ConflictError
            If an id is stored already with other content.
        """
        now = datetime.now(UTC).replace(tzinfo=None)
        parsed = []
        problems = []
        for index, item in enumerate(items):
            try:
                parsed.append(parse_statement(item, {}, now, "xapi"))
            except StatementError as error:
                problems.append(Problem(None, index + 1, None, None, str(error)))
        if problems:
            raise InputError("Invalid statements; nothing was stored.", problems)
        ids = [statement.statement_id for statement in parsed]
        if len(set(ids)) != len(ids):
            raise InputError("Two statements in the request share an id.")
        self._check_conflicts(parsed)
        lines = [
            (index + 1, item, json.dumps(item, ensure_ascii=False))
            for index, item in enumerate(items)
        ]
        import_statements(
            self.db, self.workspace, lines, file="xapi:statements", stored_at=now
        )
        return ids

    def _check_conflicts(self, parsed: list[Any]) -> None:
        rows = self.db.raw.execute(
            "SELECT statement_id, statement FROM xapi_statements "
            "WHERE statement_id IN (SELECT unnest(?::VARCHAR[]))",
            [[statement.statement_id for statement in parsed]],
        ).fetchall()
        stored = {statement_id: json.loads(text) for statement_id, text in rows}
        for statement in parsed:
            previous = stored.get(statement.statement_id)
            if previous is None:
                continue
            incoming = {**statement.raw, "id": statement.statement_id}
            previous = {**previous, "id": statement.statement_id}
            if _canonical(previous) != _canonical(incoming):
                raise ConflictError(
                    f"Statement {statement.statement_id!r} is stored already with "
                    "other content; a stored statement cannot change."
                )

    def get(self, statement_id: str, *, voided: bool) -> dict[str, Any] | None:
        """Return a stored statement: a voided one with ``voided``, else one that is
        not voided."""
        rows = self.db.raw.execute(
            "SELECT statement FROM xapi_statements WHERE statement_id = ? "
            "AND voided = ?",
            [statement_id.lower(), voided],
        ).fetchall()
        return json.loads(rows[0][0]) if rows else None

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """Return the latest stored statements that are not voided."""
        rows = self.db.raw.execute(
            "SELECT statement FROM xapi_statements WHERE NOT voided "
            "ORDER BY stored_at DESC, statement_id LIMIT ?",
            [limit],
        ).fetchall()
        return [json.loads(text) for (text,) in rows]


def _canonical(statement: dict[str, Any]) -> str:
    return json.dumps(statement, sort_keys=True, ensure_ascii=False)


def stored_response(db: Database, source: str, key: str) -> dict[str, Any] | None:
    """Return the response stored for a request key of ``source``, if any."""
    rows = db.raw.execute(
        "SELECT response FROM ingest_requests WHERE source = ? AND request_key = ?",
        [source, key],
    ).fetchall()
    return json.loads(rows[0][0]) if rows else None


def remember_response(
    db: Database, source: str, key: str, response: dict[str, Any]
) -> None:
    """Store the response of a request key; call inside the request's transaction."""
    db.raw.execute(
        "INSERT INTO ingest_requests (source, request_key, received_at, response) "
        "VALUES (?, ?, ?, ?)",
        [source, key, datetime.now(UTC).replace(tzinfo=None), json.dumps(response)],
    )
