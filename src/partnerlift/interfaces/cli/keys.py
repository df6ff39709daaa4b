"""``partnerlift keys {create,list,revoke}``: API keys of the HTTP service.

The keys are in their own SQLite file, so these commands work while ``partnerlift
serve`` runs, and the server applies the change from its next request on.
"""

from __future__ import annotations

from typing import Annotated

import typer

from partnerlift.interfaces.cli.app import (
    FormatOption,
    OutputFormat,
    app,
    current_workspace,
    emit_csv,
    emit_json,
    emit_table,
    stderr,
)
from partnerlift.interfaces.cli.cli_messages import column_headings
from partnerlift.interfaces.http.apikeys import create_key, list_keys, revoke_key
from partnerlift.settings.messages import text

KEY_COLUMNS = ["key_id", "scope", "label", "created_at", "revoked_at"]

keys_app = typer.Typer(
    name="keys", no_args_is_help=True, help="Create, list and revoke API keys."
)
app.add_typer(keys_app, name="keys")


@keys_app.command(name="create")
def create(
    ctx: typer.Context,
    scope: Annotated[
        str,
        typer.Option(
            "--scope", help="ingest, read, admin or partner:<id> (that partner only)."
        ),
    ],
    label: Annotated[
        str | None, typer.Option("--label", help="A note on what the key is for.")
    ] = None,
) -> None:
    """Create an API key and print it alone on stdout; it is not shown again.

    Example: partnerlift keys create --scope ingest --label "LMS" > lms.key
    """
    workspace = current_workspace(ctx)
    key, secret = create_key(workspace, scope, label)
    typer.echo(secret)
    message = text(
        "cli.keys.created", workspace.locale, key_id=key.key_id, scope=key.scope
    )
    stderr.print(message, markup=False, highlight=False, soft_wrap=True)


@keys_app.command(name="list")
def list_command(ctx: typer.Context, output: FormatOption = OutputFormat.table) -> None:
    """List the API keys by id and scope (never the keys themselves)."""
    workspace = current_workspace(ctx)
    keys = list_keys(workspace)
    if output is OutputFormat.json:
        emit_json(keys)
    elif output is OutputFormat.csv:
        emit_csv(keys, KEY_COLUMNS)
    else:
        headings = column_headings(KEY_COLUMNS, workspace.locale)
        emit_table(
            None, headings, [[key[name] for name in KEY_COLUMNS] for key in keys]
        )


@keys_app.command(name="revoke")
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key id, as 'keys list' shows it.")],
) -> None:
    """Revoke an API key; a running server rejects it from its next request on."""
    workspace = current_workspace(ctx)
    revoke_key(workspace, key_id)
    message = text("cli.keys.revoked", workspace.locale, key_id=key_id)
    stderr.print(message, markup=False, highlight=False, soft_wrap=True)
