from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from partnerlift.errors import InputError
from partnerlift.interfaces.http.events import EventWriter

GOOD_REQUESTS = 20


def good_body(tag: str, number: int) -> list[dict[str, str]]:
    return [
        {
            "occurred_at": "2024-01-08T00:00:00Z",
            "action": "viewed",
            "partner_id": "P2",
            "event_id": f"{tag}-{number}",
        }
    ]


# A lone surrogate that UTF-8 cannot encode: storing it fails the transaction, as
# the writer takes it without the HTTP layer's check.
BAD_BODY = [json.loads('{"occurred_at": "2024-01-08", "action": "viewed\\ud800"}')]


def test_failed_group_stores_others_alone(workspace, database, caplog):
    caplog.set_level(logging.INFO, logger="partnerlift.interfaces.http.events")
    writer = EventWriter(database, workspace, threading.Lock())
    bodies = [good_body("alone", number) for number in range(GOOD_REQUESTS)]
    bodies.insert(5, [{**BAD_BODY[0], "partner_id": "P3"}])
    outcomes: list[object] = [None] * len(bodies)

    def send(index: int) -> None:
        try:
            outcomes[index] = writer.submit(bodies[index], "key-1")
        except InputError as error:
            outcomes[index] = error

    # Holding the writer lock keeps every request queued, so the first sender to
    # take the lock stores all 21 in one transaction.
    with writer.lock:
        threads = [threading.Thread(target=send, args=(i,)) for i in range(21)]
        for thread in threads:
            thread.start()
        while writer.queued_requests < len(bodies):
            threading.Event().wait(0.01)
    for thread in threads:
        thread.join()
    good = outcomes[:5] + outcomes[6:]
    stored = database.raw.execute(
        "SELECT count(*) FROM events WHERE event_id LIKE 'alone-%'"
    ).fetchall()[0][0]

    assert "Failed to store 21 event requests in one transaction" in caplog.text
    assert [response["inserted"] for response in good] == [1] * GOOD_REQUESTS
    assert isinstance(outcomes[5], InputError)
    assert "Nothing of this request was stored" in str(outcomes[5])
    assert stored == GOOD_REQUESTS


def test_lone_request_failure_is_input_error(workspace, database):
    writer = EventWriter(database, workspace, threading.Lock())

    with pytest.raises(InputError) as raised:
        writer.submit([{**BAD_BODY[0], "partner_id": "P3"}], "key-1")
    rows = database.raw.execute("SELECT count(*) FROM events").fetchall()[0][0]

    assert "surrogates not allowed" in str(raised.value)
    assert rows == 0


def test_surrogate_among_concurrent_requests(server):
    # The body is sent as bytes so that the JSON keeps its \ud800 escape.
    bad = (
        b'[{"occurred_at": "2024-01-08", "action": "viewed\\ud800", '
        b'"partner_id": "P3"}]'
    )
    barrier = threading.Barrier(GOOD_REQUESTS + 1, timeout=60)

    def send(index: int) -> httpx.Response:
        with server.client("ingest") as client:
            barrier.wait()
            if index == GOOD_REQUESTS:
                headers = {"content-type": "application/json"}
                return client.post("/api/v1/events", content=bad, headers=headers)
            return client.post("/api/v1/events", json=good_body("group", index))

    with ThreadPoolExecutor(max_workers=GOOD_REQUESTS + 1) as pool:
        responses = list(pool.map(send, range(GOOD_REQUESTS + 1)))
    with server.client("ingest") as client:
        again = [
            client.post("/api/v1/events", json=good_body("group", number))
            for number in range(GOOD_REQUESTS)
        ]
    rejected = responses[-1].json()["results"][0]

    assert [response.status_code for response in responses] == [200] * 21
    assert [r.json()["inserted"] for r in responses[:-1]] == [1] * GOOD_REQUESTS
    # Sent again, every good event is a duplicate: the first requests stored it.
    assert [r.json()["duplicates"] for r in again] == [1] * GOOD_REQUESTS
    assert rejected["status"] == "rejected"
    assert rejected["field"] == "action"
    assert "\\ud800" in rejected["reason"]


def test_repeat_reason_names_request_index(workspace, database):
    writer = EventWriter(database, workspace, threading.Lock())
    first = good_body("first", 1) + good_body("first", 2)
    repeated = {**good_body("second", 2)[0], "action": "downloaded"}
    second = good_body("second", 1) + good_body("second", 2) + [repeated]
    responses: dict[str, dict] = {}

    def send(name: str, body: list[dict[str, str]]) -> None:
        responses[name] = writer.submit(body, "key-1")

    # Both requests queue while the lock is held, so they share one transaction,
    # where "second-2" is on lines 4 and 5 of the joined rows.
    with writer.lock:
        threads = [
            threading.Thread(target=send, args=("first", first)),
            threading.Thread(target=send, args=("second", second)),
        ]
        for thread in threads:
            thread.start()
        while writer.queued_requests < 2:
            threading.Event().wait(0.01)
    for thread in threads:
        thread.join()
    result = responses["second"]["results"][2]

    assert responses["first"]["batch_id"] == responses["second"]["batch_id"]
    assert result["status"] == "rejected"
    assert result["field"] == "event_id"
    # The first "second-2" has index 1 in its request.
    assert "'second-2' already appears at index 1 of this request" in result["reason"]
