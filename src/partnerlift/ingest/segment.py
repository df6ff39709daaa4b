"""Segment-compatible messages: track, page and screen as events; identify, alias
and group as links between anonymous ids, users and partners.

A track call's event name becomes the action in snake case ("Video Completed" is
``video_completed``); page and screen calls are ``viewed``. Properties become event
properties and ``properties.asset_id`` the asset. A message's ``messageId`` is its
idempotency key within the source, so a retried message adds nothing. An event
whose user is not known yet is stored without a partner: a later ``identify``
(anonymous id to user id) or ``group`` (user to partner, ``groupId`` being the
partner id) fills in the user and partner of the earlier events too. An event sent
with only an anonymous id that is linked already goes to the linked user. A later
users import gives the events of its users their partners, see
:mod:`partnerlift.ingest.pending`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from partnerlift.ingest.importer import ImportResult, import_source
from partnerlift.ingest.records import rows_from_objects
from partnerlift.settings import Workspace
from partnerlift.settings.times import parse_instant
from partnerlift.store import Database

EVENT_TYPES = {"track", "page", "screen"}
LINK_TYPES = {"identify", "alias", "group"}
ANONYMOUS_PREFIX = "anonymous:"
_WORD = re.compile(r"[^0-9a-zA-Z]+")


@dataclass
class SegmentResult:
    """The outcome of each message and the event import behind it."""

    outcomes: list[dict[str, Any]] = field(default_factory=list)
    events: ImportResult | None = None


def snake_case(name: str) -> str:
    """Return ``name`` in snake case: "Video Playback Completed" is
    ``video_playback_completed``."""
    return _WORD.sub("_", name).strip("_").lower()


def import_segment(
    db: Database,
    workspace: Workspace,
    messages: Sequence[Any],
    *,
    source: str,
    default_type: str | None = None,
    received_at: datetime | None = None,
    before_commit: Callable[[Database, SegmentResult], None] | None = None,
) -> SegmentResult:
    """Import Segment messages as one batch; every message gets an outcome.

    ``source`` scopes the message ids (such as the write key's id);
    ``default_type`` is the type of messages without one (the endpoint's type).
    A message without a type, a user (``userId`` or ``anonymousId``) or, for a
    track call, an ``event`` name is rejected with the reason.
    ``before_commit(db, result)`` runs inside the batch's transaction once every
    message has its outcome, for callers that store more, such as the response.
    """
    received_at = received_at or datetime.now(UTC).replace(tzinfo=None)
    outcomes: list[dict[str, Any]] = [{} for _ in messages]
    events: list[dict[str, Any]] = []
    event_index: list[int] = []
    links: list[tuple[int, dict[str, Any], str]] = []
    for index, message in enumerate(messages):
        kind, problem = _check(message, default_type)
        if problem:
            outcomes[index] = {"index": index, "status": "rejected", "reason": problem}
        elif kind in EVENT_TYPES:
            events.append(_event(message, kind, source, received_at))
            event_index.append(index)
        else:
            links.append((index, message, kind))
    rows = rows_from_objects(
        events, f"segment:{source}", ensure=("occurred_at", "action", "user_id")
    )

    anonymous = {
        event["user_id"]
        for event in events
        if event["user_id"].startswith(ANONYMOUS_PREFIX)
    }

    def link(db: Database, result: ImportResult) -> None:
        for index, message, kind in links:
            outcomes[index] = {
                "index": index,
                "status": _link(db, message, kind, received_at, workspace),
            }
        if anonymous:
            attach_identified(db, anonymous)
        problems = {problem.line: problem.reason for problem in result.problems}
        for line, index in enumerate(event_index, start=1):
            outcome = {"index": index, "status": result.outcomes.get(line, "rejected")}
            if line in problems:
                outcome["reason"] = problems[line]
            outcomes[index] = outcome
        if before_commit is not None:
            before_commit(db, SegmentResult(outcomes, result))

    result = import_source(
        db,
        workspace,
        "events",
        rows,
        before_commit=link,
        keep_unknown_users=True,
        conflicting_repeats="duplicate",
    )
    if any(kind == "group" for _, _, kind in links):
        # A group call can add a user, whose pending xAPI statements become events.
        from partnerlift.ingest.pending import replay_pending  # imports this module

        replay_pending(db, workspace)
    return SegmentResult(outcomes, result)


def _check(message: Any, default_type: str | None) -> tuple[str, str | None]:
    if not isinstance(message, dict):
        return "", "A message must be a JSON object."
    kind = message.get("type") or default_type
    if kind not in EVENT_TYPES | LINK_TYPES:
        return (
            "",
            f"Unsupported message type {kind!r}: use track, page, screen, "
            "identify, alias or group.",
        )
    if not (message.get("userId") or message.get("anonymousId")):
        return kind, "Missing userId and anonymousId: a message needs one of them."
    if kind == "track" and not message.get("event"):
        return kind, "Missing event: a track call needs the event name."
    if kind == "group" and not message.get("groupId"):
        return kind, "Missing groupId: a group call needs the partner id."
    if kind == "alias" and not message.get("previousId"):
        return kind, "Missing previousId: an alias call needs the earlier id."
    return kind, None


def _event(
    message: dict[str, Any], kind: str, source: str, received_at: datetime
) -> dict[str, Any]:
    properties = dict(message.get("properties") or {})
    context = message.get("context") or {}
    if kind == "track":
        action = snake_case(str(message["event"]))
    else:
        action = "viewed"
        if message.get("name"):
            properties.setdefault("name", message["name"])
    user = message.get("userId")
    user_id = str(user) if user else ANONYMOUS_PREFIX + str(message["anonymousId"])
    moment = _event_time(message, received_at)
    event = {
        "event_id": _message_event_id(source, message),
        "occurred_at": moment if isinstance(moment, str) else str(moment),
        "user_id": user_id,
        "partner_id": context.get("groupId"),
        "action": action,
        "asset_id": properties.pop("asset_id", None),
        "source": f"segment:{source}",
        "properties": properties,
    }
    if message.get("anonymousId") and user:
        event["properties"] = {**properties, "anonymous_id": message["anonymousId"]}
    return event


def _event_time(message: dict[str, Any], received_at: datetime) -> Any:
    """Return when a message's event happened, as Segment computes ``timestamp``.

    A given ``timestamp`` wins. Otherwise the device's ``originalTimestamp`` is
    corrected for the device clock's skew, ``receivedAt - sentAt``, and without
    it the event happened when it was received: the message's ``receivedAt`` (a
    replayed export) or else ``received_at``, naive UTC.
    """
    if message.get("timestamp"):
        return message["timestamp"]
    zone = ZoneInfo("UTC")
    received = _parse_utc(message.get("receivedAt"), zone) or received_at
    original = message.get("originalTimestamp")
    if original:
        device_time = _parse_utc(original, zone)
        sent = _parse_utc(message.get("sentAt"), zone)
        if device_time is None or sent is None:
            return original
        return (received - (sent - device_time)).isoformat() + "+00:00"
    return received.isoformat() + "+00:00"


def _parse_utc(value: Any, zone: ZoneInfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value, zone)
    except ValueError:
        return None


def _message_event_id(source: str, message: dict[str, Any]) -> str | None:
    message_id = message.get("messageId")
    if not message_id:
        return None
    digest = hashlib.sha256(f"{source}\x1f{message_id}".encode()).hexdigest()
    return f"seg-{digest[:32]}"


def _link(
    db: Database,
    message: dict[str, Any],
    kind: str,
    received_at: datetime,
    workspace: Workspace,
) -> str:
    user_id = message.get("userId")
    if kind in ("identify", "alias"):
        anonymous = (
            message.get("anonymousId")
            if kind == "identify"
            else message.get("previousId")
        )
        if user_id and anonymous:
            link_anonymous(db, str(anonymous), str(user_id), received_at)
            return "linked"
        return "ignored"
    user = str(user_id) if user_id else ANONYMOUS_PREFIX + str(message["anonymousId"])
    moment = _instant(message.get("timestamp"), workspace) or received_at
    link_partner(db, user, str(message["groupId"]), moment)
    return "linked"


def _instant(value: Any, workspace: Workspace) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value, workspace.zone)
    except ValueError:
        return None


def link_anonymous(
    db: Database, anonymous_id: str, user_id: str, linked_at: datetime
) -> int:
    """Link an anonymous id to a user; move its events to the user and give them
    the user's partner. Return the number of events moved."""
    db.raw.execute(
        "INSERT INTO identities (source, anonymous_id, user_id, linked_at) "
        "VALUES ('segment', ?, ?, ?) ON CONFLICT DO NOTHING",
        [anonymous_id, user_id, linked_at],
    )
    moved = db.raw.execute(
        "UPDATE events SET user_id = ? WHERE user_id = ?",
        [user_id, ANONYMOUS_PREFIX + anonymous_id],
    ).fetchall()
    _fill_partners(db, user_id)
    return int(moved[0][0]) if moved else 0


def attach_identified(db: Database, user_ids: Iterable[str] | None = None) -> int:
    """Move the events of anonymous ids that are linked to a user to that user.

    The moved events get the user's partner. ``user_ids`` limits the move to these
    stored user ids (``anonymous:`` and the anonymous id), and None moves the events
    of every linked anonymous id. Returns the number of events moved.
    """
    query = (
        "SELECT DISTINCT i.anonymous_id, i.user_id FROM identities i "
        "JOIN events e ON e.user_id = ? || i.anonymous_id"
    )
    parameters: list[object] = [ANONYMOUS_PREFIX]
    if user_ids is not None:
        query += " WHERE e.user_id IN (SELECT unnest(?::VARCHAR[]))"
        parameters.append(sorted(user_ids))
    moved = 0
    for anonymous_id, user_id in db.raw.execute(query, parameters).fetchall():
        rows = db.raw.execute(
            "UPDATE events SET user_id = ? WHERE user_id = ?",
            [user_id, ANONYMOUS_PREFIX + anonymous_id],
        ).fetchall()
        moved += int(rows[0][0]) if rows else 0
        _fill_partners(db, user_id)
    return moved


def link_partner(db: Database, user_id: str, partner_id: str, moment: datetime) -> None:
    """Record that ``user_id`` belongs to ``partner_id`` and give the user's events
    without a partner that partner.

    A user with no users row yet belongs to the partner from the start; a user
    who belonged to another partner moves at ``moment``.
    """
    rows = db.raw.execute(
        "SELECT partner_id FROM users WHERE user_id = ? AND valid_to IS NULL",
        [user_id],
    ).fetchall()
    current = {partner for (partner,) in rows}
    if partner_id not in current:
        if current:
            db.raw.execute(
                "UPDATE users SET valid_to = ? WHERE user_id = ? AND valid_to IS NULL",
                [moment, user_id],
            )
        valid_from = moment if current else None
        db.raw.execute(
            "INSERT INTO users (user_id, partner_id, valid_from) VALUES (?, ?, ?)",
            [user_id, partner_id, valid_from],
        )
    _fill_partners(db, user_id)


def _fill_partners(db: Database, user_id: str) -> None:
    """Give the user's events without a partner the partner of their time."""
    db.raw.execute(
        """
        UPDATE events AS e SET partner_id = (
            SELECT u.partner_id FROM users u
            WHERE u.user_id = e.user_id
              AND (u.valid_from IS NULL OR u.valid_from <= e.occurred_at)
              AND (u.valid_to IS NULL OR e.occurred_at < u.valid_to)
            ORDER BY u.valid_from DESC NULLS LAST
            LIMIT 1
        )
        WHERE e.user_id = ? AND e.partner_id IS NULL
        """,
        [user_id],
    )


def message_list(payload: Any) -> list[Any]:
    """Return the messages of a ``/v1/batch`` body (its ``batch`` list)."""
    if isinstance(payload, dict) and isinstance(payload.get("batch"), list):
        return list(payload["batch"])
    raise ValueError('expected an object with a "batch" list of messages')


__all__ = [
    "SegmentResult",
    "attach_identified",
    "import_segment",
    "link_anonymous",
    "link_partner",
    "message_list",
    "snake_case",
]
