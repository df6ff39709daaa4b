"""Import of large CSV, TSV and JSON Lines files in chunks of rows.

A streamed import reads, converts and checks one chunk of rows at a time and writes
the rows to store into Parquet files in a temporary folder beside the database.
When the whole file has been read, one transaction copies the staged rows into the
tables, so an error in any chunk leaves nothing of the file stored. The rows held
in Python are bounded by the chunk size. The counts, problems and derived event ids
are the same as those of :func:`~partnerlift.ingest.import_source` on the whole
file:

- The text encoding is detected once, from the start of the file; a CP932 file is
  checked for lines in UTF-8 chunk by chunk.
- Line numbers run on across chunks, and a quoted field may span two chunks.
- The last rows of one field each are held back until the next chunk, so that a
  report footer at the end of the file is still recognised and skipped.
- The repeat number of identical events, which is part of the derived event id,
  counts the identical rows of earlier chunks (kept as sorted 64-bit hashes).
- A key repeated from an earlier chunk is compared with the row staged by that
  chunk, as in the whole file: a duplicate when the values are the same, and
  rejected with the line of the staged row otherwise.

What still grows with the file is 16 bytes for each distinct event without an id,
and DuckDB's memory for the final copy (docs/benchmarks.md).
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from partnerlift.errors import InputError, NotFoundError, SchemaError
from partnerlift.ingest.importer import (
    ImportResult,
    _check_table,
    _problems,
    _provided_columns,
    _rejected_table,
    _resolve_partners,
    _store_batch,
    log_outdated,
    prepare_rows,
)
from partnerlift.ingest.mapping import Mapping
from partnerlift.ingest.messages import text
from partnerlift.ingest.readers import (
    _TOTALS_ROW,
    MalformedRow,
    SourceRows,
    _cell_text,
    _check_single_encoding,
    _check_unique,
    _footer_start,
    _is_blank,
    _sniff_delimiter,
    csv_source_rows,
    detect_encoding,
    has_lone_surrogate,
)
from partnerlift.ingest.snapshots import (
    KEYS,
    UPDATABLE,
    _key_condition,
    apply_updates,
    find_repeats,
    find_stored,
    record_deal_history,
    record_partner_history,
    reject_repeats,
    repeat_rows,
)
from partnerlift.ingest.tables import (
    derive_event_ids,
    to_arrow,
)
from partnerlift.settings import Workspace
from partnerlift.settings.messages import register
from partnerlift.store import Database

logger = logging.getLogger(__name__)

register(
    {
        "ingest.invalid_chunk_rows": {
            "en": "Invalid chunk size {value!r}. Use 1 or more rows.",
            "ja": "チャンクの行数 {value!r} は無効です。1 以上を指定してください。",
        },
        "ingest.late_bytes_other_encoding": {
            "en": "{path}: the bytes near position {position} are not valid "
            "{encoding}, the encoding found earlier in the file. Name the file's "
            "encoding with --encoding (such as cp932 or utf-8), or save the whole "
            "file in one encoding and import it again.",
            "ja": "{path}: 位置 {position} 付近のバイトが、ファイルの前の部分から"
            "判定した文字コード {encoding} として正しくありません。--encoding で"
            "ファイルの文字コード (cp932 や utf-8 など) を指定するか、ファイル全体を"
            "一つの文字コードで保存し、もう一度インポートしてください。",
        },
    }
)

# Files of a streamable format larger than this are read in chunks.
STREAM_THRESHOLD = 32 * 1024 * 1024
DEFAULT_CHUNK_ROWS = 200_000
# The problems kept in the result of a streamed import. The table rejected_rows
# has them all.
KEPT_PROBLEMS = 1_000

# The bytes read at a time, and the bytes from the start of the file that decide
# its encoding.
_BLOCK_BYTES = 4 * 1024 * 1024
_SAMPLE_BYTES = 1024 * 1024

_DELIMITED = {".csv", ".tsv", ".txt", ""}
_JSON_LINES = {".jsonl", ".ndjson"}

Progress = Callable[[int, int], None]


def is_streamable(path: str | Path) -> bool:
    """Return whether the file is delimited text or JSON Lines.

    A ``.json`` file counts when its first non-blank character is not ``[``.
    Excel, Parquet and JSON arrays are always read whole.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _DELIMITED or suffix in _JSON_LINES:
        return True
    if suffix == ".json":
        with path.open("rb") as handle:
            start = handle.read(4096).lstrip(b" \t\r\n\xef\xbb\xbf")
        return not start.startswith(b"[")
    return suffix not in {".xlsx", ".xlsm", ".xls", ".parquet"}


def should_stream(path: str | Path, chunk_rows: int | None) -> bool:
    """Return whether :func:`~partnerlift.ingest.import_file` reads ``path`` in
    chunks: a streamable file, with ``chunk_rows`` given or larger than
    :data:`STREAM_THRESHOLD`."""
    path = Path(path)
    if not path.is_file() or not is_streamable(path):
        return False
    return chunk_rows is not None or path.stat().st_size > STREAM_THRESHOLD


def import_streamed(
    db: Database,
    workspace: Workspace,
    table: str,
    path: str | Path,
    *,
    rules: Mapping | None = None,
    observed_at: datetime | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
    encoding: str | None = None,
) -> ImportResult:
    """Import a CSV, TSV or JSON Lines file chunk by chunk, as one batch.

    Each chunk is converted and checked against the stored rows and the chunks
    before it, then written to a Parquet file in a temporary folder beside the
    database. When the whole file has been read, one transaction moves the staged
    rows into the tables. An error in any chunk therefore leaves nothing stored.

    Parameters
    ----------
    db, workspace, table, rules, observed_at
        As for :func:`~partnerlift.ingest.import_source`.
    path
        The data file.
    chunk_rows
        The number of data rows to read, convert and check at a time.
    progress
        Called as ``progress(bytes_read, file_size)`` after each chunk.
    encoding
        The file's text encoding, detected when not given.

    Returns
    -------
    ImportResult
        The counts, equal to those of the whole-file import. Its ``problems`` contains
        the first :data:`KEPT_PROBLEMS` problems; the table ``rejected_rows`` has
        them all. Its ``outcomes`` is empty, as a map of every line would grow
        with the file.

    Raises
    ------
    InputError
        If ``table`` is unknown, ``chunk_rows`` is below 1, or a chunk cannot be
        decoded in the encoding detected at the start of the file.
    NotFoundError
        If the file does not exist.
    SchemaError
        If the header is missing or repeats a name, or a required column is missing.
    """
    _check_table(table)
    if chunk_rows < 1:
        raise InputError(
            text("ingest.invalid_chunk_rows", workspace.locale, value=chunk_rows)
        )
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(
            text("ingest.file_not_found", workspace.locale, path=str(path))
        )
    started = datetime.now(UTC).replace(tzinfo=None)
    batch_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    result = ImportResult(batch_id, table, str(path), "", 0, 0, 0, 0, 0)
    chunks = iter_chunks(path, workspace.locale, chunk_rows, progress, encoding)
    # DuckDB draws a progress bar on the terminal for long statements, which would
    # mix with the command's output.
    db.raw.execute("SET enable_progress_bar = false")
    prefix = stage_prefix(db)
    remove_stale_stages(db)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=db.path.parent) as folder:
        stage = _Stage(db, table, batch_id, Path(folder))
        with collection_paused():
            for source in chunks:
                result.encoding = source.encoding
                stage.add_chunk(workspace, source, rules or Mapping(), result)
                gc.collect()
        db.raw.execute("BEGIN TRANSACTION")
        try:
            stage.store(result, observed_at or started)
            _store_batch(db, result, started, observed_at or started)
            db.raw.execute("COMMIT")
        except BaseException:
            db.raw.execute("ROLLBACK")
            raise
    logger.info(
        "Imported %s into %s in chunks of %d rows: %d read, %d inserted, "
        "%d updated, %d duplicates, %d rejected, %d filtered",
        path,
        table,
        chunk_rows,
        result.read,
        result.inserted,
        result.updated,
        result.duplicates,
        result.rejected,
        result.filtered,
    )
    return result


