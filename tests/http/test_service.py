from __future__ import annotations

import json

import httpx
from tests.conftest import SHARED_DATA

XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}
SEGMENT = SHARED_DATA / "segment_spec_examples" / "segment_spec_payloads.jsonl"
XAPI = SHARED_DATA / "xapi_spec_examples" / "xapi_spec_statements.jsonl"


def assert_error_shape(response, status):
    body = response.json()
    assert response.status_code == status
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "problems", "status"}
    assert body["error"]["status"] == status


def test_events_get_result_per_item(server):
    events = [
        {
            "event_id": "e-1",
            "occurred_at": "2024-04-01T10:00:00+09:00",
            "partner_id": "P9",
            "action": "viewed",
            "properties": {"page": 3},
        },
        {
            "event_id": "e-2",
            "occurred_at": "not a date",
            "partner_id": "P9",
            "action": "viewed",
        },
        "not an object",
        {"event_id": "e-3", "occurred_at": "2024-04-02", "partner_id": "P9"},
    ]

    with server.client("ingest") as client:
        response = client.post("/api/v1/events", json=events)
    body = response.json()
    statuses = [item["status"] for item in body["results"]]

    assert response.status_code == 200
    assert statuses == ["inserted", "rejected", "rejected", "rejected"]
    assert body["results"][1]["field"] == "occurred_at"
    assert body["results"][3]["field"] == "action"
    assert body["read"] == 4
    assert body["inserted"] == 1


def test_retried_request_adds_nothing(server):
    events = [
        {
            "occurred_at": "2024-04-03T09:00:00+09:00",
            "partner_id": "P8",
            "action": "downloaded",
        },
        {
            "occurred_at": "2024-04-03T09:05:00+09:00",
            "partner_id": "P8",
            "action": "viewed",
        },
    ]
    headers = {"Idempotency-Key": "batch-0001"}

    with server.client("ingest") as client:
        first = client.post("/api/v1/events", json=events, headers=headers)
        retried = client.post("/api/v1/events", json=events, headers=headers)
        again = client.post("/api/v1/events", json=events)

    assert first.json()["inserted"] == 2
    # The same key returns the first response unchanged.
    assert retried.json() == first.json()
    # Without the key, the derived event ids still make both duplicates.
    assert again.json()["duplicates"] == 2
    assert again.json()["inserted"] == 0


def test_missing_key_is_401(server):
    response = httpx.post(f"{server.url}/api/v1/events", json=[])

    assert_error_shape(response, 401)
    assert "partnerlift keys create" in response.json()["error"]["message"]


def test_invalid_key_is_401(server):
    response = httpx.post(
        f"{server.url}/api/v1/events",
        json=[],
        headers={"Authorization": "Bearer pl_000000000000_notakeynotakeynotakey"},
    )

    assert_error_shape(response, 401)


def test_read_key_cannot_ingest(server):
    with server.client("read") as client:
        response = client.post("/api/v1/events", json=[])

    assert_error_shape(response, 403)
    assert "'read'" in response.json()["error"]["message"]


def test_partner_key_sees_own_score_only(server):
    event = {
        "event_id": "p1-first",
        "occurred_at": "2024-04-01T09:00:00",
        "partner_id": "P1",
        "action": "viewed",
    }
    with server.client("ingest") as client:
        client.post("/api/v1/events", json=[event])

    with server.client("partner:P1") as client:
        own = client.get("/api/v1/partners/P1/score")
        other = client.get("/api/v1/partners/P2/score")

    assert own.status_code == 200
    assert own.json()["partner_id"] == "P1"
    assert_error_shape(other, 403)


