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
    port: Annotated[
        int,
        typer.Option("--port", min=1, max=65535, help="TCP port to listen on."),
    ] = 8765,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            "--max-body-bytes",
            min=1,
            help="Maximum request body in bytes, also once a gzip body is "
            "decompressed; a larger body gets 413.",
        ),
    ] = 4 * 1024 * 1024,
    max_items: Annotated[
        int,
        typer.Option(
            "--max-items",
            min=1,
            help="Maximum events, statements or messages in one request; more get 413.",
        ),
    ] = 10_000,
) -> None:
    """Run the HTTP API: events, xAPI statements, Segment-compatible calls, scores.

    Every request except GET /openapi.json needs an API key from 'partnerlift keys
    create'. The OpenAPI document is at /openapi.json; there are no interactive
    docs pages, so open it in an OpenAPI viewer of your own.

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
    config = uvicorn.Config(
        application, host=host, port=port, log_level="warning", access_log=False
    )
    _announcing_server_class()(config, message).run()


def _announcing_server_class() -> type:
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        """A uvicorn server that prints a message once its sockets accept
        connections."""

        def __init__(self, config: uvicorn.Config, message: str) -> None:
            super().__init__(config)
            self.message = message

        async def startup(self, sockets: list | None = None) -> None:
            await super().startup(sockets)
            # uvicorn 0.54 sets ``started`` once the sockets listen. It leaves it
            # False when the application's startup failed, and exits when it
            # cannot bind, in both cases after logging why.
            if self.started:
                stderr.print(self.message, markup=False, highlight=False)

    return AnnouncingServer
