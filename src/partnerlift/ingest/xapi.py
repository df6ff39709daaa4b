"""xAPI statements and cmi5 sessions as events.

A statement becomes one event: its id is the event id (a repeated id is imported
once), its verb's last path segment the action (``.../verbs/completed`` is
``completed``), its object's id the asset, its actor the user. An actor is found
among the users by ``mbox`` (the users' email), ``mbox_sha1sum`` (the SHA-1 of
``mailto:`` and the email) or ``account`` (the account name as user id). A voiding
statement (xAPI 1.0.3, section 2.3.2) is stored but is no event: it marks the
statement it names as voided and removes that statement's event.

A statement whose actor is no user yet is stored and kept pending, with no event;
:mod:`partnerlift.ingest.pending` turns it into its event once the users are
imported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from partnerlift.errors import InputError, NotFoundError, Problem
from partnerlift.ingest.importer import ImportResult, import_source, prepare_rows
from partnerlift.ingest.mapping import Mapping, MappingFile
from partnerlift.ingest.messages import text
from partnerlift.ingest.readers import MalformedRow, SourceRows, detect_encoding
from partnerlift.settings import Workspace
from partnerlift.store import Database

logger = logging.getLogger(__name__)

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
CMI5_SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"

# Namespace of the ids given to statements that arrive without one, derived from
# their content so that the same file imported again gets the same ids.
_STATEMENT_NAMESPACE = uuid.UUID("6f1d7a0e-4b8c-5e3a-9d2f-1c0b8a7e6d5f")
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_DURATION = re.compile(
    r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
    r"(?:(\d+(?:\.\d+)?)S)?)?"
)
_COLUMNS = [
    "event_id",
    "occurred_at",
    "user_id",
    "action",
    "asset_id",
    "source",
    "kind",
    "verb",
    "object_type",
    "success",
    "completion",
    "score_scaled",
    "score_raw",
    "duration_s",
    "progress",
    "registration",
    "session_id",
]
_PROPERTIES = _COLUMNS[7:]


@dataclass
class Statement:
    """One statement that passed validation, with its event fields."""

    statement_id: str
    verb: str
    actor: str
    voids: str | None
    raw: dict[str, Any]
    cells: dict[str, str | None]


class StatementError(ValueError):
    """A statement that is not valid xAPI; the message is the reason."""


def read_statements(path: str | Path) -> list[tuple[int, Any, str]]:
    """Read statements from a JSON array, one JSON object, or JSON Lines.

    Returns
    -------
    list of (line, value, raw text)
        Each element's line; a JSON Lines line that is not valid JSON comes back
        with an ``InputError`` as its value.

    Raises
    ------
    NotFoundError
        If the file does not exist.
    InputError
        If an array or single-object file is not valid JSON; the message names
        the line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"File not found: {str(path)!r}. Check the path.")
    content = path.read_bytes().decode(detect_encoding(path.read_bytes()))
    content = content.removeprefix("\ufeff")
    stripped = content.lstrip()
    first_line = stripped.split("\n", 1)[0]
    if stripped.startswith("{") and _parses(first_line):
        return _read_lines(content)
    try:
        value = json.loads(content)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: "
            f"{error.msg}. Fix the file or export the statements again.",
            [Problem(str(path), error.lineno, None, None, error.msg)],
        ) from None
    if isinstance(value, list):
        lines = _element_lines(content, len(value))
        return [
            (line, element, json.dumps(element, ensure_ascii=False))
            for line, element in zip(lines, value, strict=True)
        ]
    return [(1, value, json.dumps(value, ensure_ascii=False))]


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def _read_lines(content: str) -> list[tuple[int, Any, str]]:
    items: list[tuple[int, Any, str]] = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((number, json.loads(line), line))
        except json.JSONDecodeError as error:
            items.append((number, InputError(error.msg), line))
    return items


def _element_lines(content: str, count: int) -> list[int]:
    """Return the line on which each top-level element of a JSON array starts."""
    decoder = json.JSONDecoder()
    position = content.index("[") + 1
    lines: list[int] = []
    for _ in range(count):
        while content[position] in " \t\r\n,":
            position += 1
        lines.append(content.count("\n", 0, position) + 1)
        _, position = decoder.raw_decode(content, position)
    return lines


