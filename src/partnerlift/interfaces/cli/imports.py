"""``partnerlift import {partners,users,assets,events,deals} FILE``: import a file;
``partnerlift import profiles``: the shipped mapping profiles; ``partnerlift imports
[show BATCH]``: the import batches and their rejected rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import duckdb
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
from partnerlift.ingest.messages import text
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
    stderr,
)
from partnerlift.settings import Workspace
from partnerlift.settings.times import parse_instant
from partnerlift.store import Database


def open_database_in_use(workspace: Workspace) -> Database:
    """Open the workspace database, with a clear error when another process, such
    as ``partnerlift serve``, holds it.

    Raises
    ------
    InputError
        If the database is locked by another process.
    """
    try:
        return open_database(workspace)
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise InputError(
            f"The database {str(workspace.database_path)!r} is in use by another "
            "process, such as 'partnerlift serve'. Stop that process and run the "
            "command again."
        ) from None


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


def run_import(
    ctx: typer.Context,
    table: str,
    file: Path,
    mapping: Path | None,
    output: OutputFormat,
    observed_at: str | None = None,
) -> ImportResult:
    """Import ``file`` into ``table`` and print the counts and the first problems."""
    workspace = current_workspace(ctx)
    observed = None
    if observed_at is not None:
        try:
            observed = parse_instant(observed_at, workspace.zone)
        except ValueError:
            raise InputError(
                f"Invalid --observed-at {observed_at!r}: expected a date such as "
                "'2024-04-01' or a timestamp such as '2024-04-01T09:00:00+09:00'."
            ) from None
    db = open_database_in_use(workspace)
    try:
        with byte_progress(file) as progress:
            result = import_file(
                db,
                workspace,
                table,
                file,
                mapping=mapping,
                observed_at=observed,
                progress=progress,
            )
    finally:
        db.close()
    _print_result(result, table, output, workspace.locale)
    return result


@contextmanager
def byte_progress(file: Path) -> Iterator[Callable[[int, int], None]]:
    """Show a progress bar of the bytes read on stderr while a large file is
    imported in chunks; yield the callback that moves it."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    visible = should_stream(file, None)
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
        emit_table(
            title, ["", label], [[name, value] for name, value in counts.items()]
        )
    _print_problems(result, locale)


def _print_problems(result: ImportResult, locale: str) -> None:
    if not result.problems:
        return
    stderr.print(
        text("ingest.rejected_header", locale, count=result.rejected), highlight=False
    )
    for problem in result.problems[:SHOWN_PROBLEMS]:
        stderr.print(
            f"  {problem.describe()}", markup=False, highlight=False, soft_wrap=True
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
    account name, so import users first. A voiding statement removes the event of
    the statement it voids; a statement id that comes again is a duplicate.

    Example: partnerlift import xapi statements.jsonl --format json
    """
    workspace = current_workspace(ctx)
    with open_database_in_use(workspace) as db:
        result = import_xapi(db, workspace, file, source=source)
    _print_result(result, "events", output, workspace.locale, statements=True)


@import_app.command(name="profiles")
def list_profiles(
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
    if show is not None:
        if show not in PROFILES:
            names = ", ".join(sorted(PROFILES))
            raise NotFoundError(f"Profile {show!r} not found. Use one of: {names}.")
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
        emit_table(
            None,
            ["name", "table", "description"],
            [[row["name"], row["table"], row["description"]] for row in rows],
        )


def _register(table: str) -> None:
    def command(
        ctx: typer.Context,
        file: FileArgument,
        mapping: MappingOption = None,
        output: FormatOption = OutputFormat.table,
        observed_at: ObservedOption = None,
    ) -> None:
        run_import(ctx, table, file, mapping, output, observed_at)

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
    with open_database_in_use(workspace) as db:
        batches = list_batches(db)
    _emit_records(batches, BATCH_COLUMNS, output)


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
    with open_database_in_use(workspace) as db:
        rows = rejected_rows(db, batch_id)
    _emit_records(rows, REJECTED_COLUMNS, output)


def _emit_records(
    rows: list[dict[str, object]], columns: list[str], output: OutputFormat
) -> None:
    if output is OutputFormat.json:
        emit_json(rows)
    elif output is OutputFormat.csv:
        emit_csv(rows, columns)
    else:
        emit_table(None, columns, [[row[name] for name in columns] for row in rows])
