"""Field types: one table drives validation, conversion, storage and display of every CDP field.

Values arrive raw from sources (strings, numbers, bools, ISO dates, Ortto-style objects). A type's
`convert` turns a raw value into its Python value or raises `FieldValueError` with a reason a person can
read; `to_json` / `from_json` move it in and out of the JSON column that holds custom values; `display`
renders it. Nothing else in the code branches on a field's type.

Rules that hold for every type: `None`, "" and [] mean "empty"; strings are never coerced into numbers;
decimals and currency are `Decimal`, never floats; over-long values are rejected, not truncated (Ortto
rejects them too: text 255, long text 4,000 characters).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

TEXT_MAX = 255
LONG_TEXT_MAX = 4000
EMAIL_MAX = 254
LINK_MAX = 2000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Enough for any real amount; also keeps a hostile 100,000-digit number out of the database.
DECIMAL_MAX_DIGITS = 30
PHONE_MIN_DIGITS, PHONE_MAX_DIGITS = 5, 15
MULTI_SELECT_MAX_ITEMS = 100
# How much of a rejected value an error message quotes.
PREVIEW_CHARS = 40


class FieldValueError(ValueError):
    """A raw value that the field's type cannot accept; `str(error)` is the reason shown to people."""


def is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _preview(value: object) -> str:
    """The value as an error message quotes it: short enough that a huge value does not swamp the message."""
    text = repr(value)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


# ---------------------------------------------------------------- converters (raw -> Python)


def _text_of(value: object, *, max_length: int) -> str | None:
    if isinstance(value, bool):
        raise FieldValueError(f"expected text, got a boolean {_preview(value)}")
    if isinstance(value, int | Decimal):
        value = str(value)
    elif isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str):
        raise FieldValueError(f"expected text, got {type(value).__name__} {_preview(value)}")
    value = value.strip()
    if len(value) > max_length:
        raise FieldValueError(f"text of {len(value)} characters is longer than the limit of {max_length}")
    return value or None


def convert_text(value: object) -> str | None:
    return _text_of(value, max_length=TEXT_MAX)


def convert_long_text(value: object) -> str | None:
    return _text_of(value, max_length=LONG_TEXT_MAX)


def convert_geo(value: object) -> str | None:
    # Ortto sends places as {"name": "Melbourne"}; sources usually send the bare name.
    if isinstance(value, dict):
        if set(value) - {"name"}:
            raise FieldValueError(f"expected a place name or {{'name': ...}}, got {_preview(value)}")
        value = value.get("name")
        if value is None:
            return None
    return _text_of(value, max_length=TEXT_MAX)


def convert_integer(value: object) -> int | None:
    if isinstance(value, bool) or isinstance(value, str):
        raise FieldValueError(f"expected a whole number, got {type(value).__name__} {_preview(value)}")
    if isinstance(value, float):
        # JSON decoders hand Salesforce's number(18,0) values over as 5.0.
        if not value.is_integer():
            raise FieldValueError(f"expected a whole number, got {_preview(value)}")
        value = int(value)
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise FieldValueError(f"expected a whole number, got {_preview(value)}")
        value = int(value)
    if not isinstance(value, int):
        raise FieldValueError(f"expected a whole number, got {type(value).__name__} {_preview(value)}")
    if not INT64_MIN <= value <= INT64_MAX:
        raise FieldValueError("number is outside the 64-bit range")
    return value


def convert_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or isinstance(value, str):
        raise FieldValueError(f"expected a number, got {type(value).__name__} {_preview(value)}")
    if isinstance(value, float):
        # The shortest repr round-trips, so 19.99 stays 19.99 rather than 19.989999999999998...
        value = Decimal(repr(value))
    elif isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal):
        raise FieldValueError(f"expected a number, got {type(value).__name__} {_preview(value)}")
    if not value.is_finite():
        raise FieldValueError(f"expected a finite number, got {_preview(value)}")
    if len(value.as_tuple().digits) > DECIMAL_MAX_DIGITS:
        raise FieldValueError(f"number has more than {DECIMAL_MAX_DIGITS} digits")
    return value


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def convert_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        if lowered == "":
            return None
    raise FieldValueError(f"expected true or false, got {_preview(value)}")


_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")