def import_xapi(
    db: Database,
    workspace: Workspace,
    path: str | Path,
    *,
    source: str = "xapi",
) -> ImportResult:
    """Import a file of xAPI statements (a JSON array, one object or JSON Lines).

    Each statement becomes an event (see the module's description); invalid
    statements are rejected with their line and reason. Voiding statements,
    statements voided by an earlier batch and statements whose actor is no user
    yet count as filtered, because they are stored but are no events. The last
    become events when a users import adds their actors. ``voided`` in the
    result counts the events that voiding removed.

    Raises
    ------
    NotFoundError
        If the file does not exist.
    InputError
        If the file is not valid JSON.
    """
    items = read_statements(path)
    return import_statements(
        db, workspace, items, file=str(path), source=source, encoding="json"
    )


def import_statements(
    db: Database,
    workspace: Workspace,
    items: Iterable[tuple[int, Any, str]],
    *,
    file: str,
    source: str = "xapi",
    encoding: str = "json",
    stored_at: datetime | None = None,
) -> ImportResult:
    """Import statements given as (line, value, raw text), as one batch.

    ``stored_at`` (naive UTC, default now) is the time a statement without a
    ``timestamp`` happened, as xAPI 1.0.3 sets it to the time it was stored.
    """
    locale = workspace.locale
    stored_at = stored_at or datetime.now(UTC).replace(tzinfo=None)
    emails = user_emails(db)
    statements: list[Statement] = []
    lines: list[int] = []
    malformed: list[MalformedRow] = []
    for line, value, raw in items:
        try:
            statement = parse_statement(value, emails, stored_at, source)
        except StatementError as error:
            reason = text("ingest.bad_statement", locale, reason=str(error))
            malformed.append(MalformedRow(line, reason, raw))
            continue
        statements.append(statement)
        lines.append(line)
    for statement in _already_voided(db, statements):
        statement.cells["kind"] = "voided"
    _mark_pending(db, workspace, statements)
    rows = statement_rows(statements, file, lines, malformed, encoding=encoding)
    voided = 0

    def store(db: Database, result: ImportResult) -> None:
        nonlocal voided
        voided = _store_statements(db, statements, result.batch_id, stored_at)

    result = import_source(
        db, workspace, "events", rows, rules=statement_rules(), before_commit=store
    )
    result.voided = voided
    return result


def statement_rows(
    statements: list[Statement],
    file: str,
    lines: list[int],
    malformed: list[MalformedRow] | None = None,
    *,
    encoding: str = "json",
) -> SourceRows:
    """Return the event cells of ``statements`` as rows for the events import;
    ``lines[i]`` is the source line of ``statements[i]``."""
    frame = pd.DataFrame(
        [statement.cells for statement in statements], columns=_COLUMNS, dtype=object
    )
    return SourceRows(
        Path(file), encoding, list(_COLUMNS), frame, np.array(lines), malformed or []
    )


def statement_rules() -> Mapping:
    """Return the mapping of statement rows: only ``kind`` event rows become events,
    and the xAPI fields beyond the event's columns become its properties."""
    return Mapping(MappingFile(filter={"kind": ["event"]}, properties=_PROPERTIES))


def known_users(db: Database) -> set[str]:
    """Return the ids of the users in the users table."""
    rows = db.raw.execute("SELECT DISTINCT user_id FROM users").fetchall()
    return {user_id for (user_id,) in rows}


def convertible(
    statements: list[Statement], workspace: Workspace
) -> tuple[np.ndarray, pd.Series]:
    """Convert the event cells of ``statements`` as the events import does.

    Returns
    -------
    (valid, occurred_at)
        Whether each statement's cells convert (its timestamp parses, and so on),
        and its time as a naive UTC timestamp (NaT where it does not convert).
    """
    rows = statement_rows(statements, "xapi", list(range(1, len(statements) + 1)))
    prepared = prepare_rows("events", rows, statement_rules(), workspace)
    occurred = pd.Series(pd.NaT, index=range(len(statements)), dtype="datetime64[us]")
    kept_rows = np.flatnonzero(prepared.kept)
    valid = np.zeros(len(statements), dtype=bool)
    valid[kept_rows] = ~prepared.rejections.mask
    occurred.iloc[kept_rows] = prepared.typed.columns["occurred_at"].to_numpy()
    occurred[~valid] = pd.NaT
    return valid, occurred


def _mark_pending(
    db: Database, workspace: Workspace, statements: list[Statement]
) -> None:
    """Mark the statements whose actor is no user yet as ``pending``, so that they
    are stored with no event and are not rejected.

    A statement whose cells are invalid for another reason, such as its timestamp,
    stays an event row, so that the import rejects it with that reason.
    """
    users = known_users(db)
    unknown = [
        statement
        for statement in statements
        if statement.cells["kind"] == "event"
        and statement.cells["user_id"] not in users
    ]
    if not unknown:
        return
    valid, _ = convertible(unknown, workspace)
    for statement, ok in zip(unknown, valid, strict=True):
        if ok:
            statement.cells["kind"] = "pending"


