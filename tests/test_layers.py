"""Each layer imports only from the layers listed before it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "partnerlift"
LAYERS = [
    "errors",
    "settings",
    "store",
    "ingest",
    "scoring",
    "analysis",
    "playbooks",
    "simulation",
    "interfaces",
]


def imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {
        name.split(".")[1]
        for name in names
        if name.startswith("partnerlift.") and name.split(".")[1] in LAYERS
    }


def test_layers_import_only_earlier_layers():
    for layer in LAYERS[1:]:
        allowed = set(LAYERS[: LAYERS.index(layer) + 1])
        for path in (PACKAGE / layer).rglob("*.py"):
            later = imported_layers(path) - allowed
            assert not later, f"{path.relative_to(PACKAGE)} imports {sorted(later)}"
