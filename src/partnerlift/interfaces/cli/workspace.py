"""``partnerlift init``: create a workspace."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from partnerlift.errors import ConfigError
from partnerlift.interfaces.cli.app import app, open_database, set_locale, stderr
from partnerlift.settings import create_workspace, open_workspace, text
from partnerlift.settings.workspace import LOCALES, SETTINGS_FILE


def _copy_default(
    source: Path | None, package: str, name: str, target: Path, locale: str = "en"
) -> None:
    if source is not None:
        if not source.exists():
            message = text("settings.file_not_found", locale, path=str(source))
            raise ConfigError(message)
        shutil.copyfile(source, target)
    elif not target.exists():
        target.write_bytes(resources.files(package).joinpath(name).read_bytes())


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Folder of the new workspace.")],
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA time zone of calendar periods, such as Asia/Tokyo (default: "
            "the workspace's current zone, or Asia/Tokyo for a new workspace)."
        ),
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option(
            help="Language of reports, statements and messages: ja or en "
            "(default: the workspace's current language, or ja for a new "
            "workspace)."
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            help="Currency code of amounts, such as JPY or USD (default: "
            "the workspace's current currency, or JPY for a new workspace)."
        ),
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Score model file to use as the default.")
    ] = None,
    study: Annotated[
        Path | None, typer.Option(help="Study file to use as the default.")
    ] = None,
) -> None:
    """Create a workspace with settings, the default score model and a default study.

    Example: partnerlift init acme --timezone Asia/Tokyo --locale ja
    """
    # Texts follow --locale, else the locale of an existing workspace, else English.
    text_locale = locale if locale in LOCALES else "en"
    set_locale(ctx, text_locale)
    previous_zone = None
    if (directory / SETTINGS_FILE).exists():
        existing = open_workspace(directory, locale=text_locale)
        previous_zone = existing.settings.timezone
        text_locale = locale if locale in LOCALES else existing.locale
        set_locale(ctx, text_locale)
    workspace = create_workspace(
        directory, timezone=timezone, locale=locale, currency=currency
    )
    _copy_default(
        model,
        "partnerlift.scoring",
        "default_model.yaml",
        workspace.score_model_path,
        text_locale,
    )
    _copy_default(
        study,
        "partnerlift.analysis",
        "default_study.yaml",
        workspace.study_path,
        text_locale,
    )
    with open_database(workspace):
        if previous_zone and previous_zone != workspace.settings.timezone:
            stderr.print(
                text(
                    "cli.init.zone_changed",
                    text_locale,
                    previous=previous_zone,
                    zone=workspace.settings.timezone,
                ),
                markup=False,
                highlight=False,
            )
    lines = [
        text("cli.init.ready", text_locale, root=workspace.root),
        text("cli.init.settings", text_locale, path=workspace.settings_path),
        text("cli.init.score_model", text_locale, path=workspace.score_model_path),
        text("cli.init.study", text_locale, path=workspace.study_path),
        text("cli.init.database", text_locale, path=workspace.database_path),
    ]
    for line in lines:
        stderr.print(line, markup=False, highlight=False, soft_wrap=True)
