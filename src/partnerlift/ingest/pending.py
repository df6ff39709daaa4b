"""Statements and events of people who are not known users yet, and their replay.

Learning records often arrive before the partner user list. This module keeps
them and attributes them once the users are known:

- An xAPI statement whose actor matches no user is stored in ``xapi_statements``
  with no event: it is *pending*. :func:`replay_pending` turns each pending
  statement into the event it would have been had the user been known on arrival.
  The event has the same event id (the statement id), time, user, partner, action,
  asset, source and properties. A voided statement never becomes an event, and a
  statement that has its event is not replayed again.
- A Segment event whose user is no user yet is stored with no partner. One sent
  with only an anonymous id keeps that id until ``identify`` or ``alias`` links
  it to a user. :func:`replay_pending` moves the events of every linked anonymous
  id to its user. It then gives each event without a partner the partner that
  its user belonged to when the event happened.

:func:`~partnerlift.ingest.import_file` into users (whole or in chunks) and a Segment
batch with a ``group`` call run :func:`replay_pending` after they commit. Call it
after storing users in another way, such as with
:func:`~partnerlift.ingest.import_source`. :func:`list_pending` lists what still
waits, by actor and reason.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from partnerlift.ingest.importer import ImportResult, import_source
from partnerlift.ingest.segment import ANONYMOUS_PREFIX, attach_identified
from partnerlift.ingest.xapi import (
    Statement,
    StatementError,
    actor_identifier,
    apply_voiding,
    convertible,
    known_users,
    parse_statement,
    statement_rows,
    statement_rules,
    user_emails,
)
from partnerlift.settings import Workspace
from partnerlift.settings.messages import register, text
from partnerlift.settings.times import to_local
from partnerlift.store import Database

logger = logging.getLogger(__name__)

# The file name recorded on the import batch of replayed statements.
REPLAY_FILE = "xapi:pending"
PENDING_COLUMNS = ["kind", "source", "actor", "count", "first", "last", "message"]

register(
    {
        "pending.unknown_mbox": {
            "en": "No user has the email {actor!r}. Import a users file that gives "
            "this email to the user.",
            "ja": "メールアドレス {actor!r} のユーザーがいません。このメールアドレスを"
            "持つユーザーを users ファイルでインポートしてください。",
        },
        "pending.unknown_mbox_sha1sum": {
            "en": "No user's email has the SHA-1 hash {actor!r} (mbox_sha1sum). "
            "Import a users file with the email that this hash was computed from.",
            "ja": "SHA-1 ハッシュ {actor!r} (mbox_sha1sum) に合うメールアドレスの"
            "ユーザーがいません。このハッシュの元のメールアドレスを持つユーザーを "
            "users ファイルでインポートしてください。",
        },
        "pending.unknown_account": {
            "en": "No user has the user_id {actor!r} (the xAPI account name). "
            "Import a users file with this user_id.",
            "ja": "user_id が {actor!r}（xAPI のアカウント名）のユーザーがいません。"
            "この user_id のユーザーを users ファイルでインポートしてください。",
        },
        "pending.unknown_openid": {
            "en": "No user has the user_id {actor!r} (the xAPI openid). Import a "
            "users file with this user_id.",
            "ja": "user_id が {actor!r}（xAPI の openid）のユーザーがいません。"
            "この user_id のユーザーを users ファイルでインポートしてください。",
        },
        "pending.unknown_user": {
            "en": "No user has the user_id {actor!r}. Import a users file with this "
            "user_id, or send a group call with the user's partner id.",
            "ja": "user_id が {actor!r} のユーザーがいません。この user_id の"
            "ユーザーを users ファイルでインポートするか、パートナー ID を付けた "
            "group コールを送ってください。",
        },
        "pending.anonymous": {
            "en": "The anonymous id {actor!r} is not linked to a user. An identify "
            "or alias call with this anonymousId and a userId links it.",
            "ja": "匿名 ID {actor!r} がユーザーに結び付いていません。この anonymousId "
            "と userId を付けた identify または alias コールで結び付きます。",
        },
        "pending.no_partner": {
            "en": "User {actor!r} belonged to no partner when these records were "
            "made. Check valid_from and valid_to of the user in the users file.",
            "ja": "ユーザー {actor!r} は、これらの記録の時点でどのパートナーにも"
            "所属していません。users ファイルのこのユーザーの valid_from と "
            "valid_to を確認してください。",
        },
        "pending.ready": {
            "en": "User {actor!r} is known now, but these statements are no events "
            "yet, because the users import that added the user stopped before it "
            "replayed them. 'partnerlift imports pending' or the next import turns "
            "them into events.",
            "ja": "ユーザー {actor!r} は登録済みですが、このユーザーを追加した users "
            "のインポートが再処理の前に止まったため、これらのステートメントはまだ"
            "イベントではありません。'partnerlift imports pending' または次の"
            "インポートでイベントになります。",
        },
        "pending.title": {
            "en": "Records waiting for their users",
            "ja": "ユーザー待ちの記録",
        },
        "pending.none": {
            "en": "No statements or events are waiting for their users.",
            "ja": "ユーザー待ちのステートメントやイベントはありません。",
        },
        "pending.waiting": {
            "en": "{count} statements wait for their users and are no events yet. "
            "Each becomes an event when a users import makes its actor a user of a "
            "partner at the statement's time. List them with 'partnerlift imports "
            "pending'.",
            "ja": "{count} 件のステートメントはユーザー待ちで、まだイベントでは"
            "ありません。users のインポートで、アクターがステートメントの時点で"
            "パートナーに所属するユーザーになると、それぞれイベントになります。"
            "一覧は 'partnerlift imports pending' で表示できます。",
        },
    }
)


@dataclass
class PendingRecord:
    """One statement or event that waits for its user.

    ``actor`` is the statement's actor identifier (email, hash, account name or
    openid) or the event's user id (an anonymous id without its prefix), and
    ``reason`` names the message ``pending.<reason>``. ``occurred_at`` is naive UTC.
    """

    kind: Literal["statement", "event"]
    source: str
    actor: str
    reason: str
    occurred_at: datetime | None


@dataclass
class ReplayResult:
    """The records that one replay attributed.

    ``statements`` is the import batch of the statements that became events, or
    None when no pending statement's actor had become known. ``attributed``
    counts the Segment events that got a partner.
    """

    statements: ImportResult | None
    attributed: int


def replay_pending(db: Database, workspace: Workspace) -> ReplayResult:
    """Turn pending statements whose actors are known users now into events, and
    attribute Segment events whose users are known now.

    Call it outside a transaction: the events of the statements are imported as
    one batch, whose file is :data:`REPLAY_FILE`. Running it again adds nothing.
    """
    attributed = attribute_segment_events(db)
    ready, _ = classify_statements(db, workspace)
    result = _import_ready(db, workspace, ready) if ready else None
    if result is not None or attributed:
        logger.info(
            "Replayed pending records: %d statements became events, %d Segment "
            "events got a partner",
            result.inserted if result else 0,
            attributed,
        )
    return ReplayResult(result, attributed)


def attribute_segment_events(db: Database) -> int:
    """Move the events of linked anonymous ids to their users and give events
    without a partner the partner of their user at the time, in one transaction.

    Returns the number of events that got a partner.
    """
    db.raw.execute("BEGIN TRANSACTION")
    try:
        attach_identified(db)
        filled = _fill_all_partners(db)
        db.raw.execute("COMMIT")
    except BaseException:
        db.raw.execute("ROLLBACK")
        raise
    return filled


def _fill_all_partners(db: Database) -> int:
    """Give every event without a partner the partner of its user at the event's
    time, and return the number of events filled.

    An event whose user has no users row covering that time keeps no partner.
    """
    rows = db.raw.execute(
        """
        UPDATE events AS e SET partner_id = (
            SELECT u.partner_id FROM users u
            WHERE u.user_id = e.user_id
              AND (u.valid_from IS NULL OR u.valid_from <= e.occurred_at)
              AND (u.valid_to IS NULL OR e.occurred_at < u.valid_to)
            ORDER BY u.valid_from DESC NULLS LAST
            LIMIT 1
        )
        WHERE e.partner_id IS NULL
          AND EXISTS (
              SELECT 1 FROM users u
              WHERE u.user_id = e.user_id
                AND (u.valid_from IS NULL OR u.valid_from <= e.occurred_at)
                AND (u.valid_to IS NULL OR e.occurred_at < u.valid_to)
          )
        """
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def classify_statements(
    db: Database, workspace: Workspace, *, batch_id: str | None = None
) -> tuple[list[Statement], list[PendingRecord]]:
    """Classify the stored statements that have no event and are not voided, with
    the users stored now.

    Returns
    -------
    (ready, pending)
        The statements whose actor is a user who belonged to a partner at the
        statement's time, parsed as on arrival with today's users, and a record
        for each statement that still waits. A statement whose event cells are
        invalid for another reason, such as its timestamp, is in neither: its
        import rejected it with that reason.
    """
    # NOTE: statements stored before xapi_statements had a source column replay with
    # the default source 'xapi', whatever --source their import was given.
    query = (
        "SELECT statement_id, statement, stored_at, coalesce(source, 'xapi') "
        "FROM xapi_statements s "
        "WHERE s.event_id IS NOT NULL AND NOT s.voided AND NOT EXISTS "
        "(SELECT 1 FROM events e WHERE e.event_id = s.event_id)"
    )
    parameters: list[Any] = []
    if batch_id is not None:
        query += " AND s.batch_id = ?"
        parameters.append(batch_id)
    rows = db.raw.execute(query + " ORDER BY stored_at, statement_id", parameters)
    rows = rows.fetchall()
    if not rows:
        return [], []
    emails = user_emails(db)
    statements: list[Statement] = []
    for statement_id, raw, stored_at, source in rows:
        try:
            statements.append(
                parse_statement(json.loads(raw), emails, stored_at, source)
            )
        except StatementError as error:
            logger.warning(
                "Skipped stored statement %s, which is invalid now: %s",
                statement_id,
                error,
            )
    if not statements:
        return [], []
    valid, occurred = convertible(statements, workspace)
    users = known_users(db)
    pending: list[PendingRecord] = []
    candidates: list[int] = []
    for index, statement in enumerate(statements):
        if not valid[index]:
            continue
        moment = occurred.iloc[index].to_pydatetime()
        if statement.cells["user_id"] in users:
            candidates.append(index)
            continue
        kind, actor = actor_identifier(statement.raw["actor"])
        pending.append(
            PendingRecord(
                "statement",
                statement.cells["source"] or "",
                actor,
                f"unknown_{kind}",
                moment,
            )
        )
    covered = _covered(db, statements, occurred, candidates)
    ready = []
    for index in candidates:
        statement = statements[index]
        if covered[index]:
            ready.append(statement)
            continue
        pending.append(
            PendingRecord(
                "statement",
                statement.cells["source"] or "",
                str(statement.cells["user_id"]),
                "no_partner",
                occurred.iloc[index].to_pydatetime(),
            )
        )
    return ready, pending


def _covered(
    db: Database, statements: list[Statement], occurred: pd.Series, rows: list[int]
) -> np.ndarray:
    """Return whether each statement's user belonged to a partner at its time, for
    the statements at ``rows``; False elsewhere."""
    covered = np.zeros(len(statements), dtype=bool)
    if not rows:
        return covered
    lookup = pa.table(
        {
            "row_number": pa.array(rows, pa.int64()),
            "user_id": pa.array(
                [statements[row].cells["user_id"] for row in rows], pa.string()
            ),
            "occurred_at": pa.array(occurred.iloc[rows], pa.timestamp("us")),
        }
    )
    db.raw.register("_pending_users", lookup)
    try:
        found = db.raw.execute(
            """
            SELECT p.row_number FROM _pending_users p
            WHERE EXISTS (
                SELECT 1 FROM users u
                WHERE u.user_id = p.user_id
                  AND (u.valid_from IS NULL OR u.valid_from <= p.occurred_at)
                  AND (u.valid_to IS NULL OR p.occurred_at < u.valid_to)
            )
            """
        ).fetchall()
    finally:
        db.raw.unregister("_pending_users")
    covered[[row for (row,) in found]] = True
    return covered


def _import_ready(
    db: Database, workspace: Workspace, ready: list[Statement]
) -> ImportResult:
    """Import the events of ``ready`` as one batch, and store each statement's user
    id as its actor, as on arrival when the user was known."""
    rows = statement_rows(ready, REPLAY_FILE, list(range(1, len(ready) + 1)))
    actors = pa.table(
        {
            "statement_id": [statement.statement_id for statement in ready],
            "actor": [statement.cells["user_id"] for statement in ready],
        }
    )

    def finish(db: Database, result: ImportResult) -> None:
        db.raw.register("_replayed_actors", actors)
        try:
            db.raw.execute(
                "UPDATE xapi_statements AS s SET actor = r.actor "
                "FROM _replayed_actors r WHERE s.statement_id = r.statement_id"
            )
        finally:
            db.raw.unregister("_replayed_actors")
        apply_voiding(db)

    return import_source(
        db,
        workspace,
        "events",
        rows,
        rules=statement_rules(),
        before_commit=finish,
    )


def _event_groups(
    db: Database,
) -> list[tuple[PendingRecord, int, datetime, datetime]]:
    """Return a record per group of events without a partner, by source and user,
    with the group's count and first and last local time."""
    rows = db.raw.execute(
        """
        SELECT e.source, e.user_id, count(*), min(e.occurred_local),
               max(e.occurred_local), u.user_id IS NOT NULL
        FROM events e
        LEFT JOIN (SELECT DISTINCT user_id FROM users) u USING (user_id)
        WHERE e.partner_id IS NULL
        GROUP BY e.source, e.user_id, u.user_id
        ORDER BY e.source, e.user_id
        """
    ).fetchall()
    groups = []
    for source, user_id, count, first, last, known in rows:
        user = str(user_id)
        if user.startswith(ANONYMOUS_PREFIX):
            actor, reason = user.removeprefix(ANONYMOUS_PREFIX), "anonymous"
        else:
            actor, reason = user, "no_partner" if known else "unknown_user"
        record = PendingRecord("event", source or "", actor, reason, None)
        groups.append((record, int(count), first, last))
    return groups


