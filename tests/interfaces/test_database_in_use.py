"""A second process that opens a locked workspace database gets a clear error."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime

from partnerlift.settings import create_workspace
from partnerlift.store import Database

# Rich wraps stderr at 80 columns when it is not a terminal; a wide console keeps
# each message on one line.
WIDE = {**os.environ, "COLUMNS": "1000"}


def run_cli(workspace, *arguments):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "partnerlift",
            "--workspace",
            str(workspace.root),
            *arguments,
        ],
        capture_output=True,
        text=True,
        env=WIDE,
        timeout=300,
        check=False,
    )


def test_locked_database_error_names_pid(database, workspace):
    # This test process has the file open through the database fixture.
    script = (
        "import sys\n"
        "from partnerlift.errors import DatabaseInUseError\n"
        "from partnerlift.store import Database\n"
        "try:\n"
        "    Database(sys.argv[1])\n"
        "except DatabaseInUseError as error:\n"
        "    print(error.pid)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script, str(workspace.database_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(os.getpid())


def test_cli_on_locked_database_explains(database, workspace):
    result = run_cli(workspace, "imports")
    message = " ".join(result.stderr.split())

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{str(workspace.database_path)!r}" in message
    assert f"in use by another process (PID {os.getpid()})" in message
    assert "such as 'partnerlift serve' or another import" in message
    assert "Wait for that process to finish, or stop it" in message
    assert "send data to a running server, use its HTTP API" in message


def test_cli_on_locked_database_japanese(tmp_path):
    workspace = create_workspace(tmp_path / "ja", timezone="Asia/Tokyo", locale="ja")

    with Database(workspace.database_path):
        result = run_cli(workspace, "imports")
    message = "".join(result.stderr.split())

    assert result.returncode == 1
    assert f"別のプロセス(PID{os.getpid()})が使用中です" in message
    assert "'partnerliftserve'や別のインポートなど" in message
    assert "そのプロセスの終了を待つか、停止してから" in message


def test_keys_work_on_locked_database(database, workspace):
    created = run_cli(workspace, "keys", "create", "--scope", "read")

    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("pl_")


def test_key_copy_waits_for_release(workspace):
    # A key as an older version stored it: in DuckDB, by SHA-256 of the key text.
    key = "pl_0123456789ab_" + "k" * 32
    digest = hashlib.sha256(key.encode()).hexdigest()
    created_at = datetime(2026, 1, 1)

    with Database(workspace.database_path) as db:
        db.raw.execute(
            "INSERT INTO api_keys VALUES (?, ?, 'read', NULL, ?, NULL)",
            ["0123456789ab", digest, created_at],
        )
        while_held = run_cli(workspace, "keys", "list", "--format", "json")
    after_release = run_cli(workspace, "keys", "list", "--format", "json")

    assert while_held.returncode == 0, while_held.stderr
    assert json.loads(while_held.stdout) == []
    assert "not copied" in " ".join(while_held.stderr.split())
    assert after_release.returncode == 0, after_release.stderr
    assert [entry["key_id"] for entry in json.loads(after_release.stdout)] == [
        "0123456789ab"
    ]
