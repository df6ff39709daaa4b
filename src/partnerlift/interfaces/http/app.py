"""The HTTP API: events in (our batch format, xAPI, Segment), scores out.

Every data endpoint needs an API key (``Authorization: Bearer KEY``, or basic auth
with the key as the password, or as the user name with an empty password the way
Segment's libraries send a write key) whose scope allows it. Every failure has one
JSON shape: ``{"error": {"message", "problems", "status"}}``. A response that
reports events as stored is sent only after their transaction committed. The
workspace database has one writer, so requests that touch it run one at a time in a
worker thread.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from partnerlift import __version__
from partnerlift.errors import NotFoundError, PartnerliftError
from partnerlift.ingest.segment import import_segment, message_list
from partnerlift.interfaces.http.apikeys import ApiKey, open_key_store
from partnerlift.interfaces.http.events import EventWriter
from partnerlift.interfaces.http.limits import BodyLimit
from partnerlift.interfaces.http.payloads import (
    DecodedTooLarge,
    GzipError,
    find_lone_surrogate,
    gunzip,
    may_have_surrogates,
    surrogate_reason,
)
from partnerlift.interfaces.http.problems import error_body
from partnerlift.interfaces.http.statements import (
    ConflictError,
    IdempotencyKeyReusedError,
    StatementStore,
    remember_response,
    request_hash,
    stored_response,
)
from partnerlift.settings import Workspace, open_workspace
from partnerlift.store import Database

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_ITEMS = 10_000


class ApiError(Exception):
    """An error response with its status, message and problems."""

    def __init__(
        self, status: int, message: str, problems: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []


class Service:
    """The workspace, its database connection and the lock that serialises use."""

    def __init__(
        self, workspace: Workspace, max_items: int, max_body_bytes: int
    ) -> None:
        self.workspace = workspace
        self.db = Database(workspace.database_path, locale=workspace.locale)
        self.lock = threading.Lock()
        self.max_items = max_items
        self.max_body_bytes = max_body_bytes
        self.statements = StatementStore(self.db, workspace)
        self.events = EventWriter(self.db, workspace, self.lock)
        self.keys = open_key_store(workspace, self.db)

    async def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` in a worker thread while holding the database lock."""

        def locked() -> T:
            with self.lock:
                return work()

        return await anyio.to_thread.run_sync(locked)

    async def authorize(
        self, request: Request, needed: str, partner_id: str | None = None
    ) -> ApiKey:
        """Return the request's API key if its scope allows ``needed``.

        Raises
        ------
        ApiError
            401 without a valid key, 403 when its scope does not allow this, 503
            when the keys file cannot be read.
        """
        text = _key_text(request)
        if not text:
            raise ApiError(
                401,
                "Missing API key. Send 'Authorization: Bearer KEY', or the key as "
                "the basic-auth password (or as the user name with an empty "
                "password); create one with 'partnerlift keys create'.",
            )
        # The keys are in a SQLite file, not in DuckDB, so a key check does not take
        # self.lock and does not wait for event writes. It runs in a worker thread
        # because SQLite may wait while another process writes a key.
        try:
            key = await anyio.to_thread.run_sync(self.keys.authenticate, text)
        except PartnerliftError as error:
            # NOTE: no test reaches this branch: it needs the keys file locked by
            # another process for longer than the SQLite busy timeout.
            logger.warning("Failed to check an API key: %s", error)
            raise ApiError(
                503, "The API keys cannot be read now. Retry the request later."
            ) from None
        if key is None:
            raise ApiError(401, "Invalid or revoked API key. Check the key you send.")
        if not key.allows(needed, partner_id):
            raise ApiError(
                403,
                f"The key's scope {key.scope!r} does not allow this request, which "
                f"needs {needed!r}. Use a key with that scope.",
            )
        return key


