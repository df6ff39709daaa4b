"""Checks of request bodies that come before storing: text that UTF-8 cannot encode
and gzip-compressed bodies."""

from __future__ import annotations

import re
import zlib
from typing import Any

from partnerlift.settings.messages import register, text

register(
    {
        "http.lone_surrogate": {
            "en": "Invalid text in {field!r}: it contains a lone UTF-16 surrogate "
            "({escape}), which is no character and cannot be stored as UTF-8. "
            "Send the text as valid UTF-8, or escape a character outside the Basic "
            "Multilingual Plane as a surrogate pair.",
            "ja": "{field!r} のテキストが無効です: 対になっていない UTF-16 サロゲート "
            "({escape}) を含んでおり、文字ではないため UTF-8 として保存できません。"
            "テキストを有効な UTF-8 で送るか、基本多言語面の外の文字はサロゲート"
            "ペアとしてエスケープしてください。",
        },
    }
)

# A JSON \u escape of a UTF-16 surrogate (U+D800 to U+DFFF). Only such an escape can
# put a lone surrogate into parsed JSON, as UTF-8 bytes cannot encode one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def may_have_surrogates(body: bytes) -> bool:
    """Return whether a JSON body has a surrogate escape, so that its parsed
    strings need :func:`find_lone_surrogate`. A valid surrogate pair also matches."""
    return _SURROGATE_ESCAPE.search(body) is not None


def find_lone_surrogate(value: Any, path: str = "") -> tuple[str, str] | None:
    """Find the first lone surrogate in the strings and keys of parsed JSON.

    Returns
    -------
    tuple of str, or None
        ``(field, escape)``: the path of the value or key that has it (such as
        ``action``, ``properties.page`` or ``tags[2]``) and the surrogate as a JSON
        escape (``\\ud800``), or None if there is none. Both are safe to encode.
    """
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found is None:
            return None
        return path or "(value)", f"\\u{ord(found.group()):04x}"
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{printable(key)}" if path else printable(key)
            found_key = find_lone_surrogate(key, name)
            if found_key is not None:
                return found_key
            found_item = find_lone_surrogate(item, name)
            if found_item is not None:
                return found_item
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found_item = find_lone_surrogate(item, f"{path}[{index}]")
            if found_item is not None:
                return found_item
    return None


def printable(value: str) -> str:
    """Return ``value`` with each lone surrogate written as a ``\\uXXXX`` escape, so
    that it can be encoded as UTF-8 in a response or a log."""
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", value)


def surrogate_reason(field: str, escape: str, locale: str) -> str:
    """Return the reason that rejects a value with a lone surrogate."""
    return text("http.lone_surrogate", locale, field=field, escape=escape)


class GzipError(ValueError):
    """A body sent as ``Content-Encoding: gzip`` that is no valid gzip data."""


class DecodedTooLarge(ValueError):
    """A gzip body whose decompressed size is over the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"decompressed body over {limit:,} bytes")
        self.limit = limit


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """Decompress a gzip body, reading at most ``max_bytes`` of output.

    Raises
    ------
    DecodedTooLarge
        If the decompressed body is over ``max_bytes``.
    GzipError
        If ``body`` is not complete gzip data.
    """
    output = b""
    remaining = body
    # A gzip body may be several members one after another, as gzip(1) reads it.
    while True:
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            # max_length bounds the memory that a small body which expands a lot
            # can take.
            output += decompressor.decompress(remaining, max_bytes + 1 - len(output))
        except zlib.error as error:
            raise GzipError(str(error)) from None
        if len(output) > max_bytes:
            raise DecodedTooLarge(max_bytes)
        if not decompressor.eof:
            raise GzipError("the compressed data ends early")
        remaining = decompressor.unused_data
        if not remaining:
            return output
