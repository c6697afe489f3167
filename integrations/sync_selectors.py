"""Reads of sync configuration and history. Every selector takes the workspace first and filters on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from cdp.models import Activity
from integrations import sync_settings
from integrations.models import ChangeStream, Connection, SyncedObject, SyncError, SyncRun
from integrations.salesforce.tasks import SYNC_SCHEDULE_NAME

# Why a connection has no sync schedule, said as what to do about it.
WHY_NOT_SCHEDULED: dict[str, str] = {
    Connection.Status.CONNECTED: "the schedule is missing; save the Schedule page to create it",
    Connection.Status.PAUSED: "syncing is paused; resume it to sync again",
    Connection.Status.NEEDS_REAUTH: "the connection needs reconnecting to Salesforce",
    Connection.Status.DISCONNECTED: "the connection is disconnected; reconnect it to sync again",
}


def synced_objects(*, workspace, connection: Connection) -> QuerySet[SyncedObject]:
    return SyncedObject.objects.filter(workspace=workspace, connection=connection).order_by("api_name")


def sync_runs(*, workspace, connection: Connection | None = None, limit: int = 20) -> QuerySet[SyncRun]:
    qs = SyncRun.objects.filter(workspace=workspace)
    if connection is not None:
        qs = qs.filter(connection=connection)
    return qs.order_by("-queued_at", "-id")[:limit]


def active_run(*, workspace, connection: Connection) -> SyncRun | None:
    return SyncRun.objects.filter(
        workspace=workspace, connection=connection, state__in=SyncRun.ACTIVE_STATES
    ).first()


def sync_errors(
    *, workspace, connection: Connection | None = None, error_type: str = "", include_resolved: bool = False
) -> QuerySet[SyncError]:
    qs = SyncError.objects.filter(workspace=workspace)
    if connection is not None:
        qs = qs.filter(connection=connection)
    if error_type:
        qs = qs.filter(error_type=error_type)
    if not include_resolved:
        qs = qs.filter(resolved=False)
    return qs.order_by("-created_at", "-id")


def open_errors_by_type(errors: QuerySet[SyncError]) -> list[dict]:
    """Open errors grouped by type, biggest first (HubSpot-style Sync Health):
    [{"type", "label", "count", "connections", "records"}]. The caller passes the errors it may see: a
    workspace's (`sync_errors`), or, for the operator, every workspace's."""
    labels = dict(SyncError.Type.choices)
    groups = (
        errors.filter(resolved=False)
        .order_by()
        .values("error_type")
        .annotate(
            n=Count("pk"),
            connections=Count("connection", distinct=True),
            records=Count("sf_id", distinct=True),
        )
        .order_by("-n", "error_type")
    )
    return [
        {
            "type": group["error_type"],
            "label": labels.get(group["error_type"], group["error_type"]),
            "count": group["n"],
            "connections": group["connections"],
            "records": group["records"],
        }
        for group in groups
    ]


def sync_progress(*, workspace, connection: Connection) -> dict:
    """Live progress of the latest run, for the onboarding "Congratulations" page and `sync_status`.

    {"state", "state_reason", "kind", "run_id", "objects": [{"name", "label", "total", "done", "percent",
    "state"}], "total", "done", "percent", "rate" (records/s), "eta_seconds", "errors"}; "state" is "none"
    before the first run.
    """
    run = (
        SyncRun.objects.filter(workspace=workspace, connection=connection)
        .exclude(state=SyncRun.State.SKIPPED)
        .order_by("-queued_at", "-id")
        .first()
    )
    if run is None:
        return {
            "state": "none",
            "state_reason": "",
            "kind": "",
            "run_id": None,
            "objects": [],
            "total": 0,
            "done": 0,
            "percent": 0,
            "rate": 0.0,
            "eta_seconds": None,
            "errors": 0,
        }
    labels = dict(
        SyncedObject.objects.filter(workspace=workspace, connection=connection).values_list(
            "api_name", "label"
        )
    )
    objects = []
    total = done = 0
    known_total = True
    for name, entry in run.progress.items():
        obj_total = entry.get("total")
        obj_done = entry.get("done", 0) or 0
        if obj_total is None:
            known_total = False if entry.get("state") != "done" else known_total
        else:
            total += obj_total
        done += obj_done
        finished = entry.get("state") == "done"
        percent = 100 if finished else (min(99, int(100 * obj_done / obj_total)) if obj_total else 0)
        objects.append(
            {
                "name": name,
                "label": labels.get(name, name),
                "total": obj_total,
                "done": obj_done,
                "percent": percent,
                "state": entry.get("state", "pending"),
            }
        )
    elapsed = None
    if run.started_at:
        end = run.finished_at or timezone.now()
        elapsed = max((end - run.started_at).total_seconds(), 0.001)
    rate = round(done / elapsed, 1) if elapsed else 0.0
    remaining = max(total - done, 0)
    eta = None
    if run.state == SyncRun.State.RUNNING and rate > 0 and known_total:
        eta = int(remaining / rate)
    elif run.state == SyncRun.State.SUCCEEDED:
        eta = 0
    overall = (
        100 if run.state == SyncRun.State.SUCCEEDED else (min(99, int(100 * done / total)) if total else 0)
    )
    return {
        "state": run.state,
        "state_reason": run.state_reason,
        "kind": run.kind,
        "run_id": run.pk,
        "objects": objects,
        "total": total,
        "done": done,
        "percent": overall,
        "rate": rate,
        "eta_seconds": eta,
        "errors": SyncError.objects.filter(workspace=workspace, run=run).count(),
    }


@dataclass(frozen=True)
class ScheduleState:
    """What the connection's schedule really is, read from django-q2's Schedule row (not the setting)."""

    scheduled: bool
    every: str  # "Every 5 minutes"
    next_run: dt.datetime | None
    # Why nothing runs on a schedule ("" when it does): paused, needs reconnecting, disconnected, ...
    why_not: str
    waiting_for_first_sync: bool

    @property
    def due_now(self) -> bool:
        """The next run's time has come and the scheduler (every 30 s) has not picked it up yet."""
        return self.next_run is not None and self.next_run <= timezone.now()