def list_pending(
    db: Database, workspace: Workspace, *, locale: str | None = None
) -> list[dict[str, Any]]:
    """Return what waits for its user, one row per kind, source, actor and reason.

    Each row has ``kind`` (statement or event), ``source``, ``actor``, ``reason``
    (the reason's id, such as ``unknown_mbox``), ``message`` (the reason and what
    to do, in ``locale``, by default the workspace's), ``count``, and ``first`` and
    ``last``: the earliest and latest record's local time in the workspace's zone,
    as ISO 8601 text.

    Statements whose actor is a user of a partner now but that are no events yet
    are listed with the reason ``ready``: a users import stopped between storing
    the users and :func:`replay_pending`, which turns them into events.
    """
    locale = locale or workspace.locale
    ready, statements = classify_statements(db, workspace)
    statements = statements + _ready_records(ready, workspace)
    groups: dict[tuple[str, str, str, str], list[datetime]] = {}
    for record in statements:
        key = (record.kind, record.source, record.actor, record.reason)
        moment = record.occurred_at
        groups.setdefault(key, []).append(to_local(moment, workspace.zone))
    rows = [
        _row(key, len(times), min(times), max(times), locale)
        for key, times in sorted(groups.items())
    ]
    for record, count, first, last in _event_groups(db):
        key = (record.kind, record.source, record.actor, record.reason)
        rows.append(_row(key, count, first, last, locale))
    return rows


