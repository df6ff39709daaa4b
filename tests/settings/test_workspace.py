from __future__ import annotations

from datetime import date, datetime

import pytest

from partnerlift.errors import ConfigError, NotFoundError
from partnerlift.settings import create_workspace, open_workspace
from partnerlift.settings.times import end_of_day_utc, get_zone, parse_instant


def test_workspace_round_trips_settings(tmp_path):
    create_workspace(tmp_path / "w", timezone="Europe/Berlin", locale="en")

    opened = open_workspace(tmp_path / "w")

    assert opened.settings.timezone == "Europe/Berlin"
    assert opened.settings.locale == "en"


def test_unknown_timezone_names_value(tmp_path):
    with pytest.raises(ConfigError, match="'Mars/Base'"):
        create_workspace(tmp_path / "w", timezone="Mars/Base")


def test_missing_workspace_says_how_to_create(tmp_path):
    with pytest.raises(NotFoundError, match="partnerlift init"):
        open_workspace(tmp_path / "nothing")


def test_offsetless_timestamp_is_local_time():
    tokyo = get_zone("Asia/Tokyo")

    assert parse_instant("2024-02-01T00:30:00", tokyo) == datetime(2024, 1, 31, 15, 30)
    assert parse_instant("2024-02-01", tokyo) == datetime(2024, 1, 31, 15, 0)
    assert parse_instant("2024-02-01T00:30:00+00:00", tokyo) == datetime(
        2024, 2, 1, 0, 30
    )
    assert parse_instant("2024-02-01T00:30:00Z", tokyo) == datetime(2024, 2, 1, 0, 30)


def test_end_of_day_in_tokyo_is_utc_afternoon():
    assert end_of_day_utc(date(2024, 3, 31), get_zone("Asia/Tokyo")) == datetime(
        2024, 3, 31, 15, 0
    )


def test_unquoted_comma_gets_a_hint(tmp_path):
    from pydantic import BaseModel, ConfigDict

    from partnerlift.settings.yamlfile import load_yaml, parse_model

    class Labelled(BaseModel):
        model_config = ConfigDict(extra="forbid")
        label: dict[str, str]

    path = tmp_path / "labels.yaml"
    path.write_text(
        "label: {en: Product document, 3+ pages viewed}\n", encoding="utf-8"
    )

    with pytest.raises(ConfigError) as raised:
        parse_model(load_yaml(path), Labelled, "file")

    problem = raised.value.problems[0]
    assert problem.line == 1
    assert problem.field == "label.3+ pages viewed"
    assert "quote text that has a comma" in problem.reason
