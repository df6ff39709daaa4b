"""The text catalogue, and settings errors in the workspace's language."""

from __future__ import annotations

import importlib
import pkgutil
import string

import pytest
from pydantic import BaseModel, ConfigDict

import partnerlift
from partnerlift.errors import ConfigError, NotFoundError
from partnerlift.settings import create_workspace, open_workspace
from partnerlift.settings.messages import CATALOGUE
from partnerlift.settings.times import get_zone, parse_date
from partnerlift.settings.yamlfile import load_yaml, parse_model


def template_fields(template: str) -> set[str]:
    return {
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    }


def load_every_module() -> None:
    for module in pkgutil.walk_packages(partnerlift.__path__, "partnerlift."):
        if module.name != "partnerlift.__main__":
            importlib.import_module(module.name)


def test_catalogue_languages_share_fields():
    load_every_module()

    for message_id, entry in CATALOGUE.items():
        assert set(entry) >= {"en", "ja"}, message_id
        assert template_fields(entry["en"]) == template_fields(entry["ja"]), message_id


def test_catalogue_templates_format():
    load_every_module()

    for message_id, entry in CATALOGUE.items():
        values = dict.fromkeys(template_fields(entry["en"]), "x")
        assert entry["en"].format(**values), message_id
        assert entry["ja"].format(**values), message_id


def test_unknown_zone_japanese():
    with pytest.raises(ConfigError, match="タイムゾーン 'Mars/Base' は不明です"):
        get_zone("Mars/Base", locale="ja")


def test_invalid_date_japanese():
    with pytest.raises(ConfigError, match="'2024-13-01' が不正です"):
        parse_date("2024-13-01", locale="ja")


def test_create_workspace_error_in_new_locale(tmp_path):
    with pytest.raises(ConfigError, match="通貨 'yen' が不正です"):
        create_workspace(tmp_path / "w", locale="ja", currency="yen")


def test_create_workspace_error_default_english(tmp_path):
    # A new workspace without a locale gets ja, but no option chose Japanese, so
    # the message is in English.
    with pytest.raises(ConfigError, match="invalid currency 'yen'"):
        create_workspace(tmp_path / "w", currency="yen")


def test_workspace_file_error_japanese(tmp_path):
    folder = tmp_path / "w"
    folder.mkdir()
    settings = '[workspace]\nlocale = "ja"\nengine = "spark"\n'
    (folder / "partnerlift.toml").write_text(settings, encoding="utf-8")

    with pytest.raises(ConfigError, match="エンジン 'spark' は不明です"):
        open_workspace(folder)


def test_missing_workspace_japanese(tmp_path):
    with pytest.raises(NotFoundError, match="ワークスペースがありません"):
        open_workspace(tmp_path / "none", locale="ja")


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: int = 0


def test_unknown_yaml_key_japanese(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text("x: 1\ny: 2\n", encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        parse_model(load_yaml(path), Point, "score model", locale="ja")
    problem = raised.value.problems[0]

    assert f"{path} のスコアモデルが不正です" in str(raised.value)
    assert problem.line == 2
    assert problem.field == "y"
    assert problem.reason == "不明なキー 'y' です"


def test_missing_yaml_file_japanese(tmp_path):
    path = tmp_path / "none.yaml"

    with pytest.raises(ConfigError, match="が見つかりません"):
        load_yaml(path, locale="ja")
