"""Workspaces: a folder with ``partnerlift.toml`` and a DuckDB database."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from partnerlift.errors import ConfigError, NotFoundError
from partnerlift.settings import setting_messages  # noqa: F401 (registers the texts)
from partnerlift.settings.messages import text
from partnerlift.settings.times import get_zone

SETTINGS_FILE = "partnerlift.toml"
LOCALES = ("ja", "en")
# The engine that scores: DuckDB, or PySpark in local mode (the `spark` extra).
ENGINES = ("duckdb", "pyspark")


@dataclass
class Settings:
    """The settings of one workspace, as stored in ``partnerlift.toml``."""

    timezone: str = "Asia/Tokyo"
    currency: str = "JPY"
    locale: Literal["ja", "en"] = "ja"
    database: str = "partnerlift.duckdb"
    score_model: str = "score_model.yaml"
    study: str = "study.yaml"
    engine: str = "duckdb"

    def to_toml(self) -> str:
        """Render the settings as the ``[workspace]`` table of a TOML file."""
        lines = ["[workspace]"]
        for item in fields(self):
            value = (
                str(getattr(self, item.name)).replace("\\", "\\\\").replace('"', '\\"')
            )
            lines.append(f'{item.name} = "{value}"')
        return "\n".join(lines) + "\n"


@dataclass
class Workspace:
    """A workspace folder and its settings."""

    root: Path
    settings: Settings

    @property
    def zone(self) -> ZoneInfo:
        """The workspace's time zone."""
        return get_zone(
            self.settings.timezone, source=str(self.settings_path), locale=self.locale
        )

    @property
    def locale(self) -> str:
        """The language of the texts people read: ``ja`` or ``en``."""
        return self.settings.locale

    @property
    def settings_path(self) -> Path:
        """The path of ``partnerlift.toml``."""
        return self.root / SETTINGS_FILE

    @property
    def database_path(self) -> Path:
        """The path of the workspace's database file."""
        return self.resolve(self.settings.database)

    @property
    def keys_path(self) -> Path:
        """The path of the SQLite file with the API keys, beside the database file.

        The keys live outside DuckDB, which lets only one process open its file,
        so that keys can be created and revoked while ``partnerlift serve`` runs.
        """
        database = self.database_path
        return database.with_name(f"{database.stem}.keys.sqlite3")

    @property
    def score_model_path(self) -> Path:
        """The path of the default score model file."""
        return self.resolve(self.settings.score_model)

    @property
    def study_path(self) -> Path:
        """The path of the default study file."""
        return self.resolve(self.settings.study)

    def resolve(self, path: str | Path) -> Path:
        """Resolve a path from the settings against the workspace folder."""
        path = Path(path)
        return path if path.is_absolute() else self.root / path

    def save(self) -> None:
        """Write the settings to ``partnerlift.toml``."""
        self.settings_path.write_text(self.settings.to_toml(), encoding="utf-8")


def _validate(settings: Settings, source: str, locale: str = "en") -> None:
    """Raise ConfigError, in ``locale``, on the first invalid setting."""
    where = text("settings.field_of", locale, source=source, field="timezone")
    get_zone(settings.timezone, source=where, locale=locale)
    if settings.locale not in LOCALES:
        raise ConfigError(
            text(
                "settings.unknown_locale", locale, source=source, value=settings.locale
            )
        )
    if not re.fullmatch(r"[A-Z]{3}", settings.currency):
        raise ConfigError(
            text(
                "settings.invalid_currency",
                locale,
                source=source,
                value=settings.currency,
            )
        )
    if settings.engine not in ENGINES:
        raise ConfigError(
            text(
                "settings.unknown_engine",
                locale,
                source=source,
                value=settings.engine,
                engines=", ".join(ENGINES),
            )
        )


def _message_locale(locale: str | None) -> str:
    """Return ``locale`` if it is a known language of messages, else ``en``."""
    return locale if locale in LOCALES else "en"


def create_workspace(
    root: str | Path,
    *,
    timezone: str | None = None,
    locale: str | None = None,
    currency: str | None = None,
) -> Workspace:
    """Create the folder and settings of a new workspace, or update an existing one.

    Settings left as None keep their stored value in an existing workspace and take
    the default (Asia/Tokyo, ja, JPY) in a new one.

    Raises
    ------
    ConfigError
        If the time zone or locale is unknown. The message is in ``locale`` when it
        is known, else in the locale of the existing workspace, else in English.
    """
    root = Path(root)
    message_locale = _message_locale(locale)
    if (root / SETTINGS_FILE).exists():
        workspace = open_workspace(root, locale=message_locale)
        if locale is None:
            message_locale = workspace.locale
    else:
        workspace = Workspace(root, Settings())
    settings = workspace.settings
    settings.timezone = timezone or settings.timezone
    settings.locale = locale or settings.locale  # type: ignore[assignment]
    settings.currency = currency or settings.currency
    source = text("settings.command_line", message_locale)
    _validate(settings, source, message_locale)
    root.mkdir(parents=True, exist_ok=True)
    workspace.save()
    return workspace


def open_workspace(root: str | Path | None = None, *, locale: str = "en") -> Workspace:
    """Open the workspace at ``root``, ``$PARTNERLIFT_WORKSPACE`` or the current folder.

    ``locale`` is the language of the errors raised before the settings are read;
    later errors are in the workspace's own locale when that one is valid.

    Raises
    ------
    NotFoundError
        If the folder has no ``partnerlift.toml``.
    ConfigError
        If the settings file is invalid.
    """
    root = Path(root or os.environ.get("PARTNERLIFT_WORKSPACE") or ".")
    path = root / SETTINGS_FILE
    if not path.exists():
        raise NotFoundError(
            text(
                "settings.no_workspace",
                locale,
                root=str(root),
                settings_file=SETTINGS_FILE,
            )
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            text("settings.invalid_toml", locale, path=path, error=error)
        ) from None
    section = raw.get("workspace", {})
    locale = _message_locale(str(section.get("locale", locale)))
    known = {item.name for item in fields(Settings)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(
            text(
                "settings.unknown_setting",
                locale,
                path=path,
                name=unknown[0],
                known=", ".join(sorted(known)),
            )
        )
    settings = Settings(**{key: str(value) for key, value in section.items()})
    _validate(settings, str(path), locale)
    return Workspace(root, settings)
