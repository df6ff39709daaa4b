"""``partnerlift init``: create a workspace."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from partnerlift.errors import ConfigError
from partnerlift.interfaces.cli.app import app, open_database, stderr
from partnerlift.settings import create_workspace, open_workspace
from partnerlift.settings.workspace import SETTINGS_FILE


def _copy_default(source: Path | None, package: str, name: str, target: Path) -> None:
    if source is not None:
        if not source.exists():
            raise ConfigError(f"File not found: {str(source)!r}.")
        shutil.copyfile(source, target)
    elif not target.exists():
        target.write_bytes(resources.files(package).joinpath(name).read_bytes())


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder of the new workspace.")],
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA time zone for calendar periods [default: Asia/Tokyo, or the "
            "workspace's current zone]."
        ),
    ] = None,
    locale: Annotated[
        str | None,
        typer.Option(
            help="Language of reports and statements: ja or en [default: ja]."
        ),
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="Currency of amounts [default: JPY].")
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
    previous_zone = None
    if (directory / SETTINGS_FILE).exists():
        previous_zone = open_workspace(directory).settings.timezone
    workspace = create_workspace(
        directory, timezone=timezone, locale=locale, currency=currency
    )
    _copy_default(
        model, "partnerlift.scoring", "default_model.yaml", workspace.score_model_path
    )
    _copy_default(
        study, "partnerlift.analysis", "default_study.yaml", workspace.study_path
    )
    with open_database(workspace):
        if previous_zone and previous_zone != workspace.settings.timezone:
            stderr.print(
                f"Time zone changed from {previous_zone} to "
                f"{workspace.settings.timezone}: local times recomputed."
            )
    stderr.print(f"Workspace ready: {workspace.root}")
    stderr.print(f"  settings:    {workspace.settings_path}")
    stderr.print(f"  score model: {workspace.score_model_path}")
    stderr.print(f"  study:       {workspace.study_path}")
    stderr.print(f"  database:    {workspace.database_path}")
