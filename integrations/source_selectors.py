"""Reads for Data sources › Salesforce › Overview, progress and Sync health. Every selector takes the workspace
first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from cdp import selectors as cdp_selectors
from cdp.models import Activity, FieldDefinition, Identity, Workspace
from integrations import home_selectors
from integrations.models import Connection, SourceRecord, SyncedObject, SyncError, SyncRun
from integrations.sync_selectors import sync_progress

CHART_DAYS = 14


def source_name(connection: Connection) -> str:
    return home_selectors.connection_source(connection)


@dataclass(frozen=True)
class Overview:
    records: int  # Salesforce records synced that still exist there
    people: int  # live people this connection names (the home page's figure, for this source)
    organizations: int
    activities: int
    records_30d: int  # records synced by runs of the last 30 days (what the chart's bars add up to)
    activities_30d: int
    chart: list[tuple[date, int, int]]  # day, records synced that day, activities that happened that day
    last_run: SyncRun | None
    active_run: SyncRun | None
    open_errors: int


def _day_start(day: date):
    return timezone.make_aware(datetime.combine(day, time.min))


def source_overview(*, workspace: Workspace, connection: Connection) -> Overview:
    source = source_name(connection)
    now = timezone.now()
    since_30 = now - timedelta(days=30)
    first_day = timezone.localdate() - timedelta(days=CHART_DAYS - 1)
    start = _day_start(first_day)
    runs = SyncRun.objects.filter(workspace=workspace, connection=connection)
    synced_per_day = dict(
        runs.filter(started_at__gte=start)
        .annotate(day=TruncDate("started_at"))
        .values_list("day")
        .annotate(n=Sum("fetched"))
        .values_list("day", "n")
    )
    activities = Activity.objects.filter(workspace=workspace, source=source)
    per_day_activities = dict(
        activities.filter(occurred_at__gte=start)
        .annotate(day=TruncDate("occurred_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    chart = [
        (day, synced_per_day.get(day) or 0, per_day_activities.get(day, 0))
        for day in (first_day + timedelta(days=i) for i in range(CHART_DAYS))
    ]
    return Overview(
        records=home_selectors.source_record_count(workspace=workspace, connection=connection),
        people=cdp_selectors.person_count(workspace=workspace, source=source),
        organizations=cdp_selectors.organization_count(workspace=workspace, source=source),
        activities=cdp_selectors.activity_count(workspace=workspace, source=source),
        records_30d=runs.filter(started_at__gte=since_30).aggregate(n=Sum("fetched"))["n"] or 0,
        activities_30d=cdp_selectors.activity_count(workspace=workspace, source=source, since=since_30),
        chart=chart,
        last_run=runs.order_by("-queued_at", "-id").first(),
        active_run=runs.filter(state__in=SyncRun.ACTIVE_STATES).first(),
        open_errors=home_selectors.open_error_count(workspace=workspace, connection=connection),
    )


def sync_run_list(*, workspace: Workspace, connection: Connection, limit: int = 20) -> list[SyncRun]:
    """Recent runs, each with `records_with_errors`: the records whose open error this run last saw (the
    same errors Sync health lists, so the two pages agree)."""
    return list(
        SyncRun.objects.filter(workspace=workspace, connection=connection)
        .annotate(
            records_with_errors=Count(
                "errors__sf_id", distinct=True, filter=Q(errors__resolved=False) & ~Q(errors__sf_id="")
            )
        )
        .order_by("-queued_at", "-id")[:limit]
    )


ERRORS_PER_PAGE = 50


def sync_open_errors(*, workspace: Workspace, connection: Connection, error_type: str = ""):
    errors = SyncError.objects.filter(workspace=workspace, connection=connection, resolved=False)
    if error_type:
        errors = errors.filter(error_type=error_type)
    return errors.order_by("-last_seen_at", "-created_at", "-id")


def sync_error_page(*, workspace: Workspace, connection: Connection, error_type: str = "", page: int = 1):
    """One page of open errors (newest first), each with `record_name`: what the record is called."""
    paginator = Paginator(
        sync_open_errors(workspace=workspace, connection=connection, error_type=error_type), ERRORS_PER_PAGE
    )
    current = paginator.get_page(page)
    names = sync_error_record_names(workspace=workspace, connection=connection, errors=current.object_list)
    field_names = _field_names_in(workspace, [e.message for e in current.object_list])
    for error in current.object_list:
        error.record_name = names.get((error.object_name, error.sf_id), "")
        error.message = _readable(error.message, error.record_name, field_names)
        error.fix = _readable(error.fix, error.record_name, field_names)
    return current


_FIELD_ID = re.compile(r"\b[a-z]{3}:[a-z]*:[a-z0-9][a-z0-9_\-]*")
_SF_ID = re.compile(r"\b[a-zA-Z0-9]{3}(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?\b")


def _field_names_in(workspace: Workspace, messages: list[str]) -> dict[str, str]:
    ids = {m for message in messages for m in _FIELD_ID.findall(message or "")}
    if not ids:
        return {}
    return dict(
        FieldDefinition.objects.filter(workspace=workspace, field_id__in=ids).values_list("field_id", "name")
    )


def _readable(message: str, record_name: str, field_names: dict[str, str]) -> str:
    """The engine's message as a person reads it: field ids by their names, the record by its name."""
    if not message:
        return message
    message = _FIELD_ID.sub(lambda m: field_names.get(m.group(0), "a field"), message)
    return _SF_ID.sub(lambda m: record_name or "this record", message)


