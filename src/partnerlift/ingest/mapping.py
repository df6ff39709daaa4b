"""Mapping files: how the columns of a source file become canonical fields.

A mapping renames source columns, maps values (``Closed Won`` to ``won``), sets
constants, reads dates with a strptime format or as day offsets from a base date,
reads numbers with other separators and keeps only rows that match a filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from partnerlift.errors import ConfigError, Problem, SchemaError
from partnerlift.ingest.readers import SourceRows
from partnerlift.ingest.values import LOCALE_SEPARATORS, locale_separators
from partnerlift.settings.messages import register, text
from partnerlift.settings.yamlfile import YamlDocument, load_yaml, parse_model
from partnerlift.store.schema import CANONICAL_COLUMNS, REQUIRED_COLUMNS

TIME_FIELDS = {"occurred_at", "joined_at", "created_at", "closed_at"}
TIME_FIELDS |= {"valid_from", "valid_to"}
NUMBER_FIELDS = {"quantity", "amount", "pages", "duration_s"}

# Reasons of the validators below. Each is raised as a PydanticCustomError whose
# type is the message id, so load_mapping reports it in its locale.
register(
    {
        "ingest.mapping_one_source": {
            "en": "Give exactly one of 'column' or 'constant'.",
            "ja": "'column' と 'constant' のどちらか一方だけを書いてください。",
        },
        "ingest.mapping_offset_or_format": {
            "en": "Give either 'day_offset' or 'date_format', not both.",
            "ja": "'day_offset' と 'date_format' はどちらか一方だけを書いてください。",
        },
        "ingest.mapping_strict_or_otherwise": {
            "en": "Give either 'strict' or 'otherwise', not both.",
            "ja": "'strict' と 'otherwise' はどちらか一方だけを書いてください。",
        },
        "ingest.mapping_unknown_locale": {
            "en": "Unknown number locale {locale!r}. Use one of: {known}.",
            "ja": "数値のロケール {locale!r} は使えません。次のいずれかを使って"
            "ください: {known}。",
        },
    }
)


def _invalid(message_id: str, **context: object) -> PydanticCustomError:
    """Return a validation error whose type is ``message_id``, with the English
    text as pydantic's message and ``context`` for the text in other languages."""
    return PydanticCustomError(message_id, text(message_id, "en", **context), context)


def _check_number_locale(locale: str) -> None:
    """Raise a validation error if ``locale`` is no number locale."""
    try:
        locale_separators(locale)
    except ValueError:
        known = ", ".join(sorted(LOCALE_SEPARATORS))
        raise _invalid(
            "ingest.mapping_unknown_locale", locale=locale, known=known
        ) from None


def _scalar_text(value: Any) -> Any:
    """Turn a YAML scalar into the text a CSV cell would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return value


def _value_map_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {_scalar_text(key): _scalar_text(item) for key, item in value.items()}
    return value


def _filter_text(value: Any) -> Any:
    if isinstance(value, list):
        return [_scalar_text(item) for item in value]
    return [_scalar_text(value)]


Text = Annotated[str, BeforeValidator(_scalar_text)]


class NumberFormat(BaseModel):
    """Separators of a number column, such as ``{thousands: ".", decimal: ","}``,
    or the locale that implies them, such as ``{locale: de}``."""

    model_config = ConfigDict(extra="forbid")

    thousands: str | None = None
    decimal: str | None = None
    locale: str | None = None

    @model_validator(mode="after")
    def _known_locale(self) -> NumberFormat:
        if self.locale is not None:
            _check_number_locale(self.locale)
        return self

    def separators(self) -> tuple[str | None, str]:
        """Return (thousands, decimal): explicit ones first, then the locale's.

        Without either, thousands is None: commas grouping digits by three are
        then dropped and the decimal mark is a point.
        """
        thousands, decimal = self.thousands, self.decimal
        if self.locale is not None:
            locale_thousands, locale_decimal = locale_separators(self.locale)
            thousands = locale_thousands if thousands is None else thousands
            decimal = locale_decimal if decimal is None else decimal
        return thousands, decimal or "."


class ColumnSpec(BaseModel):
    """The source of one canonical field: a source column or a constant."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = None
    constant: Text | None = None
    values: Annotated[dict[str, str], BeforeValidator(_value_map_text)] | None = None
    strict: bool = False
    otherwise: Text | None = None
    optional: bool = False
    day_offset: bool = False
    date_format: str | list[str] | None = None
    number: NumberFormat | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ColumnSpec:
        if (self.column is None) == (self.constant is None):
            raise _invalid("ingest.mapping_one_source")
        if self.day_offset and self.date_format:
            raise _invalid("ingest.mapping_offset_or_format")
        if self.strict and self.otherwise is not None:
            raise _invalid("ingest.mapping_strict_or_otherwise")
        return self

    def date_formats(self) -> list[str]:
        """Return the strptime formats to try in order (empty without any)."""
        if self.date_format is None:
            return []
        if isinstance(self.date_format, str):
            return [self.date_format]
        return list(self.date_format)