def _ready_records(ready: list[Statement], workspace: Workspace) -> list[PendingRecord]:
    """Return a ``ready`` record for each statement that can become an event now."""
    if not ready:
        return []
    _, occurred = convertible(ready, workspace)
    return [
        PendingRecord(
            "statement",
            statement.cells["source"] or "",
            str(statement.cells["user_id"]),
            "ready",
            occurred.iloc[index].to_pydatetime(),
        )
        for index, statement in enumerate(ready)
    ]


def _row(
    key: tuple[str, str, str, str],
    count: int,
    first: datetime,
    last: datetime,
    locale: str,
) -> dict[str, Any]:
    kind, source, actor, reason = key
    return {
        "kind": kind,
        "source": source,
        "actor": actor,
        "reason": reason,
        "message": text(f"pending.{reason}", locale, actor=actor),
        "count": count,
        "first": first.isoformat(),
        "last": last.isoformat(),
    }


def count_pending_statements(db: Database, workspace: Workspace, batch_id: str) -> int:
    """Return how many statements of the import batch ``batch_id`` wait for their
    users."""
    return len(classify_statements(db, workspace, batch_id=batch_id)[1])


__all__ = [
    "PENDING_COLUMNS",
    "REPLAY_FILE",
    "PendingRecord",
    "ReplayResult",
    "attribute_segment_events",
    "classify_statements",
    "count_pending_statements",
    "list_pending",
    "replay_pending",
]
