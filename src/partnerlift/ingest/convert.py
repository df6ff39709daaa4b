"""Conversion of mapped text fields into typed columns, rejecting invalid rows.

Each converter works on a whole column at once and records, for every row it cannot
convert, the first problem found in that row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from partnerlift.ingest.mapping import ColumnSpec, NumberFormat
from partnerlift.ingest.messages import text
from partnerlift.ingest.values import clean_amounts, parse_spreadsheet_instant
from partnerlift.settings.times import local_midnight_utc, parse_instant
from partnerlift.store.schema import DEAL_STATUSES

# ISO 8601 forms that pandas parses the same way as settings.times.parse_instant;
# at most 6 fraction digits, because instants are stored to the microsecond.
_ISO_DAY = r"\d{4}-\d{2}-\d{2}"
_ISO_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
_ISO_LOCAL = rf"{_ISO_DAY}(?:[T ]{_ISO_TIME})?"
_ISO_OFFSET = rf"{_ISO_DAY}[T ]{_ISO_TIME}(?:Z|[+-]\d{{2}}:\d{{2}})"


# Instants outside these bounds are rejected (pandas stores nanoseconds from 1677 to
# 2262); a far-future end of validity is read as no end.
EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(2200, 1, 1)
OPEN_ENDS = frozenset({"valid_to"})


class Rejections:
    """The first problem of each row: field, value and reason, or None."""

    def __init__(self, size: int) -> None:
        self.field = np.full(size, None, dtype=object)
        self.value = np.full(size, None, dtype=object)
        self.reason = np.full(size, None, dtype=object)

    @property
    def mask(self) -> np.ndarray:
        """True for every rejected row."""
        return pd.notna(self.reason)

    def reject(
        self,
        rows: np.ndarray | pd.Series,
        field: str,
        values: pd.Series,
        reason: str | Callable[[object], str] | np.ndarray,
    ) -> None:
        """Reject the rows of ``rows`` (a boolean mask) not rejected yet.

        ``reason`` is one text, a function of the value, or an array with one text
        per row.
        """
        new = np.asarray(rows, dtype=bool) & ~self.mask
        if not new.any():
            return
        self.field[new] = field
        picked = values.to_numpy(dtype=object)[new]
        self.value[new] = picked
        if isinstance(reason, np.ndarray):
            self.reason[new] = reason[new]
        elif callable(reason):
            self.reason[new] = [reason(value) for value in picked]
        else:
            self.reason[new] = reason


def check_required(
    values: pd.Series, field: str, rejections: Rejections, locale: str
) -> None:
    """Reject rows whose ``field`` is empty."""
    reason = text("ingest.missing_value", locale)
    rejections.reject(values.isna().to_numpy(), field, values, reason)


def parse_times(
    values: pd.Series,
    field: str,
    spec: ColumnSpec | None,
    *,
    zone: ZoneInfo,
    base_date: object,
    rejections: Rejections,
    locale: str,
) -> pd.Series:
    """Parse a timestamp column into naive UTC datetimes (NaT where empty or invalid).

    Offset-less timestamps are local time in ``zone``. ``date_format`` values are
    read with strptime, and a value that matches none of its formats as if there
    were none. ``day_offset`` values count whole days from the local midnight of
    ``base_date``. Without either, a value that is not ISO 8601 may be
    a spreadsheet date such as ``2024/04/01``, ``令和6年4月1日`` or an Excel serial
    (see :mod:`partnerlift.ingest.values`), read as local time in ``zone``.
    """
    if spec is not None and spec.day_offset:
        parse = _day_offset_parser(base_date, zone)
        reason = text("ingest.bad_day_offset", locale)
    elif spec is not None and spec.date_format:
        formats = spec.date_formats()
        parse = _strptime_parser(formats, zone)
        shown = formats[0] if len(formats) == 1 else " | ".join(formats)
        reason = text("ingest.bad_date_format", locale, format=shown)
    else:

        def parse(value: str) -> datetime:
            try:
                return parse_instant(value, zone)
            except ValueError:
                return parse_spreadsheet_instant(value, zone)

        reason = text("ingest.bad_timestamp", locale)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if spec is None or not (spec.day_offset or spec.date_format):
        result = _parse_iso_vectorised(values, zone)
    pending = values[values.notna() & result.isna()]
    parsed: dict[str, datetime | None] = {}
    outside: set[str] = set()
    for value in pending.unique():
        try:
            moment = parse(value)
        except (ValueError, TypeError, OverflowError):
            moment = None
        if moment is not None and not EARLIEST <= moment < LATEST:
            outside.add(value)
            moment = None
        parsed[value] = moment
    if parsed:
        slow = pd.to_datetime(pending.map(parsed), errors="coerce")
        result.loc[slow.index] = slow.astype("datetime64[ns]")
    far = values.isin(outside).to_numpy()
    if field in OPEN_ENDS and far.any():
        # 9999-12-31 and the like mean "no end" in validity columns.
        far &= ~values.map(_is_far_future).to_numpy(dtype=bool)
    far_reason = "ingest.timestamp_out_of_range"
    if field in OPEN_ENDS:
        far_reason = "ingest.valid_to_out_of_range"
    rejections.reject(far, field, values, text(far_reason, locale))
    invalid = values.notna() & result.isna() & ~values.isin(outside)
    rejections.reject(invalid.to_numpy(), field, values, reason)
    return result


def _is_far_future(value: object) -> bool:
    """Return whether a timestamp text out of range lies after :data:`LATEST`."""
    digits = str(value).strip()[:4]
    return digits.isdigit() and int(digits) >= LATEST.year


def _parse_iso_vectorised(values: pd.Series, zone: ZoneInfo) -> pd.Series:
    """Parse the plainest ISO 8601 forms with Arrow, as parse_instant would.

    Values of other forms, and local times that are ambiguous or do not exist in
    ``zone`` (daylight saving changes), are left NaT for parse_instant to handle.
    """
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    text = pc.utf8_trim_whitespace(pa.array(values, type=pa.string(), from_pandas=True))
    for pattern, kind in ((_ISO_LOCAL, "local"), (_ISO_OFFSET, "offset")):
        matches = pc.match_substring_regex(text, f"^(?:{pattern})$")
        mask = matches.fill_null(False).to_numpy(zero_copy_only=False)
        if not mask.any():
            continue
        subset = text.filter(pa.array(mask))
        index = values.index[mask]
        target = pa.timestamp("us", tz="UTC" if kind == "offset" else None)
        try:
            instants = subset.cast(target).cast(pa.timestamp("us"))
            inside = pc.and_(
                pc.greater_equal(instants, pa.scalar(EARLIEST, pa.timestamp("us"))),
                pc.less(instants, pa.scalar(LATEST, pa.timestamp("us"))),
            ).to_numpy(zero_copy_only=False)
            # Values out of range stay NaT here; the slow path names the problem.
            parsed = pd.Series(
                instants.filter(pa.array(inside)).to_numpy(zero_copy_only=False),
                index=index[inside],
                dtype="datetime64[ns]",
            )
        except pa.ArrowInvalid:
            # A value of the right shape but no real date, such as 2024-02-30:
            # pandas leaves it NaT, and parse_instant rejects it.
            parsed = pd.to_datetime(
                pd.Series(subset.to_pylist(), index=index),
                format="ISO8601",
                utc=kind == "offset",
                errors="coerce",
            )
            if kind == "offset":
                parsed = parsed.dt.tz_localize(None)
        result.loc[parsed.index] = (
            parsed if kind == "offset" else _wall_to_utc(parsed, zone)
        )
    return result


def _day_offset_parser(base_date: object, zone: ZoneInfo) -> Callable[[str], datetime]:
    def parse(value: str) -> datetime:
        days = int(value.strip())
        return local_midnight_utc(base_date + timedelta(days=days), zone)  # type: ignore[operator]

    return parse


def _strptime_parser(
    date_formats: list[str], zone: ZoneInfo
) -> Callable[[str], datetime]:
    def parse(value: str) -> datetime:
        for date_format in date_formats:
            try:
                moment = datetime.strptime(value.strip(), date_format)
                break
            except ValueError:
                continue
        else:
            # Year-first forms are unambiguous, so ISO 8601, 2024/04/01, era dates
            # and Excel serials still read when the export mixes them in.
            try:
                return parse_instant(value, zone)
            except ValueError:
                return parse_spreadsheet_instant(value, zone)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC).replace(tzinfo=None)

    return parse


def _wall_to_utc(wall: pd.Series, zone: ZoneInfo) -> pd.Series:
    """Convert naive wall-clock times in ``zone`` to naive UTC.

    Arrow's conversion is used because pandas converts zoneinfo zones one value at
    a time. A wall-clock time that does not exist in ``zone`` comes back NaT.
    """
    array = pa.array(wall, type=pa.timestamp("ns"), from_pandas=True)
    aware = pc.assume_timezone(
        array, timezone=zone.key, ambiguous="earliest", nonexistent="earliest"
    )
    exact = pc.equal(pc.local_timestamp(aware), array).to_numpy(zero_copy_only=False)
    utc = aware.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
    utc = pd.Series(utc, index=wall.index, dtype="datetime64[ns]")
    return utc.where(exact.astype(bool))


def local_times(instants: pd.Series, zone: ZoneInfo) -> pd.Series:
    """Convert naive UTC datetimes to naive wall-clock times in ``zone``."""
    array = pa.array(instants, type=pa.timestamp("ns"), from_pandas=True)
    aware = array.cast(pa.timestamp("ns", tz="UTC")).cast(pa.timestamp("ns", zone.key))
    local = pc.local_timestamp(aware).to_numpy(zero_copy_only=False)
    return pd.Series(local, index=instants.index, dtype="datetime64[ns]")


def parse_numbers(
    values: pd.Series,
    field: str,
    spec: ColumnSpec | None,
    *,
    rejections: Rejections,
    locale: str,
    default_format: NumberFormat | None = None,
    yen_backslash: bool = False,
) -> pd.Series:
    """Parse a number column into floats (NaN where empty or invalid).

    The column's ``number`` format wins over ``default_format`` (the mapping's
    ``locale``); ``yen_backslash`` reads a backslash as the yen sign, as CP932
    text decodes it.
    """
    number = (spec.number if spec is not None else None) or default_format
    thousands, decimal = (number or NumberFormat()).separators()
    cleaned = clean_amounts(
        values, thousands=thousands, decimal=decimal, yen_backslash=yen_backslash
    )
    result = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    invalid = values.notna().to_numpy() & ~np.isfinite(result.to_numpy())
    rejections.reject(invalid, field, values, text("ingest.bad_number", locale))
    return result.where(np.isfinite(result))


def check_range(
    numbers: pd.Series,
    values: pd.Series,
    field: str,
    *,
    positive: bool = False,
    integer: bool = False,
    rejections: Rejections,
    locale: str,
) -> None:
    """Reject numbers that are not > 0 (``positive``) or >= 0, or not whole."""
    data = numbers.to_numpy()
    present = ~np.isnan(data)
    if positive:
        bad = present & ~(data > 0)
        rejections.reject(
            bad, field, values, text("ingest.not_positive", locale, field=field)
        )
    else:
        bad = present & (data < 0)
        rejections.reject(
            bad, field, values, text("ingest.negative", locale, field=field)
        )
    if integer:
        bad = present & (
            np.floor(np.where(present, data, 0)) != np.where(present, data, 0)
        )
        rejections.reject(
            bad, field, values, text("ingest.not_integer", locale, field=field)
        )


def parse_status(
    values: pd.Series, field: str, *, rejections: Rejections, locale: str
) -> pd.Series:
    """Normalise a deal status to open, won or lost; reject anything else."""
    status = values.astype("string").str.strip().str.lower()
    bad = (
        values.notna().to_numpy() & ~status.isin(DEAL_STATUSES).fillna(False).to_numpy()
    )
    rejections.reject(bad, field, values, text("ingest.bad_status", locale))
    return status.astype(object).where(status.notna(), None)


def split_tags(values: pd.Series) -> pd.Series:
    """Split ``a|b|c`` into a list of non-empty, stripped tags (None where empty)."""

    def split(value: object) -> list[str] | None:
        if not isinstance(value, str):
            return None
        return [tag.strip() for tag in value.split("|") if tag.strip()]

    return values.map(split)