def sync_schedule_state(*, workspace, connection: Connection) -> ScheduleState:
    from django_q.models import Schedule

    if connection.workspace_id != workspace.pk:
        raise Connection.DoesNotExist
    every = connection.get_schedule_interval_minutes_display()
    schedule = Schedule.objects.filter(name=SYNC_SCHEDULE_NAME.format(id=connection.pk)).first()
    first_sync = SyncRun.objects.filter(workspace=workspace, connection=connection).exclude(
        state=SyncRun.State.SKIPPED
    )
    if schedule is not None and connection.status == Connection.Status.CONNECTED:
        return ScheduleState(
            scheduled=True,
            every=dict(Connection.ScheduleInterval.choices).get(
                schedule.minutes, f"Every {schedule.minutes} minutes"
            ),
            next_run=schedule.next_run,
            why_not="",
            waiting_for_first_sync=not first_sync.exists(),
        )
    why = WHY_NOT_SCHEDULED.get(
        connection.status, f"the connection is {connection.get_status_display().lower()}"
    )
    return ScheduleState(
        scheduled=False, every=every, next_run=None, why_not=why, waiting_for_first_sync=False
    )


def activities_stored(*, workspace, connection: Connection) -> dict:
    """What the Data retention page shows: how many activities this connection has stored, how many the
    current setting would not keep (what "Delete" removes), and the oldest one's date."""
    from django.db.models import Min, Q

    source = f"salesforce:{connection.pk}"
    stored = Activity.objects.filter(workspace=workspace, source=source)
    outside = Q()
    cutoff = sync_settings.activity_retention_cutoff(connection)
    if cutoff is not None:
        outside |= Q(occurred_at__lt=cutoff)
    kinds = sync_settings.activity_kinds_kept(connection)
    if kinds is not None:
        outside |= ~Q(definition__activity_id__in=list(kinds))
    return {
        "total": stored.count(),
        "outside": stored.filter(outside).count() if outside else 0,
        "oldest": stored.aggregate(oldest=Min("occurred_at"))["oldest"],
        "cutoff": cutoff,
    }


@dataclass(frozen=True)
class LiveStatus:
    """Whether a connection's changes arrive live (Change Data Capture) and, if not, why."""

    live: bool
    label: str  # "Live", "Off", "Not live", "Reconnecting", ...
    detail: str
    last_event_at: object = None  # datetime of the last applied event, when there is one


def live_status(*, workspace, connection: Connection) -> LiveStatus:
    if connection.workspace_id != workspace.pk:
        raise ValueError("connection of another workspace")
    if not connection.streaming_enabled:
        return LiveStatus(False, "Off", "Live updates are off: changes arrive on the sync schedule.")
    if connection.status != Connection.Status.CONNECTED:
        return LiveStatus(False, "Not live", f"The connection is {connection.get_status_display().lower()}.")
    try:
        stream = connection.change_stream  # select_related("change_stream") makes this free in lists
    except ChangeStream.DoesNotExist:
        stream = None
    now = timezone.now()
    if stream is None or not stream.lease_owner or (stream.lease_expires_at or now) < now:
        return LiveStatus(
            False, "Not live", "No listener is running: changes arrive on the sync schedule until one starts."
        )
    if stream.state == ChangeStream.State.LIVE:
        if stream.last_event_at:
            detail = f"Last change applied {timesince(stream.last_event_at, now)} ago."
        else:
            detail = "Listening; no change since the listener started."
        return LiveStatus(True, "Live", detail, stream.last_event_at)
    reason = stream.state_reason or "starting"
    return LiveStatus(
        False, stream.get_state_display(), f"{reason[:200]} (changes arrive on the schedule meanwhile)."
    )
