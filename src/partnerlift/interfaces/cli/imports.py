"""``partnerlift import {partners,users,assets,events,deals} FILE``: import a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnerlift.ingest import IMPORT_TABLES, ImportResult, import_file
from partnerlift.ingest.messages import text
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

COUNT_FIELDS = ["batch_id", "read", "inserted", "duplicates", "rejected", "filtered"]
SHOWN_PROBLEMS = 10

import_app = typer.Typer(
    name="import",
    no_args_is_help=True,
    help="Import a CSV, JSON Lines or Parquet file into a table.",
)
app.add_typer(import_app, name="import")

FileArgument = Annotated[
    Path, typer.Argument(help="CSV, JSON Lines (.jsonl) or Parquet file to import.")
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        "-m",
        help="Mapping file (YAML) for files whose columns are not the canonical ones.",
    ),
]


def run_import(
    ctx: typer.Context,
    table: str,
    file: Path,
    mapping: Path | None,
    output: OutputFormat,
) -> ImportResult:
    """Import ``file`` into ``table`` and print the counts and the first problems."""
    workspace = current_workspace(ctx)
    db = open_database(workspace)
    try:
        result = import_file(db, workspace, table, file, mapping=mapping)
    finally:
        db.close()
    counts = {name: result.as_dict()[name] for name in COUNT_FIELDS}
    if output is OutputFormat.json:
        emit_json(counts)
    elif output is OutputFormat.csv:
        emit_csv([counts], COUNT_FIELDS)
    else:
        title = text(
            "ingest.summary_title", workspace.locale, table=table, file=result.file
        )
        label = text("ingest.count", workspace.locale)
        emit_table(title, ["", label], [[name, counts[name]] for name in COUNT_FIELDS])
    _print_problems(result, workspace.locale)
    return result


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


def _register(table: str) -> None:
    def command(
        ctx: typer.Context,
        file: FileArgument,
        mapping: MappingOption = None,
        output: FormatOption = OutputFormat.table,
    ) -> None:
        run_import(ctx, table, file, mapping, output)

    command.__doc__ = (
        f"Import {table} from a file; print read, inserted, duplicate, rejected and "
        "filtered counts.\n\n"
        "Rejected rows are listed on stderr and stored in the table rejected_rows; "
        "the exit status is 0 when the file was read, 1 when it could not be "
        "imported at all.\n\n"
        f"Example: partnerlift import {table} {table}.csv --mapping crm.yaml "
        "--format json"
    )
    import_app.command(name=table)(command)


for _table in IMPORT_TABLES:
    _register(_table)
