"""``partnerlift import {partners,users,assets,events,deals} FILE``: import a file;
``partnerlift import profiles``: the shipped mapping profiles; ``partnerlift imports
[show BATCH]``: the import batches and their rejected rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from partnerlift.errors import InputError, NotFoundError
from partnerlift.ingest import IMPORT_TABLES, ImportResult, import_file
from partnerlift.ingest.batches import (
    BATCH_COLUMNS,
    REJECTED_COLUMNS,
    list_batches,
    rejected_rows,
)
from partnerlift.ingest.convert import EARLIEST, LATEST
from partnerlift.ingest.messages import text
from partnerlift.ingest.pending import (
    PENDING_COLUMNS,
    count_pending_statements,
    list_pending,
    replay_pending,
)
from partnerlift.ingest.profiles import PROFILES
from partnerlift.ingest.streaming import should_stream
from partnerlift.ingest.xapi import import_xapi
from partnerlift.interfaces.cli.app import (
    FormatOption,
    OutputFormat,
    app,
    current_workspace,
    emit_csv,
    emit_json,
    emit_table,
    open_database,
    optional_workspace_locale,
    stderr,
)
from partnerlift.interfaces.cli.cli_messages import column_headings, describe_problem
from partnerlift.settings.messages import CATALOGUE
from partnerlift.settings.times import parse_instant
from partnerlift.store import Database

COUNT_FIELDS = [
    "batch_id",
    "read",
    "inserted",
    "updated",
    "duplicates",
    "rejected",
    "filtered",
    "footer",
]
SHOWN_PROBLEMS = 10

import_app = typer.Typer(
    name="import",
    no_args_is_help=True,
    help="Import a CSV, TSV, JSON, JSON Lines, Parquet or Excel file into a table.",
)
app.add_typer(import_app, name="import")

FileArgument = Annotated[
    Path,
    typer.Argument(
        help="CSV, TSV, JSON array, JSON Lines (.jsonl), Parquet or Excel (.xlsx) "
        "file to import."
    ),
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        "-m",
        help="Mapping file (YAML) or profile name (see 'partnerlift import "
        "profiles') for files whose columns are not the canonical ones.",
    ),
]


ObservedOption = Annotated[
    str | None,
    typer.Option(
        "--observed-at",
        help="When the export was taken: an ISO 8601 date or timestamp, local time "
        "unless it has an offset (default: now). Deal history records the deals as "
        "of then.",
    ),
]

ChunkOption = Annotated[
    int | None,
    typer.Option(
        "--chunk-rows",
        min=1,
        help="Read a CSV, TSV or JSON Lines file in chunks of this many rows, with "
        "a progress bar (default: chunks of 200,000 rows for files over 32 MiB). "
        "Smaller chunks use less memory.",
    ),
]

EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="The text encoding of a CSV, TSV or JSON file, such as cp932 or utf-8, "
        "when detection gets it wrong (default: detected).",
    ),
]


def run_import(
    ctx: typer.Context,
    table: str,
    file: Path,
    mapping: Path | None,
    output: OutputFormat,
    observed_at: str | None = None,
    chunk_rows: int | None = None,
    encoding: str | None = None,
) -> ImportResult:
    """Import ``file`` into ``table`` and print the counts and the first problems."""
    workspace = current_workspace(ctx)
    observed = None
    if observed_at is not None:
        try:
            observed = parse_instant(observed_at, workspace.zone)
        except (ValueError, OverflowError):
            observed = None
        if observed is None or not EARLIEST <= observed < LATEST:
            message = text(
                "cli.import.invalid_observed_at", workspace.locale, value=observed_at
            )
            raise InputError(message) from None
    db = open_database(workspace)
    try:
        with byte_progress(file, chunk_rows) as progress:
            result = import_file(
                db,
                workspace,
                table,
                file,
                mapping=mapping,
                observed_at=observed,
                chunk_rows=chunk_rows,
                progress=progress,
                encoding=encoding,
            )
        strangers = _unknown_partners(db, result) if table == "events" else []
    finally:
        db.close()
    _print_result(result, table, output, workspace.locale)
    if strangers:
        shown = ", ".join(repr(partner) for partner, _ in strangers[:5])
        message = text(
            "cli.import.unknown_partners",
            workspace.locale,
            events=sum(count for _, count in strangers),
            partners=len(strangers),
            shown=shown,
        )
        stderr.print(message, markup=False, highlight=False, soft_wrap=True)
    return result


def _unknown_partners(db: Database, result: ImportResult) -> list[tuple[str, int]]:
    """Return the partners that the batch's events name but the partners table
    lacks, with their event counts, most events first.

    Nothing is returned while the partners table is empty, as partners are often
    imported after the activity.
    """
    return [
        (partner, count)
        for partner, count in db.raw.execute(
            "SELECT e.partner_id, count(*) AS events FROM events e "
            "WHERE e.batch_id = ? AND e.partner_id IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM partners) "
            "AND NOT EXISTS (SELECT 1 FROM partners p "
            "WHERE p.partner_id = e.partner_id) "
            "GROUP BY e.partner_id ORDER BY events DESC, e.partner_id",
            [result.batch_id],
        ).fetchall()
    ]


@contextmanager
def byte_progress(
    file: Path, chunk_rows: int | None = None
) -> Iterator[Callable[[int, int], None]]:
    """Show a progress bar of the bytes read on stderr while a large file is
    imported in chunks; yield the callback that moves it."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    visible = should_stream(file, chunk_rows)
    with Progress(*columns, console=stderr, transient=True, disable=not visible) as bar:
        task = bar.add_task(file.name, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print_result(
    result: ImportResult,
    table: str,
    output: OutputFormat,
    locale: str,
    *,
    statements: bool = False,
) -> None:
    counts = {name: result.as_dict()[name] for name in COUNT_FIELDS}
    if statements:
        counts["voided"] = result.voided
    if output is OutputFormat.json:
        emit_json(counts)
    elif output is OutputFormat.csv:
        emit_csv([counts], list(counts))
    else:
        title = text("ingest.summary_title", locale, table=table, file=result.file)
        label = text("ingest.count", locale)
        rows = [
            [text(f"cli.import.count.{name}", locale), value]
            for name, value in counts.items()
        ]
        emit_table(title, ["", label], rows)
    _print_problems(result, locale)


def _print_problems(result: ImportResult, locale: str) -> None:
    if not result.problems:
        return
    stderr.print(
        text("ingest.rejected_header", locale, count=result.rejected), highlight=False
    )
    for problem in result.problems[:SHOWN_PROBLEMS]:
        stderr.print(
            f"  {describe_problem(problem, locale)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    more = len(result.problems) - SHOWN_PROBLEMS
    if more > 0:
        message = text(
            "ingest.rejected_more", locale, count=more, batch_id=result.batch_id
        )
    else:
        message = text("ingest.rejected_stored", locale, batch_id=result.batch_id)
    stderr.print(message, markup=False, highlight=False, soft_wrap=True)


@import_app.command(name="xapi")
def import_xapi_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="xAPI statements: a JSON array, one statement or JSON Lines, as an "
            "LRS exports them; cmi5 statements too."
        ),
    ],
    source: Annotated[
        str, typer.Option("--source", help="The source recorded on each event.")
    ] = "xapi",
    output: FormatOption = OutputFormat.table,
) -> None:
    """Import xAPI or cmi5 statements as events; print the counts.

    Actors are matched to users by email (mbox), its SHA-1 (mbox_sha1sum) or
    account name. A statement whose actor is no user yet is kept, counted as
    filtered, and becomes an event when a users import adds its actor (see
    'partnerlift imports pending'). A voiding statement removes the event of the
    statement it voids; a statement id that comes again is a duplicate.

    Example: partnerlift import xapi statements.jsonl --format json
    """
    workspace = current_workspace(ctx)
    with open_database(workspace) as db:
        result = import_xapi(db, workspace, file, source=source)
        pending = count_pending_statements(db, workspace, result.batch_id)
    _print_result(result, "events", output, workspace.locale, statements=True)
    if pending:
        message = text("pending.waiting", workspace.locale, count=pending)
        stderr.print(message, markup=False, highlight=False, soft_wrap=True)