def _key_text(request: Request) -> str | None:
    """Return the API key of a request: the bearer token, or the basic-auth password,
    or the basic-auth user name when the password is empty (as Segment's libraries
    send a write key)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return password or user or None
    return None


async def read_json(request: Request, max_bytes: int) -> Any:
    """Return the request body as JSON, decompressed first if it is sent with
    ``Content-Encoding: gzip``. Marks ``request.state.may_have_surrogates`` for
    :func:`lone_surrogate`.

    Raises
    ------
    ApiError
        400 if the body is not valid JSON or not valid gzip, 413 if it is over
        ``max_bytes`` once decompressed, 415 for another content encoding.
    """
    body = await request.body()
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        try:
            body = gunzip(body, max_bytes)
        except DecodedTooLarge:
            raise ApiError(
                413,
                f"Payload too large: the decompressed body is over the limit of "
                f"{max_bytes:,} bytes. Send smaller batches.",
            ) from None
        except GzipError as error:
            raise ApiError(
                400,
                f"Invalid gzip body: the request says 'Content-Encoding: gzip' but "
                f"its body is not valid gzip data ({error}). Compress the body with "
                "gzip, or leave out the header.",
            ) from None
    elif encoding != "identity":
        raise ApiError(
            415,
            f"Unsupported Content-Encoding {encoding!r}: send the body "
            "uncompressed or as 'gzip'.",
        )
    request.state.may_have_surrogates = may_have_surrogates(body)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, f"Invalid JSON in the request body: {error}.") from None


def lone_surrogate(request: Request, value: Any) -> tuple[str, str] | None:
    """Return the field and escape of the first lone surrogate in ``value``, a part
    of the body that :func:`read_json` returned, or None."""
    if not getattr(request.state, "may_have_surrogates", True):
        return None
    return find_lone_surrogate(value)


def idempotency_source(request: Request, key: ApiKey) -> str:
    """Return the scope of a request's ``Idempotency-Key``: the API key, and the
    method and path on every endpoint but /api/v1/events, whose keys were stored
    with the API key's id alone."""
    if request.url.path == "/api/v1/events":
        return key.key_id
    return f"{key.key_id} {request.method} {request.url.path}"


