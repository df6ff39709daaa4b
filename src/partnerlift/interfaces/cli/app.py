"""The ``partnerlift`` command: the root app, shared options and error handling."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from partnerlift import __version__
from partnerlift.errors import PartnerliftError
from partnerlift.interfaces.cli.cli_messages import describe_error
from partnerlift.settings import Workspace, open_workspace
from partnerlift.settings.messages import text
from partnerlift.store import Database

stderr = Console(stderr=True)


class OutputFormat(StrEnum):
    """Output format of a command that prints results."""

    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="Output format: table, json or csv."),
]


class _GuardedGroup(TyperGroup):
    """Print partnerlift errors as one message on stderr and exit with status 1.

    The message is in the language that :func:`set_locale` recorded for the
    command, English before any was recorded.
    """

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except PartnerliftError as error:
            locale = command_locale(ctx)
            label = text("cli.error", locale)
            message = escape(describe_error(error, locale))
            # Soft wrapping leaves line breaks to the terminal: Rich would break
            # Japanese text at the spaces around numbers and names.
            stderr.print(
                f"[bold red]{label}[/] {message}",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_GuardedGroup,
    no_args_is_help=True,
    add_completion=False,
    help="Measure which partner support goes with sales, and repeat it.",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"partnerlift {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="PARTNERLIFT_WORKSPACE",
            help="Workspace folder (default: the current folder).",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the version.",
        ),
    ] = False,
) -> None:
    """Measure which partner support goes with sales, and repeat it."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = {"workspace": workspace}


def workspace_path(ctx: typer.Context) -> Path:
    """Return the folder of ``--workspace``, the environment or the current one."""
    root_ctx = ctx.find_root()
    path = (root_ctx.obj or {}).get("workspace")
    return Path(path) if path else Path(".")


def current_workspace(ctx: typer.Context) -> Workspace:
    """Open the workspace that ``--workspace`` names; its locale becomes the
    language of the command's error messages."""
    workspace = open_workspace(workspace_path(ctx))
    set_locale(ctx, workspace.locale)
    return workspace


def optional_workspace_locale(ctx: typer.Context) -> str:
    """Return the locale of the workspace that ``--workspace`` names.

    Commands that also run without a workspace call it. It returns ``en`` when
    there is no workspace or its settings cannot be read.
    """
    try:
        return current_workspace(ctx).locale
    except PartnerliftError:
        return "en"


def set_locale(ctx: typer.Context, locale: str) -> None:
    """Record the language of the command's texts and error messages."""
    root_ctx = ctx.find_root()
    if root_ctx.obj is None:
        root_ctx.obj = {}
    root_ctx.obj["locale"] = locale


def command_locale(ctx: typer.Context) -> str:
    """Return the language recorded by :func:`set_locale`, or ``en``."""
    return str((ctx.find_root().obj or {}).get("locale") or "en")


def open_database(workspace: Workspace) -> Database:
    """Open the database of ``workspace``.

    Raises
    ------
    DatabaseInUseError
        If another process, such as ``partnerlift serve``, has the database open.
        The message is in the workspace's language.
    """
    return Database(
        workspace.database_path,
        zone=workspace.settings.timezone,
        locale=workspace.locale,
    )


def emit_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout, with nothing else."""
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def emit_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print ``rows`` as CSV on stdout."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    typer.echo(buffer.getvalue(), nl=False)


def emit_table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    """Print a Rich table on stdout."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console = Console()
    if not console.is_terminal:
        # Piped output has no width to fit; Rich would assume 80 columns and wrap.
        console = Console(width=240)
    console.print(table)
