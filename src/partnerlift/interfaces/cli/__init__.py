"""The ``partnerlift`` command line."""

from __future__ import annotations

from importlib import import_module

from partnerlift.interfaces.cli.app import app

# Each module adds its commands to ``app`` when imported.
for _module in (
    "workspace",
    "imports",
    "scoring",
    "analysis",
    "demo",
    "report",
    "serve",
    "keys",
):
    import_module(f"partnerlift.interfaces.cli.{_module}")


def main() -> None:
    """Run the ``partnerlift`` command."""
    app()


__all__ = ["app", "main"]
