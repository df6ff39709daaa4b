"""The xAPI statement resource (xAPI 1.0.3, storing statements) and the stored
responses of requests sent with an ``Idempotency-Key``."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from partnerlift.errors import InputError, Problem
from partnerlift.ingest.importer import prepare_rows
from partnerlift.ingest.xapi import (
    Statement,
    StatementError,
    import_statements,
    parse_statement,
    statement_rows,
    statement_rules,
)
from partnerlift.interfaces.http.payloads import find_lone_surrogate, surrogate_reason
from partnerlift.settings import Workspace
from partnerlift.store import Database


class ConflictError(InputError):
    """A statement id that is stored already with other content."""


class StatementStore:
    """Stores the statements sent to the service and returns them on request."""

    def __init__(self, db: Database, workspace: Workspace) -> None:
        self.db = db
        self.workspace = workspace

    def store(
        self,
        items: list[Any],
        authority: dict[str, Any] | None = None,
        before_commit: Callable[[Database, list[str]], None] | None = None,
    ) -> list[str]:
        """Validate and store statements as one batch; return their ids.

        Nothing is stored if any statement is invalid (its event fields included,
        such as a ``timestamp`` that is no valid time), if two share an id, or if
        one has the id of a stored statement with other content (xAPI 1.0.3: an
        LRS does not change a stored statement). A statement stored already with
        the same content is accepted and stored once. As xAPI 1.0.3 has an LRS
        do, each statement is stored with its ``id`` (a new random UUID when
        missing), ``stored`` (now, replacing any sent), ``timestamp`` (the stored
        time when missing) and ``authority`` (``authority`` when missing). A
        statement whose actor is no user yet is stored with no event until a users
        import or a Segment group call adds its actor. ``before_commit(db, ids)``
        runs inside the transaction, for callers that store more.

        Raises
        ------
        InputError
            If a statement is invalid or an id repeats within the request.
        ConflictError
            If an id is stored already with other content.
        """
        now = datetime.now(UTC).replace(tzinfo=None)
        # xAPI timestamps carry milliseconds; keep stored_at equal to ``stored``.
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        # xAPI 1.0.3 has the LRS assign a UUID to a statement without one, so two
        # identical statements without ids are two statements. File imports derive
        # the id from the content instead, so that importing a file again is
        # idempotent.
        sent = items
        items = [
            {**item, "id": str(uuid.uuid4())}
            if isinstance(item, dict) and item.get("id") is None
            else item
            for item in items
        ]
        parsed = []
        problems = []
        for index, item in enumerate(items):
            found = find_lone_surrogate(item)
            if found is not None:
                reason = surrogate_reason(*found, self.workspace.locale)
                problems.append(Problem(None, index + 1, found[0], None, reason))
                continue
            try:
                parsed.append(parse_statement(item, {}, now, "xapi"))
            except StatementError as error:
                problems.append(
                    Problem(
                        None, index + 1, None, None, error.reason(self.workspace.locale)
                    )
                )
        if problems:
            raise _invalid_statements(problems, sent)
        problems = self._conversion_problems(parsed)
        if problems:
            raise _invalid_statements(problems, sent)
        ids = [statement.statement_id for statement in parsed]
        if len(set(ids)) != len(ids):
            raise InputError("Two statements in the request share an id.")
        self._check_conflicts(parsed)
        stored = xapi_time(now)
        completed = [
            _with_lrs_fields(item, statement.statement_id, stored, authority)
            for item, statement in zip(items, parsed, strict=True)
        ]
        lines = [
            (index + 1, item, json.dumps(item, ensure_ascii=False))
            for index, item in enumerate(completed)
        ]
        import_statements(
            self.db,
            self.workspace,
            lines,
            file="xapi:statements",
            stored_at=now,
            before_commit=(
                None if before_commit is None else lambda db, _: before_commit(db, ids)
            ),
        )
        return ids

    def _conversion_problems(self, parsed: list[Statement]) -> list[Problem]:
        """Return a problem for each statement whose event fields do not convert,
        such as a ``timestamp`` that is no valid time, converted as the events
        import does. Voiding statements are no events and are not checked."""
        numbers = list(range(1, len(parsed) + 1))
        rows = statement_rows(parsed, "xapi:statements", numbers)
        prepared = prepare_rows("events", rows, statement_rules(), self.workspace)
        rejections = prepared.rejections
        problems = []
        for row in np.flatnonzero(rejections.mask):
            value = rejections.value[row]
            problems.append(
                Problem(
                    None,
                    int(prepared.lines[row]),
                    _statement_field(rejections.field[row]),
                    None if value is None else str(value),
                    rejections.reason[row],
                )
            )
        return problems

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
            incoming = _compared(statement.raw, statement.raw)
            previous = _compared(previous, statement.raw)
            if _canonical(previous) != _canonical(incoming):
                raise ConflictError(
                    f"Statement {statement.statement_id!r} is stored already with "
                    "other content; a stored statement cannot change."
                )

    def get(self, statement_id: str, *, voided: bool) -> dict[str, Any] | None:
        """Return a stored statement: a voided one with ``voided``, else one that is
        not voided."""
        rows = self.db.raw.execute(
            "SELECT statement, statement_id, stored_at FROM xapi_statements "
            "WHERE statement_id = ? AND voided = ?",
            [statement_id.lower(), voided],
        ).fetchall()
        return _stored_statement(*rows[0]) if rows else None

    def latest(self, limit: int) -> list[dict[str, Any]]:
        """Return the latest stored statements that are not voided."""
        rows = self.db.raw.execute(
            "SELECT statement, statement_id, stored_at FROM xapi_statements "
            "WHERE NOT voided ORDER BY stored_at DESC, statement_id LIMIT ?",
            [limit],
        ).fetchall()
        return [_stored_statement(*row) for row in rows]


def _invalid_statements(problems: list[Problem], items: list[Any]) -> InputError:
    """Return the error of a request with invalid statements; a problem's line is
    the statement's position in the request, from 1."""
    first = problems[0]
    item = items[first.line - 1] if first.line else None
    statement_id = item.get("id") if isinstance(item, dict) else None
    named = f"Statement {first.line}" if first.line else "A statement"
    if isinstance(statement_id, str):
        named += f" (id {statement_id!r})"
    if first.field:
        named += f", field {first.field!r}"
    reason = first.reason.rstrip()
    if not reason.endswith((".", "。")):
        reason += "."
    others = len(problems) - 1
    more = f" {others} more statement(s) are invalid too." if others else ""
    return InputError(
        f"Invalid statements; nothing was stored. {named}: {reason}{more} "
        "Correct the statements and send the request again.",
        problems,
    )


