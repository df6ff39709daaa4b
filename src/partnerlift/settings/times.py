"""Time zones and timestamps.

Instants are stored as naive UTC timestamps. Beside each, the store keeps the local
wall-clock time in the workspace's zone, and calendar buckets are computed on that
column: Ibis's ``truncate`` on a zone-aware column runs in the engine session's zone,
so it would put an event at 00:30 on 1 February in Tokyo into January.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from partnerlift.errors import ConfigError
from partnerlift.settings import setting_messages  # noqa: F401 (registers the texts)
from partnerlift.settings.messages import text

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def get_zone(name: str, *, source: str | None = None, locale: str = "en") -> ZoneInfo:
    """Return the IANA time zone ``name``.

    Raises
    ------
    ConfigError
        If the zone is unknown. The message names ``source`` where given and is
        in ``locale``.
    """
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        where = f"{source}: " if source else ""
        message = text("settings.unknown_zone", locale, where=where, name=name)
        raise ConfigError(message) from None


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """Parse an ISO 8601 timestamp or date into a naive UTC datetime.

    A timestamp without an offset is local time in ``zone``; a date alone is the start
    of that day in ``zone``.

    Raises
    ------
    ValueError
        If ``text`` is not an ISO 8601 date or timestamp.
    """
    text = text.strip()
    if _DATE_ONLY.match(text):
        moment = datetime.combine(date.fromisoformat(text), time())
    else:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).replace(tzinfo=None)


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """Convert a naive UTC datetime to naive local wall-clock time in ``zone``."""
    return instant.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """Return the naive UTC instant at which ``day`` starts in ``zone``."""
    start = datetime.combine(day, time()).replace(tzinfo=zone)
    return start.astimezone(UTC).replace(tzinfo=None)


def end_of_day_utc(day: date, zone: ZoneInfo) -> datetime:
    """Return the naive UTC instant at which ``day`` ends in ``zone`` (exclusive)."""
    return local_midnight_utc(day + timedelta(days=1), zone)


def parse_date(value: str, *, source: str = "date", locale: str = "en") -> date:
    """Parse ``YYYY-MM-DD``.

    Raises
    ------
    ConfigError
        If ``value`` is not a date. The message names ``source`` and is in
        ``locale``.
    """
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        message = text("settings.invalid_date", locale, source=source, value=value)
        raise ConfigError(message) from None