def stage_prefix(db: Database) -> str:
    """Return the name start of the staging folders of ``db``'s imports."""
    return f".{db.path.stem}.import-"


def remove_stale_stages(db: Database) -> None:
    """Remove the staging folders that an import killed before its end left.

    The open database is this process's alone, so no other import of it is
    running.
    """
    for stale in db.path.parent.glob(f"{stage_prefix(db)}*"):
        if stale.is_dir():
            logger.info("Removing %s, left by an import that did not finish", stale)
            shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's automatic garbage collection while rows are read, and
    collect once at the end; the streamed import also collects after each chunk.

    A file or chunk is hundreds of thousands of row lists, and the automatic
    collections that so many new objects set off took about twice as long as the
    reading itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect()


class _Stage:
    """The chunks of one file, converted and checked, in Parquet files until the
    transaction that stores them.

    The repeat counts of identical events are kept in memory, 16 bytes for each
    distinct event. A row whose key a row of an earlier chunk has is found in the
    staged files, which keep each row's source line in the column ``_line``.
    """

    def __init__(self, db: Database, table: str, batch_id: str, folder: Path) -> None:
        self.db = db
        self.table = table
        self.batch_id = batch_id
        self.folder = folder
        self.keys = KEYS[table]
        self.row_files: list[Path] = []
        self.candidate_files: list[Path] = []
        self.rejected_files: list[Path] = []
        self.row_columns: dict[str, None] = {}
        self.provided: dict[str, None] = {}
        self.valid = 0
        self.offset = 0
        # The content hashes of the events of earlier chunks, sorted, and how
        # often each came: 16 bytes for each distinct event.
        self.seen_hashes = np.empty(0, dtype=np.uint64)
        self.seen_counts = np.empty(0, dtype=np.int64)

    def _write(self, files: list[Path], kind: str, rows: pa.Table) -> None:
        path = self.folder / f"{kind}-{len(files):06d}.parquet"
        pq.write_table(rows, path, compression="zstd")
        files.append(path)

    @staticmethod
    def _scan(files: list[Path]) -> str:
        names = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
        return f"read_parquet([{names}], union_by_name = true)"

    def earlier_repeats(self, hashes: np.ndarray) -> np.ndarray:
        """Return, for each content hash, the identical rows of earlier chunks, and
        add this chunk's rows to the counts."""
        seen, counts = self.seen_hashes, self.seen_counts
        earlier = np.zeros(len(hashes), dtype=np.int64)
        if len(seen):
            place = np.minimum(np.searchsorted(seen, hashes), len(seen) - 1)
            found = seen[place] == hashes
            earlier[found] = counts[place[found]]
        distinct, numbers = np.unique(hashes, return_counts=True)
        place = np.searchsorted(seen, distinct)
        known = np.zeros(len(distinct), dtype=bool)
        if len(seen):
            inside = np.minimum(place, len(seen) - 1)
            known = seen[inside] == distinct
            counts[inside[known]] += numbers[known]
        self.seen_hashes = np.insert(seen, place[~known], distinct[~known])
        self.seen_counts = np.insert(counts, place[~known], numbers[~known])
        return earlier

    def _key_lookup(self, columns: pd.DataFrame, checked: np.ndarray) -> pa.Table:
        rows = np.flatnonzero(checked)
        lookup: dict[str, pa.Array] = {"row_number": pa.array(rows, pa.int64())}
        for key in self.keys:
            if key == "valid_from":
                lookup[key] = pa.array(
                    columns[key].iloc[rows], pa.timestamp("us"), from_pandas=True
                )
            else:
                lookup[key] = pa.array(columns[key].iloc[rows].tolist(), pa.string())
        return pa.table(lookup)

    def repeated_earlier(
        self, columns: pd.DataFrame, checked: np.ndarray
    ) -> np.ndarray:
        """Mark the ``checked`` rows whose key a valid row of an earlier chunk has."""
        repeated = np.zeros(len(checked), dtype=bool)
        files = self.row_files + self.candidate_files
        if not files or not checked.any():
            return repeated
        raw = self.db.raw
        raw.register("_chunk_keys", self._key_lookup(columns, checked))
        try:
            condition = _key_condition(self.keys, "k", "s")
            key_columns = ", ".join(self.keys)
            found = raw.execute(
                "SELECT k.row_number FROM _chunk_keys k WHERE EXISTS (SELECT 1 FROM "
                f"(SELECT {key_columns} FROM {self._scan(files)}) s "
                f"WHERE {condition})"
            ).fetchall()
        finally:
            raw.unregister("_chunk_keys")
        repeated[[row for (row,) in found]] = True
        return repeated

    def earlier_rows(self, columns: pd.DataFrame, checked: np.ndarray) -> pa.Table:
        """Return the staged rows of earlier chunks with the keys of the
        ``checked`` rows."""
        raw = self.db.raw
        raw.register("_chunk_keys", self._key_lookup(columns, checked))
        try:
            condition = _key_condition(self.keys, "k", "s")
            scan = self._scan(self.row_files + self.candidate_files)
            return raw.sql(
                f"SELECT s.* FROM {scan} s WHERE EXISTS "
                f"(SELECT 1 FROM _chunk_keys k WHERE {condition})"
            ).to_arrow_table()
        finally:
            raw.unregister("_chunk_keys")

    def add_chunk(
        self,
        workspace: Workspace,
        source: SourceRows,
        rules: Mapping,
        result: ImportResult,
    ) -> None:
        """Convert and check one chunk, stage its rows and add its counts and
        problems to ``result``, as :func:`~partnerlift.ingest.import_source` does
        for a file."""
        table = self.table
        locale = workspace.locale
        prepared = prepare_rows(table, source, rules, workspace)
        mapped, raw, lines = prepared.mapped, prepared.raw, prepared.lines
        extra, rejections, typed = prepared.extra, prepared.rejections, prepared.typed
        given = np.ones(len(typed.columns), dtype=bool)
        if table == "events" and len(typed.columns):
            missing_ids = typed.columns["event_id"].isna()
            # A derived id counts the identical rows of earlier chunks, so it is
            # never the id of an earlier chunk's row.
            given = ~missing_ids.to_numpy()
            derived = derive_event_ids(
                typed.columns, extra, earlier=self.earlier_repeats
            )
            typed.columns["event_id"] = typed.columns["event_id"].where(
                ~missing_ids, derived
            )
        self.provided.update(dict.fromkeys(_provided_columns(table, mapped, extra)))
        if table == "events":
            _resolve_partners(self.db, typed, rejections, locale)
        valid = ~rejections.mask
        columns = typed.columns
        repeated, stored = find_stored(self.db, table, columns, valid)
        # Derived event ids count the rows of earlier chunks, so only given ids
        # are looked up there.
        earlier = self.repeated_earlier(columns, valid & given)
        involved = valid & columns[self.keys].duplicated(keep=False).to_numpy()
        involved |= earlier
        if involved.any():
            repeats = find_repeats(
                self.db,
                table,
                repeat_rows(table, typed, involved, lines, self.offset),
                list(self.provided),
                self.earlier_rows(columns, earlier) if earlier.any() else None,
            )
            reject_repeats(table, columns, repeats, rejections, locale, self.offset)
            valid = ~rejections.mask
        repeated = (repeated | earlier) & valid
        stored &= valid & ~repeated
        new = valid & ~repeated & ~stored
        if new.any():
            rows = to_arrow(table, typed, new)
            rows = rows.append_column(
                "batch_id", pa.repeat(self.batch_id, rows.num_rows)
            )
            self.row_columns.update(dict.fromkeys(rows.column_names))
            rows = rows.append_column("_line", pa.array(lines[new], pa.int64()))
            self._write(self.row_files, "rows", rows)
        if table in UPDATABLE and stored.any():
            candidates = to_arrow(table, typed, stored)
            candidates = candidates.append_column(
                "row_number",
                pa.array(self.offset + np.flatnonzero(stored), pa.int64()),
            )
            candidates = candidates.append_column(
                "_line", pa.array(lines[stored], pa.int64())
            )
            self._write(self.candidate_files, "candidates", candidates)
        problems = _problems(source, raw, lines, rejections)
        if problems:
            self._write(
                self.rejected_files,
                "rejected",
                _rejected_table(self.batch_id, problems),
            )
        self.valid += int(valid.sum())
        self.offset += len(valid)
        result.read += source.read
        result.inserted += int(new.sum())
        result.rejected += len(problems)
        result.filtered += int(len(source.frame) - len(raw))
        result.footer += source.footer
        room = KEPT_PROBLEMS - len(result.problems)
        result.problems.extend(problem for problem, _ in problems[: max(room, 0)])

    def store(self, result: ImportResult, observed_at: datetime) -> None:
        """Move the staged rows into the tables and count the updated rows. Call it
        inside the batch's transaction."""
        db, table, batch_id = self.db, self.table, self.batch_id
        raw = db.raw
        key = self.keys[0]
        new_ids: list[str] = []
        if self.row_files:
            names = ", ".join(f'"{name}"' for name in self.row_columns)
            scan = self._scan(self.row_files)
            raw.execute(f'INSERT INTO "{table}" ({names}) SELECT {names} FROM {scan}')
            if table in ("partners", "deals"):
                new_ids = [
                    value
                    for (value,) in raw.execute(f"SELECT {key} FROM {scan}").fetchall()
                ]
        changed_ids: list[str] = []
        if self.candidate_files:
            candidates = pa.concat_tables(
                [pq.read_table(path) for path in self.candidate_files],
                promote_options="default",
            )
            updates = apply_updates(
                db, table, candidates, list(self.provided), batch_id, observed_at
            )
            result.updated = len(updates.changed)
            result.outdated = len(updates.outdated)
            # apply_updates writes the history of the outdated rows itself.
            current = np.setdiff1d(updates.changed, updates.outdated)
            if table in ("partners", "deals") and len(current):
                numbers = candidates.column("row_number").to_numpy()
                picked = np.isin(numbers, current)
                changed_ids = (
                    candidates.column(key)
                    .to_numpy(zero_copy_only=False)[picked]
                    .tolist()
                )
        result.duplicates = self.valid - result.inserted - result.updated
        history = {"partners": record_partner_history, "deals": record_deal_history}
        if table in history:
            history[table](db, new_ids, "inserted", observed_at, batch_id)
            history[table](db, changed_ids, "updated", observed_at, batch_id)
        if self.rejected_files:
            raw.execute(
                "INSERT INTO rejected_rows (batch_id, file, line, field, value, "
                "reason, raw) SELECT batch_id, file, line, field, value, reason, raw "
                f"FROM {self._scan(self.rejected_files)}"
            )
        log_outdated(result)


