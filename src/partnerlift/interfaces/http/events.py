"""Group commit of event batches: requests that wait together commit together.

The database has one writer, and most of the cost of storing a batch is fixed per
transaction. So a request thread queues its events and takes the writer lock. The
thread that gets it stores every queued request in one transaction and hands each
request its own results. A request gets its response only after the transaction
with its events committed. If that transaction fails, every request in it fails
and nothing of them is stored. Requests with an ``Idempotency-Key`` are stored
alone, with their response, in their own transaction.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from partnerlift.ingest.importer import ImportResult, import_source
from partnerlift.ingest.records import rows_from_objects
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


@dataclass
class _Job:
    items: list[Any]
    source: str
    idempotency_key: str | None
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

    def submit(
        self, items: list[Any], source: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Store ``items`` and return the counts and a result per item, once
        committed. Blocks the calling thread; call it from a worker thread.

        Raises
        ------
        Exception
            Whatever failed the transaction that held these events.
        """
        job = _Job(items, source, idempotency_key)
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
        except BaseException as error:  # every waiting request gets the error
            logger.exception("Failed to store %d event requests", len(jobs))
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
            job.response = job_response(result, 0, len(job.items))
            remember_response(db, job.source, key, body_hash, job.response)

        rows = rows_from_objects(
            job.items,
            f"api:{job.source}",
            locale=self.workspace.locale,
            ensure=REQUIRED,
        )
        import_source(self.db, self.workspace, "events", rows, before_commit=remember)

    def _store_together(self, jobs: list[_Job]) -> None:
        items = [item for job in jobs for item in job.items]
        rows = rows_from_objects(
            items, "api:events", locale=self.workspace.locale, ensure=REQUIRED
        )
        # Identical events within one request are separate occurrences, but the
        # same request sent twice is one: so each request numbers its own repeats.
        line_groups = np.repeat(np.arange(len(jobs)), [len(job.items) for job in jobs])
        result = import_source(
            self.db, self.workspace, "events", rows, line_groups=line_groups
        )
        offset = 0
        for job in jobs:
            job.response = job_response(result, offset, len(job.items))
            offset += len(job.items)


def job_response(result: ImportResult, offset: int, size: int) -> dict[str, Any]:
    """Return the counts and per-item results of items ``offset`` to
    ``offset + size`` of a batch (line ``offset + 1`` is the first item)."""
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
