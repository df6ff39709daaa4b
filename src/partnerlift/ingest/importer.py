"""Import of one file into a canonical table, as one batch that reconciles.

Every data row of the file ends up in exactly one count: inserted, updated (its key
is stored already with other values, see :mod:`partnerlift.ingest.snapshots`),
duplicate (its key is stored already with the same values, or repeated earlier in
the file), rejected (with a problem stored in ``rejected_rows``) or filtered (dropped
by the mapping's ``filter``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from partnerlift.errors import InputError, Problem, SchemaError
from partnerlift.ingest.convert import Rejections
from partnerlift.ingest.mapping import MappedRows, Mapping, apply_mapping, load_mapping
from partnerlift.ingest.messages import text
from partnerlift.ingest.readers import (
    YEN_BACKSLASH_ENCODINGS,
    SourceRows,
    check_encoding,
    read_source,
)
from partnerlift.ingest.snapshots import (
    KEYS,
    UPDATABLE,
    apply_updates,
    find_repeats,
    find_stored,
    record_deal_history,
    record_partner_history,
    reject_repeats,
    repeat_rows,
)
from partnerlift.ingest.tables import (
    FREE_COLUMNS,
    LOCAL_COLUMNS,
    TypedRows,
    convert_fields,
    derive_event_ids,
    to_arrow,
)
from partnerlift.settings import Workspace
from partnerlift.store import CANONICAL_COLUMNS, REQUIRED_COLUMNS, Database

logger = logging.getLogger(__name__)

IMPORT_TABLES = tuple(CANONICAL_COLUMNS)


@dataclass
class ImportResult:
    """The counts and problems of one imported file.

    ``read == inserted + updated + duplicates + rejected + filtered`` always holds.
    ``outdated`` counts the updated rows of deals and partners that were observed
    before their record's latest history row. Those rows are in the history, and
    the stored row keeps the newer values. ``footer`` counts the report footer lines
    after the data, which are not rows and not part of ``read``. ``voided``
    counts the events that xAPI voiding statements of the batch removed.
    """

    batch_id: str
    table: str
    file: str
    encoding: str
    read: int
    inserted: int
    duplicates: int
    rejected: int
    filtered: int
    updated: int = 0
    outdated: int = 0
    footer: int = 0
    voided: int = 0
    problems: list[Problem] = field(default_factory=list)
    outcomes: dict[int, str] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as a JSON-ready dictionary."""
        return {
            "batch_id": self.batch_id,
            "table": self.table,
            "file": self.file,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "outdated": self.outdated,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "filtered": self.filtered,
            "footer": self.footer,
            "voided": self.voided,
        }


def import_file(
    db: Database,
    workspace: Workspace,
    table: str,
    path: str | Path,
    *,
    mapping: str | Path | None = None,
    observed_at: datetime | None = None,
    chunk_rows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    encoding: str | None = None,
) -> ImportResult:
    """Import a CSV, TSV, JSON, JSON Lines, Parquet or Excel file into a table.

    Parameters
    ----------
    db
        The workspace database.
    workspace
        Gives the time zone of offset-less timestamps and the language of reasons.
    table
        One of partners, users, assets, events, deals.
    path
        The data file.
    mapping
        A mapping file (YAML) or the name of a shipped profile, for files whose
        columns are not canonical.
    observed_at
        When the export was taken, as a naive UTC datetime; deal history records
        the deals as of then. By default, the start of the import.
    chunk_rows
        Read a CSV, TSV or JSON Lines file in chunks of this many rows. Such files
        larger than :data:`~partnerlift.ingest.streaming.STREAM_THRESHOLD` bytes are
        read in chunks of 200,000 rows without it; see
        :func:`~partnerlift.ingest.streaming.import_streamed`.
    progress
        Called as ``progress(bytes_read, file_size)`` after each chunk of a file
        read in chunks.
    encoding
        The text encoding of a CSV, TSV or JSON file, such as ``cp932``, when
        detection gets it wrong. By default it is detected.

    Returns
    -------
    ImportResult
        The batch id, the counts and one problem per rejected row.

    Raises
    ------
    InputError
        If ``table`` is unknown or the file's encoding cannot be detected.
    NotFoundError
        If the file or the profile does not exist.
    SchemaError
        If a required column is missing, or the mapping names a missing column.
    ConfigError
        If the mapping file is invalid.

    Examples
    --------
    >>> result = import_file(db, workspace, "events", "events.csv")  # doctest: +SKIP
    >>> result.read == (
    ...     result.inserted + result.updated + result.duplicates + result.rejected
    ...     + result.filtered
    ... )
    True
    """
    _check_table(table)
    if encoding is not None:
        encoding = check_encoding(encoding, workspace.locale)
    rules = (
        load_mapping(mapping, table, locale=workspace.locale)
        if mapping is not None
        else Mapping()
    )
    from partnerlift.ingest import streaming  # imports this module

    streaming.remove_stale_stages(db)
    if streaming.should_stream(path, chunk_rows):
        result = streaming.import_streamed(
            db,
            workspace,
            table,
            path,
            rules=rules,
            observed_at=observed_at,
            chunk_rows=chunk_rows or streaming.DEFAULT_CHUNK_ROWS,
            progress=progress,
            encoding=encoding,
        )
    else:
        with streaming.collection_paused():
            source = read_source(path, locale=workspace.locale, encoding=encoding)
        result = import_source(
            db, workspace, table, source, rules=rules, observed_at=observed_at
        )
    if table == "users":
        # Pending xAPI statements and Segment events of the new users get partners.
        from partnerlift.ingest.pending import replay_pending  # imports this module

        replay_pending(db, workspace)
    return result


