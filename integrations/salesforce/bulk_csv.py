"""Bulk API 2.0 CSV rows as the REST JSON of the same records, so both reads map and hash alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def normalize_bulk_value(value: str | None, sf_type: str) -> Any:
    """Bulk API 2.0 CSV gives every value as text and nulls as ""; give back what REST JSON would have."""
    if value is None or value == "":
        return None
    if sf_type == "boolean":
        lowered = value.lower()
        return True if lowered == "true" else False if lowered == "false" else value
    if sf_type in ("int", "long"):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value
    if sf_type == "datetime" and value.endswith("Z"):
        # Bulk writes 2019-06-12T17:52:44.000Z where REST writes ...+0000: store one form, so a Bulk-read
        # record re-read over REST hashes the same and is not applied again.
        return value[:-1] + "+0000"
    if sf_type in ("double", "percent", "currency"):
        # Parse the text as a JSON decoder would: "50000" is an int and "50000.0" a float. float() for both
        # made a record read by Bulk hash differently from the same record read over REST, so every full
        # re-read rewrote the SourceRecords at the watermark (24 rows at 100k contacts).
        try:
            return int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            return value
    return value


def normalize_bulk_row(row: Mapping[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    return {name: normalize_bulk_value(value, types.get(name, "string")) for name, value in row.items()}