def iter_chunks(
    path: Path,
    locale: str = "en",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
    encoding: str | None = None,
) -> Iterator[SourceRows]:
    """Yield the rows of a CSV, TSV or JSON Lines file as :class:`SourceRows` of
    about ``chunk_rows`` rows each, with the file's line numbers.

    At least one chunk is yielded, empty for a file without data rows. Without
    ``encoding``, the encoding is detected.
    """
    suffix = path.suffix.lower()
    if suffix in _JSON_LINES or suffix == ".json":
        yield from _jsonl_chunks(path, locale, chunk_rows, progress, encoding)
    else:
        delimiter = "\t" if suffix == ".tsv" else None
        yield from _csv_chunks(path, locale, chunk_rows, progress, delimiter, encoding)


class _TextStream:
    """Decode a file block by block in one encoding, detected from its start, or
    from the first part that is not plain ASCII."""

    def __init__(
        self,
        path: Path,
        progress: Progress | None,
        locale: str = "en",
        encoding: str | None = None,
    ) -> None:
        self.path = path
        self.locale = locale
        self.size = path.stat().st_size
        self.progress = progress
        self.handle: BinaryIO = path.open("rb")
        sample = self.handle.read(_SAMPLE_BYTES)
        self.handle.seek(0)
        if len(sample) == _SAMPLE_BYTES and b"\n" in sample:
            # Cut at a line break so that no character is cut in half.
            sample = sample[: sample.rindex(b"\n") + 1]
        self.encoding = encoding or detect_encoding(sample, path=path, locale=locale)
        self.given = encoding is not None
        logger.info("Reading %s as %s in chunks", path, self.encoding)
        self.decoder = codecs.getincrementaldecoder(self.encoding)()
        self.bytes_read = 0
        self.first_line = 1
        self.partial = b""
        self.started = False

    def blocks(self) -> Iterator[str]:
        """Yield the decoded text block by block; the byte order mark is dropped."""
        try:
            while True:
                data = self.handle.read(_BLOCK_BYTES)
                final = not data
                self.bytes_read += len(data)
                if self.encoding == "ascii" and not data.isascii():
                    self._decide(data)
                if self.encoding == "cp932" and not self.given:
                    self._check_lines(data, final)
                elif self.encoding == "ascii":
                    self.first_line += data.count(b"\n")
                try:
                    piece = self.decoder.decode(data, final=final)
                except UnicodeDecodeError as error:
                    position = self.bytes_read - len(data) + error.start
                    raise InputError(
                        text(
                            "ingest.late_bytes_other_encoding",
                            self.locale,
                            path=self.path,
                            position=position,
                            encoding=self.encoding,
                        )
                    ) from None
                if not self.started and piece:
                    piece = piece.removeprefix("\ufeff")
                    self.started = True
                if piece:
                    yield piece
                if final:
                    return
        finally:
            self.handle.close()

    def _decide(self, data: bytes) -> None:
        """Detect the encoding from the first block that is not plain ASCII.

        A file whose first MiB is ASCII may still be CP932 or UTF-8 further on.
        The blocks before were ASCII, which both read alike.
        """
        ahead = self.handle.tell()
        sample = data + self.handle.read(_SAMPLE_BYTES)
        self.handle.seek(ahead)
        if b"\n" in sample:
            sample = sample[: sample.rindex(b"\n") + 1]
        self.encoding = detect_encoding(sample, path=self.path, locale=self.locale)
        logger.info("Reading the rest of %s as %s", self.path, self.encoding)
        self.decoder = codecs.getincrementaldecoder(self.encoding)()

    def _check_lines(self, data: bytes, final: bool) -> None:
        data = self.partial + data
        cut = len(data) if final else data.rfind(b"\n") + 1
        whole, self.partial = data[:cut], data[cut:]
        if whole:
            _check_single_encoding(whole, self.path, self.first_line, self.locale)
            self.first_line += whole.count(b"\n")

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.bytes_read, self.size)


