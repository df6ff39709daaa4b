"""The canonical tables and their migrations.

Instants (``*_at``) are naive UTC timestamps. Beside the instants that calendar
buckets are taken from, ``*_local`` holds the wall-clock time in the workspace's zone.
"""

from __future__ import annotations

SCHEMA_VERSION = 7

TABLES: dict[str, str] = {
    "import_batches": """
        CREATE TABLE IF NOT EXISTS import_batches (
            batch_id VARCHAR PRIMARY KEY,
            table_name VARCHAR NOT NULL,
            file VARCHAR,
            encoding VARCHAR,
            started_at TIMESTAMP NOT NULL,
            read BIGINT NOT NULL,
            inserted BIGINT NOT NULL,
            duplicates BIGINT NOT NULL,
            rejected BIGINT NOT NULL,
            filtered BIGINT NOT NULL DEFAULT 0,
            updated BIGINT NOT NULL DEFAULT 0,
            footer BIGINT NOT NULL DEFAULT 0,
            observed_at TIMESTAMP
        )""",
    "rejected_rows": """
        CREATE TABLE IF NOT EXISTS rejected_rows (
            batch_id VARCHAR NOT NULL,
            file VARCHAR,
            line BIGINT,
            field VARCHAR,
            value VARCHAR,
            reason VARCHAR NOT NULL,
            raw VARCHAR
        )""",
    "partners": """
        CREATE TABLE IF NOT EXISTS partners (
            partner_id VARCHAR PRIMARY KEY,
            name VARCHAR,
            tier VARCHAR,
            region VARCHAR,
            segment VARCHAR,
            size VARCHAR,
            joined_at TIMESTAMP,
            joined_local TIMESTAMP,
            attributes MAP(VARCHAR, VARCHAR),
            batch_id VARCHAR
        )""",
    "users": """
        CREATE TABLE IF NOT EXISTS users (
            user_id VARCHAR NOT NULL,
            partner_id VARCHAR NOT NULL,
            email VARCHAR,
            valid_from TIMESTAMP,
            valid_to TIMESTAMP,
            batch_id VARCHAR
        )""",
    "assets": """
        CREATE TABLE IF NOT EXISTS assets (
            asset_id VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            title VARCHAR,
            tags VARCHAR[],
            pages BIGINT,
            duration_s DOUBLE,
            batch_id VARCHAR
        )""",
    # No primary key: the importers find repeated event ids themselves, and
    # DuckDB keeps a key's index in memory, about 70 bytes for each event.
    "events": """
        CREATE TABLE IF NOT EXISTS events (
            event_id VARCHAR NOT NULL,
            occurred_at TIMESTAMP NOT NULL,
            occurred_local TIMESTAMP NOT NULL,
            partner_id VARCHAR,
            user_id VARCHAR,
            action VARCHAR NOT NULL,
            asset_id VARCHAR,
            quantity DOUBLE NOT NULL,
            source VARCHAR,
            properties MAP(VARCHAR, VARCHAR),
            batch_id VARCHAR
        )""",
    "deals": """
        CREATE TABLE IF NOT EXISTS deals (
            deal_id VARCHAR PRIMARY KEY,
            partner_id VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            created_local TIMESTAMP NOT NULL,
            closed_at TIMESTAMP,
            closed_local TIMESTAMP,
            status VARCHAR NOT NULL,
            amount DOUBLE,
            currency VARCHAR,
            stage VARCHAR,
            batch_id VARCHAR
        )""",
    # One row per import that inserted or changed a deal: the deal as that export
    # showed it at observed_at, so a deal's status and stage as of a date can be
    # rebuilt from successive CRM snapshots.
    "deal_history": """
        CREATE TABLE IF NOT EXISTS deal_history (
            deal_id VARCHAR NOT NULL,
            observed_at TIMESTAMP NOT NULL,
            change VARCHAR NOT NULL,
            partner_id VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            closed_at TIMESTAMP,
            status VARCHAR NOT NULL,
            amount DOUBLE,
            currency VARCHAR,
            stage VARCHAR,
            batch_id VARCHAR NOT NULL
        )""",
    # Each partner's tier, size, region and segment as every import observed them,
    # so that covariates can be read as of the start of a study's exposure window.
    "partner_history": """
        CREATE TABLE IF NOT EXISTS partner_history (
            partner_id VARCHAR NOT NULL,
            observed_at TIMESTAMP NOT NULL,
            change VARCHAR NOT NULL,
            tier VARCHAR,
            region VARCHAR,
            segment VARCHAR,
            size VARCHAR,
            batch_id VARCHAR NOT NULL
        )""",
    # API keys of the HTTP service; only a SHA-256 hash of each key is stored.
    "api_keys": """
        CREATE TABLE IF NOT EXISTS api_keys (
            key_id VARCHAR PRIMARY KEY,
            key_hash VARCHAR NOT NULL UNIQUE,
            scope VARCHAR NOT NULL,
            label VARCHAR,
            created_at TIMESTAMP NOT NULL,
            revoked_at TIMESTAMP
        )""",
    # Requests the service has committed, so that a retried request adds nothing.
    "ingest_requests": """
        CREATE TABLE IF NOT EXISTS ingest_requests (
            source VARCHAR NOT NULL,
            request_key VARCHAR NOT NULL,
            received_at TIMESTAMP NOT NULL,
            response VARCHAR NOT NULL,
            request_hash VARCHAR,
            PRIMARY KEY (source, request_key)
        )""",
    # xAPI statements as received. Each is also stored as one event, except
    # voiding statements (voids names the statement they void) and voided ones.
    "xapi_statements": """
        CREATE TABLE IF NOT EXISTS xapi_statements (
            statement_id VARCHAR PRIMARY KEY,
            event_id VARCHAR,
            verb VARCHAR NOT NULL,
            actor VARCHAR NOT NULL,
            voids VARCHAR,
            voided BOOLEAN NOT NULL DEFAULT false,
            stored_at TIMESTAMP NOT NULL,
            statement VARCHAR NOT NULL,
            batch_id VARCHAR,
            source VARCHAR
        )""",
    # Anonymous ids that a tracking library sent before the user identified.
    "identities": """
        CREATE TABLE IF NOT EXISTS identities (
            source VARCHAR NOT NULL,
            anonymous_id VARCHAR NOT NULL,
            user_id VARCHAR NOT NULL,
            linked_at TIMESTAMP NOT NULL,
            PRIMARY KEY (source, anonymous_id)
        )""",
}

