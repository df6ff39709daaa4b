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
        return get_zone(self.settings.timezone, source=str(self.settings_path))

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


def _validate(settings: Settings, source: str) -> None:
    get_zone(settings.timezone, source=f"{source}, field 'timezone'")
    if settings.locale not in LOCALES:
        raise ConfigError(
            f"{source}, field 'locale': unknown locale {settings.locale!r}. "
            "Use 'ja' or 'en'."
        )
    if not re.fullmatch(r"[A-Z]{3}", settings.currency):
        raise ConfigError(
            f"{source}, field 'currency': invalid currency {settings.currency!r}. "
            "Use an ISO 4217 code such as 'JPY', 'USD' or 'EUR'."
        )
    if settings.engine not in ENGINES:
        raise ConfigError(
            f"{source}, field 'engine': unknown engine {settings.engine!r}. "
            f"Use one of: {', '.join(ENGINES)}."
        )


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
        If the time zone or locale is unknown.
    """
    root = Path(root)
    if (root / SETTINGS_FILE).exists():
        workspace = open_workspace(root)
    else:
        workspace = Workspace(root, Settings())
    settings = workspace.settings
    settings.timezone = timezone or settings.timezone
    settings.locale = locale or settings.locale  # type: ignore[assignment]
    settings.currency = currency or settings.currency
    _validate(settings, "command-line options")
    root.mkdir(parents=True, exist_ok=True)
    workspace.save()
    return workspace


def open_workspace(root: str | Path | None = None) -> Workspace:
    """Open the workspace at ``root``, ``$PARTNERLIFT_WORKSPACE`` or the current folder.

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
            f"No workspace at {str(root)!r}: {SETTINGS_FILE} not found. "
            f"Run 'partnerlift init {root}' first, or pass --workspace."
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}.") from None
    section = raw.get("workspace", {})
    known = {item.name for item in fields(Settings)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r}. Known settings: "
            f"{', '.join(sorted(known))}."
        )
    settings = Settings(**{key: str(value) for key, value in section.items()})
    _validate(settings, str(path))
    return Workspace(root, settings)
