"""Salesforce record values as Python: dates and times, exact decimals, booleans sent as text, and the
payload hash that says whether a record changed."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson


def parse_datetime(value: Any) -> dt.datetime | None:
    """Salesforce's `2024-01-31T17:05:00.000+0000` (REST) or `...Z` (Bulk) -> aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected a date and time, got {value!r:.40}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_date_or_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, str) and len(value.strip()) == 10:
        day = dt.date.fromisoformat(value.strip())
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return parse_datetime(value)


def datetime_or_none(value: Any) -> dt.datetime | None:
    try:
        return parse_datetime(value)
    except (ValueError, TypeError):
        return None


def date_or_datetime_or_none(value: Any) -> dt.datetime | None:
    try:
        return parse_date_or_datetime(value)
    except (ValueError, TypeError):
        return None


def decimal_safe(value: Any) -> Any:
    """JSON floats for currency/percent become Decimals through their shortest repr (19.99 stays 19.99)."""
    if isinstance(value, float):
        try:
            return Decimal(repr(value))
        except InvalidOperation:
            return value
    return value


def clean_payload(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record without REST's `attributes` (and nested relationship attributes)."""
    return {k: v for k, v in record.items() if k != "attributes"}


def payload_hash(payload: Mapping[str, Any]) -> str:
    return hashlib.blake2b(
        orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str),
        digest_size=16,
    ).hexdigest()


def is_true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
