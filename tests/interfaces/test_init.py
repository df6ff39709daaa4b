from __future__ import annotations

import json

from typer.testing import CliRunner

from partnerlift.interfaces.cli import app, hoist_workspace_option
from partnerlift.settings import open_workspace

# Three logins: in UTC one falls in January and two in February, so no month has
# three; in Asia/Tokyo (UTC+9) the first is 00:30 on 1 February, so February has three.
LOGINS = (
    "occurred_at,partner_id,action\n"
    "2024-01-31T15:30:00Z,p1,logged_in\n"
    "2024-02-01T10:00:00Z,p1,logged_in\n"
    "2024-02-02T10:00:00Z,p1,logged_in\n"
)


def monthly_logins_points(runner: CliRunner, workspace: str) -> float:
    result = runner.invoke(app, ["-w", workspace, "score", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["partners"][0]["rules"]["monthly_logins"]


def test_init_keeps_settings_not_given(tmp_path):
    runner = CliRunner()
    folder = str(tmp_path / "ws")
    runner.invoke(
        app, ["init", folder, "--timezone", "Europe/Berlin", "--locale", "en"]
    )

    result = runner.invoke(app, ["init", folder])

    assert result.exit_code == 0
    assert open_workspace(folder).settings.timezone == "Europe/Berlin"
    assert open_workspace(folder).settings.locale == "en"


def test_new_zone_recomputes_month_buckets(tmp_path):
    runner = CliRunner()
    folder = str(tmp_path / "ws")
    events = tmp_path / "events.csv"
    events.write_text(LOGINS, encoding="utf-8")
    runner.invoke(app, ["init", folder, "--timezone", "UTC"])
    runner.invoke(app, ["-w", folder, "import", "events", str(events)])
    points_in_utc = monthly_logins_points(runner, folder)

    result = runner.invoke(app, ["init", folder, "--timezone", "Asia/Tokyo"])

    assert result.exit_code == 0
    assert points_in_utc == 0
    assert monthly_logins_points(runner, folder) == 10


def test_init_rejects_unknown_zone(tmp_path):
    result = CliRunner().invoke(
        app, ["init", str(tmp_path / "ws"), "--timezone", "Mars/Base"]
    )

    assert result.exit_code == 1
    assert "'Mars/Base'" in result.output
    assert not (tmp_path / "ws").exists()


def test_edited_zone_recomputes_on_open(tmp_path):
    runner = CliRunner()
    folder = tmp_path / "ws"
    events = tmp_path / "events.csv"
    events.write_text(LOGINS, encoding="utf-8")
    runner.invoke(app, ["init", str(folder), "--timezone", "UTC"])
    runner.invoke(app, ["-w", str(folder), "import", "events", str(events)])
    settings = folder / "partnerlift.toml"

    settings.write_text(
        settings.read_text(encoding="utf-8").replace('"UTC"', '"Asia/Tokyo"'),
        encoding="utf-8",
    )

    assert monthly_logins_points(runner, str(folder)) == 10


def test_init_rejects_unknown_currency(tmp_path):
    result = CliRunner().invoke(
        app, ["init", str(tmp_path / "ws"), "--currency", "yen"]
    )

    assert result.exit_code == 1
    assert "'yen'" in result.output


def test_workspace_option_moves_before_command():
    arguments = ["score", "--workspace", "ws", "--format", "json"]

    assert hoist_workspace_option(arguments) == [
        "--workspace",
        "ws",
        "score",
        "--format",
        "json",
    ]
    assert hoist_workspace_option(["score", "-w", "ws"]) == ["-w", "ws", "score"]
    assert hoist_workspace_option(["init", "--", "-w"]) == ["init", "--", "-w"]
