"""Keys created, revoked and listed by the CLI while a server runs on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import httpx
import pytest
from tests.http.conftest import Server, start_server, stop_server
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.settings import create_workspace
from partnerlift.store import Database

XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}

# Keys as an older version stored them: in the DuckDB table api_keys, by SHA-256.
UPGRADED_KEY = "pl_0123456789ab_" + "k" * 32
UPGRADED_REVOKED_KEY = "pl_ba9876543210_" + "r" * 32


def run(server: Server, *arguments: str):
    return CliRunner().invoke(app, ["--workspace", str(server.workspace), *arguments])


def read_status(server: Server, key: str) -> int:
    """Return the status of a read request sent with ``key``."""
    response = httpx.get(
        f"{server.url}/xapi/statements",
        headers={**XAPI_HEADERS, "Authorization": f"Bearer {key}"},
        timeout=60,
    )
    return response.status_code


def test_key_created_while_serving_works(server):
    created = run(server, "keys", "create", "--scope", "read", "--label", "new")

    status = read_status(server, created.stdout.strip())

    assert created.exit_code == 0, created.output
    assert status == 200


def test_key_revoked_while_serving_fails(server):
    key = run(server, "keys", "create", "--scope", "read").stdout.strip()
    before = read_status(server, key)

    revoked = run(server, "keys", "revoke", key.split("_")[1])
    after = read_status(server, key)

    assert before == 200
    assert revoked.exit_code == 0, revoked.output
    assert after == 401


def test_revoke_leaves_other_keys_working(server):
    key = run(server, "keys", "create", "--scope", "read").stdout.strip()
    other = run(server, "keys", "create", "--scope", "read").stdout.strip()
    read_status(server, other)

    run(server, "keys", "revoke", key.split("_")[1])
    status = read_status(server, other)

    assert status == 200


def test_keys_list_while_serving(server):
    result = run(server, "keys", "list", "--format", "json")

    scopes = {entry["scope"] for entry in json.loads(result.stdout)}

    assert result.exit_code == 0, result.output
    # The four keys that the server fixture created before starting it.
    assert {"admin", "ingest", "read", "partner:P1"} <= scopes


@pytest.fixture(scope="module")
def upgraded_server(tmp_path_factory):
    """A server on a workspace whose keys are only in the DuckDB table api_keys."""
    root = tmp_path_factory.mktemp("upgraded")
    workspace = create_workspace(root / "ws", timezone="Asia/Tokyo", locale="en")
    rows = [
        ("0123456789ab", UPGRADED_KEY, "read", "LMS", None),
        ("ba9876543210", UPGRADED_REVOKED_KEY, "read", None, datetime(2026, 1, 2)),
    ]
    with Database(workspace.database_path) as db:
        for key_id, key, scope, label, revoked_at in rows:
            db.raw.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?)",
                [
                    key_id,
                    hashlib.sha256(key.encode()).hexdigest(),
                    scope,
                    label,
                    datetime(2026, 1, 1),
                    revoked_at,
                ],
            )
    assert not workspace.keys_path.exists()
    running = start_server(root, scopes=())
    yield running
    stop_server(running)


def test_upgraded_key_still_works(upgraded_server):
    status = read_status(upgraded_server, UPGRADED_KEY)

    assert status == 200


def test_upgraded_revoked_key_stays_revoked(upgraded_server):
    status = read_status(upgraded_server, UPGRADED_REVOKED_KEY)

    assert status == 401


def test_upgraded_keys_listed_while_serving(upgraded_server):
    result = run(upgraded_server, "keys", "list", "--format", "json")

    keys = {entry["key_id"]: entry for entry in json.loads(result.stdout)}

    assert result.exit_code == 0, result.output
    assert set(keys) == {"0123456789ab", "ba9876543210"}
    assert keys["0123456789ab"]["label"] == "LMS"
    assert keys["0123456789ab"]["created_at"] == "2026-01-01T00:00:00.000000"
    assert keys["0123456789ab"]["revoked_at"] is None
    assert keys["ba9876543210"]["revoked_at"] == "2026-01-02T00:00:00.000000"