def _csv_lines(blocks: Iterator[str]) -> Iterator[str]:
    """Yield lines as ``io.StringIO(text, newline="")`` splits the whole text."""
    pending = ""
    for block in blocks:
        pending += block
        lines = io.StringIO(pending, newline="").readlines()
        # The last line may go on in the next block, and a final "\r" may be the
        # first half of "\r\n".
        pending = lines.pop() if lines else ""
        yield from lines
    if pending:
        yield from io.StringIO(pending, newline="").readlines()


def _csv_chunks(
    path: Path,
    locale: str,
    chunk_rows: int,
    progress: Progress | None,
    delimiter: str | None,
    encoding: str | None = None,
) -> Iterator[SourceRows]:
    stream = _TextStream(path, progress, locale, encoding)
    blocks = stream.blocks()
    try:
        head = ""
        for block in blocks:
            head += block
            if "\n" in head or "\r" in head:
                break
        if delimiter is None:
            delimiter = _sniff_delimiter(head)

        def text_blocks() -> Iterator[str]:
            if head:
                yield head
            yield from blocks

        reader = csv.reader(_csv_lines(text_blocks()), delimiter=delimiter)
        header = next(reader, None)
        if not header or not any(name.strip() for name in header):
            raise SchemaError(text("ingest.no_header", locale, path=path))
        columns = [name.strip() for name in header]
        _check_unique(path, columns, locale)
        width = len(columns)
        records: list[tuple[int, list[str]]] = []
        previous_end = reader.line_num
        emitted = False
        for record in reader:
            records.append((previous_end + 1, record))
            previous_end = reader.line_num
            if len(records) < chunk_rows:
                continue
            # Rows of one field at the end may begin a footer: keep them for later.
            cut = len(records)
            if width >= 2:
                while cut > 0 and len(records[cut - 1][1]) <= 1:
                    cut -= 1
                if cut > 0 and _TOTALS_ROW.match(records[cut - 1][1][0]):
                    cut -= 1
            if cut == 0:
                continue
            yield csv_source_rows(
                path, stream.encoding, columns, records[:cut], 0, locale
            )
            emitted = True
            stream.report()
            records = records[cut:]
        footer_start = _footer_start(records, width)
        footer = sum(1 for _, record in records[footer_start:] if not _is_blank(record))
        if footer:
            logger.info("Skipped %d footer lines at the end of %s", footer, path)
        if records[:footer_start] or not emitted:
            chunk = csv_source_rows(
                path, stream.encoding, columns, records[:footer_start], footer, locale
            )
        else:
            chunk = csv_source_rows(path, stream.encoding, columns, [], footer, locale)
        stream.report()
        yield chunk
    finally:
        # Closes the file also when the header is rejected.
        blocks.close()