class MappingFile(BaseModel):
    """The content of a mapping file."""

    model_config = ConfigDict(extra="forbid")

    table: str | None = None
    description: str | None = None
    base_date: date | None = None
    locale: str | None = None
    filter: dict[str, Annotated[list[str], BeforeValidator(_filter_text)]] = {}
    columns: dict[str, str | ColumnSpec] = {}
    properties: Literal["all", "none"] | list[str] = "all"

    @model_validator(mode="after")
    def _known_locale(self) -> MappingFile:
        if self.locale is not None:
            _check_number_locale(self.locale)
        return self

    def number_format(self) -> NumberFormat | None:
        """Return the number format that ``locale`` implies, if it is set."""
        return None if self.locale is None else NumberFormat(locale=self.locale)


@dataclass
class Mapping:
    """A validated mapping file and the document it came from (for line numbers)."""

    spec: MappingFile = field(default_factory=MappingFile)
    document: YamlDocument | None = None

    @property
    def path(self) -> str | None:
        """The mapping file's path, or None for the identity mapping."""
        return None if self.document is None else str(self.document.path)

    def line_of(self, *location: str | int) -> int | None:
        """Return the line of a key of the mapping file."""
        return None if self.document is None else self.document.line_of(location)

    def columns(self) -> dict[str, ColumnSpec]:
        """Return every column spec in its long form."""
        return {
            name: ColumnSpec(column=spec) if isinstance(spec, str) else spec
            for name, spec in self.spec.columns.items()
        }


def load_mapping(path: str | Path, table: str, *, locale: str = "en") -> Mapping:
    """Load and check a mapping file, or a shipped profile by name, for ``table``.

    ``path`` is a file path, or the name of a profile in
    :data:`partnerlift.ingest.profiles.PROFILES` when no such file exists. Error
    messages are in ``locale``.

    Raises
    ------
    ConfigError
        If a key is unknown, a value has the wrong type, a field is not a field of
        ``table``, the mapping is for another table, or a format does not fit the
        field. Each problem names the line.
    NotFoundError
        If ``path`` is neither a file nor a profile name.
    """
    from partnerlift.ingest.profiles import resolve_mapping_path

    document = load_yaml(resolve_mapping_path(path, locale=locale), locale=locale)
    if document.data is None:
        return Mapping(MappingFile(), document)
    spec = parse_model(document, MappingFile, "mapping file", locale=locale)
    mapping = Mapping(spec, document)
    problems = _check_fields(mapping, table, locale)
    if spec.table is not None and spec.table != table:
        reason = text(
            "ingest.mapping_other_table", locale, mapped=spec.table, table=table
        )
        problems.append(
            Problem(mapping.path, mapping.line_of("table"), "table", spec.table, reason)
        )
    if problems:
        message = text("ingest.mapping_invalid", locale, path=document.path)
        raise ConfigError(message, problems)
    return mapping


def _check_fields(mapping: Mapping, table: str, locale: str) -> list[Problem]:
    known = CANONICAL_COLUMNS[table]
    problems: list[Problem] = []

    def add(name: str, key: str | None, value: object, reason: str) -> None:
        location = ("columns", name) if key is None else ("columns", name, key)
        problems.append(
            Problem(mapping.path, mapping.line_of(*location), name, value, reason)
        )

    for name, spec in mapping.columns().items():
        if name not in known:
            reason = text(
                "ingest.mapping_unknown_field",
                locale,
                table=table,
                fields=", ".join(known),
            )
            add(name, None, name, reason)
            continue
        if (spec.day_offset or spec.date_format) and name not in TIME_FIELDS:
            add(name, None, name, text("ingest.mapping_time_format_field", locale))
        if spec.number is not None and name not in NUMBER_FIELDS:
            add(name, "number", name, text("ingest.mapping_number_field", locale))
        if spec.day_offset and mapping.spec.base_date is None:
            reason = text("ingest.mapping_needs_base_date", locale)
            add(name, "day_offset", True, reason)
    return problems


@dataclass
class MappedRows:
    """Canonical fields as text after the mapping, with the rows kept by the filter."""

    fields: pd.DataFrame
    specs: dict[str, ColumnSpec]
    kept: np.ndarray
    extra_columns: list[str]
    unmapped: dict[str, pd.Series] = field(default_factory=dict)