def phone_key(text: str) -> str:
    """The form phones are matched on: digits only, with a leading + kept and 00 read as +."""
    compact = _PHONE_PUNCTUATION.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact


def convert_phone(value: object) -> str | None:
    if isinstance(value, dict):
        # Ortto's shapes: {"c": "61", "n": "401234567"} and {"phone": "+61401234567", ...}.
        if "n" in value:
            country = str(value.get("c") or "").lstrip("+")
            value = f"+{country}{value['n']}" if country else str(value["n"])
        elif "phone" in value:
            value = value["phone"]
        else:
            raise FieldValueError(f"expected a phone number, got {_preview(value)}")
    if not isinstance(value, str):
        raise FieldValueError(
            f"expected a phone number as text, got {type(value).__name__} {_preview(value)}"
        )
    if not value.strip():
        return None
    key = phone_key(value.strip())
    digits = key[1:] if key.startswith("+") else key
    if not digits.isdigit() or not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        raise FieldValueError(f"{_preview(value)} is not a phone number")
    return key


def convert_email(value: object) -> str | None:
    text = _text_of(value, max_length=EMAIL_MAX)
    if text is None:
        return None
    try:
        validate_email(text)
    except ValidationError:
        raise FieldValueError(f"{_preview(text)} is not an email address")
    return text


def convert_link(value: object) -> str | None:
    text = _text_of(value, max_length=LINK_MAX)
    if text is None:
        return None
    # Sources store websites as "www.acme.com" as often as "https://acme.com": accept both, not prose.
    if any(ch.isspace() for ch in text) or "." not in text:
        raise FieldValueError(f"{_preview(text)} is not a link")
    return text


def convert_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        raise FieldValueError(f"expected a date without a time, got {_preview(value)}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, dict):
        # Ortto's birthday shape {"year": 1980, "month": 3, "day": 4, "timezone": ...}.
        try:
            return dt.date(int(value["year"]), int(value["month"]), int(value["day"]))
        except (KeyError, TypeError, ValueError):
            raise FieldValueError(f"{_preview(value)} is not a date")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) == 10:
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        raise FieldValueError(f"{_preview(value)} is not a date (expected YYYY-MM-DD)")
    raise FieldValueError(f"expected a date, got {type(value).__name__} {_preview(value)}")