def test_monthly_logins_score(server):
    logins = [
        {
            "event_id": f"login-{day}",
            "occurred_at": f"2024-05-{day:02d}T09:00:00",
            "partner_id": "P1",
            "action": "logged_in",
        }
        for day in (7, 14, 21)
    ]
    with server.client("ingest") as client:
        client.post("/api/v1/events", json=logins)

    with server.client("partner:P1") as client:
        response = client.get(
            "/api/v1/partners/P1/score", params={"as_of": "2024-05-31"}
        )
    body = response.json()

    # Three logins in May meet the default rule "3 or more portal logins in a
    # month" (10 points); no other rule matches events without assets.
    assert response.status_code == 200
    assert body["score"] == 10
    assert body["rules"]["monthly_logins"] == 10


def test_oversized_body_is_413(server):
    events = [{"occurred_at": "2024-04-01", "partner_id": "P1", "action": "x" * 1000}]

    with server.client("ingest") as client:
        response = client.post("/api/v1/events", json=events * 300)

    assert_error_shape(response, 413)
    assert "200,000 bytes" in response.json()["error"]["message"]


def test_too_many_items_is_413(server):
    events = [{"occurred_at": "2024-04-01", "partner_id": "P1", "action": "v"}] * 501

    with server.client("ingest") as client:
        response = client.post("/api/v1/events", json=events)

    assert_error_shape(response, 413)
    assert "limit of 500" in response.json()["error"]["message"]


def test_invalid_json_is_400(server):
    with server.client("ingest") as client:
        response = client.post("/api/v1/events", content=b"[{")

    assert_error_shape(response, 400)


def test_validation_error_has_same_shape(server):
    with server.client("ingest") as client:
        response = client.put("/xapi/statements", json={}, headers=XAPI_HEADERS)

    assert_error_shape(response, 422)
    assert response.json()["error"]["problems"][0]["field"] == "query.statementId"


def test_unknown_path_has_same_shape(server):
    with server.client() as client:
        response = client.get("/api/v1/nothing")

    assert_error_shape(response, 404)


def test_openapi_lists_endpoints(server):
    response = httpx.get(f"{server.url}/openapi.json")
    paths = response.json()["paths"]

    assert response.status_code == 200
    for path in ("/api/v1/events", "/xapi/statements", "/v1/batch", "/v1/track"):
        assert path in paths


def load_segment():
    return [json.loads(line) for line in SEGMENT.read_text().splitlines() if line]


def expected_segment_status(message):
    """The outcome each message should get, from the Segment spec's rules."""
    kind = message.get("type")
    if kind not in {"track", "page", "screen", "identify", "alias", "group"}:
        return "rejected"
    if not (message.get("userId") or message.get("anonymousId")):
        return "rejected"
    required = {"track": "event", "group": "groupId", "alias": "previousId"}
    if kind in required and not message.get(required[kind]):
        return "rejected"
    return "event" if kind in {"track", "page", "screen"} else "linked"


def test_segment_spec_payloads_import(server):
    messages = load_segment()
    expected = [expected_segment_status(message) for message in messages]
    event_ids = [
        message.get("messageId")
        for message, status in zip(messages, expected, strict=True)
        if status == "event"
    ]
    given = [message_id for message_id in event_ids if message_id]
    # A repeated messageId is the same message sent again.
    repeated = len(given) - len(set(given))

    with server.client("ingest") as client:
        response = client.post("/v1/batch", json={"batch": messages})
    statuses = [item["status"] for item in response.json()["results"]]

    assert response.status_code == 200
    assert statuses.count("rejected") == expected.count("rejected")
    assert statuses.count("linked") + statuses.count("ignored") == expected.count(
        "linked"
    )
    assert statuses.count("inserted") == len(event_ids) - repeated
    assert statuses.count("duplicate") == repeated


