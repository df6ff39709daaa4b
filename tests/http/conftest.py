from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.interfaces.http.apikeys import create_key
from partnerlift.settings import open_workspace
from partnerlift.store import Database

# The server imports pandas, Ibis and FastAPI before it listens; allow for a slow
# machine.
STARTUP_SECONDS = 90


@dataclass
class Server:
    """A running ``partnerlift serve`` process and the keys made for it."""

    process: subprocess.Popen
    url: str
    workspace: Path
    keys: dict[str, str]
    log: Any

    def client(self, scope: str = "admin") -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.keys[scope]}"},
            timeout=60,
        )

    def database(self) -> Database:
        """Open the workspace database; the server must be stopped first."""
        return Database(self.workspace / "partnerlift.duckdb")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SCOPES = ("admin", "ingest", "read", "partner:P1")


def start_server(root: Path, *extra: str, scopes: tuple[str, ...] = SCOPES) -> Server:
    """Start a server on the workspace ``root / "ws"``, created if missing, with a
    new key for each of ``scopes``."""
    initialised = CliRunner().invoke(
        app, ["init", str(root / "ws"), "--timezone", "Asia/Tokyo", "--locale", "en"]
    )
    assert initialised.exit_code == 0, initialised.output
    workspace = open_workspace(root / "ws")
    keys = {}
    for scope in scopes:
        keys[scope] = create_key(workspace, scope)[1]
    port = free_port()
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "partnerlift",
            "--workspace",
            str(workspace.root),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise RuntimeError((root / "server.log").read_text())
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        process.wait()
        log.close()
        raise RuntimeError("The server did not start in time.")
    return Server(process, url, workspace.root, keys, log)


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
    server.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server on a free loopback port with small limits, stopped after the
    module's tests."""
    running = start_server(
        tmp_path_factory.mktemp("server"),
        "--max-body-bytes",
        "200000",
        "--max-items",
        "500",
    )
    yield running
    stop_server(running)
