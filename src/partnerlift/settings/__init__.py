"""Workspace settings, time zones, YAML files and the text catalogue."""

from __future__ import annotations

from partnerlift.settings.messages import register, text
from partnerlift.settings.workspace import (
    Settings,
    Workspace,
    create_workspace,
    open_workspace,
)

__all__ = [
    "Settings",
    "Workspace",
    "create_workspace",
    "open_workspace",
    "register",
    "text",
]
