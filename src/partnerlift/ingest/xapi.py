"""xAPI statements and cmi5 sessions as events.

A statement becomes one event: its id is the event id (a repeated id is imported
once), its verb's last path segment the action (``.../verbs/completed`` is
``completed``), its object's id the asset, its actor the user. An actor is found
among the users by ``mbox`` (the users' email), ``mbox_sha1sum`` (the SHA-1 of
``mailto:`` and the email, as stored or in lower case) or ``account`` (the account
name as user id). A voiding statement (xAPI 1.0.3, section 2.3.2) is stored but is
no event: it marks the statement it names as voided and removes that statement's
event.

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
from collections.abc import Callable, Iterable
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
from partnerlift.ingest.readers import (
    MalformedRow,
    SourceRows,
    detect_encoding,
    has_lone_surrogate,
)
from partnerlift.settings import Workspace
from partnerlift.settings.messages import register
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
# An ISO 8601 duration: PnYnMnWnDTnHnMnS, each part optional, with a decimal
# point or comma in the numbers.
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
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

# The reasons of invalid statements. The English texts start in lower case and
# have no final period, as they are placed inside ``ingest.bad_statement``.
register(
    {
        "xapi.invalid_json": {
            "en": "Invalid JSON at line {line}, column {column}: {detail}. Fix the "
            "line or export the statements again.",
            "ja": "{line} 行 {column} 列目の JSON が不正です: {detail}。この行を"
            "直すか、ステートメントをエクスポートし直してください。",
        },
        "xapi.not_object": {
            "en": "a statement must be a JSON object",
            "ja": "ステートメントは JSON オブジェクトでなければなりません",
        },
        "xapi.substatement": {
            "en": "a SubStatement can only be the object of a statement, not one "
            "itself",
            "ja": "SubStatement はステートメントの object にだけ使え、単独の"
            "ステートメントにはなりません",
        },
        "xapi.missing_key": {
            "en": "missing {key!r}",
            "ja": "{key!r} がありません",
        },
        "xapi.wrong_type": {
            "en": "{field} must be {kind}, not {value}",
            "ja": "{field} には{kind}を書いてください（値 {value}）",
        },
        "xapi.kind.text": {"en": "a text", "ja": "文字列"},
        "xapi.kind.boolean": {"en": "true or false", "ja": "真偽値 (true か false)"},
        "xapi.lone_surrogate": {
            "en": "a text has a \\ud800 to \\udfff escape that stands alone, which "
            "is no Unicode character",
            "ja": "テキストに単独の \\ud800 から \\udfff のエスケープがあり、"
            "Unicode の文字になりません",
        },
        "xapi.missing_verb_id": {
            "en": "missing verb id",
            "ja": "verb の id がありません",
        },
        "xapi.invalid_id": {
            "en": "invalid statement id {value!r}: not a UUID",
            "ja": "ステートメント ID {value!r} が不正です（UUID ではありません）",
        },
        "xapi.voiding_object": {
            "en": "a voiding statement's object must be a StatementRef",
            "ja": "取り消し（voided）のステートメントの object は StatementRef で"
            "なければなりません",
        },
        "xapi.no_identifier": {
            "en": "the actor has no mbox, mbox_sha1sum, account or openid, so it "
            "cannot be matched to a user",
            "ja": "actor に mbox、mbox_sha1sum、account、openid のどれもないため、"
            "ユーザーと照合できません",
        },
        "xapi.invalid_mbox": {
            "en": "invalid mbox {value!r}: it must be a mailto IRI such as "
            "'mailto:aiko@example.jp'",
            "ja": "mbox {value!r} が不正です。'mailto:aiko@example.jp' のような "
            "mailto IRI にしてください",
        },
        "xapi.invalid_scaled": {
            "en": "invalid result.score.scaled {value!r}: it must be a number from "
            "-1 to 1",
            "ja": "result.score.scaled {value!r} が不正です。-1 から 1 までの数値に"
            "してください",
        },
        "xapi.invalid_progress": {
            "en": "invalid cmi5 progress {value!r}: it must be a number from 0 to "
            "100 (percent)",
            "ja": "cmi5 の progress {value!r} が不正です。0 から 100 まで（パーセント）"
            "の数値にしてください",
        },
        "xapi.invalid_duration": {
            "en": "invalid result.duration {value!r}: it must be an ISO 8601 "
            "duration such as 'PT1H30M'",
            "ja": "result.duration {value!r} が不正です。'PT1H30M' のような "
            "ISO 8601 の期間にしてください",
        },
    }
)


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
    """A statement that is not valid xAPI.

    ``message_id`` names the reason in the message catalogue, and ``fields`` fill
    it in. ``str(error)`` is the English reason, and :meth:`reason` formats it in
    another language.
    """

    def __init__(self, message_id: str, **fields: object) -> None:
        self.message_id = message_id
        self.fields = fields
        super().__init__(self.reason("en"))

    def reason(self, locale: str) -> str:
        """Return the reason in ``locale`` (``en`` or ``ja``)."""
        fields = {
            name: text(value, locale) if isinstance(value, _Kind) else value
            for name, value in self.fields.items()
        }
        return text(self.message_id, locale, **fields)


class _Kind(str):
    """A field of a reason that is itself a message id, shown in the reason's
    language."""


class InvalidJsonLine(InputError):
    """A JSON Lines line that is not valid JSON, with the decoder's position."""

    def __init__(self, line: int, column: int, detail: str) -> None:
        super().__init__(
            text("xapi.invalid_json", "en", line=line, column=column, detail=detail),
            [Problem(None, line, None, None, detail)],
        )
        self.line = line
        self.column = column
        self.detail = detail

    def reason(self, locale: str) -> str:
        """Return the reason in ``locale`` (``en`` or ``ja``)."""
        return text(
            "xapi.invalid_json",
            locale,
            line=self.line,
            column=self.column,
            detail=self.detail,
        )