def create_app(
    workspace_root: str | Path,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_items: int = DEFAULT_MAX_ITEMS,
) -> FastAPI:
    """Create the API for the workspace at ``workspace_root``.

    ``max_body_bytes`` and ``max_items`` (events or messages per request) are the
    size limits; a request over either gets 413 with the limit. A gzip body is
    limited both as sent and once decompressed.
    """
    workspace = open_workspace(workspace_root)
    service = Service(workspace, max_items, max_body_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info("Serving the workspace %s", workspace.root)
        yield
        with service.lock:
            service.db.close()
        service.keys.close()
        logger.info("Stopped; closed %s", workspace.database_path)

    # The interactive documentation pages (/docs, /redoc) load their scripts from
    # a CDN, so they are off; /openapi.json is served.
    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        title="partnerlift",
        version=__version__,
        description="Partner support events in, engagement scores out.",
    )
    app.state.service = service
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    _add_error_handlers(app)
    _add_event_routes(app, service)
    _add_segment_routes(app, service)
    _add_xapi_routes(app, service)
    _add_read_routes(app, service)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        logger.info(
            "%s %s: %d %s", request.method, request.url.path, error.status, error
        )
        return JSONResponse(
            error_body(error.status, error.message, error.problems), error.status
        )

    @app.exception_handler(PartnerliftError)
    async def partnerlift_error(
        request: Request, error: PartnerliftError
    ) -> JSONResponse:
        status = 404 if isinstance(error, NotFoundError) else 400
        if isinstance(error, ConflictError):
            status = 409
        elif isinstance(error, IdempotencyKeyReusedError):
            status = 422
        problems = [problem.as_dict() for problem in getattr(error, "problems", [])]
        message = str(error).split("\n", 1)[0]
        logger.info("%s %s: %d %s", request.method, request.url.path, status, message)
        return JSONResponse(error_body(status, message, problems), status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(
        request: Request, error: RequestValidationError
    ) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(part) for part in item["loc"]),
                "value": _plain(item.get("input")),
                "reason": item["msg"],
            }
            for item in error.errors()
        ]
        return JSONResponse(
            error_body(422, "Invalid request: see problems.", problems), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(
        request: Request, error: StarletteHTTPException
    ) -> JSONResponse:
        return JSONResponse(
            error_body(error.status_code, str(error.detail)), error.status_code
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("Failed %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body(
                500,
                "Internal error; nothing of this request was stored. Retry it, and "
                "report the error if it persists.",
            ),
            500,
        )


def _plain(value: Any) -> str | int | float | bool | None:
    """Return ``value`` if it is a JSON scalar, else None."""
    return value if isinstance(value, str | int | float | bool) else None


def _check_items(items: Any, service: Service, what: str) -> list[Any]:
    if not isinstance(items, list):
        raise ApiError(400, f"Invalid body: expected a JSON array of {what}.")
    if len(items) > service.max_items:
        raise ApiError(
            413,
            f"Too many {what}: {len(items):,} is over the limit of "
            f"{service.max_items:,} per request. Send smaller batches.",
        )
    return items


def _add_event_routes(app: FastAPI, service: Service) -> None:
    @app.post("/api/v1/events", tags=["events"])
    async def post_events(request: Request) -> JSONResponse:
        """Store a JSON array of canonical events; return a result per item.

        An ``Idempotency-Key`` header makes a retried request return the first
        response and store nothing again. Event ids, given or derived from the
        content, also keep a retried event from being stored twice.
        """
        key = await service.authorize(request, "ingest")
        payload = await read_json(request, service.max_body_bytes)
        items = _check_items(payload, service, "events")
        idempotency = request.headers.get("idempotency-key")
        rejected = {}
        for index, item in enumerate(items):
            found = lone_surrogate(request, item)
            if found is not None:
                reason = surrogate_reason(*found, service.workspace.locale)
                rejected[index] = (found[0], reason)
        response = await anyio.to_thread.run_sync(
            lambda: service.events.submit(
                items, idempotency_source(request, key), idempotency, rejected
            )
        )
        return JSONResponse(response)


def _add_segment_routes(app: FastAPI, service: Service) -> None:
    async def handle(request: Request, kind: str | None) -> JSONResponse:
        key = await service.authorize(request, "ingest")
        payload = await read_json(request, service.max_body_bytes)
        if kind is None:
            try:
                messages = message_list(payload)
            except ValueError as error:
                raise ApiError(400, f"Invalid batch: {error}.") from None
        else:
            if not isinstance(payload, dict):
                raise ApiError(400, "Invalid body: expected a JSON object.")
            messages = [payload]
        _check_items(messages, service, "messages")
        rejected = {}
        for index, message in enumerate(messages):
            found = lone_surrogate(request, message)
            if found is not None:
                reason = surrogate_reason(*found, service.workspace.locale)
                rejected[index] = {
                    "index": index,
                    "status": "rejected",
                    "field": found[0],
                    "reason": reason,
                }
        if kind is not None and rejected:
            problem = {**rejected[0], "line": 1}
            raise ApiError(400, rejected[0]["reason"], [problem])
        importable = [i for i in range(len(messages)) if i not in rejected]
        idempotency = request.headers.get("idempotency-key")
        source = idempotency_source(request, key)
        body_hash = request_hash(payload) if idempotency else ""

        def reply(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
            results = dict(rejected)
            for outcome in outcomes:
                index = importable[outcome["index"]]
                results[index] = {**outcome, "index": index}
            ordered = [results[index] for index in range(len(messages))]
            if kind is not None and ordered[0]["status"] == "rejected":
                problem = {"line": 1, "reason": ordered[0]["reason"], "index": 0}
                return {
                    "status": 400,
                    "body": error_body(400, ordered[0]["reason"], [problem]),
                }
            return {"status": 200, "body": {"success": True, "results": ordered}}

        def work() -> dict[str, Any]:
            if idempotency:
                stored = stored_response(service.db, source, idempotency, body_hash)
                if stored is not None:
                    return stored
            if not importable:
                return reply([])
            replied: dict[str, Any] = {}

            def remember(db: Database, result: Any) -> None:
                replied.update(reply(result.outcomes))
                if idempotency:
                    remember_response(db, source, idempotency, body_hash, replied)

            import_segment(
                service.db,
                service.workspace,
                [messages[index] for index in importable],
                source=key.key_id,
                default_type=kind,
                before_commit=remember,
            )
            return replied

        response = await service.run(work)
        if response["status"] != 200:
            body = response["body"]["error"]
            raise ApiError(response["status"], body["message"], body["problems"])
        return JSONResponse(response["body"])

    @app.post("/v1/batch", tags=["segment"])
    async def segment_batch(request: Request) -> JSONResponse:
        """Segment-compatible batch: ``{"batch": [messages]}``."""
        return await handle(request, None)

    for kind in ("track", "identify", "group", "page", "screen", "alias"):
        app.add_api_route(
            f"/v1/{kind}",
            _segment_endpoint(handle, kind),
            methods=["POST"],
            tags=["segment"],
            summary=f"Segment-compatible {kind} call",
        )


def _segment_endpoint(handle: Callable[..., Any], kind: str) -> Callable[..., Any]:
    async def endpoint(request: Request) -> JSONResponse:
        return await handle(request, kind)

    endpoint.__name__ = f"segment_{kind}"
    return endpoint


XAPI_VERSION = "1.0.3"


def _authority(request: Request, key: ApiKey) -> dict[str, Any]:
    """Return the xAPI authority of a request: the Agent of its API key, as an
    account of this service."""
    return {
        "objectType": "Agent",
        "account": {"homePage": str(request.base_url).rstrip("/"), "name": key.key_id},
    }


def _add_xapi_routes(app: FastAPI, service: Service) -> None:
    def check_version(request: Request) -> None:
        version = request.headers.get("x-experience-api-version", "")
        if not version.startswith("1.0"):
            raise ApiError(
                400,
                "Missing or unsupported X-Experience-API-Version header: send "
                f"'{XAPI_VERSION}'.",
            )

    def xapi_response(content: Any, status: int = 200) -> Response:
        headers = {"X-Experience-API-Version": XAPI_VERSION}
        if status == 204:
            return Response(status_code=204, headers=headers)
        return JSONResponse(content, status, headers=headers)

    def store_once(
        request: Request,
        key: ApiKey,
        payload: Any,
        items: list[Any],
        authority: dict[str, Any],
    ) -> list[str]:
        """Store statements and return their ids; with an ``Idempotency-Key``, return
        the ids stored for that key and body instead if there are any. Call it
        holding the database lock."""
        idempotency = request.headers.get("idempotency-key")
        if not idempotency:
            return service.statements.store(items, authority)
        source = idempotency_source(request, key)
        body_hash = request_hash(payload)
        stored = stored_response(service.db, source, idempotency, body_hash)
        if stored is not None:
            return stored["ids"]

        def remember(db: Database, ids: list[str]) -> None:
            remember_response(db, source, idempotency, body_hash, {"ids": ids})

        return service.statements.store(items, authority, before_commit=remember)

    @app.post("/xapi/statements", tags=["xapi"])
    async def post_statements(request: Request) -> Response:
        """Store one statement or an array of statements (xAPI 1.0.3); return
        their ids. The whole request is rejected if any statement is invalid."""
        key = await service.authorize(request, "ingest")
        check_version(request)
        payload = await read_json(request, service.max_body_bytes)
        items = payload if isinstance(payload, list) else [payload]
        _check_items(items, service, "statements")
        authority = _authority(request, key)
        ids = await service.run(
            lambda: store_once(request, key, payload, items, authority)
        )
        return xapi_response(ids)

    @app.put("/xapi/statements", tags=["xapi"])
    async def put_statement(request: Request, statementId: str) -> Response:
        """Store one statement under ``statementId`` (xAPI 1.0.3); 204 on success,
        409 if another statement has that id."""
        key = await service.authorize(request, "ingest")
        check_version(request)
        payload = await read_json(request, service.max_body_bytes)
        if not isinstance(payload, dict):
            raise ApiError(400, "Invalid body: expected one statement object.")
        if payload.get("id") not in (None, statementId):
            raise ApiError(400, "The statement's id differs from statementId.")
        statement = {**payload, "id": statementId}
        authority = _authority(request, key)
        await service.run(
            lambda: store_once(request, key, statement, [statement], authority)
        )
        return xapi_response(None, 204)

    @app.get("/xapi/statements", tags=["xapi"])
    async def get_statements(
        request: Request,
        statementId: str | None = None,
        voidedStatementId: str | None = None,
    ) -> Response:
        """Return one stored statement by ``statementId`` (or a voided one by
        ``voidedStatementId``), or the latest 100 as ``{"statements", "more"}``."""
        await service.authorize(request, "read")
        check_version(request)
        if statementId is not None and voidedStatementId is not None:
            raise ApiError(
                400,
                "Send either statementId or voidedStatementId, not both (xAPI "
                "1.0.3 allows one of them per request).",
            )
        if statementId or voidedStatementId:
            requested_id = statementId or voidedStatementId or ""
            found = await service.run(
                lambda: service.statements.get(
                    requested_id, voided=bool(voidedStatementId)
                )
            )
            if found is None:
                raise ApiError(404, f"Statement {requested_id!r} not found.")
            return xapi_response(found)
        latest = await service.run(lambda: service.statements.latest(100))
        return xapi_response({"statements": latest, "more": ""})


def _add_read_routes(app: FastAPI, service: Service) -> None:
    @app.get("/api/v1/partners/{partner_id}/score", tags=["scores"])
    async def partner_score(
        request: Request, partner_id: str, as_of: str | None = None
    ) -> JSONResponse:
        """Return one partner's engagement score and the points of each rule.

        ``as_of`` is a date (YYYY-MM-DD); by default the day of the latest event.
        """
        await service.authorize(request, "read", partner_id)
        from partnerlift.scoring import load_model, score_partners
        from partnerlift.settings.times import parse_date

        day = parse_date(as_of, source="as_of") if as_of else None

        def work() -> dict[str, Any] | None:
            if not _partner_known(service.db, partner_id):
                return None
            model = load_model(service.workspace.score_model_path)
            return score_partners(
                service.db, model, zone=service.workspace.zone, as_of=day
            )

        scores = await service.run(work)
        for partner in scores["partners"] if scores else []:
            if partner["partner_id"] == partner_id:
                return JSONResponse(
                    {"as_of": scores["as_of"], "model": scores["model"], **partner}
                )
        raise ApiError(
            404,
            f"Partner {partner_id!r} not found: it is not in the partners table "
            "and has no events. Check the id, or import the partner first.",
        )


def _partner_known(db: Database, partner_id: str) -> bool:
    """Return whether a partner is in the partners table or has events, stored
    with its id or through a user who belongs to it."""
    rows = db.raw.execute(
        """
        SELECT EXISTS (SELECT 1 FROM partners WHERE partner_id = ?)
            OR EXISTS (SELECT 1 FROM events WHERE partner_id = ?)
            OR EXISTS (
                SELECT 1 FROM users u JOIN events e ON e.user_id = u.user_id
                WHERE u.partner_id = ?
            )
        """,
        [partner_id, partner_id, partner_id],
    ).fetchall()
    return bool(rows[0][0])


__all__ = ["ApiError", "Service", "create_app", "error_body"]
