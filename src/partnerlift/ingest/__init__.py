"""Import of partner, user, asset, event and deal files into the canonical tables."""

from __future__ import annotations

from partnerlift.ingest.importer import IMPORT_TABLES, ImportResult, import_file
from partnerlift.ingest.mapping import Mapping, load_mapping
from partnerlift.ingest.readers import SourceRows, detect_encoding, read_source

__all__ = [
    "IMPORT_TABLES",
    "ImportResult",
    "Mapping",
    "SourceRows",
    "detect_encoding",
    "import_file",
    "load_mapping",
    "read_source",
]
