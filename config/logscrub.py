"""Secrets never reach a log line: the OAuth callback's `?code=` and `state=` (and any token or password
passed as a query parameter) are replaced before a line is written, by gunicorn's access log
(config/gunicorn.py) and by Django's logging (the `scrub` filter in settings.LOGGING)."""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = re.compile(
    r"(?i)\b(code|state|access_token|refresh_token|client_secret|password|token|sig|signature)"
    r"(=|%3D)([^&\s\"']*)"
)


def scrub(text: str) -> str:
    return SECRET_PARAMETERS.sub(lambda m: f"{m.group(1)}{m.group(2)}[scrubbed]", text)


class ScrubSecretsFilter(logging.Filter):
    """Rewrites each record's message (and traceback text) with the secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