def _check_table(table: str) -> None:
    if table not in IMPORT_TABLES:
        raise InputError(
            f"Unknown table {table!r}. Use one of: {', '.join(IMPORT_TABLES)}."
        )


@dataclass
class PreparedRows:
    """The rows of a source that the mapping's filter keeps, mapped and converted.

    ``kept`` is the filter's mask over the source rows. The other fields cover the
    kept rows only: their mapped fields, raw source rows, line numbers, the columns
    left for properties, the rejections so far and the typed fields.
    """

    kept: np.ndarray
    mapped: MappedRows
    raw: pd.DataFrame
    lines: np.ndarray
    extra: pd.DataFrame
    rejections: Rejections
    typed: TypedRows


def prepare_rows(
    table: str, source: SourceRows, rules: Mapping, workspace: Workspace
) -> PreparedRows:
    """Map and convert the rows of ``source`` that the mapping's filter keeps."""
    mapped = apply_mapping(rules, source, table)
    _check_required_columns(table, source, mapped)
    kept = mapped.kept
    mapped = MappedRows(
        mapped.fields[kept].reset_index(drop=True),
        mapped.specs,
        kept[kept],
        mapped.extra_columns,
        {
            name: mask[kept].reset_index(drop=True)
            for name, mask in mapped.unmapped.items()
        },
    )
    raw = source.frame[kept].reset_index(drop=True)
    lines = source.lines[kept] if len(source.lines) else source.lines
    extra = raw[mapped.extra_columns]
    rejections = Rejections(len(raw))
    typed = convert_fields(
        table,
        mapped,
        extra,
        zone=workspace.zone,
        base_date=rules.spec.base_date,
        rejections=rejections,
        locale=workspace.locale,
        number_format=rules.spec.number_format(),
        yen_backslash=source.encoding in YEN_BACKSLASH_ENCODINGS,
        lines=lines,
    )
    return PreparedRows(kept, mapped, raw, lines, extra, rejections, typed)


