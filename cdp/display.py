"""How stored values read on a page: field and attribute names from the workspace's catalogue, values
formatted by their type (`cdp.fields.FIELD_TYPES`), money with its currency, links as links, and opaque
external ids replaced by the name of the record they point at."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings

from cdp import fields

# The currency a `cur` value is shown in when the value carries none. Amounts are stored as plain decimals.
CURRENCY_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "AUD": "A$",
    "CAD": "CA$",
    "NZD": "NZ$",
    "CHF": "CHF ",
    "INR": "₹",
}

# A value that is nothing but an opaque id (a source record's key) is looked up rather than shown.
OPAQUE_ID_RE = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


@dataclass(frozen=True)
class Shown:
    label: str
    value: str
    href: str = ""  # a link to follow: a web address, or the page of the record an id names


def default_currency() -> str:
    return getattr(settings, "CDP_DEFAULT_CURRENCY", "USD")


def money(value: Decimal, currency: str = "") -> str:
    code = (currency or default_currency()).upper()
    amount = fields.display_value("currency", value)
    if amount.startswith("-"):
        return f"-{money(-value, code)}"
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{symbol}{amount}" if symbol else f"{amount} {code}"


def humanize_slug(field_id: str) -> str:
    """`cur:sfp:amount` -> "Amount", `bol:sfp:primary-contact` -> "Primary contact"."""
    name = field_id.rsplit(":", 1)[-1].replace("-", " ").replace("_", " ").strip()
    return (name[:1].upper() + name[1:]) if name else field_id


def display_type_of(field_id: str) -> str:
    prefix = field_id.split(":", 1)[0]
    return fields.DEFAULT_TYPE_FOR_PREFIX.get(prefix, "text")


def safe_link(value: str) -> str:
    """The value as an href only when it is an http(s) address (never javascript: or data:)."""
    text = value.strip()
    if re.match(r"^https?://[^\s]+$", text, re.IGNORECASE):
        return text
    if re.match(r"^(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)+(/\S*)?$", text, re.IGNORECASE):
        return f"https://{text}"
    return ""


def format_value(display_type: str, value: object, *, currency: str = "") -> tuple[str, str]:
    """(text, href) for a Python value of the type; href is set for links."""
    if fields.is_empty(value):
        return "", ""
    code = display_type if display_type in fields.FIELD_TYPES else "text"
    if code == "currency":
        try:
            return money(Decimal(str(value)), currency), ""
        except (InvalidOperation, ValueError):
            return str(value), ""
    try:
        text = fields.display_value(code, value)
    except (TypeError, ValueError, AttributeError):
        text = str(value)
    if code in ("link", "url"):
        return text, safe_link(text)
    return text, ""


def format_raw(display_type: str, raw: object, *, currency: str = "") -> tuple[str, str]:
    """Like format_value for a JSON-stored or source value: converted to the type first when it can be."""
    code = display_type if display_type in fields.FIELD_TYPES else "text"
    try:
        value = fields.convert_value(code, raw)
    except (fields.FieldValueError, TypeError, ValueError):
        value = raw  # shown as it came rather than hidden
    return format_value(code, value, currency=currency)
