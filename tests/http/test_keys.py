from __future__ import annotations

import json

from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.interfaces.http.apikeys import authenticate
from partnerlift.store import Database


def run(workspace, *arguments):
    return CliRunner().invoke(app, ["--workspace", str(workspace.root), *arguments])


def test_create_prints_key_alone(workspace):
    result = run(workspace, "keys", "create", "--scope", "ingest", "--label", "LMS")

    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("pl_")


def test_only_hash_is_stored(workspace):
    key = run(workspace, "keys", "create", "--scope", "read").stdout.strip()

    with Database(workspace.database_path) as db:
        stored = db.query("SELECT * FROM api_keys").iloc[0]
        found = authenticate(db, key)

    assert key not in {str(value) for value in stored.to_numpy()}
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
    with Database(workspace.database_path) as db:
        found = authenticate(db, key)

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
