"""Group commit of event batches: requests that wait together commit together.

The database has one writer, and most of the cost of storing a batch is fixed per
transaction. So a request thread queues its events and takes the writer lock. The
thread that gets it stores every queued request in one transaction and hands each
request its own results. A request gets its response only after the transaction
with its events committed. If that transaction fails, nothing of it is stored and
each of its requests is stored again alone, in its own transaction, so that only a
request that fails on its own gets an error. Requests with an ``Idempotency-Key``
are stored alone, with their response, in their own transaction.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np

from partnerlift.errors import InputError, PartnerliftError, Problem
from partnerlift.ingest.importer import ImportResult, import_source
from partnerlift.ingest.readers import MalformedRow, SourceRows
from partnerlift.ingest.records import rows_from_objects
from partnerlift.interfaces.http.payloads import printable
from partnerlift.interfaces.http.statements import (
    IdempotencyKeyReusedError,
    remember_response,
    request_hash,
    stored_response,
)
from partnerlift.settings import Workspace
from partnerlift.store import Database

logger = logging.getLogger(__name__)

REQUIRED = ("occurred_at", "action", "partner_id", "user_id")
COUNTS = ("inserted", "updated", "duplicate", "rejected", "filtered")
# Maximum events per shared transaction. Requests beyond it wait for the next one.
MAX_EVENTS_PER_COMMIT = 20_000
# Failures that a value of the request causes while it is converted or written,
# such as text that UTF-8 cannot encode (ValueError includes pyarrow's ArrowInvalid).
# NOTE: a programming error that raises ValueError is reported as the request's
# fault too; the 400 response and the log then show its text.
INPUT_FAILURES = (ValueError, OverflowError, duckdb.DataError)


@dataclass
class _Job:
    items: list[Any]
    source: str
    idempotency_key: str | None
    # Items rejected before storing: item index -> (field, reason).
    rejected: dict[int, tuple[str, str]] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    response: dict[str, Any] | None = None
    error: BaseException | None = None


class EventWriter:
    """Stores event batches of many requests in shared transactions."""

    def __init__(self, db: Database, workspace: Workspace, lock: threading.Lock):
        self.db = db
        self.workspace = workspace
        self.lock = lock
        self._queue: list[_Job] = []
        self._queue_lock = threading.Lock()

    @property
    def queued_requests(self) -> int:
        """The number of requests queued and not yet taken by a transaction."""
        with self._queue_lock:
            return len(self._queue)

    def submit(
        self,
        items: list[Any],
        source: str,
        idempotency_key: str | None = None,
        rejected: dict[int, tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Store ``items`` and return the counts and a result per item, once
        committed. Blocks the calling thread; call it from a worker thread.

        ``rejected`` maps the index of an item that the caller rejected to its
        field and reason: that item is not stored, and is counted and recorded in
        ``rejected_rows`` as rejected with that reason.

        Raises
        ------
        InputError
            If these events fail to store in a transaction of their own because
            of one of their values (one of :data:`INPUT_FAILURES`).
        Exception
            Whatever else failed the transaction of these events alone.
        """
        job = _Job(items, source, idempotency_key, dict(rejected or {}))
        with self._queue_lock:
            self._queue.append(job)
        while not job.done.is_set():
            with self.lock:
                if job.done.is_set():
                    break
                self._drain()
        if job.error is not None:
            raise job.error
        assert job.response is not None
        return job.response

    def _drain(self) -> None:
        with self._queue_lock:
            taken: list[_Job] = []
            size = 0
            while self._queue and (
                not taken or size + len(self._queue[0].items) <= MAX_EVENTS_PER_COMMIT
            ):
                job = self._queue.pop(0)
                taken.append(job)
                size += len(job.items)
        alone = [job for job in taken if job.idempotency_key]
        shared = [job for job in taken if not job.idempotency_key]
        for job in alone:
            self._run([job])
        if shared:
            self._run(shared)

    def _run(self, jobs: list[_Job]) -> None:
        try:
            if len(jobs) == 1 and jobs[0].idempotency_key:
                self._store_alone(jobs[0])
            else:
                self._store_together(jobs)
        except Exception as error:
            if len(jobs) > 1:
                # The transaction rolled back, so each request is stored again
                # alone, and only the one that caused the failure gets it.
                logger.warning(
                    "Failed to store %d event requests in one transaction (%s: "
                    "%s); storing each request alone",
                    len(jobs),
                    type(error).__name__,
                    printable(str(error)),
                )
                for job in jobs:
                    job.response = None
                    self._run([job])
                return
            jobs[0].error = _request_error(error, jobs[0])
        except BaseException as error:  # every waiting request gets the error
            logger.exception("Stopped storing %d event requests", len(jobs))
            for job in jobs:
                job.error = error
        finally:
            for job in jobs:
                job.done.set()

    def _store_alone(self, job: _Job) -> None:
        key = job.idempotency_key or ""
        body_hash = request_hash(job.items)
        try:
            stored = stored_response(self.db, job.source, key, body_hash)
        except IdempotencyKeyReusedError as error:
            job.error = error
            return
        if stored is not None:
            job.response = stored
            return

        def remember(db: Database, result: ImportResult) -> None:
            job.response = job_response(result, 0, len(job.items), job.rejected)
            remember_response(db, job.source, key, body_hash, job.response)

        rows = self._rows([job], f"api:{job.source}")
        # The items form one group, so that the reason of a repeated event id names
        # its index in the request, as in a shared transaction.
        import_source(
            self.db,
            self.workspace,
            "events",
            rows,
            before_commit=remember,
            line_groups=np.zeros(len(job.items), dtype=np.int64),
        )

    def _store_together(self, jobs: list[_Job]) -> None:
        rows = self._rows(jobs, "api:events")
        # Identical events within one request are separate occurrences, but the
        # same request sent twice is one: so each request numbers its own repeats.
        line_groups = np.repeat(np.arange(len(jobs)), [len(job.items) for job in jobs])
        result = import_source(
            self.db, self.workspace, "events", rows, line_groups=line_groups
        )
        offset = 0
        for job in jobs:
            job.response = job_response(result, offset, len(job.items), job.rejected)
            offset += len(job.items)

    def _rows(self, jobs: list[_Job], name: str) -> SourceRows:
        """Return the items of ``jobs`` as rows, item ``i`` of the whole list on line
        ``i + 1``, with the items the callers rejected as malformed rows."""
        items: list[Any] = []
        rejected: dict[int, tuple[str, str, str]] = {}
        for job in jobs:
            for index, item in enumerate(job.items):
                if index in job.rejected:
                    field_name, reason = job.rejected[index]
                    raw = json.dumps(item, ensure_ascii=True)
                    rejected[len(items) + 1] = (field_name, reason, raw)
                    item = None  # read as a malformed row, replaced below
                items.append(item)
        rows = rows_from_objects(
            items, name, locale=self.workspace.locale, ensure=REQUIRED
        )
        if rejected:
            rows.malformed = [
                MalformedRow(row.line, rejected[row.line][1], rejected[row.line][2])
                if row.line in rejected
                else row
                for row in rows.malformed
            ]
        return rows


