"""Rows given as JSON objects in memory, as the HTTP service receives them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from partnerlift.ingest.messages import text
from partnerlift.ingest.readers import MalformedRow, SourceRows


def _cell(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def rows_from_objects(
    items: Sequence[Any],
    name: str,
    *,
    locale: str = "en",
    ensure: Sequence[str] = (),
) -> SourceRows:
    """Turn a list of JSON objects into :class:`SourceRows`; item ``i`` is line
    ``i + 1``.

    A nested ``properties`` object is flattened into its keys, which become
    event properties. An item that is not an object is rejected. The columns in
    ``ensure`` exist even when no item has them, so that a missing required
    value rejects each item rather than the whole batch.
    """
    # Columns are built as lists, a cell per item, because a DataFrame built from
    # one dict per item costs more than the rest of storing a batch.
    columns: dict[str, list[str | None]] = {name: [] for name in ensure}
    names: dict[str, str] = {}
    lines: list[int] = []
    malformed: list[MalformedRow] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raw = json.dumps(item, ensure_ascii=False)
            reason = text("ingest.not_object", locale)
            malformed.append(MalformedRow(number, reason, raw))
            continue
        row = len(lines)
        nested = item.get("properties")
        pairs = list(item.items())
        if isinstance(nested, dict):
            pairs = [(key, value) for key, value in pairs if key != "properties"]
            given = {key for key, _ in pairs}
            pairs += [(key, value) for key, value in nested.items() if key not in given]
        for key, value in pairs:
            column_name = names.get(key)
            if column_name is None:
                column_name = names[key] = str(key).strip()
            column = columns.get(column_name)
            if column is None:
                column = columns[column_name] = [None] * row
            elif len(column) > row:
                continue  # " page" and "page" are one column; the first one wins
            column.append(value if type(value) is str and value else _cell(value))
        lines.append(number)
        for column in columns.values():
            if len(column) == row:
                column.append(None)
    frame = pd.DataFrame(columns, dtype=object, index=pd.RangeIndex(len(lines)))
    numbers = np.array(lines, dtype=np.int64)
    return SourceRows(Path(name), "json", list(columns), frame, numbers, malformed)
