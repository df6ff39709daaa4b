"""The catalogue of texts that people read, in Japanese and English.

Each layer registers its own entries with :func:`register`; :func:`text` formats one
entry with named fields in the requested language.
"""

from __future__ import annotations

CATALOGUE: dict[str, dict[str, str]] = {}


def register(entries: dict[str, dict[str, str]]) -> None:
    """Add entries to the catalogue; each entry needs both ``en`` and ``ja``.

    Raises
    ------
    ValueError
        If an entry lacks a language or an id is registered twice with other text.
    """
    for message_id, languages in entries.items():
        missing = {"en", "ja"} - set(languages)
        if missing:
            raise ValueError(f"Message {message_id!r} lacks {sorted(missing)}.")
        if message_id in CATALOGUE and CATALOGUE[message_id] != languages:
            raise ValueError(f"Message {message_id!r} is registered twice.")
        CATALOGUE[message_id] = dict(languages)


def text(message_id: str, locale: str = "en", /, **values: object) -> str:
    """Return the text of ``message_id`` in ``locale``, formatted with ``values``."""
    entry = CATALOGUE[message_id]
    template = entry.get(locale) or entry["en"]
    return template.format(**values)
