from __future__ import annotations

import json
import sqlite3
from contextlib import closing

from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.interfaces.http.apikeys import authenticate


def run(workspace, *arguments):
    return CliRunner().invoke(app, ["--workspace", str(workspace.root), *arguments])


def test_create_prints_key_alone(workspace):
    result = run(workspace, "keys", "create", "--scope", "ingest", "--label", "LMS")

    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("pl_")


def test_only_hash_is_stored(workspace):
    key = run(workspace, "keys", "create", "--scope", "read").stdout.strip()

    with closing(sqlite3.connect(workspace.keys_path)) as connection:
        stored = connection.execute("SELECT * FROM api_keys").fetchall()
    found = authenticate(workspace, key)

    assert len(stored) == 1
    assert key not in {str(value) for value in stored[0]}
    assert found is not None
    assert found.scope == "read"


def test_list_shows_scopes_not_keys(workspace):
    key = run(workspace, "keys", "create", "--scope", "partner:P0001").stdout.strip()

    result = run(workspace, "keys", "list", "--format", "json")
    keys = json.loads(result.stdout)

    assert result.exit_code == 0
    assert [entry["scope"] for entry in keys] == ["partner:P0001"]
    assert key not in result.stdout


def test_revoked_key_authenticates_nothing(workspace):
    key = run(workspace, "keys", "create", "--scope", "admin").stdout.strip()
    key_id = key.split("_")[1]

    result = run(workspace, "keys", "revoke", key_id)
    found = authenticate(workspace, key)

    assert result.exit_code == 0
    assert found is None


def test_invalid_scope_is_rejected(workspace):
    result = run(workspace, "keys", "create", "--scope", "write")

    assert result.exit_code == 1
    assert "Invalid scope 'write'" in result.stderr


def test_unknown_key_revoke_fails(workspace):
    result = run(workspace, "keys", "revoke", "000000000000")

    assert result.exit_code == 1
    assert "not found" in result.stderr


def test_unreadable_keys_file_explains(workspace):
    workspace.keys_path.write_bytes(b"not a SQLite file, " * 100)

    result = run(workspace, "keys", "list")
    message = " ".join(result.stderr.split())

    assert result.exit_code == 1
    assert "Cannot read the keys file" in message
    assert "Traceback" not in result.output
