"""Readers that turn a CSV, JSON Lines or Parquet file into rows of text.

Every reader returns the same :class:`SourceRows`: a DataFrame whose cells are strings
or None (an empty cell is None), the file's line of each row for error messages, and
the rows that could not be split into fields at all.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import charset_normalizer
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from partnerlift.errors import InputError, NotFoundError, Problem, SchemaError
from partnerlift.ingest.messages import text

logger = logging.getLogger(__name__)

# The encodings tried in order before asking charset-normalizer. utf-8-sig also
# reads UTF-8 without a byte order mark; cp932 is Shift_JIS as Excel writes it.
_STRICT_ENCODINGS = ("utf-8-sig", "cp932")


@dataclass
class MalformedRow:
    """A row that could not be split into fields, with its raw text."""

    line: int
    reason: str
    raw: str


@dataclass
class SourceRows:
    """The rows of one input file as text.

    Attributes
    ----------
    frame
        One column per source column, cells str or None, index 0..n-1.
    lines
        The file's line number of each row of ``frame``. In a CSV file the header
        is line 1. A JSON Lines row has its own line, and a Parquet row its number.
    malformed
        Rows that could not be read into fields; they count as read and rejected.
    """

    path: Path
    encoding: str
    columns: list[str]
    frame: pd.DataFrame
    lines: np.ndarray
    malformed: list[MalformedRow] = field(default_factory=list)

    @property
    def read(self) -> int:
        """The number of data rows in the file."""
        return len(self.frame) + len(self.malformed)


def detect_encoding(data: bytes) -> str:
    """Return the text encoding of ``data``.

    Strict UTF-8 (with or without a byte order mark) comes first, then CP932, then
    the guess of charset-normalizer. ``utf-8-sig`` is returned only when the data
    starts with a byte order mark.

    Raises
    ------
    InputError
        If no encoding decodes the data.
    """
    for encoding in _STRICT_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            return "utf-8"
        return encoding
    guess = charset_normalizer.from_bytes(data).best()
    if guess is None:
        raise InputError(
            "Could not detect the text encoding. Save the file as UTF-8 and import "
            "it again."
        )
    return str(guess.encoding)


def read_source(path: str | Path, *, locale: str = "en") -> SourceRows:
    """Read a data file by its suffix: ``.jsonl``/``.ndjson``/``.json``,
    ``.parquet``, ``.tsv``, anything else as CSV.

    Raises
    ------
    NotFoundError
        If the file does not exist.
    SchemaError
        If the file has no header or repeats a column name.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"File not found: {str(path)!r}. Check the path.")
    suffix = path.suffix.lower()
    readers: dict[str, Callable[[Path, str], SourceRows]] = {
        ".jsonl": read_jsonl,
        ".ndjson": read_jsonl,
        ".json": read_jsonl,
        ".parquet": read_parquet,
        ".tsv": read_tsv,
    }
    return readers.get(suffix, read_csv)(path, locale)


def _decode(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    encoding = detect_encoding(data)
    logger.info("Reading %s as %s", path, encoding)
    return data.decode(encoding), encoding


def read_csv(path: Path, locale: str = "en", *, delimiter: str = ",") -> SourceRows:
    """Read a CSV file; line numbers count line breaks inside quoted fields."""
    content, encoding = _decode(path)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(name.strip() for name in header):
        raise SchemaError(f"{path}: the file has no header row. Add the column names.")
    columns = [name.strip() for name in header]
    _check_unique(path, columns)
    rows: list[list[str]] = []
    lines: list[int] = []
    malformed: list[MalformedRow] = []
    width = len(columns)
    previous_end = reader.line_num
    for record in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if not record or (len(record) == 1 and not record[0].strip() and width > 1):
            continue
        if len(record) != width:
            reason = text(
                "ingest.field_count", locale, found=len(record), expected=width
            )
            malformed.append(MalformedRow(start, reason, json.dumps(record)))
            continue
        rows.append(record)
        lines.append(start)
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame = frame.replace("", None) if len(frame) else frame
    return SourceRows(path, encoding, columns, frame, np.array(lines), malformed)


def read_tsv(path: Path, locale: str = "en") -> SourceRows:
    """Read a tab-separated file, as :func:`read_csv` does."""
    return read_csv(path, locale, delimiter="\t")


def _cell_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_jsonl(path: Path, locale: str = "en") -> SourceRows:
    """Read JSON Lines: one object a line; a line that is not an object is rejected."""
    content, encoding = _decode(path)
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    malformed: list[MalformedRow] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            reason = text("ingest.bad_json", locale, error=error.msg)
            malformed.append(MalformedRow(number, reason, line))
            continue
        if not isinstance(record, dict):
            malformed.append(
                MalformedRow(number, text("ingest.not_object", locale), line)
            )
            continue
        cells = {str(key).strip(): _cell_text(value) for key, value in record.items()}
        columns.update(dict.fromkeys(cells))
        records.append(cells)
        lines.append(number)
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    frame = frame.astype(object).where(frame.notna(), None)
    return SourceRows(path, encoding, list(columns), frame, np.array(lines), malformed)


def read_parquet(path: Path, locale: str = "en") -> SourceRows:
    """Read a Parquet file; timestamps become ISO 8601 text, lines are row numbers."""
    table = pq.read_table(path)
    _check_unique(path, table.column_names)
    frame = pd.DataFrame(
        {
            name: [_cell_text(value) for value in _iso_values(table.column(name))]
            for name in table.column_names
        },
        dtype=object,
    )
    lines = np.arange(1, table.num_rows + 1)
    return SourceRows(path, "binary", list(table.column_names), frame, lines)


def _iso_values(column: pa.ChunkedArray) -> list[Any]:
    values = column.to_pylist()
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return [None if value is None else value.isoformat() for value in values]
    return values


def _check_unique(path: Path, columns: list[str]) -> None:
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            problem = Problem(str(path), 1, name, name, "The column name is repeated.")
            raise SchemaError(
                f"{path}: the column {name!r} appears twice in the header. "
                "Rename one of them.",
                [problem],
            )
        seen.add(name)
