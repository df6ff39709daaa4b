from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from tests.http.conftest import start_server, stop_server
from tests.http.test_service import XAPI_HEADERS, assert_error_shape

PROBLEM_KEYS = {"file", "line", "field", "value", "reason"}
SENDERS = 6


def post_together(server, body, senders):
    """POST ``body`` to /api/v1/events from ``senders`` threads released at once."""
    barrier = threading.Barrier(senders, timeout=60)

    def send(_: int) -> httpx.Response:
        with server.client("ingest") as client:
            barrier.wait()
            return client.post("/api/v1/events", json=body)

    with ThreadPoolExecutor(max_workers=senders) as pool:
        return list(pool.map(send, range(senders)))


def test_concurrent_same_request_stored_once(tmp_path):
    # Two distinct events and a third identical to the first: a request counts
    # identical rows as separate occurrences, so one request contains 3 events.
    first = {
        "occurred_at": "2024-07-01T10:00:00+09:00",
        "partner_id": "P5",
        "action": "downloaded",
    }
    second = {**first, "action": "viewed"}
    body = [first, second, first]
    server = start_server(tmp_path)
    try:
        responses = post_together(server, body, SENDERS)
        again = post_together(server, body, SENDERS)
    finally:
        stop_server(server)
    with server.database() as db:
        stored = db.raw.execute("SELECT count(*) FROM events").fetchall()[0][0]
    inserted = sum(response.json()["inserted"] for response in responses + again)

    assert {response.status_code for response in responses + again} == {200}
    # Twelve requests of one body store its 3 events once.
    assert inserted == 3
    assert stored == 3


def test_idempotency_key_other_body_is_422(server):
    events = [
        {
            "occurred_at": "2024-07-02T09:00:00+09:00",
            "partner_id": "P6",
            "action": "viewed",
        }
    ]
    other = [{**events[0], "action": "downloaded"}]
    headers = {"Idempotency-Key": "key-reused-0001"}

    with server.client("ingest") as client:
        first = client.post("/api/v1/events", json=events, headers=headers)
        reused = client.post("/api/v1/events", json=other, headers=headers)
        same = client.post("/api/v1/events", json=events, headers=headers)

    assert first.json()["inserted"] == 1
    assert_error_shape(reused, 422)
    assert "Idempotency-Key" in reused.json()["error"]["message"]
    assert same.json() == first.json()


def test_unknown_partner_score_is_404(server):
    with server.client("read") as client:
        response = client.get("/api/v1/partners/P-NOBODY/score")

    assert_error_shape(response, 404)
    assert "'P-NOBODY'" in response.json()["error"]["message"]


def test_docs_pages_are_off(server):
    docs = httpx.get(f"{server.url}/docs")
    redoc = httpx.get(f"{server.url}/redoc")
    schema = httpx.get(f"{server.url}/openapi.json")

    assert_error_shape(docs, 404)
    assert_error_shape(redoc, 404)
    assert schema.status_code == 200


def test_xapi_stored_statement_gets_lrs_fields(server):
    statement = {
        "actor": {"mbox": "mailto:aiko@osaka-partners.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example/courses/pricing"},
    }

    with server.client() as client:
        posted = client.post("/xapi/statements", json=statement, headers=XAPI_HEADERS)
        statement_id = posted.json()[0]
        fetched = client.get(
            "/xapi/statements",
            params={"statementId": statement_id},
            headers=XAPI_HEADERS,
        )
        again = client.post("/xapi/statements", json=statement, headers=XAPI_HEADERS)
    body = fetched.json()

    assert fetched.status_code == 200
    assert body["id"] == statement_id
    assert body["stored"].endswith("Z")
    # xAPI 1.0.3: a statement without a timestamp gets the time it was stored.
    assert body["timestamp"] == body["stored"]
    assert body["authority"]["objectType"] == "Agent"
    assert "name" in body["authority"]["account"]
    # Sent again without an id, it is a second statement: xAPI 1.0.3 has the LRS
    # assign each statement without an id a new UUID.
    assert again.status_code == 200
    assert again.json() != [statement_id]


def test_segment_problems_have_common_keys(server):
    with httpx.Client(base_url=server.url, auth=(server.keys["ingest"], "")) as client:
        response = client.post("/v1/track", json={"event": "Viewed"})
    problem = response.json()["error"]["problems"][0]

    assert_error_shape(response, 400)
    assert set(problem) == PROBLEM_KEYS | {"index"}
    assert problem["index"] == 0
    assert problem["line"] == 1


def test_validation_problems_have_common_keys(server):
    with server.client("ingest") as client:
        response = client.put("/xapi/statements", json={}, headers=XAPI_HEADERS)
    problem = response.json()["error"]["problems"][0]

    assert_error_shape(response, 422)
    assert set(problem) == PROBLEM_KEYS


def test_413_body_matches_other_errors(server):
    events = [{"occurred_at": "2024-04-01", "partner_id": "P1", "action": "x" * 1000}]

    with server.client("ingest") as client:
        too_large = client.post("/api/v1/events", json=events * 300)
        invalid = client.post("/api/v1/events", content=b"[{")

    assert_error_shape(too_large, 413)
    assert too_large.headers["content-type"] == invalid.headers["content-type"]
    # JSONResponse writes compact JSON; the 413 body is written the same way.
    assert b'{"error":{"message":' in too_large.content
