from __future__ import annotations

import uuid

from tests.http.test_service import XAPI_HEADERS, assert_error_shape

VERBS = "http://adlnet.gov/expapi/verbs/"


def statement(**fields: object) -> dict[str, object]:
    return {
        "actor": {"mbox": "mailto:taro@example.jp"},
        "verb": {"id": VERBS + "completed"},
        "object": {"id": "http://example.jp/course/1"},
        **fields,
    }


def test_invalid_timestamp_stores_nothing(server):
    statement_id = "60000000-0000-4000-8000-000000000001"
    bad = statement(id=statement_id, timestamp="2024-02-30T00:00:00Z")
    fixed = statement(id=statement_id, timestamp="2024-02-29T00:00:00Z")

    with server.client("ingest") as client:
        rejected = client.post("/xapi/statements", json=[bad], headers=XAPI_HEADERS)
        corrected = client.post("/xapi/statements", json=fixed, headers=XAPI_HEADERS)
    problem = rejected.json()["error"]["problems"][0]

    assert_error_shape(rejected, 400)
    assert "nothing was stored" in rejected.json()["error"]["message"]
    assert problem["line"] == 1
    assert problem["field"] == "timestamp"
    assert problem["value"] == "2024-02-30T00:00:00Z"
    assert corrected.status_code == 200
    assert corrected.json() == [statement_id]


def test_invalid_statement_rejects_whole_request(server):
    good_id = "60000000-0000-4000-8000-000000000002"
    body = [
        statement(id=good_id, timestamp="2024-03-01T00:00:00Z"),
        statement(timestamp="not a time"),
    ]

    with server.client("admin") as client:
        rejected = client.post("/xapi/statements", json=body, headers=XAPI_HEADERS)
        lookup = client.get(
            "/xapi/statements", params={"statementId": good_id}, headers=XAPI_HEADERS
        )

    assert_error_shape(rejected, 400)
    assert rejected.json()["error"]["problems"][0]["line"] == 2
    assert_error_shape(lookup, 404)


def test_statements_without_id_get_new_ids(server):
    same = statement(timestamp="2024-03-02T00:00:00Z")

    with server.client("ingest") as client:
        first = client.post("/xapi/statements", json=same, headers=XAPI_HEADERS)
        second = client.post("/xapi/statements", json=same, headers=XAPI_HEADERS)
    first_id, second_id = first.json()[0], second.json()[0]

    assert first_id != second_id
    assert uuid.UUID(first_id).version == 4
    assert uuid.UUID(second_id).version == 4


def test_get_with_both_ids_is_400(server):
    params = {
        "statementId": "60000000-0000-4000-8000-000000000003",
        "voidedStatementId": "60000000-0000-4000-8000-000000000004",
    }

    with server.client("read") as client:
        response = client.get("/xapi/statements", params=params, headers=XAPI_HEADERS)

    assert_error_shape(response, 400)
    assert "voidedStatementId" in response.json()["error"]["message"]


def test_xapi_idempotency_key_replays_ids(server):
    # Without ids the service assigns new ones, so only the stored response can give
    # a retry the first ids.
    body = [statement(timestamp="2024-03-03T00:00:00Z")]
    other = [statement(timestamp="2024-03-04T00:00:00Z")]
    headers = {**XAPI_HEADERS, "Idempotency-Key": "xapi-retry-0001"}

    with server.client("ingest") as client:
        first = client.post("/xapi/statements", json=body, headers=headers)
        again = client.post("/xapi/statements", json=body, headers=headers)
        reused = client.post("/xapi/statements", json=other, headers=headers)

    assert first.status_code == 200
    assert again.json() == first.json()
    assert_error_shape(reused, 422)


def test_xapi_put_idempotency_key(server):
    params = {"statementId": "60000000-0000-4000-8000-000000000005"}
    body = statement(timestamp="2024-03-05T00:00:00Z")
    headers = {**XAPI_HEADERS, "Idempotency-Key": "xapi-put-0001"}

    with server.client("ingest") as client:
        first = client.put(
            "/xapi/statements", params=params, json=body, headers=headers
        )
        again = client.put(
            "/xapi/statements", params=params, json=body, headers=headers
        )

    assert first.status_code == 204
    assert again.status_code == 204


def test_segment_idempotency_key_replays(server):
    # Without the key, the retry would get "duplicate"; with it, the retry gets
    # the first response, "inserted".
    message = {
        "userId": "idem-1",
        "event": "Saved",
        "timestamp": "2024-03-06T00:00:00Z",
    }
    other = {**message, "event": "Deleted"}
    headers = {"Idempotency-Key": "segment-retry-0001"}

    with server.client("ingest") as client:
        first = client.post("/v1/track", json=message, headers=headers)
        again = client.post("/v1/track", json=message, headers=headers)
        reused = client.post("/v1/track", json=other, headers=headers)
        batch = client.post(
            "/v1/batch",
            json={"batch": [{**message, "type": "track"}]},
            headers=headers,
        )

    assert first.json()["results"][0]["status"] == "inserted"
    assert again.json() == first.json()
    assert_error_shape(reused, 422)
    # A key is scoped to the API key and the endpoint, so another endpoint's
    # request with that key and another body is no reuse.
    assert batch.status_code == 200


def test_segment_idempotency_key_replays_400(server):
    message = {"userId": "idem-2", "timestamp": "2024-03-07T00:00:00Z"}
    headers = {"Idempotency-Key": "segment-retry-0002"}

    with server.client("ingest") as client:
        first = client.post("/v1/track", json=message, headers=headers)
        again = client.post("/v1/track", json=message, headers=headers)

    assert_error_shape(first, 400)
    assert again.json() == first.json()
