"""Org-wide state shared by every sandbox process: API usage, request counts and faults.

Everything lives in one database row (OrgState pk=1) changed only by conditional UPDATEs, so a fault set
from the command line or the local endpoint applies at once to every gunicorn worker and thread.
"""

from __future__ import annotations

import datetime as dt

import orjson
from django.db import IntegrityError
from django.db.models import F, Q

from ..models import OrgState, QueryCursor, RequestCount
from ..routers import db
from ..wire import now
from . import oauth

FAULT_FIELDS = {
    "fail_next": int,
    "fail_status": int,
    "malformed_next": int,
    "latency_ms": int,
    "short_page_size": int,
    "bulk_job_delay_ms": int,
    "gap_next": int,
    "overflow_next": int,
}


def state() -> OrgState:
    row = OrgState.objects.using(db()).filter(pk=1).first()
    if row is None:
        try:
            row = OrgState.objects.using(db()).create(pk=1, usage_day=now().date())
        except IntegrityError:
            row = OrgState.objects.using(db()).get(pk=1)
    return row


def api_usage_consume(current: OrgState) -> tuple[bool, int, int]:
    """Count one API call against the daily limit; (allowed, used, max) after counting."""
    today = now().date()
    if current.usage_day != today:
        OrgState.objects.using(db()).filter(pk=1).filter(
            Q(usage_day__isnull=True) | ~Q(usage_day=today)
        ).update(api_usage=0, usage_day=today)
        current.api_usage = 0
    counted = (
        OrgState.objects.using(db())
        .filter(pk=1, api_usage__lt=F("api_daily_limit"))
        .update(api_usage=F("api_usage") + 1)
    )
    if not counted:
        return False, current.api_daily_limit, current.api_daily_limit
    return True, min(current.api_usage + 1, current.api_daily_limit), current.api_daily_limit


def take_failure(current: OrgState) -> int | None:
    """If a "fail the next N requests" fault is armed, consume one and return the status (0 = drop)."""
    if current.fail_next <= 0:
        return None
    taken = OrgState.objects.using(db()).filter(pk=1, fail_next__gt=0).update(fail_next=F("fail_next") - 1)
    return current.fail_status if taken else None


def query_times_out(object_name: str, current: OrgState) -> bool:
    """The QUERY_TIMEOUT fault: on a listed object, or on every query during a timed burst."""
    if current.query_timeout_until is not None and now() < current.query_timeout_until:
        return True
    return object_name in json_list(current.query_timeout_objects)


def unreachable(current: OrgState) -> bool:
    """The "org unreachable" fault: every API request has its connection dropped until then."""
    return current.unreachable_until is not None and now() < current.unreachable_until


def take_malformed(current: OrgState) -> bool:
    if current.malformed_next <= 0:
        return False
    return bool(
        OrgState.objects.using(db())
        .filter(pk=1, malformed_next__gt=0)
        .update(malformed_next=F("malformed_next") - 1)
    )


def request_count(endpoint: str) -> None:
    if RequestCount.objects.using(db()).filter(pk=endpoint).update(count=F("count") + 1):
        return
    try:
        RequestCount.objects.using(db()).create(endpoint=endpoint, count=1)
    except IntegrityError:  # another thread created it first
        RequestCount.objects.using(db()).filter(pk=endpoint).update(count=F("count") + 1)


def request_log() -> dict[str, int]:
    return dict(RequestCount.objects.using(db()).order_by("endpoint").values_list("endpoint", "count"))


def json_list(text: str) -> list:
    try:
        value = orjson.loads(text or "[]")
    except orjson.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


class FaultError(ValueError):
    pass