@import_app.command(name="profiles")
def list_profiles(
    ctx: typer.Context,
    show: Annotated[
        str | None,
        typer.Option(
            "--show", help="Print the mapping file of this profile, to adapt a copy."
        ),
    ] = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """List the shipped mapping profiles, or print one with --show.

    Example: partnerlift import profiles --show salesforce-opportunities > sf.yaml
    """
    locale = optional_workspace_locale(ctx)
    if show is not None:
        if show not in PROFILES:
            names = ", ".join(sorted(PROFILES))
            raise NotFoundError(
                text("cli.import.profile_not_found", locale, name=show, profiles=names)
            )
        typer.echo(PROFILES[show].path.read_text(encoding="utf-8"), nl=False)
        return
    rows = [
        {
            "name": profile.name,
            "table": profile.table,
            "description": profile.description,
        }
        for profile in sorted(PROFILES.values(), key=lambda item: item.name)
    ]
    if output is OutputFormat.json:
        emit_json(rows)
    elif output is OutputFormat.csv:
        emit_csv(rows, ["name", "table", "description"])
    else:
        headings = [
            text(f"cli.profiles.{name}", locale)
            for name in ("name", "table", "description")
        ]
        emit_table(
            None,
            headings,
            [[row["name"], row["table"], row["description"]] for row in rows],
        )


def _register(table: str) -> None:
    def command(
        ctx: typer.Context,
        file: FileArgument,
        mapping: MappingOption = None,
        output: FormatOption = OutputFormat.table,
        observed_at: ObservedOption = None,
        chunk_rows: ChunkOption = None,
        encoding: EncodingOption = None,
    ) -> None:
        run_import(ctx, table, file, mapping, output, observed_at, chunk_rows, encoding)

    command.__doc__ = (
        f"Import {table} from a file; print read, inserted, updated, duplicate, "
        "rejected and filtered counts.\n\n"
        "Rejected rows are listed on stderr and stored in the table rejected_rows; "
        "the exit status is 0 when the file was read, 1 when it could not be "
        "imported at all.\n\n"
        f"Example: partnerlift import {table} {table}.csv --mapping crm.yaml "
        "--format json"
    )
    import_app.command(name=table)(command)


for _table in IMPORT_TABLES:
    _register(_table)


imports_app = typer.Typer(
    name="imports",
    help="List the import batches, or show the rejected rows of one.",
    invoke_without_command=True,
)
app.add_typer(imports_app, name="imports")


@imports_app.callback()
def show_batches(ctx: typer.Context, output: FormatOption = OutputFormat.table) -> None:
    """List the import batches with their counts, oldest first.

    Example: partnerlift imports --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    workspace = current_workspace(ctx)
    with open_database(workspace) as db:
        batches = list_batches(db)
    _emit_records(batches, BATCH_COLUMNS, output, workspace.locale)


@imports_app.command(name="show")
def show_batch(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="Batch id, as 'imports' lists it.")],
    output: FormatOption = OutputFormat.table,
) -> None:
    """Show the rejected rows of a batch: file, line, field, value and reason.

    Example: partnerlift imports show 20240401T093000-1a2b3c4d
    """
    workspace = current_workspace(ctx)
    with open_database(workspace) as db:
        rows = rejected_rows(db, batch_id, locale=workspace.locale)
    _emit_records(rows, REJECTED_COLUMNS, output, workspace.locale)


@imports_app.command(name="pending")
def show_pending(ctx: typer.Context, output: FormatOption = OutputFormat.table) -> None:
    """List the xAPI statements and Segment events that wait for their users, by
    actor, with counts, first and last time, and the reason.

    Such a record becomes an event, or gets its partner, when a users import
    (or a Segment group or identify call) makes its actor a known user. Records
    whose users are known already, because a users import stopped before it
    replayed them, are turned into events first.

    Example: partnerlift imports pending --format json
    """
    workspace = current_workspace(ctx)
    with open_database(workspace) as db:
        replay_pending(db, workspace)
        rows = list_pending(db, workspace)
    if output is OutputFormat.table and not rows:
        stderr.print(text("pending.none", workspace.locale), highlight=False)
        return
    locale = workspace.locale
    if output is OutputFormat.table:
        title = text("pending.title", locale)
        cells = [
            [
                _kind_cell(str(row["kind"]), locale),
                *(row[name] for name in PENDING_COLUMNS[1:]),
            ]
            for row in rows
        ]
        emit_table(title, column_headings(PENDING_COLUMNS, locale), cells)
        return
    _emit_records(rows, [*PENDING_COLUMNS[:-1], "reason", "message"], output, locale)


def _kind_cell(kind: str, locale: str) -> str:
    """Return a pending record's kind (statement or event) in ``locale``."""
    message_id = f"cli.pending.kind.{kind}"
    return text(message_id, locale) if message_id in CATALOGUE else kind


def _emit_records(
    rows: list[dict[str, object]],
    columns: list[str],
    output: OutputFormat,
    locale: str,
) -> None:
    """Print ``rows`` in ``output``: JSON and CSV keep the column names as keys,
    and a table has headings in ``locale``."""
    if output is OutputFormat.json:
        emit_json(rows)
    elif output is OutputFormat.csv:
        emit_csv(rows, columns)
    else:
        cells = [[row[name] for name in columns] for row in rows]
        emit_table(None, column_headings(columns, locale), cells)