def import_source(
    db: Database,
    workspace: Workspace,
    table: str,
    source: SourceRows,
    *,
    rules: Mapping | None = None,
    observed_at: datetime | None = None,
    before_commit: Callable[[Database, ImportResult], None] | None = None,
    keep_unknown_users: bool = False,
    line_groups: np.ndarray | None = None,
    conflicting_repeats: Literal["reject", "duplicate"] = "reject",
) -> ImportResult:
    """Import rows already read into a :class:`SourceRows`, as one batch.

    The whole batch is one transaction: an error anywhere leaves nothing of it
    stored. ``before_commit(db, result)`` runs inside it after the rows are
    stored, for readers that store more. With ``keep_unknown_users``, an event
    whose user is not (yet) in the users table is stored without a partner rather
    than rejected, as tracking libraries send events before the user is linked.
    The result's ``outcomes`` gives each source line's outcome. ``line_groups``
    gives the group of each line (line n is in group ``line_groups[n - 1]``) when
    the source joins several files, such as the requests of one transaction: the
    derived event ids then number identical rows within each group only.
    ``conflicting_repeats`` says what becomes of a row whose key an earlier row of
    the source has with other values: ``"reject"`` it, or count it as a
    ``"duplicate"``, as Segment does with a repeated ``messageId`` whatever the
    content (Segment's guide "Handling Duplicate Data"). See
    :func:`import_file` for the other parameters and the errors.
    """
    _check_table(table)
    started = datetime.now(UTC).replace(tzinfo=None)
    locale = workspace.locale
    rules = rules or Mapping()
    prepared = prepare_rows(table, source, rules, workspace)
    kept, mapped, raw, lines = (
        prepared.kept,
        prepared.mapped,
        prepared.raw,
        prepared.lines,
    )
    extra, rejections, typed = prepared.extra, prepared.rejections, prepared.typed
    if table == "events" and len(typed.columns):
        missing_ids = typed.columns["event_id"].isna()
        groups = None
        if line_groups is not None and len(lines):
            groups = pd.Series(np.asarray(line_groups)[np.asarray(lines) - 1])
        derived = derive_event_ids(typed.columns, extra, groups)
        typed.columns["event_id"] = typed.columns["event_id"].where(
            ~missing_ids, derived
        )
    provided = _provided_columns(table, mapped, extra)

    batch_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    # DuckDB draws a progress bar on the terminal for long statements, which would
    # mix with the command's output.
    db.raw.execute("SET enable_progress_bar = false")
    db.raw.execute("BEGIN TRANSACTION")
    try:
        if table == "events":
            _resolve_partners(db, typed, rejections, locale, keep_unknown_users)
        stored = _store_rows(
            db,
            table,
            typed,
            rejections,
            lines,
            provided,
            batch_id,
            observed_at or started,
            locale,
            line_groups,
            conflicting_repeats,
        )
        new, changed = stored.new, stored.changed
        valid = ~rejections.mask
        problems = _problems(source, raw, lines, rejections)
        _store_rejected(db, batch_id, source, problems)
        result = ImportResult(
            batch_id=batch_id,
            table=table,
            file=str(source.path),
            encoding=source.encoding,
            read=source.read,
            inserted=int(new.sum()),
            updated=int(changed.sum()),
            outdated=stored.outdated,
            duplicates=int(valid.sum() - new.sum() - changed.sum()),
            rejected=len(problems),
            filtered=int(len(source.frame) - len(raw)),
            footer=source.footer,
            problems=[problem for problem, _ in problems],
            outcomes=_outcomes(source, kept, lines, new, changed, valid),
        )
        _store_batch(db, result, started, observed_at or started)
        if before_commit is not None:
            before_commit(db, result)
        db.raw.execute("COMMIT")
    except BaseException:
        db.raw.execute("ROLLBACK")
        raise
    logger.info(
        "Imported %s into %s: %d read, %d inserted, %d updated, %d duplicates, "
        "%d rejected, %d filtered",
        source.path,
        table,
        result.read,
        result.inserted,
        result.updated,
        result.duplicates,
        result.rejected,
        result.filtered,
    )
    log_outdated(result)
    return result


def log_outdated(result: ImportResult) -> None:
    """Log how many updated rows were older than the stored records."""
    if result.outdated:
        logger.info(
            "%d of the %d updated rows of %s were observed before the latest "
            "history of their %s; they were added to the history and the stored "
            "rows kept their newer values",
            result.outdated,
            result.updated,
            result.file,
            result.table,
        )


def _outcomes(
    source: SourceRows,
    kept: np.ndarray,
    lines: np.ndarray,
    new: np.ndarray,
    changed: np.ndarray,
    valid: np.ndarray,
) -> dict[int, str]:
    """Return the outcome of each source line: inserted, updated, duplicate,
    rejected or filtered."""
    outcomes = {int(line): "filtered" for line in source.lines[~kept]}
    labels = np.where(
        new,
        "inserted",
        np.where(changed, "updated", np.where(valid, "duplicate", "rejected")),
    )
    outcomes.update(zip(lines.tolist(), labels.tolist(), strict=True))
    outcomes.update((row.line, "rejected") for row in source.malformed)
    return outcomes


def _provided_columns(table: str, mapped: MappedRows, extra: pd.DataFrame) -> list[str]:
    """Return the stored columns that the file gives values for."""
    provided = [name for name in CANONICAL_COLUMNS[table] if name in mapped.specs]
    provided += [LOCAL_COLUMNS[name] for name in provided if name in LOCAL_COLUMNS]
    if table in FREE_COLUMNS and len(extra.columns):
        provided.append(FREE_COLUMNS[table])
    return provided


@dataclass
class StoredRows:
    """The masks of the inserted and updated rows, and the outdated count."""

    new: np.ndarray
    changed: np.ndarray
    outdated: int