def faults_apply(**kw) -> OrgState:
    """Set faults and knobs. Keys: expire_access_tokens, revoke_refresh_tokens, expire_locators (bools);
    api_limit, api_usage; fail_next (+ fail_status 500/503/0=drop), malformed_next, latency_ms;
    query_timeout (list of objects), wrong_type (list of "Object.Field"), short_page_size, bulk_job_delay_ms;
    query_timeout_seconds (every query answers QUERY_TIMEOUT for that long), unreachable_seconds (every API
    request has its connection dropped for that long)."""
    current = state()
    update: dict = {}
    moment = now()
    for key, value in kw.items():
        if value is None:
            continue
        if key in FAULT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise FaultError(f"{key} must be a non-negative integer")
            if key == "fail_status" and value not in (0, 500, 503):
                raise FaultError("fail_status must be 500, 503 or 0 (drop the connection)")
            update[key] = value
        elif key == "api_limit":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise FaultError("api_limit must be a non-negative integer")
            update["api_daily_limit"] = value
        elif key == "api_usage":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise FaultError("api_usage must be a non-negative integer")
            update["api_usage"] = value
            update["usage_day"] = moment.date()
        elif key in ("query_timeout", "wrong_type"):
            if not isinstance(value, list) or not all(isinstance(v, str) and len(v) < 100 for v in value):
                raise FaultError(f"{key} must be a list of names")
            update["query_timeout_objects" if key == "query_timeout" else "wrong_type_fields"] = orjson.dumps(
                value
            ).decode()
        elif key in ("query_timeout_seconds", "unreachable_seconds"):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86_400:
                raise FaultError(f"{key} must be a number of seconds between 0 and 86400")
            field = "query_timeout_until" if key == "query_timeout_seconds" else "unreachable_until"
            update[field] = moment + dt.timedelta(seconds=value) if value else None
        elif key == "expire_access_tokens":
            if value:
                update["tokens_expired_before"] = moment
        elif key == "expire_locators":
            if value:
                update["locators_expired_before"] = moment
                QueryCursor.objects.using(db()).all().delete()
        elif key == "expire_events":
            if value:
                from .change_events import expire_all

                expire_all()
        elif key == "change_event_objects":
            if not isinstance(value, list) or not all(isinstance(v, str) and len(v) < 100 for v in value):
                raise FaultError('change_event_objects must be a list of object names (or ["*"])')
            update["change_event_objects"] = orjson.dumps(value).decode()
        elif key == "revoke_refresh_tokens":
            if value:
                oauth.refresh_tokens_revoke_all()
        else:
            raise FaultError(f"unknown fault {key!r}")
    if update:
        OrgState.objects.using(db()).filter(pk=current.pk).update(**update)
    return state()


def faults_reset() -> OrgState:
    """Clear every fault and the failed log-in counts (tokens stay as they are; the API limit and usage
    are left alone)."""
    from .throttle import clear_all

    state()
    clear_all()
    OrgState.objects.using(db()).filter(pk=1).update(
        fail_next=0,
        fail_status=503,
        malformed_next=0,
        latency_ms=0,
        query_timeout_objects="[]",
        query_timeout_until=None,
        unreachable_until=None,
        wrong_type_fields="[]",
        short_page_size=0,
        bulk_job_delay_ms=0,
        gap_next=0,
        overflow_next=0,
    )
    return state()


def faults_describe(current: OrgState) -> dict:
    return {
        "api_limit": current.api_daily_limit,
        "api_usage": current.api_usage,
        "fail_next": current.fail_next,
        "fail_status": current.fail_status,
        "malformed_next": current.malformed_next,
        "latency_ms": current.latency_ms,
        "query_timeout": json_list(current.query_timeout_objects),
        "wrong_type": json_list(current.wrong_type_fields),
        "query_timeout_until": current.query_timeout_until.isoformat()
        if current.query_timeout_until
        else None,
        "unreachable_until": current.unreachable_until.isoformat() if current.unreachable_until else None,
        "short_page_size": current.short_page_size,
        "bulk_job_delay_ms": current.bulk_job_delay_ms,
        "gap_next": current.gap_next,
        "overflow_next": current.overflow_next,
        "change_event_objects": json_list(current.change_event_objects),
        "events_forgotten_through": current.events_forgotten_through,
        "tokens_expired_before": current.tokens_expired_before.isoformat()
        if current.tokens_expired_before
        else None,
        "locators_expired_before": (
            current.locators_expired_before.isoformat() if current.locators_expired_before else None
        ),
    }


def locator_idle_timeout() -> dt.timedelta:
    from django.conf import settings

    return dt.timedelta(seconds=getattr(settings, "SANDBOX_LOCATOR_IDLE_SECONDS", 900))
