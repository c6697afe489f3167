"""Reads for Data sources › Salesforce › Overview and Sync health. Every selector takes the workspace first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cdp.models import Activity, Identity, Workspace
from integrations.models import Connection, SyncError, SyncRun

CHART_DAYS = 14


def source_name(connection: Connection) -> str:
    # The name the sync engine writes into identities and activities (integrations.salesforce.mapping).
    return f"salesforce:{connection.pk}"


@dataclass(frozen=True)
class Overview:
    records: int
    people: int
    organizations: int
    activities: int
    records_30d: int
    activities_30d: int
    chart: list[tuple[date, int, int]]  # day, records first seen, activities
    last_run: SyncRun | None
    active_run: SyncRun | None
    open_errors: int


def source_overview(*, workspace: Workspace, connection: Connection) -> Overview:
    source = source_name(connection)
    now = timezone.now()
    since_30 = now - timedelta(days=30)
    first_day = timezone.localdate() - timedelta(days=CHART_DAYS - 1)
    identities = Identity.objects.filter(workspace=workspace, source=source)
    counts = identities.aggregate(
        records=Count("id"),
        people=Count("id", filter=Q(person__isnull=False)),
        organizations=Count("id", filter=Q(organization__isnull=False)),
        records_30d=Count("id", filter=Q(created_at__gte=since_30)),
    )
    activities = Activity.objects.filter(workspace=workspace, source=source)
    activity_counts = activities.aggregate(
        total=Count("id"), last_30=Count("id", filter=Q(occurred_at__gte=since_30))
    )
    start = timezone.make_aware(timezone.datetime.combine(first_day, timezone.datetime.min.time()))
    per_day_records = dict(
        identities.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    per_day_activities = dict(
        activities.filter(occurred_at__gte=start)
        .annotate(day=TruncDate("occurred_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    chart = [
        (day, per_day_records.get(day, 0), per_day_activities.get(day, 0))
        for day in (first_day + timedelta(days=i) for i in range(CHART_DAYS))
    ]
    runs = SyncRun.objects.filter(workspace=workspace, connection=connection)
    return Overview(
        records=counts["records"],
        people=counts["people"],
        organizations=counts["organizations"],
        activities=activity_counts["total"],
        records_30d=counts["records_30d"],
        activities_30d=activity_counts["last_30"],
        chart=chart,
        last_run=runs.order_by("-queued_at", "-id").first(),
        active_run=runs.filter(state__in=SyncRun.ACTIVE_STATES).first(),
        open_errors=SyncError.objects.filter(
            workspace=workspace, connection=connection, resolved=False
        ).count(),
    )


def sync_run_list(*, workspace: Workspace, connection: Connection, limit: int = 20) -> list[SyncRun]:
    return list(
        SyncRun.objects.filter(workspace=workspace, connection=connection).order_by("-queued_at", "-id")[
            :limit
        ]
    )


def sync_errors_by_type(*, workspace: Workspace, connection: Connection, per_type: int = 25) -> list[dict]:
    """Open errors grouped by type, biggest group first, each with its newest errors."""
    open_errors = SyncError.objects.filter(workspace=workspace, connection=connection, resolved=False)
    groups = list(open_errors.values("error_type").annotate(n=Count("id")).order_by("-n", "error_type"))
    labels = dict(SyncError.Type.choices)
    out = []
    for group in groups:
        errors = list(
            open_errors.filter(error_type=group["error_type"]).order_by("-created_at", "-id")[:per_type]
        )
        out.append(
            {
                "type": group["error_type"],
                "label": labels.get(group["error_type"], group["error_type"]),
                "count": group["n"],
                "errors": errors,
            }
        )
    return out


def sync_error_get(*, workspace: Workspace, connection: Connection, error_id: int) -> SyncError | None:
    return SyncError.objects.filter(workspace=workspace, connection=connection, pk=error_id).first()