def _jsonl_lines(blocks: Iterator[str]) -> Iterator[str]:
    """Yield lines as ``str.splitlines`` splits the whole text."""
    pending = ""
    for block in blocks:
        pending += block
        lines = pending.splitlines(keepends=True)
        pending = lines.pop() if lines else ""
        yield from lines
    if pending:
        yield from pending.splitlines(keepends=True)


def _jsonl_columns(
    path: Path, locale: str = "en", encoding: str | None = None
) -> tuple[list[str], str]:
    """Return the keys of all objects in the file in order of first appearance,
    which a first pass finds, so every chunk has the columns of the whole file."""
    stream = _TextStream(path, None, locale, encoding)
    columns: dict[str, None] = {}
    for line in _jsonl_lines(stream.blocks()):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            columns.update(dict.fromkeys(str(key).strip() for key in record))
    return list(columns), stream.encoding


def _jsonl_chunks(
    path: Path,
    locale: str,
    chunk_rows: int,
    progress: Progress | None,
    encoding: str | None = None,
) -> Iterator[SourceRows]:
    columns, _ = _jsonl_columns(path, locale, encoding)
    stream = _TextStream(path, progress, locale, encoding)
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    malformed: list[MalformedRow] = []

    def chunk() -> SourceRows:
        frame = pd.DataFrame.from_records(records, columns=columns)
        frame = frame.astype(object).where(frame.notna(), None)
        return SourceRows(
            path, stream.encoding, columns, frame, np.array(lines), malformed, 0, locale
        )

    for number, raw_line in enumerate(_jsonl_lines(stream.blocks()), start=1):
        line = raw_line.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            reason = text("ingest.bad_json", locale, error=error.msg)
            malformed.append(MalformedRow(number, reason, line))
        else:
            if "\\u" in line and has_lone_surrogate(record):
                reason = text("ingest.lone_surrogate", locale)
                malformed.append(MalformedRow(number, reason, line))
            elif isinstance(record, dict):
                records.append(
                    {
                        str(key).strip(): _cell_text(value)
                        for key, value in record.items()
                    }
                )
                lines.append(number)
            else:
                reason = text("ingest.not_object", locale)
                malformed.append(MalformedRow(number, reason, line))
        if len(records) + len(malformed) >= chunk_rows:
            yield chunk()
            stream.report()
            records, lines, malformed = [], [], []
    yield chunk()
    stream.report()


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "STREAM_THRESHOLD",
    "import_streamed",
    "is_streamable",
    "iter_chunks",
    "should_stream",
]