def read_statements(path: str | Path) -> list[tuple[int, Any, str]]:
    """Read statements from a JSON array, one JSON object, an xAPI
    StatementResult (``{"statements": [...], "more": "..."}``) or JSON Lines.

    Returns
    -------
    list of (line, value, raw text)
        Each statement's line; a JSON Lines line that is not valid JSON comes back
        with an :class:`InvalidJsonLine` as its value. A StatementResult whose
        ``more`` is not empty is one page of a longer result, which is logged.

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
    if not stripped:
        # An empty export has no statements, as an empty array has none.
        return []
    first_line = stripped.split("\n", 1)[0]
    lines_suffix = path.suffix.lower() in {".jsonl", ".ndjson"}
    if stripped.startswith("{") and (lines_suffix or _parses(first_line)):
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
        lines = _element_lines(content, len(value), content.index("[") + 1)
        return [
            (line, element, json.dumps(element, ensure_ascii=False))
            for line, element in zip(lines, value, strict=True)
        ]
    if _is_statement_result(value):
        _note_more(path, value)
        start = _statements_array_start(content)
        lines = _element_lines(content, len(value["statements"]), start)
        return [
            (line, element, json.dumps(element, ensure_ascii=False))
            for line, element in zip(lines, value["statements"], strict=True)
        ]
    return [(1, value, json.dumps(value, ensure_ascii=False))]


def _is_statement_result(value: Any) -> bool:
    """Return whether ``value`` is an xAPI StatementResult: an object with a
    ``statements`` array and an optional ``more`` IRL, as ``GET /xapi/statements``
    of an LRS returns it."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("statements"), list)
        and "actor" not in value
        and set(value) <= {"statements", "more"}
    )


def _note_more(path: Path, value: dict[str, Any]) -> None:
    more = value.get("more")
    if more:
        logger.warning(
            "%s is one page of a StatementResult, so the statements of the next "
            "pages (more: %r) are not imported. Export them to files of their own",
            path,
            more,
        )


def _statements_array_start(content: str) -> int:
    """Return the position just after the ``[`` of the top-level ``statements``
    array of a StatementResult text."""
    decoder = json.JSONDecoder()
    position = content.index("{") + 1
    while True:
        while content[position] in " \t\r\n,":
            position += 1
        key, position = decoder.raw_decode(content, position)
        while content[position] in " \t\r\n:":
            position += 1
        if key == "statements":
            return position + 1
        _, position = decoder.raw_decode(content, position)


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
            value = json.loads(line)
        except json.JSONDecodeError as error:
            items.append(
                (number, InvalidJsonLine(number, error.colno, error.msg), line)
            )
            continue
        if _is_statement_result(value):
            # A StatementResult on one line: its statements all have this line.
            items.extend(
                (number, element, json.dumps(element, ensure_ascii=False))
                for element in value["statements"]
            )
        else:
            items.append((number, value, line))
    return items


