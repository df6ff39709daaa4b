"""Run the command line as ``python -m partnerlift``."""

from __future__ import annotations

from partnerlift.interfaces.cli import main

main()
