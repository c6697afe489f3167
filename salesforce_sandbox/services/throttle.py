"""Failed log-in limits for the log-in page and the password grant, shared by every process and thread.

Counters live in the default org's database (a log-in is checked before its org is known), one row per
key — the username and the client address — in a fixed window. Past the limit every attempt on that key
is refused, the right password included, until the window ends.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError
from django.db.models import F

from ..models import LoginThrottle
from ..routers import SANDBOX_DB
from ..wire import now


def _limits() -> tuple[int, int, dt.timedelta]:
    per_user = getattr(settings, "SANDBOX_LOGIN_FAILURES_PER_USER", 10)
    per_address = getattr(settings, "SANDBOX_LOGIN_FAILURES_PER_ADDRESS", 50)
    window = dt.timedelta(seconds=getattr(settings, "SANDBOX_LOGIN_WINDOW_SECONDS", 900))
    return per_user, per_address, window


def keys(*, username: str, address: str) -> dict[str, int]:
    """The keys an attempt counts against, with each key's limit."""
    per_user, per_address, _ = _limits()
    return {
        f"user:{(username or '').strip().lower()[:100]}": per_user,
        f"addr:{(address or '')[:100]}": per_address,
    }


def blocked(*, username: str, address: str) -> bool:
    _, _, window = _limits()
    since = now() - window
    limits = keys(username=username, address=address)
    rows = LoginThrottle.objects.using(SANDBOX_DB).filter(key__in=limits, window_start__gt=since)
    return any(row.failures >= limits[row.key] for row in rows)


def failure_record(*, username: str, address: str) -> None:
    _, _, window = _limits()
    moment = now()
    for key in keys(username=username, address=address):
        rows = LoginThrottle.objects.using(SANDBOX_DB)
        if rows.filter(key=key, window_start__gt=moment - window).update(failures=F("failures") + 1):
            continue
        # No row, or one whose window is over: start a new window (a concurrent start wins once).
        if rows.filter(key=key, window_start__lte=moment - window).update(window_start=moment, failures=1):
            continue
        try:
            rows.create(key=key, window_start=moment, failures=1)
        except IntegrityError:
            rows.filter(key=key).update(failures=F("failures") + 1)


def success_record(*, username: str) -> None:
    """A right password (while not blocked) clears that user's count, as Salesforce resets it."""
    LoginThrottle.objects.using(SANDBOX_DB).filter(
        key=f"user:{(username or '').strip().lower()[:100]}"
    ).delete()


def clear_all() -> None:
    LoginThrottle.objects.using(SANDBOX_DB).all().delete()