# Migrations from version N to N + 1, applied in order by Database.migrate.
MIGRATIONS: dict[int, list[str]] = {
    # Rows dropped by a mapping's filter, so that a batch's counts add up to read.
    1: [
        "ALTER TABLE import_batches ADD COLUMN IF NOT EXISTS filtered BIGINT DEFAULT 0"
    ],
    # Deals changed by a later CRM export, report footer lines skipped and when
    # the export was taken. The new tables of version 3 are created from TABLES.
    2: [
        "ALTER TABLE import_batches ADD COLUMN IF NOT EXISTS updated BIGINT DEFAULT 0",
        "ALTER TABLE import_batches ADD COLUMN IF NOT EXISTS footer BIGINT DEFAULT 0",
        "ALTER TABLE import_batches ADD COLUMN IF NOT EXISTS observed_at TIMESTAMP",
    ],
    # Version 4 adds partner_history, created from TABLES.
    3: [],
    # The SHA-256 hash of each stored request's body, so that a key sent again
    # with another body is rejected rather than answered with the first response.
    4: [
        "ALTER TABLE ingest_requests ADD COLUMN IF NOT EXISTS request_hash VARCHAR",
    ],
    # The source recorded on a statement's event, so that a statement kept until
    # its actor is a known user becomes the event it would have been on arrival.
    5: ["ALTER TABLE xapi_statements ADD COLUMN IF NOT EXISTS source VARCHAR"],
    # The events table loses its primary key (DuckDB cannot drop one in place).
    6: [
        TABLES["events"].replace("EXISTS events (", "EXISTS events_version_7 ("),
        "INSERT INTO events_version_7 BY NAME SELECT * FROM events",
        "DROP TABLE events",
        "ALTER TABLE events_version_7 RENAME TO events",
    ],
}

# The columns a user's file may carry for each table, and which are required.
CANONICAL_COLUMNS: dict[str, list[str]] = {
    "partners": [
        "partner_id",
        "name",
        "tier",
        "region",
        "segment",
        "size",
        "joined_at",
    ],
    "users": ["user_id", "partner_id", "email", "valid_from", "valid_to"],
    "assets": ["asset_id", "kind", "title", "tags", "pages", "duration_s"],
    "events": [
        "event_id",
        "occurred_at",
        "partner_id",
        "user_id",
        "action",
        "asset_id",
        "quantity",
        "source",
    ],
    "deals": [
        "deal_id",
        "partner_id",
        "created_at",
        "status",
        "closed_at",
        "amount",
        "currency",
        "stage",
    ],
}

REQUIRED_COLUMNS: dict[str, list[str]] = {
    "partners": ["partner_id"],
    "users": ["user_id", "partner_id"],
    "assets": ["asset_id", "kind"],
    "events": ["occurred_at", "action"],
    "deals": ["deal_id", "partner_id", "created_at", "status"],
}

ASSET_KINDS = (
    "video",
    "course",
    "document",
    "template",
    "faq",
    "campaign",
    "form",
    "page",
)
DEAL_STATUSES = ("open", "won", "lost")