def _store_rows(
    db: Database,
    table: str,
    typed: TypedRows,
    rejections: Rejections,
    lines: np.ndarray,
    provided: list[str],
    batch_id: str,
    observed_at: datetime,
    locale: str,
    line_groups: np.ndarray | None = None,
    conflicting_repeats: Literal["reject", "duplicate"] = "reject",
) -> StoredRows:
    """Insert new rows and update changed stored rows.

    A row whose key an earlier row of the file has is a duplicate when its values
    are the same, and is added to ``rejections`` otherwise (a duplicate too with
    ``conflicting_repeats="duplicate"``). With ``line_groups``
    (see :func:`import_source`), only an earlier row of the same group rejects a
    row: a row of another group is as if stored already.
    """
    valid = ~rejections.mask
    repeated, stored = find_stored(db, table, typed.columns, valid)
    if repeated.any() and conflicting_repeats == "reject":
        involved = valid & typed.columns[KEYS[table]].duplicated(keep=False).to_numpy()
        repeats = find_repeats(
            db, table, repeat_rows(table, typed, involved, lines), provided
        )
        first_indexes = None
        if line_groups is not None:
            groups = np.asarray(line_groups)
            row_lines = np.asarray(lines)[repeats.rows]
            repeats = repeats.select(
                groups[row_lines - 1] == groups[repeats.first_lines - 1]
            )
            # The groups are requests, so a reason names the first row's index
            # in its request rather than its line in the joined source.
            group_starts = pd.Series(np.arange(len(groups))).groupby(groups).min()
            first_indexes = (repeats.first_lines - 1) - group_starts.reindex(
                groups[repeats.first_lines - 1]
            ).to_numpy()
        reject_repeats(
            table,
            typed.columns,
            repeats,
            rejections,
            locale,
            first_indexes=first_indexes,
        )
        valid = ~rejections.mask
    new = valid & ~repeated & ~stored
    changed = np.zeros(len(valid), dtype=bool)
    # The updated rows whose history record_*_history copies from the stored rows.
    current = np.zeros(len(valid), dtype=bool)
    if table in UPDATABLE and stored.any():
        candidates = to_arrow(table, typed, stored)
        candidates = candidates.append_column(
            "row_number", pa.array(np.flatnonzero(stored), pa.int64())
        )
        updates = apply_updates(db, table, candidates, provided, batch_id, observed_at)
        changed[updates.changed] = True
        current[updates.changed] = True
        current[updates.outdated] = False
    rows = to_arrow(table, typed, new)
    rows = rows.append_column("batch_id", pa.repeat(batch_id, rows.num_rows))
    db.insert_arrow(table, rows)
    if table == "partners":
        partner_ids = typed.columns["partner_id"]
        record_partner_history(
            db, partner_ids[new].tolist(), "inserted", observed_at, batch_id
        )
        record_partner_history(
            db, partner_ids[current].tolist(), "updated", observed_at, batch_id
        )
    if table == "deals":
        deal_ids = typed.columns["deal_id"]
        record_deal_history(
            db, deal_ids[new].tolist(), "inserted", observed_at, batch_id
        )
        record_deal_history(
            db, deal_ids[current].tolist(), "updated", observed_at, batch_id
        )
    return StoredRows(new, changed, int(changed.sum() - current.sum()))


def _check_required_columns(table: str, source: SourceRows, mapped: MappedRows) -> None:
    if not source.columns and source.read == 0:
        # An empty JSON Lines file or JSON array imports nothing, as a CSV file
        # with only its header does.
        return
    present = set(mapped.specs)
    missing = [name for name in REQUIRED_COLUMNS[table] if name not in present]
    if table == "events" and not {"partner_id", "user_id"} & present:
        missing.append("partner_id or user_id")
    if not missing:
        return
    columns = ", ".join(source.columns)
    problems = [
        Problem(str(source.path), 1, name, None, "Missing required column.")
        for name in missing
    ]
    raise SchemaError(
        f"{source.path}: missing required column {missing[0]!r} for {table}. "
        f"The file has the columns: {columns}. Rename a column or map one with "
        "--mapping. Nothing was imported.",
        problems,
    )