def convert_time(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if len(text) > 40:
            raise FieldValueError(f"{_preview(value)} is not a date and time")
        try:
            # Python 3.11 reads Salesforce's "2024-05-01T10:11:12.000+0000" as well as ISO 8601.
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise FieldValueError(f"{_preview(value)} is not a date and time (expected ISO 8601)")
    else:
        raise FieldValueError(f"expected a date and time, got {type(value).__name__} {_preview(value)}")
    if parsed.tzinfo is None:
        # Sources that omit the offset mean UTC (Salesforce always sends +0000).
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def convert_multi_select(value: object) -> list[str] | None:
    if isinstance(value, str):
        # Salesforce multi-select picklists arrive as "A;B;C".
        value = value.split(";")
    if not isinstance(value, list | tuple):
        raise FieldValueError(f"expected a list of options, got {type(value).__name__} {_preview(value)}")
    if len(value) > MULTI_SELECT_MAX_ITEMS:
        raise FieldValueError(f"more than {MULTI_SELECT_MAX_ITEMS} options")
    items: list[str] = []
    for item in value:
        text = _text_of(item, max_length=TEXT_MAX)
        if text is not None and text not in items:
            items.append(text)
    return items or None


# ---------------------------------------------------------------- storage (Python <-> JSON) and display


def _identity(value):
    return value


def _decimal_from_json(value):
    return Decimal(value)


def _date_from_json(value):
    return dt.date.fromisoformat(value)


def _time_from_json(value):
    return dt.datetime.fromisoformat(value)


def _iso(value):
    return value.isoformat()


def _display_text(value) -> str:
    return str(value)


def _display_bool(value) -> str:
    return "Yes" if value else "No"


def _display_integer(value) -> str:
    return f"{value:,}"


def _display_decimal(value: Decimal) -> str:
    return f"{value:,f}"


def _display_currency(value: Decimal) -> str:
    return (
        f"{value.quantize(Decimal('0.01')):,}" if value == value.quantize(Decimal("0.01")) else f"{value:,f}"
    )


def _display_date(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


def _display_time(value: dt.datetime) -> str:
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _display_list(value) -> str:
    return ", ".join(value)


@dataclass(frozen=True)
class FieldType:
    code: str  # Ortto's display_type, stored on FieldDefinition
    label: str
    prefix: str  # the first part of a field id, e.g. "str" in "str:cm:job-title"
    convert: Callable[[object], object]
    to_json: Callable[[object], object] = _identity
    from_json: Callable[[object], object] = _identity
    # Given only values of this type (what `convert` made), so each type's display takes its own value type.
    display: Callable[[Any], str] = _display_text
    # Types a person can pick for a new custom field; the others come only from the built-in catalogue.
    creatable: bool = True


FIELD_TYPES: dict[str, FieldType] = {
    t.code: t
    for t in [
        FieldType("text", "Text", "str", convert_text),
        FieldType("large_text", "Long text", "str", convert_long_text),
        FieldType("integer", "Integer", "int", convert_integer, display=_display_integer),
        FieldType("decimal", "Decimal", "dec", convert_decimal, str, _decimal_from_json, _display_decimal),
        FieldType("currency", "Currency", "cur", convert_decimal, str, _decimal_from_json, _display_currency),
        FieldType("bool", "Boolean", "bol", convert_bool, display=_display_bool),
        FieldType("phone", "Phone", "phn", convert_phone),
        FieldType("date", "Date", "dtz", convert_date, _iso, _date_from_json, _display_date),
        FieldType("time", "Date and time", "tme", convert_time, _iso, _time_from_json, _display_time),
        FieldType("single_select", "Single select", "str", convert_text),
        FieldType("multi_select", "Multi select", "sst", convert_multi_select, display=_display_list),
        FieldType("link", "Link", "lnk", convert_link),
        FieldType("email", "Email", "str", convert_email),
        # Built-in only: places, ids, URLs, engagement scores and tags as Ortto's schema names them.
        FieldType("geo", "Place", "geo", convert_geo, creatable=False),
        FieldType("id", "Identifier", "idt", convert_text, creatable=False),
        FieldType("url", "URL", "str", convert_link, creatable=False),
        FieldType(
            "engagement", "Engagement", "int", convert_integer, display=_display_integer, creatable=False
        ),
        FieldType("tags", "Tags", "u4s", convert_multi_select, display=_display_list, creatable=False),
    ]
}

# A field id's prefix says which display type to assume when a source registers a field without naming one.
DEFAULT_TYPE_FOR_PREFIX = {
    "str": "text",
    "int": "integer",
    "dec": "decimal",
    "cur": "currency",
    "bol": "bool",
    "phn": "phone",
    "dtz": "date",
    "dat": "date",
    "tme": "time",
    "tim": "time",
    "sst": "multi_select",
    "lnk": "link",
    "geo": "geo",
    "idt": "id",
    "u4s": "tags",
}

FIELD_ID_RE = re.compile(
    r"^(?P<prefix>[a-z0-9]{2,4}):(?P<namespace>[a-z0-9]{0,8}):(?P<name>[a-z0-9][a-z0-9_\-!]{0,99})$"
)


def parse_field_id(field_id: str) -> tuple[str, str, str]:
    """(prefix, namespace, name) of an Ortto-style id, e.g. "str:cm:job-title" -> ("str", "cm", "job-title")."""
    match = FIELD_ID_RE.match(field_id)
    if not match:
        raise ValueError(f"{field_id!r} is not a field id of the form type:namespace:name")
    return match["prefix"], match["namespace"], match["name"]


def field_type(code: str) -> FieldType:
    return FIELD_TYPES[code]


def convert_value(code: str, raw: object) -> object:
    """Raw source value -> Python value of the type (None when empty); raises FieldValueError."""
    if is_empty(raw):
        return None
    return FIELD_TYPES[code].convert(raw)


def to_json(code: str, value: object) -> object:
    return None if value is None else FIELD_TYPES[code].to_json(value)


def from_json(code: str, value: object) -> object:
    return None if value is None else FIELD_TYPES[code].from_json(value)


def display_value(code: str, value: object) -> str:
    if is_empty(value):
        return ""
    return FIELD_TYPES[code].display(value)