def _element_lines(content: str, count: int, position: int) -> list[int]:
    """Return the line on which each element of the JSON array whose first
    element starts at or after ``position`` starts."""
    decoder = json.JSONDecoder()
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
    """Import a file of xAPI statements (a JSON array, one object, an xAPI
    StatementResult or JSON Lines).

    First, :func:`~partnerlift.ingest.pending.replay_pending` turns the waiting
    statements whose actors are users now into events. Each statement of the file
    becomes an event (see the module's description); invalid statements are
    rejected with their line and reason. Voiding statements, statements voided
    earlier and statements whose actor is no user yet count as filtered, because
    they are stored but are no events. The last become events when a users import
    adds their actors. A statement whose id is stored already counts as a
    duplicate. So does one whose id came earlier in the file with the same values,
    but one with other values is rejected. ``voided`` in the result counts the
    events that voiding removed.

    Raises
    ------
    NotFoundError
        If the file does not exist.
    InputError
        If the file is not valid JSON.
    """
    items = read_statements(path)
    # A users import that stopped after storing the users but before its replay
    # left statements whose actors are users now; they become events first.
    from partnerlift.ingest.pending import replay_pending  # imports this module

    replay_pending(db, workspace)
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
    before_commit: Callable[[Database, ImportResult], None] | None = None,
) -> ImportResult:
    """Import statements given as (line, value, raw text), as one batch.

    ``stored_at`` (naive UTC, default now) is the time a statement without a
    ``timestamp`` happened, as xAPI 1.0.3 sets it to the time it was stored.
    ``before_commit(db, result)`` runs inside the batch's transaction after the
    statements are stored.
    """
    locale = workspace.locale
    stored_at = stored_at or datetime.now(UTC).replace(tzinfo=None)
    emails = user_emails(db)
    statements: list[Statement] = []
    lines: list[int] = []
    raws: list[str] = []
    malformed: list[MalformedRow] = []
    for line, value, raw in items:
        if isinstance(value, InvalidJsonLine):
            malformed.append(MalformedRow(line, value.reason(locale), raw))
            continue
        try:
            statement = parse_statement(value, emails, stored_at, source)
        except StatementError as error:
            reason = text("ingest.bad_statement", locale, reason=error.reason(locale))
            malformed.append(MalformedRow(line, reason, raw))
            continue
        statements.append(statement)
        lines.append(line)
        raws.append(raw)
    _mark_voided(db, statements)
    _mark_pending(db, workspace, statements)
    rejected = find_statement_repeats(db, statements, lines, locale)
    for index in sorted(rejected, reverse=True):
        malformed.append(MalformedRow(lines[index], rejected[index], raws[index]))
        del statements[index], lines[index], raws[index]
    first_copies = [
        statement for statement in statements if statement.cells["kind"] != "repeat"
    ]
    duplicate_lines = [
        line
        for statement, line in zip(statements, lines, strict=True)
        if statement.cells["kind"] == "repeat"
    ]
    rows = statement_rows(statements, file, lines, malformed, encoding=encoding)
    voided = 0

    def store(db: Database, result: ImportResult) -> None:
        nonlocal voided
        voided = _store_statements(db, first_copies, result.batch_id, stored_at)
        _count_duplicates(db, result, duplicate_lines)
        if before_commit is not None:
            before_commit(db, result)

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


def _mark_voided(db: Database, statements: list[Statement]) -> None:
    """Mark the statements voided earlier as ``voided``, so that they are stored
    with no event and are not counted as inserted.

    A statement is voided earlier when it is stored and voided already, when a
    stored voiding statement names it, or when a voiding statement before it in
    ``statements`` names it. A voiding statement cannot be voided (xAPI 1.0.3).
    """
    if not statements:
        return
    identifiers = [statement.statement_id for statement in statements]
    voided = {
        statement_id
        for (statement_id,) in db.raw.execute(
            "SELECT statement_id FROM xapi_statements WHERE voided "
            "AND statement_id IN (SELECT unnest(?::VARCHAR[])) "
            "UNION SELECT voids FROM xapi_statements "
            "WHERE voids IN (SELECT unnest(?::VARCHAR[]))",
            [identifiers, identifiers],
        ).fetchall()
    }
    for statement in statements:
        if statement.voids:
            voided.add(statement.voids)
        elif statement.statement_id in voided:
            statement.cells["kind"] = "voided"


