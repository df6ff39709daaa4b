from __future__ import annotations

import json

from typer.testing import CliRunner

from partnerlift.interfaces.cli import app
from partnerlift.store import Database

DEALS = (
    "deal_id,partner_id,created_at,status\n"
    "d1,p1,2024-04-01,won\n"
    "d2,p1,2024-04-01,pending\n"
    "d3,p2,2024-04-02,open\n"
)


def test_json_output_reconciles(workspace, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(DEALS, encoding="utf-8")
    runner = CliRunner()

    result = runner.invoke(
        app,
        [
            "--workspace",
            str(workspace.root),
            "import",
            "deals",
            str(path),
            "--format",
            "json",
        ],
    )
    counts = json.loads(result.stdout)

    assert result.exit_code == 0
    assert set(counts) == {
        "batch_id",
        "read",
        "inserted",
        "updated",
        "duplicates",
        "rejected",
        "filtered",
        "footer",
    }
    # Three rows: d2 has an invalid status.
    assert counts["read"] == 3
    assert counts["inserted"] == 2
    assert counts["rejected"] == 1
    assert counts["read"] == (
        counts["inserted"]
        + counts["updated"]
        + counts["duplicates"]
        + counts["rejected"]
        + counts["filtered"]
    )


def test_rejected_rows_go_to_stderr(workspace, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(DEALS, encoding="utf-8")
    runner = CliRunner()

    result = runner.invoke(
        app,
        [
            "--workspace",
            str(workspace.root),
            "import",
            "deals",
            str(path),
            "--format",
            "csv",
        ],
    )

    assert result.exit_code == 0
    assert "line 3" in result.stderr
    assert "'pending'" in result.stderr
    assert "rejected_rows" in result.stderr
    assert "pending" not in result.stdout


def test_missing_file_exits_one(workspace, tmp_path):
    runner = CliRunner()

    result = runner.invoke(
        app,
        [
            "--workspace",
            str(workspace.root),
            "import",
            "deals",
            str(tmp_path / "none.csv"),
        ],
    )

    assert result.exit_code == 1
    assert "none.csv" in result.stderr


def test_missing_column_exits_one(workspace, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text("deal_id\nd1\n", encoding="utf-8")
    runner = CliRunner()

    result = runner.invoke(
        app, ["--workspace", str(workspace.root), "import", "deals", str(path)]
    )

    assert result.exit_code == 1
    assert "partner_id" in result.stderr


def test_help_shows_example():
    runner = CliRunner()

    result = runner.invoke(app, ["import", "events", "--help"])

    assert result.exit_code == 0
    assert "partnerlift import events" in result.stdout


def test_chunk_rows_option_counts(workspace, tmp_path):
    # Seven events in chunks of three: e1 comes again in the third chunk, the
    # sixth row repeats the fifth without an id, and one row has no action.
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,occurred_at,partner_id,action\n"
        "e1,2024-04-01T10:00:00,p1,viewed\n"
        "e2,2024-04-01T11:00:00,p1,viewed\n"
        "e3,2024-04-01T12:00:00,p1,\n"
        ",2024-04-02T10:00:00,p2,downloaded\n"
        ",2024-04-02T10:00:00,p2,downloaded\n"
        "e4,2024-04-03T10:00:00,p2,viewed\n"
        "e1,2024-04-01T10:00:00,p1,viewed\n",
        encoding="utf-8",
    )
    runner = CliRunner()

    result = runner.invoke(
        app,
        [
            "--workspace",
            str(workspace.root),
            "import",
            "events",
            str(path),
            "--chunk-rows",
            "3",
            "--format",
            "json",
        ],
    )
    counts = json.loads(result.stdout)

    assert result.exit_code == 0
    assert counts["read"] == 7
    assert counts["inserted"] == 5
    assert counts["duplicates"] == 1
    assert counts["rejected"] == 1


def test_unknown_partners_noted(workspace, tmp_path):
    # p1 is a known partner; p7 has two events and p9 one, and neither is known.
    partners = tmp_path / "partners.csv"
    partners.write_text("partner_id,name\np1,Alpha\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text(
        "occurred_at,partner_id,action\n"
        "2024-04-01T10:00:00,p1,viewed\n"
        "2024-04-01T11:00:00,p7,viewed\n"
        "2024-04-01T12:00:00,p7,downloaded\n"
        "2024-04-01T13:00:00,p9,viewed\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    base = ["--workspace", str(workspace.root), "import"]

    runner.invoke(app, [*base, "partners", str(partners)])
    result = runner.invoke(app, [*base, "events", str(events), "--format", "json"])

    assert result.exit_code == 0
    assert json.loads(result.stdout)["inserted"] == 4
    assert "3 of the imported events name 2 partners" in result.stderr
    assert "'p7', 'p9'" in result.stderr


def test_encoding_option_overrides_detection(workspace, tmp_path):
    # 德永 in CP932 is the bytes ED 9E 89 69. Given as latin-1, each byte is one
    # character: U+00ED, U+009E, U+0089 and "i".
    path = tmp_path / "partners.csv"
    path.write_bytes("partner_id,name\np1,德永\n".encode("cp932"))
    runner = CliRunner()
    base = ["--workspace", str(workspace.root), "import", "partners", str(path)]

    given = runner.invoke(app, [*base, "--encoding", "latin-1", "--format", "json"])
    unknown = runner.invoke(app, [*base, "--encoding", "klingon"])
    with Database(workspace.database_path) as db:
        stored = db.query("SELECT name FROM partners")["name"].tolist()
        encodings = db.query("SELECT encoding FROM import_batches")["encoding"]

    assert given.exit_code == 0
    assert json.loads(given.stdout)["inserted"] == 1
    assert unknown.exit_code == 1
    assert "Unknown encoding 'klingon'" in unknown.stderr
    assert stored == ["\u00ed\u009e\u0089i"]
    assert encodings.tolist() == ["iso8859-1"]


def test_observed_at_out_of_range(workspace, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(DEALS, encoding="utf-8")
    runner = CliRunner()
    base = ["--workspace", str(workspace.root), "import", "deals", str(path)]

    results = [
        runner.invoke(app, [*base, "--observed-at", value])
        for value in ("0001-01-01", "2999-01-01", "1800-01-01")
    ]

    assert [result.exit_code for result in results] == [1, 1, 1]
    assert all("from 1900 to 2199" in result.stderr for result in results)


def test_rejected_value_shown_as_written(workspace, tmp_path):
    # A UTF-8 file, where a backslash is no yen sign, so the amount is rejected.
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,partner_id,created_at,status,amount\nD1,山田,2024-04-01,won,\\500\n",
        encoding="utf-8",
    )
    runner = CliRunner()

    result = runner.invoke(
        app, ["--workspace", str(workspace.root), "import", "deals", str(path)]
    )

    assert "(value '\\500')" in result.stderr
