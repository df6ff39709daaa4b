"""The request size limit, applied before a body is read into memory."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnerlift.interfaces.http.problems import error_body


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Reject a request whose body is over ``max_bytes`` with 413 and the limit.

    A declared ``Content-Length`` over the limit is rejected before reading; a
    chunked body is counted as it arrives.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_bytes
        ):
            await self._reject(scope, send, int(declared))
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send, received)

    async def _reject(self, scope: Scope, send: Send, size: int) -> None:
        message = (
            f"Payload too large: {size:,} bytes is over the limit of "
            f"{self.max_bytes:,} bytes. Send smaller batches."
        )
        response = JSONResponse(error_body(413, message), 413)
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
