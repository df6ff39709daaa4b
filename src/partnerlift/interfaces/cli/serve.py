"""``partnerlift serve``: the HTTP API on a host and port of the user's choice."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from partnerlift.interfaces.cli.app import (
    app,
    optional_workspace_locale,
    stderr,
    workspace_path,
)
from partnerlift.settings.messages import text

logger = logging.getLogger(__name__)


@app.command(name="serve")
def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. The default, 127.0.0.1, accepts requests "
            "from this machine only.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.")] = 8765,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            "--max-body-bytes", help="Largest request body in bytes; larger gets 413."
        ),
    ] = 4 * 1024 * 1024,
    max_items: Annotated[
        int,
        typer.Option(
            "--max-items", help="Most events or messages in one request; more gets 413."
        ),
    ] = 10_000,
) -> None:
    """Run the HTTP API: events, xAPI statements, Segment-compatible calls, scores.

    Every request needs an API key from 'partnerlift keys create'. The OpenAPI
    document is at /openapi.json and the interactive docs at /docs.

    Example: partnerlift serve --port 8765
    """
    import uvicorn

    from partnerlift.interfaces.http.app import create_app

    application = create_app(
        workspace_path(ctx), max_body_bytes=max_body_bytes, max_items=max_items
    )
    message = text(
        "cli.serve.serving",
        optional_workspace_locale(ctx),
        root=workspace_path(ctx).resolve(),
        host=host,
        port=port,
    )
    stderr.print(message, markup=False, highlight=False)
    uvicorn.run(
        application, host=host, port=port, log_level="warning", access_log=False
    )
