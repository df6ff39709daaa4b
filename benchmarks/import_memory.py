"""Peak memory of importing large events CSV files, read in chunks or whole.

Run from the repository root:

    .venv/bin/python benchmarks/import_memory.py [--rows 1000000,3000000,6000000]
        [--chunk 200000] [--whole-up-to 3000000]

For each number of rows, it writes a CSV of canonical events without event ids (so
every id is derived, and every 1,000th row repeats the row before it) to a temporary
folder. It imports the file into a new workspace in a new Python process in chunks
(``import_file(..., chunk_rows=...)``) and, up to ``--whole-up-to`` rows, once more
whole (``read_source`` then ``import_source``), the baseline. Each process prints
its peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and the
time of the import, and the script prints the ratio of the two.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACTIONS = ("viewed", "downloaded", "completed", "logged_in")


def write_events(path: Path, rows: int) -> None:
    """Write ``rows`` events, with every 1,000th row a copy of the row before it."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("occurred_at,partner_id,user_id,action,asset_id,quantity,page\n")
        line = ""
        for number in range(rows):
            if number % 1000 != 999 or not line:
                day = 1 + number % 28
                line = (
                    f"2024-04-{day:02d}T{number % 24:02d}:{number % 60:02d}:00+09:00,"
                    f"P{number % 500:04d},,{ACTIONS[number % 4]},A{number % 97},1,"
                    f"/docs/page-{number}\n"
                )
            handle.write(line)


def run_import(mode: str, path: str, chunk: int, root: str) -> None:
    """Import ``path`` into a new workspace and print the peak RSS as JSON."""
    from partnerlift.ingest import import_file, import_source, read_source
    from partnerlift.settings import create_workspace
    from partnerlift.store import Database

    workspace = create_workspace(Path(root) / mode, timezone="Asia/Tokyo")
    db = Database(workspace.database_path)
    started = time.perf_counter()
    if mode == "chunked":
        result = import_file(db, workspace, "events", path, chunk_rows=chunk)
    else:
        source = read_source(path, locale=workspace.locale)
        result = import_source(db, workspace, "events", source)
    seconds = time.perf_counter() - started
    db.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "mode": mode,
                "read": result.read,
                "inserted": result.inserted,
                "peak_rss_mib": round(peak_kib / 1024),
                "seconds": round(seconds, 1),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,3000000,6000000")
    parser.add_argument("--chunk", type=int, default=200_000)
    parser.add_argument("--whole-up-to", type=int, default=3_000_000)
    parser.add_argument("--run", nargs=3, metavar=("MODE", "FILE", "ROOT"))
    arguments = parser.parse_args()
    if arguments.run:
        mode, path, root = arguments.run
        run_import(mode, path, arguments.chunk, root)
        return
    for rows in (int(value) for value in arguments.rows.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "events.csv"
            write_events(path, rows)
            size_mib = path.stat().st_size / 1024 / 1024
            print(f"{rows} rows, {size_mib:.0f} MiB", flush=True)
            modes = ["chunked"]
            if rows <= arguments.whole_up_to:
                modes.append("whole")
            peaks = {}
            for mode in modes:
                command = [sys.executable, __file__, "--chunk", str(arguments.chunk)]
                command += ["--run", mode, str(path), folder]
                finished = subprocess.run(
                    command, check=True, capture_output=True, text=True
                )
                print(finished.stdout.strip(), flush=True)
                peaks[mode] = json.loads(finished.stdout)["peak_rss_mib"]
            if "whole" in peaks:
                ratio = peaks["whole"] / peaks["chunked"]
                print(f"whole / chunked peak: {ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