def test_identify_links_earlier_events(server):
    track = {
        "event": "Proposal Template Downloaded",
        "anonymousId": "anon-42",
        "messageId": "seg-track-42",
        "timestamp": "2024-06-01T10:00:00+09:00",
    }
    identify = {"userId": "user-42", "anonymousId": "anon-42", "messageId": "seg-id-42"}
    group = {"userId": "user-42", "groupId": "P42", "messageId": "seg-group-42"}
    auth = (server.keys["ingest"], "")

    with httpx.Client(base_url=server.url, auth=auth) as client:
        tracked = client.post("/v1/track", json=track)
        identified = client.post("/v1/identify", json=identify)
        grouped = client.post("/v1/group", json=group)
        later = client.post(
            "/v1/page",
            json={
                "userId": "user-42",
                "name": "Pricing",
                "messageId": "seg-page-42",
                "timestamp": "2024-06-02T10:00:00+09:00",
            },
        )

    assert tracked.json()["results"][0]["status"] == "inserted"
    assert identified.json()["results"][0]["status"] == "linked"
    assert grouped.json()["results"][0]["status"] == "linked"
    assert later.json()["results"][0]["status"] == "inserted"


def test_segment_track_without_user_is_400(server):
    with httpx.Client(base_url=server.url, auth=(server.keys["ingest"], "")) as client:
        response = client.post("/v1/track", json={"event": "Viewed"})

    assert_error_shape(response, 400)
    assert "userId" in response.json()["error"]["message"]


def test_xapi_statements_store_and_read(server):
    statements = [json.loads(line) for line in XAPI.read_text().splitlines() if line]
    valid = [
        s for s in statements if s.get("objectType") != "SubStatement" and "id" in s
    ]
    distinct = {s["id"]: s for s in valid}

    with server.client() as client:
        stored = client.post(
            "/xapi/statements", json=list(distinct.values()), headers=XAPI_HEADERS
        )
        fetched = client.get(
            "/xapi/statements",
            params={"statementId": next(iter(distinct))},
            headers=XAPI_HEADERS,
        )

    assert stored.status_code == 200
    assert stored.json() == list(distinct)
    assert stored.headers["X-Experience-API-Version"] == "1.0.3"
    assert fetched.json()["id"] == next(iter(distinct))


def test_xapi_conflicting_statement_is_409(server):
    statement = {
        "id": "0b9e4e77-6a2c-4b1e-9a57-3f5d8c2e1a00",
        "actor": {"mbox": "mailto:ken@tokyo-solutions.example"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example/courses/onboarding"},
    }
    changed = {**statement, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}

    with server.client("ingest") as client:
        first = client.put(
            "/xapi/statements",
            params={"statementId": statement["id"]},
            json=statement,
            headers=XAPI_HEADERS,
        )
        same = client.post("/xapi/statements", json=statement, headers=XAPI_HEADERS)
        conflict = client.post("/xapi/statements", json=changed, headers=XAPI_HEADERS)

    assert first.status_code == 204
    assert same.status_code == 200
    assert_error_shape(conflict, 409)


def test_xapi_needs_version_header(server):
    with server.client("ingest") as client:
        response = client.post("/xapi/statements", json={})

    assert_error_shape(response, 400)
    assert "X-Experience-API-Version" in response.json()["error"]["message"]


def test_xapi_invalid_statement_stores_nothing(server):
    statements = [
        {
            "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://lms.example/a"},
        },
        {"objectType": "SubStatement", "actor": {}, "verb": {}, "object": {}},
    ]

    with server.client("ingest") as client:
        response = client.post(
            "/xapi/statements", json=statements, headers=XAPI_HEADERS
        )

    assert_error_shape(response, 400)
    assert response.json()["error"]["problems"][0]["line"] == 2


def test_database_command_while_serving_explains(server):
    from typer.testing import CliRunner

    from partnerlift.interfaces.cli import app

    result = CliRunner().invoke(app, ["--workspace", str(server.workspace), "imports"])

    # Rich wraps the message on stderr; compare it as one line.
    message = " ".join(result.stderr.split())

    assert result.exit_code == 1
    assert f"in use by another process (PID {server.process.pid})" in message
    assert "such as 'partnerlift serve' or another import" in message
    assert "send data to a running server, use its HTTP API" in message