def _statement_field(event_field: str | None) -> str | None:
    """Return the statement property that an event field comes from, where the
    two differ."""
    names = {"occurred_at": "timestamp", "user_id": "actor", "action": "verb.id"}
    return names.get(event_field or "", event_field)


def xapi_time(moment: datetime) -> str:
    """Return a naive UTC datetime as an xAPI timestamp with milliseconds."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _with_lrs_fields(
    item: dict[str, Any],
    statement_id: str,
    stored: str,
    authority: dict[str, Any] | None,
) -> dict[str, Any]:
    completed = {**item, "id": statement_id, "stored": stored}
    completed.setdefault("timestamp", stored)
    if authority is not None:
        completed.setdefault("authority", authority)
    return completed


def _stored_statement(text: str, statement_id: str, stored_at: datetime) -> dict:
    # Statements stored before the LRS fields were added get them on the way out,
    # except the authority, which was not recorded.
    statement = json.loads(text)
    statement.setdefault("id", statement_id)
    statement.setdefault("stored", xapi_time(stored_at))
    statement.setdefault("timestamp", statement["stored"])
    return statement


def _compared(statement: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """Return the part of a statement that must match for two to be the same.

    The properties an LRS sets (``id`` is compared by the caller, ``stored``,
    ``authority``, ``version``) are left out, and so is ``timestamp`` when the
    incoming statement has none, as the LRS set it to the stored time.
    """
    ignored = {"id", "stored", "authority", "version"}
    if "timestamp" not in incoming:
        ignored.add("timestamp")
    return {key: value for key, value in statement.items() if key not in ignored}


def _canonical(statement: dict[str, Any]) -> str:
    return json.dumps(statement, sort_keys=True, ensure_ascii=False)


class IdempotencyKeyReusedError(InputError):
    """An ``Idempotency-Key`` sent again with another request body."""


def request_hash(items: Any) -> str:
    """Return the SHA-256 hash of a request body, independent of its JSON spacing
    and key order."""
    text = json.dumps(items, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # surrogatepass: a body with a lone surrogate still has a hash, so that its
    # request gets its per-item rejection rather than an encoding error.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def stored_response(
    db: Database, source: str, key: str, body_hash: str
) -> dict[str, Any] | None:
    """Return the response stored for a request key of ``source``, if any.

    Raises
    ------
    IdempotencyKeyReusedError
        If the key was stored with a request body whose hash is not ``body_hash``.
    """
    rows = db.raw.execute(
        "SELECT response, request_hash FROM ingest_requests "
        "WHERE source = ? AND request_key = ?",
        [source, key],
    ).fetchall()
    if not rows:
        return None
    response, stored_hash = rows[0]
    # NOTE: keys stored before the hash was recorded have none; they match any body.
    if stored_hash is not None and stored_hash != body_hash:
        raise IdempotencyKeyReusedError(
            f"The Idempotency-Key {key!r} was used for another request with a "
            "different body; nothing was stored. Send a new key for a new request.",
            [Problem(None, None, "Idempotency-Key", key, "used for another request")],
        )
    return json.loads(response)


def remember_response(
    db: Database, source: str, key: str, body_hash: str, response: dict[str, Any]
) -> None:
    """Store the response and body hash of a request key; call inside the
    request's transaction."""
    db.raw.execute(
        "INSERT INTO ingest_requests "
        "(source, request_key, received_at, response, request_hash) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            source,
            key,
            datetime.now(UTC).replace(tzinfo=None),
            json.dumps(response),
            body_hash,
        ],
    )
