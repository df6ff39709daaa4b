"""Import of partner, user, asset, event and deal files into the canonical tables,
of xAPI statements and Segment messages as events, and of CRM snapshots with their
history."""

from __future__ import annotations

from partnerlift.ingest.batches import list_batches, rejected_rows
from partnerlift.ingest.importer import (
    IMPORT_TABLES,
    ImportResult,
    import_file,
    import_source,
)
from partnerlift.ingest.mapping import Mapping, load_mapping
from partnerlift.ingest.profiles import PROFILES, register_profile
from partnerlift.ingest.readers import SourceRows, detect_encoding, read_source
from partnerlift.ingest.segment import import_segment
from partnerlift.ingest.snapshots import deals_as_of
from partnerlift.ingest.xapi import import_statements, import_xapi

__all__ = [
    "IMPORT_TABLES",
    "PROFILES",
    "ImportResult",
    "Mapping",
    "SourceRows",
    "deals_as_of",
    "detect_encoding",
    "import_file",
    "import_segment",
    "import_source",
    "import_statements",
    "import_xapi",
    "list_batches",
    "load_mapping",
    "read_source",
    "register_profile",
    "rejected_rows",
]
