"""The ``partnerlift`` command line."""

from __future__ import annotations

import sys
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


WORKSPACE_FLAGS = ("--workspace", "-w")


def hoist_workspace_option(arguments: list[str]) -> list[str]:
    """Move ``--workspace DIR`` given after a command to the front of ``arguments``.

    The option belongs to the root command, so Typer accepts it only before the
    command name; users also write ``partnerlift score --workspace DIR``.
    """
    hoisted: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--":
            rest.extend(arguments[index:])
            break
        if argument in WORKSPACE_FLAGS and index + 1 < len(arguments):
            hoisted.extend(arguments[index : index + 2])
            index += 2
            continue
        if argument.startswith("--workspace="):
            hoisted.append(argument)
        else:
            rest.append(argument)
        index += 1
    return hoisted + rest


def main() -> None:
    """Run the ``partnerlift`` command."""
    app(args=hoist_workspace_option(sys.argv[1:]), prog_name="partnerlift")


__all__ = ["app", "main"]