def sync_error_record_names(*, workspace: Workspace, connection: Connection, errors) -> dict[tuple, str]:
    """{(object, Salesforce id): the record's name}: the person or organization it became, else the name
    in its last synced payload. Two queries for a page of errors."""
    errors = list(errors)
    ids = {e.sf_id for e in errors if e.sf_id}
    if not ids:
        return {}
    names: dict[tuple, str] = {}
    for identity in Identity.objects.filter(
        workspace=workspace, source=source_name(connection), external_id__in=ids
    ).select_related("person", "organization"):
        record = identity.person or identity.organization
        if record is not None and str(record).strip():
            names[(identity.object, identity.external_id)] = str(record)
    missing = {e.sf_id for e in errors if e.sf_id and (e.object_name, e.sf_id) not in names}
    for object_name, sf_id, payload in SourceRecord.objects.filter(
        connection=connection, sf_id__in=missing
    ).values_list("object_name", "sf_id", "payload"):
        name = _payload_name(payload)
        if name:
            names[(object_name, sf_id)] = name
    return names


def _payload_name(payload: dict) -> str:
    for key in ("Name", "Subject", "Title"):
        if payload.get(key):
            return str(payload[key])
    return " ".join(str(payload[k]) for k in ("FirstName", "LastName") if payload.get(k))


def sync_errors_chosen(
    *, workspace: Workspace, connection: Connection, ids, every: bool, error_type: str = ""
):
    """The open errors a bulk action applies to: every open one (of the type) or the ticked ids."""
    errors = sync_open_errors(workspace=workspace, connection=connection, error_type=error_type)
    return errors if every else errors.filter(pk__in=list(ids))


def stored_sync_settings(*, workspace: Workspace, connection: Connection) -> list[dict]:
    """What this connection syncs, from Inflow's own tables (no call to Salesforce): each object with its
    fields (and the Inflow field each feeds, by name), permission and identifier rules."""

    objects = list(
        SyncedObject.objects.filter(workspace=workspace, connection=connection)
        .prefetch_related("fields")
        .order_by("-enabled", "label")
    )
    targets = {f.target_field for o in objects for f in o.fields.all()}
    names = dict(
        FieldDefinition.objects.filter(workspace=workspace, field_id__in=targets).values_list(
            "field_id", "name"
        )
    )
    return [
        {
            "object": obj,
            "fields": [
                {"label": f.label or f.sf_field, "target": names.get(f.target_field, ""), "active": f.active}
                for f in obj.fields.all()
            ],
        }
        for obj in objects
    ]


STATE_LABELS = {
    "none": "Waiting to start",
    "queued": "Queued",
    "running": "Syncing",
    "paused": "Paused",
    "succeeded": "Sync complete",
    "failed": "Sync failed",
    "skipped": "Skipped",
}


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left" if seconds > 0 else ""
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''} left"
    return f"about {minutes // 60} h {minutes % 60:02d} min left"


def progress(*, workspace: Workspace, connection: Connection) -> dict[str, Any]:
    """The latest run as the progress bars show it (the sync engine's `sync_progress`), with the words
    the page needs: a state label, a one-line summary, an ETA per object and whether polling can stop."""
    data = sync_progress(workspace=workspace, connection=connection)
    # PostgreSQL's jsonb does not keep key order: sort so the bars never jump around between polls.
    data["objects"] = sorted(data["objects"], key=lambda obj: obj["label"].lower())
    rate = data.get("rate") or 0
    for obj in data["objects"]:
        # Totals are counted when an object starts; records changed meanwhile can push "done" past them.
        if obj["total"] is not None and (obj["done"] > obj["total"] or obj["state"] == "done"):
            obj["total"] = max(obj["total"], obj["done"])
        remaining = (obj["total"] or 0) - obj["done"]
        running = obj["state"] not in ("done",) and data["state"] == "running"
        obj["eta"] = _duration(int(remaining / rate)) if running and rate > 0 and obj["total"] else ""
    data["total"] = max(data["total"], data["done"]) if data["total"] else data["total"]
    data["state_label"] = STATE_LABELS.get(data["state"], data["state"].title())
    data["finished"] = data["state"] in ("succeeded", "failed", "paused", "skipped")
    parts = [f"{data['done']:,} of {data['total']:,} records" if data["total"] else ""]
    if data["state"] == "running":
        parts.append(_duration(data.get("eta_seconds")))
    if data.get("errors"):
        parts.append(f"{data['errors']} record{'s' if data['errors'] != 1 else ''} with errors")
    if data["state"] in ("failed", "paused", "skipped") and data.get("state_reason"):
        parts.append(data["state_reason"])
    data["summary"] = " · ".join(p for p in parts if p)
    return data