def _request_error(error: Exception, job: _Job) -> Exception:
    """Return the error that a request gets when its events alone failed to store:
    an :class:`InputError` (400) when one of its values caused it, else ``error``
    (500, and nothing of it was stored)."""
    if isinstance(error, PartnerliftError) or not isinstance(error, INPUT_FAILURES):
        logger.error(
            "Failed to store an event request of %d items from key %s",
            len(job.items),
            job.source,
            exc_info=error,
        )
        return error
    reason = printable(str(error))
    logger.info(
        "Rejected an event request of %d items from key %s: %s: %s",
        len(job.items),
        job.source,
        type(error).__name__,
        reason,
    )
    return InputError(
        f"The events could not be stored because of a value in the request: "
        f"{reason}. Nothing of this request was stored. Correct the value and send "
        "the request again.",
        [Problem(None, None, None, None, reason)],
    )


def job_response(
    result: ImportResult,
    offset: int,
    size: int,
    rejected: dict[int, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Return the counts and per-item results of items ``offset`` to
    ``offset + size`` of a batch (line ``offset + 1`` is the first item).
    ``rejected`` gives the field of the items that the caller rejected."""
    rejected = rejected or {}
    problems = {problem.line: problem for problem in result.problems}
    results = []
    counts = dict.fromkeys(COUNTS, 0)
    for index in range(size):
        line = offset + index + 1
        status = result.outcomes.get(line, "rejected")
        counts[status] += 1
        item: dict[str, Any] = {"index": index, "status": status}
        if line in problems:
            item["field"] = problems[line].field
            item["reason"] = problems[line].reason
        if index in rejected:
            item["field"] = rejected[index][0]
        results.append(item)
    return {
        "batch_id": result.batch_id,
        "read": size,
        "inserted": counts["inserted"],
        "updated": counts["updated"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"],
        "filtered": counts["filtered"],
        "results": results,
    }