def _already_voided(db: Database, statements: list[Statement]) -> list[Statement]:
    """Return the statements that are stored already and voided, so that they do
    not come back as events."""
    if not statements:
        return []
    voided = {
        statement_id
        for (statement_id,) in db.raw.execute(
            "SELECT statement_id FROM xapi_statements WHERE voided "
            "AND statement_id IN (SELECT unnest(?::VARCHAR[]))",
            [[statement.statement_id for statement in statements]],
        ).fetchall()
    }
    return [statement for statement in statements if statement.statement_id in voided]


def parse_statement(
    value: Any, emails: dict[str, str], stored_at: datetime, source: str
) -> Statement:
    """Check one statement and turn it into event fields.

    Raises
    ------
    StatementError
        If the statement lacks an actor, verb or object, is a SubStatement on its
        own, has an actor without an identifier, or voids something that is not a
        StatementRef.
    """
    if not isinstance(value, dict):
        raise StatementError("a statement must be a JSON object")
    if value.get("objectType") == "SubStatement":
        raise StatementError(
            "a SubStatement can only be the object of a statement, not one itself"
        )
    for key in ("actor", "verb", "object"):
        if not isinstance(value.get(key), dict):
            raise StatementError(f"missing {key!r}")
    verb = value["verb"].get("id")
    if not isinstance(verb, str) or not verb:
        raise StatementError("missing verb id")
    statement_id = value.get("id")
    if statement_id is None:
        canonical = json.dumps(value, sort_keys=True, ensure_ascii=False)
        statement_id = str(uuid.uuid5(_STATEMENT_NAMESPACE, canonical))
    elif not isinstance(statement_id, str) or not _UUID.fullmatch(statement_id):
        raise StatementError(f"invalid statement id {statement_id!r}: not a UUID")
    statement_id = statement_id.lower()
    actor = actor_user_id(value["actor"], emails)
    target = value["object"]
    voids = None
    if verb == VOIDED_VERB:
        if target.get("objectType") != "StatementRef" or not target.get("id"):
            raise StatementError("a voiding statement's object must be a StatementRef")
        voids = str(target["id"]).lower()
    timestamp = value.get("timestamp") or value.get("stored")
    cells = _event_cells(value, statement_id, verb, actor, source)
    cells["occurred_at"] = timestamp or stored_at.isoformat() + "+00:00"
    cells["kind"] = "voiding" if voids else "event"
    return Statement(statement_id, verb, actor, voids, value, cells)


def _event_cells(
    value: dict[str, Any], statement_id: str, verb: str, actor: str, source: str
) -> dict[str, str | None]:
    target = value["object"]
    result = value.get("result") or {}
    score = result.get("score") or {}
    extensions = result.get("extensions") or {}
    context = value.get("context") or {}
    object_type = target.get("objectType", "Activity")
    progress = extensions.get(CMI5_PROGRESS)
    return {
        "event_id": statement_id,
        "user_id": actor,
        "action": verb.rstrip("/").rsplit("/", 1)[-1],
        "asset_id": target.get("id") if object_type == "Activity" else None,
        "source": source,
        "verb": verb,
        "object_type": object_type,
        "success": _flag(result.get("success")),
        "completion": _flag(result.get("completion")),
        "score_scaled": _number(score.get("scaled")),
        "score_raw": _number(score.get("raw")),
        "duration_s": _duration_seconds(result.get("duration")),
        # cmi5 reports progress in percent; the score model compares fractions.
        "progress": _number(progress / 100) if _is_number(progress) else None,
        "registration": context.get("registration"),
        "session_id": (context.get("extensions") or {}).get(CMI5_SESSION),
    }


def actor_user_id(actor: dict[str, Any], emails: dict[str, str]) -> str:
    """Return the user id of an xAPI actor (an Agent or an identified Group).

    ``emails`` maps lower-case emails and ``sha1:`` hashes of ``mailto:`` IRIs
    to the user ids that carry them. An actor that matches no email gets its
    email, ``sha1:`` and the hash, its account name or its openid as user id.

    Raises
    ------
    StatementError
        If the actor has no inverse functional identifier (an anonymous group).
    """
    kind, value = actor_identifier(actor)
    if kind == "mbox":
        return emails.get(value, value)
    if kind == "mbox_sha1sum":
        return emails.get(f"sha1:{value}", f"sha1:{value}")
    return value