def find_statement_repeats(
    db: Database, statements: list[Statement], lines: list[int], locale: str
) -> dict[int, str]:
    """Find the repeated statements that are no events, so that they count as
    duplicates or are rejected rather than counted as filtered.

    Gives each duplicate the kind ``repeat``, and returns the reason of each
    rejected repeat by its index in ``statements``.

    A statement with no event (pending, voided or voiding) whose id is stored
    already is a duplicate. One whose id came earlier in ``statements``, when
    either of the two is no event, is a duplicate when its event values are the
    same and is rejected otherwise. Repeats of statements that are events both
    times are left to the events import, which counts them in the same way.
    """
    identifiers = [statement.statement_id for statement in statements]
    stored = {
        statement_id
        for (statement_id,) in db.raw.execute(
            "SELECT statement_id FROM xapi_statements "
            "WHERE statement_id IN (SELECT unnest(?::VARCHAR[]))",
            [identifiers],
        ).fetchall()
    }
    first: dict[str, int] = {}
    rejected: dict[int, str] = {}
    for index, statement in enumerate(statements):
        kind = statement.cells["kind"]
        earlier = first.setdefault(statement.statement_id, index)
        if kind != "event" and statement.statement_id in stored:
            statement.cells["kind"] = "repeat"
            continue
        if earlier == index:
            continue
        previous = statements[earlier]
        if kind == "event" and previous.cells["kind"] == "event":
            continue
        differing = [
            name
            for name in _COLUMNS
            if name != "kind" and statement.cells[name] != previous.cells[name]
        ]
        if differing:
            rejected[index] = text(
                "ingest.repeated_event",
                locale,
                key=statement.statement_id,
                line=lines[earlier],
                columns=", ".join(differing),
            )
        else:
            statement.cells["kind"] = "repeat"
    return rejected


def _count_duplicates(
    db: Database, result: ImportResult, duplicate_lines: list[int]
) -> None:
    """Count the repeated statements that are no events as duplicates rather than
    filtered, in ``result`` and in its stored import batch."""
    if not duplicate_lines:
        return
    result.filtered -= len(duplicate_lines)
    result.duplicates += len(duplicate_lines)
    for line in duplicate_lines:
        result.outcomes[line] = "duplicate"
    db.raw.execute(
        "UPDATE import_batches SET duplicates = ?, filtered = ? WHERE batch_id = ?",
        [result.duplicates, result.filtered, result.batch_id],
    )


def parse_statement(
    value: Any, emails: dict[str, str], stored_at: datetime, source: str
) -> Statement:
    """Check one statement and turn it into event fields.

    Raises
    ------
    StatementError
        If the statement lacks an actor, verb or object, is a SubStatement on its
        own, has an actor without an identifier or an ``mbox`` without
        ``mailto:``, voids something that is not a StatementRef, or has a
        ``result.score.scaled`` outside -1 to 1, a cmi5 progress outside 0 to 100
        or a ``result.duration`` that is not an ISO 8601 duration.
    """
    if not isinstance(value, dict):
        raise StatementError("xapi.not_object")
    if value.get("objectType") == "SubStatement":
        raise StatementError("xapi.substatement")
    for key in ("actor", "verb", "object"):
        if not isinstance(value.get(key), dict):
            raise StatementError("xapi.missing_key", key=key)
    verb = value["verb"].get("id")
    if not isinstance(verb, str) or not verb:
        raise StatementError("xapi.missing_verb_id")
    _check_types(value)
    statement_id = value.get("id")
    if statement_id is None:
        canonical = json.dumps(value, sort_keys=True, ensure_ascii=False)
        statement_id = str(uuid.uuid5(_STATEMENT_NAMESPACE, canonical))
    elif not isinstance(statement_id, str) or not _UUID.fullmatch(statement_id):
        raise StatementError("xapi.invalid_id", value=statement_id)
    statement_id = statement_id.lower()
    actor = actor_user_id(value["actor"], emails)
    target = value["object"]
    voids = None
    if verb == VOIDED_VERB:
        if target.get("objectType") != "StatementRef" or not target.get("id"):
            raise StatementError("xapi.voiding_object")
        voids = str(target["id"]).lower()
    timestamp = value.get("timestamp") or value.get("stored")
    cells = _event_cells(value, statement_id, verb, actor, source)
    cells["occurred_at"] = timestamp or stored_at.isoformat() + "+00:00"
    cells["kind"] = "voiding" if voids else "event"
    return Statement(statement_id, verb, actor, voids, value, cells)


# The statement fields that are stored as text or as a flag, by their path.
_TEXT_FIELDS = (
    ("timestamp",),
    ("stored",),
    ("object", "id"),
    ("context", "registration"),
    ("actor", "account", "name"),
    ("actor", "account", "homePage"),
    ("actor", "mbox"),
    ("actor", "mbox_sha1sum"),
)
_FLAG_FIELDS = (("result", "success"), ("result", "completion"))