def _loose_key(value: object) -> object:
    """Match value-map keys without regard to case or surrounding spaces, as CRM
    exports write ``Closed Won``, ``Closed won`` and `` closed won`` alike."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return " ".join(str(value).split()).casefold()


def _loose_value_map(table: dict[str, str]) -> dict[object, str]:
    return {_loose_key(key): target for key, target in table.items()}


def apply_mapping(mapping: Mapping, source: SourceRows, table: str) -> MappedRows:
    """Rename, map values and set constants; mark the rows that the filter keeps.

    A source column whose name is a canonical field maps to itself unless the
    mapping maps it elsewhere. Error messages are in ``source.locale``.

    Raises
    ------
    SchemaError
        If the mapping or its filter names a column that the source file lacks,
        or no column provides a required field of ``table``.
    """
    specs = mapping.columns()
    for name in CANONICAL_COLUMNS[table]:
        if name not in specs and name in source.columns:
            specs[name] = ColumnSpec(column=name)
    _check_sources(mapping, source, specs)
    check_required_columns(table, source, set(specs))
    kept = np.ones(len(source.frame), dtype=bool)
    for column, accepted in mapping.spec.filter.items():
        kept &= source.frame[column].isin(accepted).to_numpy()
    fields = pd.DataFrame(index=source.frame.index)
    unmapped: dict[str, pd.Series] = {}
    for name, spec in specs.items():
        if spec.column is not None and spec.column in source.frame:
            values = source.frame[spec.column]
        elif spec.column is not None:
            # An optional column that the file lacks leaves the field empty.
            values = pd.Series(None, index=source.frame.index, dtype=object)
        else:
            values = pd.Series(spec.constant, index=source.frame.index, dtype=object)
        if spec.values:
            table = _loose_value_map(spec.values)
            keys = values.map(_loose_key)
            if spec.strict:
                unmapped[name] = values.notna() & ~keys.isin(list(table))
            mapped = keys.map(table)
            if spec.otherwise is None:
                values = mapped.where(mapped.notna(), values)
            else:
                values = mapped.where(mapped.notna() | values.isna(), spec.otherwise)
        fields[name] = values
    used = {spec.column for spec in specs.values() if spec.column is not None}
    extra = [column for column in source.columns if column not in used]
    properties = _property_columns(mapping, extra)
    return MappedRows(fields, specs, kept, properties, unmapped)


def _property_columns(mapping: Mapping, extra: list[str]) -> list[str]:
    chosen = mapping.spec.properties
    if chosen == "all":
        return extra
    if chosen == "none":
        return []
    return [column for column in extra if column in chosen]


def _check_sources(
    mapping: Mapping, source: SourceRows, specs: dict[str, ColumnSpec]
) -> None:
    present = set(source.columns)
    problems: list[Problem] = []

    def missing_reason(column: str | None) -> str:
        return text(
            "ingest.mapping_column_not_found",
            source.locale,
            column=column,
            file=source.path,
            columns=", ".join(source.columns),
        )

    for name, spec in specs.items():
        missing = spec.column is not None and spec.column not in present
        if missing and not spec.optional:
            reason = missing_reason(spec.column)
            line = mapping.line_of("columns", name)
            problems.append(Problem(mapping.path, line, name, spec.column, reason))
    for column in mapping.spec.filter:
        if column not in present:
            reason = missing_reason(column)
            line = mapping.line_of("filter", column)
            problems.append(Problem(mapping.path, line, "filter", column, reason))
    if isinstance(mapping.spec.properties, list):
        for index, column in enumerate(mapping.spec.properties):
            if column not in present:
                reason = missing_reason(column)
                line = mapping.line_of("properties", index)
                problems.append(
                    Problem(mapping.path, line, "properties", column, reason)
                )
    if problems:
        message = text(
            "ingest.mapping_columns_missing",
            source.locale,
            mapping=mapping.path,
            file=source.path,
        )
        raise SchemaError(message, problems)


def check_required_columns(table: str, source: SourceRows, provided: set[str]) -> None:
    """Raise if no column or constant provides a required field of ``table``.

    ``provided`` contains the canonical fields that the mapping fills. An events file
    needs ``partner_id`` or ``user_id``. The message is in ``source.locale``.

    Raises
    ------
    SchemaError
        With one problem per missing field, naming the file and its columns.
    """
    if not source.columns and source.read == 0:
        # An empty JSON Lines file or JSON array has no keys to check, as a CSV
        # file with only its header has no rows: both import nothing.
        return
    locale = source.locale
    missing = [name for name in REQUIRED_COLUMNS[table] if name not in provided]
    if table == "events" and not {"partner_id", "user_id"} & provided:
        missing.append(text("ingest.partner_or_user_column", locale))
    if not missing:
        return
    reason = text("ingest.missing_required_column_reason", locale)
    problems = [Problem(str(source.path), 1, name, None, reason) for name in missing]
    message = text(
        "ingest.missing_required_column",
        locale,
        path=source.path,
        column=missing[0],
        table=table,
        columns=", ".join(source.columns),
    )
    raise SchemaError(message, problems)
