"""The canonical tables in the workspace database."""

from __future__ import annotations

from partnerlift.store.database import Database
from partnerlift.store.schema import CANONICAL_COLUMNS, REQUIRED_COLUMNS, TABLES

__all__ = ["CANONICAL_COLUMNS", "REQUIRED_COLUMNS", "TABLES", "Database"]
