"""The fields of each canonical table: their types, keys and conversion to Arrow."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from partnerlift.ingest.convert import (
    Rejections,
    check_range,
    check_required,
    local_times,
    parse_numbers,
    parse_status,
    parse_times,
    split_tags,
)
from partnerlift.ingest.mapping import MappedRows, NumberFormat
from partnerlift.ingest.messages import text
from partnerlift.ingest.values import amount_currencies
from partnerlift.settings.messages import register
from partnerlift.store.schema import CANONICAL_COLUMNS, REQUIRED_COLUMNS

logger = logging.getLogger(__name__)

# The maximum number of deals named by the warning on missing close dates.
SHOWN_UNDATED_DEALS = 5

register(
    {
        "ingest.undated_closes": {
            "en": "{count} won or lost deals have no closed_at, so they count in "
            "no win rate: {shown}. Fill in their close dates to count them.",
            "ja": "受注または失注の商談 {count} 件に closed_at がないため、"
            "どの受注率にも数えません: {shown}。数えるには closed_at にクローズ日を"
            "入れてください。",
        },
        "ingest.undated_close_line": {
            "en": "{deal_id!r} (line {line})",
            "ja": "{deal_id!r}（{line} 行目）",
        },
        "ingest.undated_closes_more": {
            "en": "and {count} more",
            "ja": "ほか {count} 件",
        },
        "ingest.undated_closes_separator": {"en": ", ", "ja": "、"},
    }
)

# The kind of every canonical field; fields not listed are text.
FIELD_KINDS: dict[str, str] = {
    "joined_at": "time",
    "valid_from": "time",
    "valid_to": "time",
    "occurred_at": "time",
    "created_at": "time",
    "closed_at": "time",
    "quantity": "positive",
    "amount": "number",
    "pages": "count",
    "duration_s": "non_negative",
    "status": "status",
    "tags": "tags",
}

# The wall-clock column stored beside an instant, for calendar periods.
LOCAL_COLUMNS = {
    "joined_at": "joined_local",
    "occurred_at": "occurred_local",
    "created_at": "created_local",
    "closed_at": "closed_local",
}

# The free-form column that collects the source columns no field uses.
FREE_COLUMNS = {"events": "properties", "partners": "attributes"}

ARROW_TYPES: dict[str, pa.DataType] = {
    "time": pa.timestamp("us"),
    "positive": pa.float64(),
    "number": pa.float64(),
    "non_negative": pa.float64(),
    "count": pa.int64(),
    "tags": pa.list_(pa.string()),
}

_SEPARATOR = "\x1f"


@dataclass
class TypedRows:
    """Typed columns of one table and the map column of free-form values."""

    columns: pd.DataFrame
    free: pa.MapArray | None


def convert_fields(
    table: str,
    mapped: MappedRows,
    extra: pd.DataFrame,
    *,
    zone: ZoneInfo,
    base_date: date | None,
    rejections: Rejections,
    locale: str,
    number_format: NumberFormat | None = None,
    yen_backslash: bool = False,
    lines: np.ndarray | None = None,
) -> TypedRows:
    """Convert the mapped text fields of ``table`` to typed columns.

    Rows with an empty required value, an invalid value or an unmapped value of a
    strict value map are recorded in ``rejections``. Their typed cells stay as
    parsed (NaT, NaN or None), so they must not be stored. ``number_format`` is the
    mapping's default for number columns; ``yen_backslash`` reads a backslash in
    them as the yen sign. ``lines`` contains the file's line number of each row,
    and the warnings name those lines when it is given. Warnings are in ``locale``.
    """
    fields = mapped.fields
    empty = pd.Series([None] * len(fields), index=fields.index, dtype=object)
    columns = pd.DataFrame(index=fields.index)
    if table == "events":
        neither = (
            fields.get("partner_id", empty).isna() & fields.get("user_id", empty).isna()
        )
        reason = text("ingest.missing_partner_or_user", locale)
        rejections.reject(neither.to_numpy(), "partner_id", empty, reason)
    for name in CANONICAL_COLUMNS[table]:
        values = _text(fields[name]) if name in fields else empty
        if name in mapped.unmapped:
            reason = text("ingest.unmapped_value", locale, field=name)
            rejections.reject(mapped.unmapped[name].to_numpy(), name, values, reason)
        if name in REQUIRED_COLUMNS[table]:
            check_required(values, name, rejections, locale)
        kind = FIELD_KINDS.get(name, "text")
        spec = mapped.specs.get(name)
        if kind == "time":
            instants = parse_times(
                values,
                name,
                spec,
                zone=zone,
                base_date=base_date,
                rejections=rejections,
                locale=locale,
            )
            columns[name] = instants
            if name in LOCAL_COLUMNS:
                columns[LOCAL_COLUMNS[name]] = local_times(instants, zone)
        elif kind in {"positive", "number", "non_negative", "count"}:
            numbers = parse_numbers(
                values,
                name,
                spec,
                rejections=rejections,
                locale=locale,
                default_format=number_format,
                yen_backslash=yen_backslash,
            )
            if kind != "number":
                check_range(
                    numbers,
                    values,
                    name,
                    positive=kind == "positive",
                    integer=kind == "count",
                    rejections=rejections,
                    locale=locale,
                )
            if name == "quantity":
                numbers = numbers.where(values.notna(), 1.0)
            columns[name] = numbers
        elif kind == "status":
            columns[name] = parse_status(
                values, name, rejections=rejections, locale=locale
            )
        elif kind == "tags":
            columns[name] = split_tags(values)
        else:
            columns[name] = values
    if table == "deals":
        _drop_open_close_dates(columns)
        _check_close_dates(columns, fields, rejections, locale, lines)
        if "amount" in fields:
            _fill_amount_currency(
                columns, _text(fields["amount"]), rejections, locale, yen_backslash
            )
    free = build_map(extra) if table in FREE_COLUMNS else None
    return TypedRows(columns, free)


def _drop_open_close_dates(columns: pd.DataFrame) -> None:
    """Clear the close date of open deals.

    CRM exports fill it with the expected close date of an open deal, and a
    reopened deal may keep the date it was closed on. Neither is a close.
    """
    is_open = (columns["status"] == "open").fillna(False).to_numpy(dtype=bool)
    columns.loc[is_open, "closed_at"] = pd.NaT
    columns.loc[is_open, "closed_local"] = pd.NaT


def _check_close_dates(
    columns: pd.DataFrame,
    fields: pd.DataFrame,
    rejections: Rejections,
    locale: str,
    lines: np.ndarray | None = None,
) -> None:
    """Reject deals that close before they were created.

    A won or lost deal without ``closed_at`` is kept, because the column is optional,
    but it counts in no win rate: outcomes are placed in time by the close date.
    A warning in ``locale`` names the first of those deals.
    """
    empty = pd.Series([None] * len(columns), index=columns.index, dtype=object)
    raw = _text(fields["closed_at"]) if "closed_at" in fields else empty
    closed = columns["status"].isin(["won", "lost"]).fillna(False).to_numpy(bool)
    kept = ~rejections.mask
    undated = closed & columns["closed_at"].isna().to_numpy() & kept
    if undated.any():
        logger.warning(_undated_warning(columns, undated, locale, lines))
    created = pd.to_datetime(columns["created_at"])
    backwards = (pd.to_datetime(columns["closed_at"]) < created).fillna(False)
    rows = backwards.to_numpy(bool)
    reasons = np.full(len(columns), None, dtype=object)
    created_local = pd.to_datetime(columns["created_local"])
    reasons[rows] = [
        text("ingest.closed_before_created", locale, created=f"{value:%Y-%m-%d %H:%M}")
        for value in created_local[rows]
    ]
    rejections.reject(rows, "closed_at", raw, reasons)


def _undated_warning(
    columns: pd.DataFrame,
    undated: np.ndarray,
    locale: str,
    lines: np.ndarray | None,
) -> str:
    """Return the warning on won or lost deals without a close date, naming the
    first :data:`SHOWN_UNDATED_DEALS` by deal id and, if known, line."""
    positions = np.flatnonzero(undated)
    shown = []
    for position in positions[:SHOWN_UNDATED_DEALS]:
        deal_id = columns["deal_id"].iloc[position]
        if lines is None or not len(lines):
            shown.append(repr(deal_id))
        else:
            line = int(lines[position])
            shown.append(
                text("ingest.undated_close_line", locale, deal_id=deal_id, line=line)
            )
    more = len(positions) - SHOWN_UNDATED_DEALS
    if more > 0:
        shown.append(text("ingest.undated_closes_more", locale, count=more))
    separator = text("ingest.undated_closes_separator", locale)
    return text(
        "ingest.undated_closes",
        locale,
        count=len(positions),
        shown=separator.join(shown),
    )


def _fill_amount_currency(
    columns: pd.DataFrame,
    amounts: pd.Series,
    rejections: Rejections,
    locale: str,
    yen_backslash: bool,
) -> None:
    """Take the currency from the amount's sign or code (``$1,200``) where the
    currency column is empty; reject a row whose two disagree."""
    named = amount_currencies(amounts, yen_backslash=yen_backslash)
    given = columns["currency"]
    conflict = (named.notna() & given.notna() & (named != given)).to_numpy(bool)
    reasons = np.full(len(columns), None, dtype=object)
    reasons[conflict] = [
        text("ingest.currency_conflict", locale, named=named_value, given=given_value)
        for named_value, given_value in zip(
            named[conflict], given[conflict], strict=True
        )
    ]
    rejections.reject(conflict, "amount", amounts, reasons)
    columns["currency"] = given.where(given.notna(), named)


def _text(values: pd.Series) -> pd.Series:
    values = values.astype(object)
    return values.where(values.notna(), None)


def build_map(extra: pd.DataFrame) -> pa.MapArray:
    """Build one map per row from the columns of ``extra``; empty cells are dropped."""
    keys = np.array(extra.columns, dtype=object)
    cells = extra.to_numpy(dtype=object).reshape(len(extra), len(keys))
    present = pd.notna(cells)
    offsets = np.zeros(len(extra) + 1, dtype=np.int32)
    np.cumsum(present.sum(axis=1), out=offsets[1:])
    flat_keys = np.tile(keys, len(extra))[present.ravel()]
    flat_values = cells.ravel()[present.ravel()]
    return pa.MapArray.from_arrays(
        pa.array(offsets, type=pa.int32()),
        pa.array(flat_keys, type=pa.string()),
        pa.array(flat_values, type=pa.string()),
    )


def content_hashes(texts: pd.Series) -> np.ndarray:
    """Return a 64-bit hash of each content text, which numbers identical rows."""
    return pd.util.hash_pandas_object(texts, index=False).to_numpy()


def derive_event_ids(
    columns: pd.DataFrame,
    extra: pd.DataFrame,
    groups: pd.Series | None = None,
    earlier: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pd.Series:
    """Derive an event id from a hash of each event's content.

    The content is the UTC instant, the partner and user as given in the file, the
    action, asset, quantity, source and the non-empty properties. The number of
    identical rows before it in the file is added, so the same file imported again
    gets the same ids. The partner resolved from a user is not part of it, so a
    later change to the users table leaves the ids as they were.
    ``groups`` (aligned with ``columns``) splits the rows into separate files. A
    row's repeat number then counts identical rows of its own group only, so the
    requests stored in one transaction get the ids each would get alone.
    ``earlier`` maps the content hashes of a chunk to the number of identical rows
    in the file's earlier chunks, so a file read in chunks gets the same ids.

    Rows are identical when their 64-bit content hashes are. Two different rows
    with the same hash (about one chance in 100,000 among 50 million rows) only
    number on from each other: their ids stay different, as the content is part
    of the id, and both ways of reading a file give the same ids.
    """
    parts = [pa.array(columns["occurred_at"].astype("int64").astype(str))]
    for name in ("partner_id", "user_id", "action", "asset_id", "source"):
        parts.append(pa.array(columns[name], type=pa.string(), from_pandas=True))
    parts.append(pa.array(columns["quantity"].astype(str)))
    for name in sorted(extra.columns):
        cells = pa.array(extra[name], type=pa.string(), from_pandas=True)
        parts.append(pc.binary_join_element_wise(name, cells, "="))
    content = pc.binary_join_element_wise(
        *parts, _SEPARATOR, null_handling="replace", null_replacement=""
    )
    # Identical rows in one file are separate occurrences (a click log may list the
    # same daily count twice), so the n-th repeat gets its number in the hash. The same
    # file imported again still gives the same ids.
    texts = pd.Series(content.to_pylist(), index=columns.index, dtype=object)
    hashes = content_hashes(texts)
    keys = [hashes] if groups is None else [hashes, groups.to_numpy()]
    repeat = pd.Series(hashes).groupby(keys, sort=False).cumcount()
    repeat.index = columns.index
    if earlier is not None:
        repeat = repeat + earlier(hashes)
    digests = [
        hashlib.sha256(f"{item}{_SEPARATOR}{number}".encode()).hexdigest()[:32]
        for item, number in zip(texts, repeat, strict=True)
    ]
    return pd.Series(digests, index=columns.index, dtype=object)


def to_arrow(table: str, typed: TypedRows, rows: np.ndarray) -> pa.Table:
    """Return the rows selected by the mask ``rows`` as an Arrow table to insert."""
    arrays: dict[str, pa.Array] = {}
    selected = typed.columns[rows]
    for name in selected.columns:
        kind = FIELD_KINDS.get(name, "text")
        if name in LOCAL_COLUMNS.values():
            kind = "time"
        values = selected[name]
        if kind == "count":
            arrays[name] = pa.array(values, from_pandas=True).cast(pa.int64())
        elif kind == "tags":
            arrays[name] = pa.array(values.tolist(), type=ARROW_TYPES["tags"])
        elif kind in ARROW_TYPES:
            arrays[name] = pa.array(values, type=ARROW_TYPES[kind], from_pandas=True)
        else:
            arrays[name] = pa.array(values, type=pa.string(), from_pandas=True)
    if typed.free is not None:
        arrays[FREE_COLUMNS[table]] = typed.free.filter(pa.array(rows))
    return pa.table(arrays)
