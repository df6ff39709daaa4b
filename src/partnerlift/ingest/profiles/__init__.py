"""Mapping profiles for common exports, looked up by name.

A profile is an ordinary mapping file with ``table`` and ``description`` keys. The
shipped ones are registered through :func:`register_profile`, the same path that
other code uses to add its own; ``partnerlift import profiles --show NAME`` prints
one to start an adapted copy from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from partnerlift.errors import NotFoundError
from partnerlift.ingest import file_messages  # noqa: F401 (registers the texts)
from partnerlift.settings.messages import text


@dataclass(frozen=True)
class Profile:
    """A named mapping file for one canonical table."""

    name: str
    table: str
    description: str
    path: Path


PROFILES: dict[str, Profile] = {}


def register_profile(name: str, path: str | Path) -> Profile:
    """Register the mapping file ``path`` under ``name``.

    Raises
    ------
    ValueError
        If the file lacks ``table`` or ``description``, or ``name`` is taken by
        another file.
    """
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "table" not in data or "description" not in data:
        raise ValueError(f"Profile {path} needs the keys 'table' and 'description'.")
    profile = Profile(name, str(data["table"]), str(data["description"]).strip(), path)
    if name in PROFILES and PROFILES[name].path != path:
        raise ValueError(f"Profile {name!r} is registered twice.")
    PROFILES[name] = profile
    return profile


def resolve_mapping_path(name_or_path: str | Path, *, locale: str = "en") -> Path:
    """Return the file of a mapping: ``name_or_path`` itself if it exists, else the
    profile of that name.

    Raises
    ------
    NotFoundError
        If it is neither an existing file nor a profile name. The message is in
        ``locale``.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    if str(name_or_path) in PROFILES:
        return PROFILES[str(name_or_path)].path
    names = ", ".join(sorted(PROFILES))
    raise NotFoundError(
        text(
            "ingest.mapping_not_found",
            locale,
            name=str(name_or_path),
            profiles=names,
        )
    )


_HERE = Path(__file__).parent
for _file in sorted(_HERE.glob("*.yaml")):
    register_profile(_file.stem, _file)

__all__ = ["PROFILES", "Profile", "register_profile", "resolve_mapping_path"]