def _check_types(value: dict[str, Any]) -> None:
    """Raise a :class:`StatementError` for a field of the wrong JSON type, such as
    a number as timestamp, before it reaches a text column."""
    if has_lone_surrogate(value):
        raise StatementError("xapi.lone_surrogate")
    for path, kind, expected in [
        *((path, "text", str) for path in _TEXT_FIELDS),
        *((path, "boolean", bool) for path in _FLAG_FIELDS),
    ]:
        parent: Any = value
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or path[-1] not in parent:
            continue
        found = parent[path[-1]]
        if not isinstance(found, expected):
            raise StatementError(
                "xapi.wrong_type",
                field=".".join(path),
                kind=_Kind(f"xapi.kind.{kind}"),
                value=json.dumps(found, ensure_ascii=False),
            )


def _event_cells(
    value: dict[str, Any], statement_id: str, verb: str, actor: str, source: str
) -> dict[str, str | None]:
    target = value["object"]
    result = value.get("result") or {}
    score = result.get("score") or {}
    extensions = result.get("extensions") or {}
    context = value.get("context") or {}
    object_type = target.get("objectType", "Activity")
    progress = _checked_progress(extensions.get(CMI5_PROGRESS))
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
        "score_scaled": _number(_checked_scaled(score.get("scaled"))),
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
        If the actor has none of them (an anonymous group), or its ``mbox`` is not
        a ``mailto:`` IRI.
    """
    mbox = actor.get("mbox")
    if mbox is not None:
        # The IRI scheme is case-insensitive (RFC 3986), so MAILTO: is accepted.
        if not isinstance(mbox, str) or mbox[:7].lower() != "mailto:" or not mbox[7:]:
            raise StatementError("xapi.invalid_mbox", value=mbox)
        return "mbox", mbox[7:].strip().lower()
    digest = actor.get("mbox_sha1sum")
    if isinstance(digest, str) and digest:
        return "mbox_sha1sum", digest.lower()
    account = actor.get("account")
    if isinstance(account, dict) and account.get("name"):
        return "account", str(account["name"])
    openid = actor.get("openid")
    if isinstance(openid, str) and openid:
        return "openid", openid
    raise StatementError("xapi.no_identifier")


def user_emails(db: Database) -> dict[str, str]:
    """Return the users' lower-case emails and the ``sha1:`` hashes of their
    ``mailto:`` IRIs, each mapped to the user id that carries it.

    xAPI 1.0.3 hashes the ``mailto:`` IRI as the sender wrote it, so each email
    gets two hashes: of the email as stored and of its lower-case form.
    """
    frame = db.query(
        "SELECT DISTINCT user_id, email FROM users WHERE email IS NOT NULL"
    )
    emails: dict[str, str] = {}
    for user_id, email in zip(frame["user_id"], frame["email"], strict=True):
        address = str(email).strip().lower()
        emails[address] = user_id
        for form in (str(email), address):
            digest = hashlib.sha1(f"mailto:{form}".encode()).hexdigest()
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


def _checked_scaled(value: Any) -> Any:
    """Return ``result.score.scaled``, which xAPI 1.0.3 bounds to -1..1."""
    if value is not None and not (_is_number(value) and -1 <= value <= 1):
        raise StatementError("xapi.invalid_scaled", value=value)
    return value


def _checked_progress(value: Any) -> Any:
    """Return the cmi5 progress extension, a percentage from 0 to 100."""
    if value is not None and not (_is_number(value) and 0 <= value <= 100):
        raise StatementError("xapi.invalid_progress", value=value)
    return value


def _duration_seconds(value: Any) -> str | None:
    """Convert an ISO 8601 duration such as ``PT1H0M0S`` to seconds as text.

    Weeks count 7 days. A duration with years or months has no fixed length, so
    it gives no seconds and a log warning, but the statement is kept.

    Raises
    ------
    StatementError
        If ``value`` is given and is not an ISO 8601 duration.
    """
    if value is None:
        return None
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if not match or not any(match.groups()) or value.endswith("T"):
        raise StatementError("xapi.invalid_duration", value=value)
    years, months, weeks, days, hours, minutes, seconds = (
        float((part or "0").replace(",", ".")) for part in match.groups()
    )
    if years or months:
        logger.warning(
            "The duration %r has years or months, which have no fixed length in "
            "seconds, so its duration_s is left empty",
            value,
        )
        return None
    days += weeks * 7
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
