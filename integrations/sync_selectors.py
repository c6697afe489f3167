"""Reads of sync configuration and history. Every selector takes the workspace first and filters on it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from integrations.models import Connection, FieldSelection, SyncedObject, SyncError, SyncRun


def synced_objects(*, workspace, connection: Connection) -> QuerySet[SyncedObject]:
    return SyncedObject.objects.filter(workspace=workspace, connection=connection).order_by("api_name")


def field_selections(
    *, workspace, synced_object: SyncedObject, active_only: bool = True
) -> QuerySet[FieldSelection]:
    qs = FieldSelection.objects.filter(synced_object__workspace=workspace, synced_object=synced_object)
    return qs.filter(active=True) if active_only else qs


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


def sync_error_summary(*, workspace, connection: Connection | None = None) -> list[dict]:
    """Open errors grouped by type (HubSpot-style Sync Health): [{"error_type", "label", "count"}]."""
    qs = sync_errors(workspace=workspace, connection=connection).order_by()
    labels = dict(SyncError.Type.choices)
    return [
        {
            "error_type": row["error_type"],
            "label": labels.get(row["error_type"], row["error_type"]),
            "count": row["n"],
        }
        for row in qs.values("error_type").annotate(n=Count("id")).order_by("-n", "error_type")
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
class LiveStatus:
    """Whether a connection's changes arrive live (Change Data Capture) and, if not, why."""

    live: bool
    label: str  # "Live", "Off", "Not live", "Reconnecting", ...
    detail: str
    last_event_at: object = None  # datetime of the last applied event, when there is one


def live_status(*, workspace, connection: Connection) -> LiveStatus:
    from integrations.models import ChangeStream

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
