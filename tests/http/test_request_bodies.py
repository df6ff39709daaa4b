from __future__ import annotations

import gzip
import json

from tests.http.test_service import XAPI_HEADERS, assert_error_shape

JSON = {"content-type": "application/json"}


def test_events_surrogate_rejects_item(server):
    body = (
        b'[{"occurred_at": "2024-01-09", "action": "viewed", "partner_id": "P3", '
        b'"properties": {"page": "x\\udc00"}},'
        b' {"occurred_at": "2024-01-09", "action": "viewed", "partner_id": "P3"}]'
    )

    with server.client("ingest") as client:
        response = client.post("/api/v1/events", content=body, headers=JSON)
    results = response.json()["results"]

    assert response.status_code == 200
    assert results[0]["status"] == "rejected"
    assert results[0]["field"] == "properties.page"
    assert "lone UTF-16 surrogate (\\udc00)" in results[0]["reason"]
    assert results[1]["status"] == "inserted"
    assert response.json()["rejected"] == 1


def test_surrogate_with_idempotency_key(server):
    body = b'[{"occurred_at": "2024-01-09", "action": "a\\ud800", "partner_id": "P3"}]'
    headers = {**JSON, "Idempotency-Key": "surrogate-0001"}

    with server.client("ingest") as client:
        first = client.post("/api/v1/events", content=body, headers=headers)
        again = client.post("/api/v1/events", content=body, headers=headers)

    assert first.status_code == 200
    assert first.json()["results"][0]["field"] == "action"
    assert again.json() == first.json()


def test_segment_batch_surrogate_per_message(server):
    body = (
        b'{"batch": [{"type": "track", "userId": "u\\ud800", "event": "Viewed"}, '
        b'{"type": "track", "userId": "seg-1", "event": "Viewed", '
        b'"timestamp": "2024-01-09T00:00:00Z"}]}'
    )

    with server.client("ingest") as client:
        response = client.post("/v1/batch", content=body, headers=JSON)
    results = response.json()["results"]

    assert response.status_code == 200
    assert results[0] == {
        "index": 0,
        "status": "rejected",
        "field": "userId",
        "reason": results[0]["reason"],
    }
    assert results[1]["index"] == 1
    assert results[1]["status"] == "inserted"


def test_segment_track_surrogate_is_400(server):
    body = b'{"userId": "seg-1", "event": "Viewed", "properties": {"k": "\\udfff"}}'

    with server.client("ingest") as client:
        response = client.post("/v1/track", content=body, headers=JSON)
    problem = response.json()["error"]["problems"][0]

    assert_error_shape(response, 400)
    assert problem["field"] == "properties.k"
    assert "\\udfff" in response.json()["error"]["message"]


def test_xapi_surrogate_is_400(server):
    statement = (
        b'{"actor": {"mbox": "mailto:a@example.jp"}, '
        b'"verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, '
        b'"object": {"id": "http://example.jp/\\ud800"}}'
    )
    headers = {**JSON, **XAPI_HEADERS}

    with server.client("ingest") as client:
        posted = client.post("/xapi/statements", content=statement, headers=headers)
        put = client.put(
            "/xapi/statements",
            params={"statementId": "50000000-0000-4000-8000-000000000001"},
            content=statement,
            headers=headers,
        )
    problem = posted.json()["error"]["problems"][0]

    assert_error_shape(posted, 400)
    assert problem["line"] == 1
    assert problem["field"] == "object.id"
    assert_error_shape(put, 400)


def test_segment_gzip_body_is_read(server):
    message = {
        "type": "track",
        "userId": "gz-1",
        "event": "Zipped",
        "timestamp": "2024-01-10T00:00:00Z",
    }
    body = gzip.compress(json.dumps({"batch": [message]}).encode())
    headers = {**JSON, "Content-Encoding": "gzip"}

    with server.client("ingest") as client:
        response = client.post("/v1/batch", content=body, headers=headers)

    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "inserted"


def test_gzip_over_limit_once_decompressed(server):
    # The server's limit is 200,000 bytes: 300,000 spaces of JSON padding compress
    # to well under it and decompress to over it.
    text = '{"userId": "gz-1", "event": "Big"' + " " * 300_000 + "}"
    headers = {**JSON, "Content-Encoding": "gzip"}

    with server.client("ingest") as client:
        response = client.post(
            "/v1/track", content=gzip.compress(text.encode()), headers=headers
        )

    assert_error_shape(response, 413)
    assert "200,000 bytes" in response.json()["error"]["message"]


def test_gzip_header_on_plain_body(server):
    body = json.dumps({"userId": "gz-1", "event": "Plain"}).encode()
    headers = {**JSON, "Content-Encoding": "gzip"}

    with server.client("ingest") as client:
        response = client.post("/v1/track", content=body, headers=headers)

    assert_error_shape(response, 400)
    assert "not valid gzip" in response.json()["error"]["message"]


def test_truncated_gzip_is_400(server):
    body = gzip.compress(json.dumps({"userId": "gz-1", "event": "Cut"}).encode())
    headers = {**JSON, "Content-Encoding": "gzip"}

    with server.client("ingest") as client:
        response = client.post("/v1/track", content=body[:-8], headers=headers)

    assert_error_shape(response, 400)
    assert "ends early" in response.json()["error"]["message"]


def test_other_content_encoding_is_415(server):
    headers = {**JSON, "Content-Encoding": "br"}

    with server.client("ingest") as client:
        response = client.post("/v1/track", content=b"{}", headers=headers)

    assert_error_shape(response, 415)


def test_basic_auth_key_as_password(server):
    key = server.keys["read"]
    path = "/api/v1/partners/P-NOBODY/score"

    with server.client("read") as client:
        client.headers.pop("Authorization")
        as_password = client.get(path, auth=("anyone", key))
        as_user = client.get(path, auth=(key, ""))
        wrong = client.get(path, auth=(key, "not-a-key"))

    # 404 for the unknown partner means the key was accepted.
    assert_error_shape(as_password, 404)
    assert_error_shape(as_user, 404)
    # A non-empty password is the key, so a wrong one is rejected.
    assert_error_shape(wrong, 401)