def actor_identifier(actor: dict[str, Any]) -> tuple[str, str]:
    """Return the inverse functional identifier of an xAPI actor as (kind, value).

    ``kind`` is ``mbox`` (the value is the lower-case email), ``mbox_sha1sum``
    (the lower-case hash), ``account`` (the account name) or ``openid``, checked
    in that order.

    Raises
    ------
    StatementError
        If the actor has none of them (an anonymous group).
    """
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox:
        return "mbox", mbox.removeprefix("mailto:").strip().lower()
    digest = actor.get("mbox_sha1sum")
    if isinstance(digest, str) and digest:
        return "mbox_sha1sum", digest.lower()
    account = actor.get("account")
    if isinstance(account, dict) and account.get("name"):
        return "account", str(account["name"])
    openid = actor.get("openid")
    if isinstance(openid, str) and openid:
        return "openid", openid
    raise StatementError(
        "the actor has no mbox, mbox_sha1sum, account or openid, so it cannot be "
        "matched to a user"
    )


def user_emails(db: Database) -> dict[str, str]:
    """Return the users' lower-case emails and the ``sha1:`` hashes of their
    ``mailto:`` IRIs, each mapped to the user id that carries it."""
    frame = db.query(
        "SELECT DISTINCT user_id, email FROM users WHERE email IS NOT NULL"
    )
    emails: dict[str, str] = {}
    for user_id, email in zip(frame["user_id"], frame["email"], strict=True):
        address = str(email).strip().lower()
        emails[address] = user_id
        digest = hashlib.sha1(f"mailto:{address}".encode()).hexdigest()
        emails[f"sha1:{digest}"] = user_id
    return emails


def _flag(value: Any) -> str | None:
    if not isinstance(value, bool):
        return None
    return "true" if value else "false"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> str | None:
    return repr(float(value)) if _is_number(value) else None


def _duration_seconds(value: Any) -> str | None:
    """Convert an ISO 8601 duration such as ``PT1H0M0S`` to seconds as text."""
    if not isinstance(value, str):
        return None
    match = _DURATION.fullmatch(value)
    if not match:
        return None
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return repr(days * 86400 + hours * 3600 + minutes * 60 + seconds)


def _store_statements(
    db: Database, statements: list[Statement], batch_id: str, stored_at: datetime
) -> int:
    """Store the statements not stored yet, apply voiding; return events removed."""
    if statements:
        rows = pa.table(
            {
                "statement_id": [statement.statement_id for statement in statements],
                "event_id": [
                    None if statement.voids else statement.statement_id
                    for statement in statements
                ],
                "verb": [statement.verb for statement in statements],
                "actor": [statement.actor for statement in statements],
                "voids": [statement.voids for statement in statements],
                "source": [statement.cells["source"] for statement in statements],
                "statement": [
                    json.dumps(statement.raw, ensure_ascii=False)
                    for statement in statements
                ],
            }
        )
        db.raw.register("_incoming_statements", rows)
        try:
            db.raw.execute(
                """
                INSERT INTO xapi_statements
                    (statement_id, event_id, verb, actor, voids, voided, stored_at,
                     statement, batch_id, source)
                SELECT statement_id, any_value(event_id), any_value(verb),
                       any_value(actor), any_value(voids), false, ?,
                       any_value(statement), ?, any_value(source)
                FROM _incoming_statements i
                WHERE NOT EXISTS (
                    SELECT 1 FROM xapi_statements s
                    WHERE s.statement_id = i.statement_id
                )
                GROUP BY statement_id
                """,
                [stored_at, batch_id],
            )
        finally:
            db.raw.unregister("_incoming_statements")
    return apply_voiding(db)


def apply_voiding(db: Database) -> int:
    """Mark every statement that a stored voiding statement names as voided and
    remove its event; return the number of events removed.

    A voiding statement cannot void another voiding statement (xAPI 1.0.3), so
    those targets stay as they are.
    """
    db.raw.execute(
        """
        UPDATE xapi_statements SET voided = true
        WHERE NOT voided AND verb <> ?
          AND statement_id IN (
              SELECT voids FROM xapi_statements WHERE voids IS NOT NULL
          )
        """,
        [VOIDED_VERB],
    )
    removed = db.raw.execute(
        "DELETE FROM events WHERE event_id IN "
        "(SELECT event_id FROM xapi_statements WHERE voided AND event_id IS NOT NULL)"
    ).fetchall()
    count = int(removed[0][0]) if removed else 0
    if count:
        logger.info("Removed %d voided xAPI statements from events", count)
    return count
