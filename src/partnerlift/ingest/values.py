"""Values as spreadsheets and CRM exports write them: dates and amounts.

Dates: ``2024/04/01``, ``2024/4/1 10:00``, ``2024年4月1日``, Japanese era dates such
as ``令和6年4月1日`` or ``R6.4.1``, ``20240401`` and five-digit Excel serial day
numbers.
Amounts: thousands separators, currency signs, full-width digits, the accounting
minus signs ``▲`` and ``△`` and brackets, and the separators of a locale.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Era:
    """A Japanese era: its name, letter and first day."""

    name: str
    letter: str
    start: date


# The eras from Meiji on, newest first; each ends the day before the next begins.
ERAS = (
    Era("令和", "R", date(2019, 5, 1)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("明治", "M", date(1868, 10, 23)),
)

_TIME = r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_ERA_DATE = re.compile(
    r"(令和|平成|昭和|大正|明治|[RHSTMrhstm])\s*(元|\d{1,2})\s*[年./-]\s*"
    r"(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?" + _TIME
)
_KANJI_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日" + _TIME)
_SEPARATED_DATE = re.compile(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})" + _TIME)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Only five-digit serials (1927-05-18 to 2173-10-14) are read as dates without a
# mapping, so that a year such as 2024 or a small count is not taken for one.
_EXCEL_SERIAL = re.compile(r"[1-9]\d{4}(?:\.\d+)?")

# Excel's 1900 date system counts 1900-01-01 as day 1 and, copying Lotus 1-2-3,
# also counts the day 1900-02-29 that never was (day 60). From day 61 on, day N is
# 1899-12-30 plus N days. The largest serial is 9999-12-31.
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_LAST = 2958466


def parse_wall_time(text: str) -> datetime:
    """Parse a spreadsheet date into a naive wall-clock datetime.

    Raises
    ------
    ValueError
        If ``text`` has none of the accepted forms, or names a day that does not
        exist (such as 平成32年, after the Heisei era ended).
    """
    value = unicodedata.normalize("NFKC", text).strip()
    match = _ERA_DATE.fullmatch(value)
    if match:
        return _era_date(match)
    for pattern in (_KANJI_DATE, _SEPARATED_DATE):
        match = pattern.fullmatch(value)
        if match:
            year, month, day = (int(part) for part in match.group(1, 2, 3))
            return _with_time(date(year, month, day), match.groups()[3:])
    match = _COMPACT_DATE.fullmatch(value)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return datetime(year, month, day)
    if _EXCEL_SERIAL.fullmatch(value):
        return excel_serial_to_datetime(float(value))
    raise ValueError(f"not a date: {text!r}")


def _era_date(match: re.Match[str]) -> datetime:
    name, year_text, month, day = match.group(1, 2, 3, 4)
    names = {era.name: era for era in ERAS}
    names |= {era.letter: era for era in ERAS}
    era = names[name] if name in names else names[name.upper()]
    year = 1 if year_text == "元" else int(year_text)
    gregorian = date(era.start.year + year - 1, int(month), int(day))
    newer = [other.start for other in ERAS if other.start > era.start]
    end = min(newer) if newer else date.max
    if not era.start <= gregorian < end:
        raise ValueError(f"{era.name}{year}年{month}月{day}日 does not exist")
    return _with_time(gregorian, match.groups()[4:])


def _with_time(day: date, parts: tuple[str | None, ...]) -> datetime:
    hour, minute, second = (int(part) if part else 0 for part in parts)
    return datetime(day.year, day.month, day.day, hour, minute, second)


def excel_serial_to_datetime(serial: float) -> datetime:
    """Convert an Excel serial day number (1900 date system) to a datetime.

    Raises
    ------
    ValueError
        If the serial is below 1, is 60 (Excel's 1900-02-29) or after 9999-12-31.
    """
    if not 1 <= serial < _EXCEL_LAST or int(serial) == 60:
        raise ValueError(f"not an Excel date serial: {serial!r}")
    epoch = _EXCEL_EPOCH if serial > 60 else _EXCEL_EPOCH + timedelta(days=1)
    moment = epoch + timedelta(days=serial)
    # Serials store seconds as fractions of a day; round away float noise.
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def parse_spreadsheet_instant(text: str, zone: ZoneInfo) -> datetime:
    """Parse a spreadsheet date as local time in ``zone`` into a naive UTC datetime.

    Raises
    ------
    ValueError
        As :func:`parse_wall_time`.
    """
    wall = parse_wall_time(text)
    return wall.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


# Thousands and decimal separators by locale, as CLDR gives them for numbers. A
# space separator also stands for the no-break spaces that exports write.
LOCALE_SEPARATORS: dict[str, tuple[str, str]] = {
    "en": (",", "."),
    "ja": (",", "."),
    "zh": (",", "."),
    "ko": (",", "."),
    "de": (".", ","),
    "es": (".", ","),
    "it": (".", ","),
    "nl": (".", ","),
    "pt": (".", ","),
    "id": (".", ","),
    "tr": (".", ","),
    "da": (".", ","),
    "fr": (" ", ","),
    "ru": (" ", ","),
    "pl": (" ", ","),
    "cs": (" ", ","),
    "sv": (" ", ","),
    "fi": (" ", ","),
    "nb": (" ", ","),
    "uk": (" ", ","),
    "de_CH": ("'", "."),
}


def locale_separators(locale: str) -> tuple[str, str]:
    """Return the (thousands, decimal) separators of a locale such as ``de-DE``.

    Raises
    ------
    ValueError
        If the locale is not known.
    """
    name = locale.replace("-", "_")
    for key in (name, name.split("_")[0].lower()):
        if key in LOCALE_SEPARATORS:
            return LOCALE_SEPARATORS[key]
    known = ", ".join(sorted(LOCALE_SEPARATORS))
    raise ValueError(f"unknown number locale {locale!r}; use one of: {known}")


# Currency signs and spaces around an amount, such as '¥1234', '1234円' or 'USD 12'.
_NUMBER_DECORATION = re.compile(r"[\s¥$€£円]|\b(?:JPY|USD|EUR|GBP)\b")
_COMMA_GROUPS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_BRACKETED = re.compile(r"\((.*)\)")


_CURRENCY_SIGNS = {"¥": "JPY", "円": "JPY", "$": "USD", "€": "EUR", "£": "GBP"}
_CURRENCY_CODE = re.compile(r"\b(JPY|USD|EUR|GBP)\b")


def amount_currencies(values: pd.Series, *, yen_backslash: bool = False) -> pd.Series:
    """Return the currency that each amount text names by sign or code, or None.

    ``$1,200`` is USD, ``€ 12`` EUR, ``1,200円`` and ``￥1,200`` JPY; so is
    ``\\1,200`` when ``yen_backslash`` marks the backslash as CP932's yen sign.
    """

    def currency(value: object) -> str | None:
        if value is None or pd.isna(value):
            return None
        text = unicodedata.normalize("NFKC", str(value))
        code = _CURRENCY_CODE.search(text)
        if code:
            return code.group(1)
        for sign, name in _CURRENCY_SIGNS.items():
            if sign in text:
                return name
        if yen_backslash and "\\" in text:
            return "JPY"
        return None

    return values.map(currency)


def _plain_numbers(
    values: pd.Series, *, thousands: str | None, decimal: str
) -> np.ndarray:
    """Mark the empty values and those already in the form ``pd.to_numeric`` reads.

    Most exported amounts and counts are plain digits, which Arrow finds far faster
    than the cleaning below. A point is plain only where it is the decimal mark.
    """
    fraction = r"(?:\.[0-9]+)?" if decimal == "." and thousands != "." else ""
    try:
        arrow = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Values that are not all texts take the general path.
        return np.zeros(len(values), dtype=bool)
    matches = pc.match_substring_regex(arrow, rf"^-?[0-9]+{fraction}$")
    return np.asarray(matches.fill_null(True).to_numpy(zero_copy_only=False), bool)


def clean_amounts(
    values: pd.Series,
    *,
    thousands: str | None,
    decimal: str,
    yen_backslash: bool = False,
) -> pd.Series:
    """Turn amount texts into plain decimal texts that ``pd.to_numeric`` reads.

    Full-width characters become their ASCII forms (NFKC, so ``￥１，２３４`` is
    ``¥1,234``), currency signs and spaces go, ``▲``/``△`` and brackets mean minus.
    Without ``thousands``, commas that group digits by three (``1,234,567``) are
    dropped, since the decimal mark is then a point. ``yen_backslash`` drops the
    backslashes that CP932's yen sign (byte 0x5C) decodes to.
    """
    plain = _plain_numbers(values, thousands=thousands, decimal=decimal)
    if plain.all():
        return values.astype("string")
    if plain.any():
        cleaned = values.astype("string")
        cleaned[~plain] = clean_amounts(
            values[~plain],
            thousands=thousands,
            decimal=decimal,
            yen_backslash=yen_backslash,
        )
        return cleaned
    cleaned = values.astype("string").str.normalize("NFKC")
    # NFKC keeps the minus sign U+2212, which Japanese documents often use.
    cleaned = cleaned.str.replace("\u2212", "-", regex=False)
    if yen_backslash:
        cleaned = cleaned.str.replace("\\", "", regex=False)
    cleaned = cleaned.str.replace(_NUMBER_DECORATION, "", regex=True)
    negative = cleaned.str.match(r"[▲△]|\(.*\)$").fillna(False)
    cleaned = cleaned.str.replace(r"^[▲△]", "", regex=True)
    cleaned = cleaned.str.replace(_BRACKETED, r"\1", regex=True)
    if thousands is not None:
        separator = "" if thousands.isspace() else thousands
        if separator:
            cleaned = cleaned.str.replace(separator, "", regex=False)
    else:
        grouped = cleaned.str.fullmatch(_COMMA_GROUPS).fillna(False)
        cleaned = cleaned.where(~grouped, cleaned.str.replace(",", "", regex=False))
    if decimal != ".":
        cleaned = cleaned.str.replace(decimal, ".", regex=False)
    return cleaned.where(~negative, "-" + cleaned)
