"""Load benchmark of the event intake: HTTP batches over loopback against straight
DuckDB inserts of the same rows.

Run from the repository root:

    .venv/bin/python benchmarks/intake_load.py [--events 200000] [--batch 500]
        [--clients 8]

It creates a workspace in a temporary folder, starts ``partnerlift serve`` on a free
127.0.0.1 port, sends pre-encoded batches of canonical events from concurrent
clients (asyncio + httpx in this process) and reports events per second and the
p50 and p99 request latency. Then it inserts the same rows into a fresh DuckDB
table, one transaction per batch and all at once, and reports their rates. Every
event has its own id, so all are stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx
import pyarrow as pa

from partnerlift.interfaces.http.apikeys import create_key
from partnerlift.settings import create_workspace

ACTIONS = ("viewed", "downloaded", "completed", "logged_in")


def make_batches(events: int, batch: int) -> list[list[dict[str, object]]]:
    """Return ``events`` canonical events in batches of ``batch``."""
    rows = [
        {
            "event_id": f"bench-{number}",
            "occurred_at": f"2024-04-{1 + number % 28:02d}T{number % 24:02d}:00+09:00",
            "partner_id": f"P{number % 500:04d}",
            "user_id": f"U{number % 5000:05d}",
            "action": ACTIONS[number % len(ACTIONS)],
            "asset_id": f"A{number % 40:03d}",
            "page": str(number % 12),
        }
        for number in range(events)
    ]
    return [rows[start : start + batch] for start in range(0, events, batch)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path) -> tuple[subprocess.Popen, str, str]:
    workspace = create_workspace(root / "ws", timezone="Asia/Tokyo", locale="en")
    key = create_key(workspace, "ingest", "benchmark")[1]
    port = free_port()
    log = root / "server.log"
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
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(900):
        if process.poll() is not None:
            raise RuntimeError(f"The server stopped:\n{log.read_text()}")
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            return process, url, key
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(
        f"The server did not start within 90 seconds:\n{log.read_text()}"
    )


async def send_all(
    url: str, key: str, bodies: list[bytes], clients: int
) -> tuple[float, list[float]]:
    """Send every body from ``clients`` concurrent connections; return the wall
    time and each request's latency in seconds."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    async def client_loop() -> None:
        async with httpx.AsyncClient(
            base_url=url, headers=headers, timeout=120
        ) as client:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post("/api/v1/events", content=body)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return time.perf_counter() - started, latencies


def insert_direct(batches: list[list[dict[str, object]]]) -> tuple[float, float]:
    """Insert the rows into a fresh DuckDB events table; return the events per
    second of one transaction per batch and of one insert of every row."""
    schema = (
        "CREATE TABLE events (event_id VARCHAR PRIMARY KEY, occurred_at TIMESTAMP, "
        "partner_id VARCHAR, user_id VARCHAR, action VARCHAR, asset_id VARCHAR, "
        "properties MAP(VARCHAR, VARCHAR))"
    )
    tables = [
        pa.table(
            {
                "event_id": [row["event_id"] for row in batch],
                "occurred_at": [str(row["occurred_at"])[:19] for row in batch],
                "partner_id": [row["partner_id"] for row in batch],
                "user_id": [row["user_id"] for row in batch],
                "action": [row["action"] for row in batch],
                "asset_id": [row["asset_id"] for row in batch],
                "page": [row["page"] for row in batch],
            }
        )
        for batch in batches
    ]
    total = sum(table.num_rows for table in tables)
    rates = []
    for one_go in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            connection = duckdb.connect(str(Path(folder) / "direct.duckdb"))
            connection.execute(schema)
            started = time.perf_counter()
            parts = [pa.concat_tables(tables)] if one_go else tables
            for part in parts:
                connection.register("incoming", part)
                connection.execute(
                    "INSERT INTO events SELECT event_id, occurred_at::TIMESTAMP, "
                    "partner_id, user_id, action, asset_id, MAP {'page': page} "
                    "FROM incoming"
                )
                connection.unregister("incoming")
            rates.append(total / (time.perf_counter() - started))
            connection.close()
    return rates[0], rates[1]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events in all")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    args = parser.parse_args()

    batches = make_batches(args.events, args.batch)
    bodies = [json.dumps(batch).encode() for batch in batches]
    with tempfile.TemporaryDirectory() as folder:
        process, url, key = start_server(Path(folder))
        try:
            wall, latencies = asyncio.run(send_all(url, key, bodies, args.clients))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    direct_batches, direct_once = insert_direct(batches)

    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"machine: {machine()}")
    print(
        f"{args.events:,} events in batches of {args.batch} from {args.clients} clients"
    )
    print(f"HTTP /api/v1/events: {args.events / wall:,.0f} events/s")
    median = statistics.median(latencies)
    print(f"  latency per request: p50 {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    print(f"DuckDB insert, one transaction per batch: {direct_batches:,.0f} events/s")
    print(f"DuckDB insert, all rows at once: {direct_once:,.0f} events/s")


if __name__ == "__main__":
    main()
