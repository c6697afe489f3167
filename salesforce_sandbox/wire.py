"""Salesforce's wire conventions: JSON bodies, datetime format, error envelopes, API versions."""

from __future__ import annotations

import datetime as dt

import orjson
from django.http import HttpResponse

JSON_TYPE = "application/json;charset=UTF-8"
UTC = dt.UTC
FIRST_VERSION = 31
LATEST_VERSION = 66
SEASONS = ("Summer", "Winter", "Spring")


def now() -> dt.datetime:
    """Current time at Salesforce's precision (milliseconds)."""
    moment = dt.datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def sf_datetime(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime, and this runs for every record served.
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "+0000"


def parse_sf_datetime(value: str) -> dt.datetime:
    """Parse `2024-01-31T17:05:00.000+0000` (and ISO forms with `Z` / `+00:00`)."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def version_label(number: int) -> str:
    index = number - FIRST_VERSION
    season = SEASONS[index % 3]
    year = 14 + (index + 2) // 3
    return f"{season} '{year:02d}"


def versions() -> list[dict]:
    return [
        {"label": version_label(n), "url": f"/services/data/v{n}.0", "version": f"{n}.0"}
        for n in range(FIRST_VERSION, LATEST_VERSION + 1)
    ]


def is_supported_version(version: str) -> bool:
    try:
        major, minor = version.split(".")
        return minor == "0" and FIRST_VERSION <= int(major) <= LATEST_VERSION
    except ValueError:
        return False


def json_response(data, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), status=status, content_type=JSON_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def error_response(status: int, error_code: str, message: str, fields: list | None = None) -> HttpResponse:
    body = {"message": message, "errorCode": error_code}
    if fields is not None:
        body["fields"] = fields
    return json_response([body], status=status)


def not_found() -> HttpResponse:
    return error_response(404, "NOT_FOUND", "The requested resource does not exist")


def oauth_error(error: str, description: str, status: int = 400) -> HttpResponse:
    response = HttpResponse(
        orjson.dumps({"error": error, "error_description": description}),
        status=status,
        content_type="application/json",
    )
    response["Cache-Control"] = "no-store"
    return response
