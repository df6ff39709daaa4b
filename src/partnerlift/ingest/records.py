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
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    malformed: list[MalformedRow] = []
    columns: dict[str, None] = dict.fromkeys(ensure)
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raw = json.dumps(item, ensure_ascii=False)
            malformed.append(
                MalformedRow(number, text("ingest.not_object", locale), raw)
            )
            continue
        flat = {key: value for key, value in item.items() if key != "properties"}
        nested = item.get("properties")
        if isinstance(nested, dict):
            for key, value in nested.items():
                flat.setdefault(str(key), value)
        cells = {str(key).strip(): _cell(value) for key, value in flat.items()}
        columns.update(dict.fromkeys(cells))
        records.append(cells)
        lines.append(number)
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    frame = frame.astype(object).where(frame.notna(), None)
    return SourceRows(
        Path(name),
        "json",
        list(columns),
        frame,
        np.array(lines, dtype=np.int64),
        malformed,
    )
