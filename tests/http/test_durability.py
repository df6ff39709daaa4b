from __future__ import annotations

import os
import signal
import threading
import time

import httpx
from tests.http.conftest import start_server, stop_server

SENDERS = 4
BATCH = 200
# The server is killed once this many batches were acknowledged, while the
# senders keep sending.
KILL_AFTER_BATCHES = 12


def send_until_refused(server, sender, acknowledged, lock, stop):
    """Send batches of new events; record the ids of each acknowledged batch."""
    number = 0
    with httpx.Client(base_url=server.url, timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {server.keys['ingest']}"
        while not stop.is_set():
            ids = [f"s{sender}-b{number}-e{index}" for index in range(BATCH)]
            events = [
                {
                    "event_id": event_id,
                    "occurred_at": "2024-04-01T10:00:00+09:00",
                    "partner_id": f"P{sender}",
                    "action": "viewed",
                }
                for event_id in ids
            ]
            try:
                response = client.post("/api/v1/events", json=events)
            except httpx.TransportError:
                return
            if response.status_code == 200:
                with lock:
                    acknowledged.append(ids)
            number += 1


def test_sigkill_keeps_acknowledged_events(tmp_path):
    server = start_server(tmp_path)
    acknowledged: list[list[str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    senders = [
        threading.Thread(
            target=send_until_refused, args=(server, sender, acknowledged, lock, stop)
        )
        for sender in range(SENDERS)
    ]
    for thread in senders:
        thread.start()
    while len(acknowledged) < KILL_AFTER_BATCHES and server.process.poll() is None:
        time.sleep(0.01)

    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    stop.set()
    for thread in senders:
        thread.join()
    stop_server(server)
    with server.database() as db:
        stored = set(db.query("SELECT event_id FROM events")["event_id"])
    acked = {event_id for batch in acknowledged for event_id in batch}

    assert len(acknowledged) >= KILL_AFTER_BATCHES
    assert acked - stored == set()


def test_identify_and_group_link_events(tmp_path):
    server = start_server(tmp_path)
    auth = (server.keys["ingest"], "")
    with httpx.Client(base_url=server.url, auth=auth) as client:
        client.post(
            "/v1/track",
            json={
                "event": "Onboarding Video Completed",
                "anonymousId": "anon-7",
                "messageId": "m-1",
                "timestamp": "2024-06-01T10:00:00+09:00",
            },
        )
        client.post("/v1/identify", json={"userId": "u-7", "anonymousId": "anon-7"})
        client.post("/v1/group", json={"userId": "u-7", "groupId": "P7"})
        client.post(
            "/v1/page",
            json={
                "userId": "u-7",
                "name": "Pricing",
                "timestamp": "2024-06-02T10:00:00+09:00",
            },
        )
    stop_server(server)

    with server.database() as db:
        events = db.query(
            "SELECT user_id, partner_id, action FROM events ORDER BY occurred_at"
        )
        users = db.query("SELECT user_id, partner_id FROM users")

    # The track call came before identify and group, and is linked all the same.
    assert events["user_id"].tolist() == ["u-7", "u-7"]
    assert events["partner_id"].tolist() == ["P7", "P7"]
    assert events["action"].tolist() == ["onboarding_video_completed", "viewed"]
    assert users.values.tolist() == [["u-7", "P7"]]