def _resolve_partners(
    db: Database,
    typed: TypedRows,
    rejections: Rejections,
    locale: str,
    keep_unknown_users: bool = False,
) -> None:
    """Fill the partner of events that name only a user, from the users' validity.

    A user belongs to a partner from ``valid_from`` (inclusive) to ``valid_to``
    (exclusive); an empty bound is open. Where periods overlap, the one that
    started last wins.
    """
    columns = typed.columns
    needed = columns["partner_id"].isna() & columns["user_id"].notna()
    needed &= ~rejections.mask
    if not needed.any():
        return
    lookup = pa.table(
        {
            "row_number": pa.array(np.flatnonzero(needed.to_numpy()), pa.int64()),
            "user_id": pa.array(columns.loc[needed, "user_id"].tolist(), pa.string()),
            "occurred_at": pa.array(
                columns.loc[needed, "occurred_at"], pa.timestamp("us")
            ),
        }
    )
    db.raw.register("_event_users", lookup)
    try:
        found = db.raw.execute(
            """
            SELECT e.row_number, u.partner_id
            FROM _event_users e
            LEFT JOIN users u
              ON u.user_id = e.user_id
             AND (u.valid_from IS NULL OR u.valid_from <= e.occurred_at)
             AND (u.valid_to IS NULL OR e.occurred_at < u.valid_to)
            QUALIFY row_number() OVER (
                PARTITION BY e.row_number ORDER BY u.valid_from DESC NULLS LAST
            ) = 1
            """
        ).df()
        known_users = set(
            db.raw.execute(
                "SELECT DISTINCT u.user_id FROM users u "
                "JOIN _event_users e USING (user_id)"
            )
            .df()["user_id"]
            .tolist()
        )
    finally:
        db.raw.unregister("_event_users")
    found = found.set_index("row_number").sort_index()
    rows = found.index.to_numpy()
    partners = found["partner_id"]
    columns.loc[rows[partners.notna().to_numpy()], "partner_id"] = (
        partners.dropna().to_numpy()
    )
    users = columns["user_id"]
    unknown = np.zeros(len(columns), dtype=bool)
    unknown[rows] = ~users.iloc[rows].isin(known_users).to_numpy()
    if keep_unknown_users:
        return
    rejections.reject(
        unknown,
        "user_id",
        users,
        lambda user: text("ingest.unknown_user", locale, user=user),
    )
    homeless = np.zeros(len(columns), dtype=bool)
    homeless[rows] = partners.isna().to_numpy()
    reasons = np.full(len(columns), None, dtype=object)
    for index in np.flatnonzero(homeless):
        moment = columns["occurred_at"].iat[index]
        reasons[index] = text(
            "ingest.user_without_partner", locale, user=users.iat[index], moment=moment
        )
    rejections.reject(homeless, "user_id", users, reasons)


def _problems(
    source: SourceRows, raw: pd.DataFrame, lines: np.ndarray, rejections: Rejections
) -> list[tuple[Problem, str]]:
    """Return one problem per rejected row, in line order, with the raw row as JSON."""
    file = str(source.path)
    problems = [
        (Problem(file, row.line, None, None, row.reason), row.raw)
        for row in source.malformed
    ]
    for index in np.flatnonzero(rejections.mask):
        record = {
            column: value
            for column, value in raw.iloc[index].items()
            if value is not None
        }
        problem = Problem(
            file,
            int(lines[index]),
            rejections.field[index],
            rejections.value[index],
            rejections.reason[index],
        )
        problems.append((problem, json.dumps(record, ensure_ascii=False)))
    problems.sort(key=lambda item: item[0].line or 0)
    return problems


def _store_rejected(
    db: Database, batch_id: str, source: SourceRows, problems: list[tuple[Problem, str]]
) -> None:
    if problems:
        db.insert_arrow("rejected_rows", _rejected_table(batch_id, problems))


def _rejected_table(batch_id: str, problems: list[tuple[Problem, str]]) -> pa.Table:
    """Return the rows of ``rejected_rows`` for ``problems``."""
    return pa.table(
        {
            "batch_id": pa.array([batch_id] * len(problems), pa.string()),
            "file": pa.array([problem.file for problem, _ in problems], pa.string()),
            "line": pa.array([problem.line for problem, _ in problems], pa.int64()),
            "field": pa.array([problem.field for problem, _ in problems], pa.string()),
            "value": pa.array(
                [
                    None if problem.value is None else str(problem.value)
                    for problem, _ in problems
                ],
                pa.string(),
            ),
            "reason": pa.array(
                [problem.reason for problem, _ in problems], pa.string()
            ),
            "raw": pa.array([raw for _, raw in problems], pa.string()),
        }
    )


def _store_batch(
    db: Database, result: ImportResult, started: datetime, observed_at: datetime
) -> None:
    db.raw.execute(
        "INSERT INTO import_batches (batch_id, table_name, file, encoding, started_at, "
        "read, inserted, duplicates, rejected, filtered, updated, footer, "
        "observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.batch_id,
            result.table,
            result.file,
            result.encoding,
            started,
            result.read,
            result.inserted,
            result.duplicates,
            result.rejected,
            result.filtered,
            result.updated,
            result.footer,
            observed_at,
        ],
    )


__all__ = ["IMPORT_TABLES", "ImportResult", "import_file", "import_source"]
