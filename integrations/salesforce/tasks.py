"""django-q2 entry points and schedules (STYLE 10): thin, take ids, enqueued after commit, idempotent.

`sync_request` is the one way a run starts (a schedule tick, "sync now", a command): it creates the
queued run, or joins the connection's active one (the partial unique constraint decides, not a check),
and enqueues `run_sync_task(run_id)` on commit. A run whose worker died is re-enqueued and resumes from
its checkpoints. The broker re-delivers a task only after Q_CLUSTER["retry"] > ["timeout"] seconds, and
`claim_run` refuses a run someone is alive on, so a task never runs twice at once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import Connection, SyncedObject, SyncRun

logger = logging.getLogger(__name__)

SYNC_SCHEDULE_NAME = "salesforce-sync-{id}"
RECONCILE_SCHEDULE_NAME = "salesforce-reconcile-{id}"


def _timeout() -> int:
    # Strictly below the broker's retry, so a slow task is never re-delivered while it still runs.
    cluster = getattr(settings, "Q_CLUSTER", {})
    return max(60, min(cluster.get("timeout", 1800), cluster.get("retry", 2100) - 60))


def enqueue_run(run_id: int) -> None:
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(
            "integrations.salesforce.tasks.run_sync_task",
            run_id,
            timeout=_timeout(),
            task_name=f"sync-run-{run_id}",
        )
    )


def enqueue_writeback(connection_id: int) -> None:
    """Deliver a connection's queued permission write-backs soon after the change commits."""
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(
            "integrations.salesforce.tasks.writeback_task",
            connection_id,
            timeout=_timeout(),
            task_name=f"writeback-{connection_id}",
        )
    )


def _kind_for(connection: Connection) -> str:
    pending = SyncedObject.objects.filter(
        connection=connection, enabled=True, backfill_completed_at__isnull=True
    )
    return SyncRun.Kind.INITIAL if pending.exists() else SyncRun.Kind.INCREMENTAL


def _recently_paused_for_budget(connection: Connection) -> SyncRun | None:
    window = dt.timedelta(minutes=getattr(settings, "SYNC_BUDGET_RETRY_MINUTES", 60))
    last = (
        SyncRun.objects.filter(connection=connection)
        .exclude(state=SyncRun.State.SKIPPED)
        .order_by("-queued_at", "-id")
        .first()
    )
    if (
        last is not None
        and last.state == SyncRun.State.PAUSED
        and last.state_reason.startswith("paused: API budget")
        and last.finished_at
        and timezone.now() - last.finished_at < window
    ):
        return last
    return None


def _skipped(connection: Connection, kind: str, reason: str) -> SyncRun:
    """Record why a run did not start. Repeated schedule ticks for the same reason touch one row instead of
    adding one every few minutes."""
    last = SyncRun.objects.filter(connection=connection).order_by("-queued_at", "-id").first()
    if last is not None and last.state == SyncRun.State.SKIPPED and last.state_reason == reason[:300]:
        SyncRun.objects.filter(pk=last.pk).update(finished_at=timezone.now())
        last.refresh_from_db()
        return last
    return SyncRun.objects.create(
        workspace_id=connection.workspace_id,
        connection=connection,
        kind=kind,
        state=SyncRun.State.SKIPPED,
        state_reason=reason[:300],
        finished_at=timezone.now(),
    )


def sync_request(
    *,
    connection: Connection,
    kind: str | None = None,
    only_objects: list[str] | tuple[str, ...] = (),
    enqueue: bool = True,
    respect_budget_pause: bool = True,
) -> tuple[SyncRun, bool]:
    """Start a run or join the active one. Returns (run, created). Skipped runs are recorded with why."""
    from integrations.salesforce.sync import _owner_is_dead

    connection.refresh_from_db()
    if connection.status != Connection.Status.CONNECTED:
        reason = f"skipped: the connection is {connection.get_status_display().lower()}"
        if connection.status_reason:
            reason += f" ({connection.status_reason})"
        logger.info("Sync of connection %s %s", connection.pk, reason)
        return _skipped(connection, kind or SyncRun.Kind.INCREMENTAL, reason), False
    if (
        respect_budget_pause
        and kind != SyncRun.Kind.RECONCILE
        and (paused := _recently_paused_for_budget(connection))
    ):
        reason = f"skipped: waiting for the API budget window after run #{paused.pk} paused"
        return _skipped(connection, kind or _kind_for(connection), reason), False
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                workspace_id=connection.workspace_id,
                connection=connection,
                kind=kind or _kind_for(connection),
                only_objects=list(only_objects),
            )
            if enqueue:
                enqueue_run(run.pk)
        return run, True
    except IntegrityError:
        active = SyncRun.objects.filter(connection=connection, state__in=SyncRun.ACTIVE_STATES).first()
        if active is None:  # it finished between our insert and this read: try once more
            return sync_request(connection=connection, kind=kind, only_objects=only_objects, enqueue=enqueue)
        if enqueue and active.state == SyncRun.State.RUNNING and _owner_is_dead(active):
            logger.warning(
                "Sync run %s lost its worker; re-enqueued to resume from its checkpoints", active.pk
            )
            with transaction.atomic():
                enqueue_run(active.pk)
        return active, False


# --------------------------------------------------------------------------------------- entry points


def run_sync_task(run_id: int) -> str:
    from integrations.salesforce.sync import run_sync

    run = run_sync(run_id)
    return "not claimed" if run is None else f"{run.state} {run.state_reason}".strip()


def _first_sync_started(connection: Connection) -> bool:
    """The onboarding's Merge step (or an operator's command) starts the first sync; schedule ticks before
    it would sync with settings the user has not chosen yet, so they wait."""
    return SyncRun.objects.filter(connection=connection).exclude(state=SyncRun.State.SKIPPED).exists()


def writeback_task(connection_id: int) -> str:
    """Drain the connection's write-back outbox now (the next sync run drains it too, before reading)."""
    from integrations.salesforce import writeback
    from integrations.salesforce.client import SalesforceClient
    from integrations.salesforce.errors import SalesforceAuthError

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.status != Connection.Status.CONNECTED:
        return "not connected: left for the next run"
    try:
        client = SalesforceClient.for_connection(connection)
    except SalesforceAuthError as exc:
        return f"not connected: {exc.message}"
    try:
        result = writeback.drain(connection=connection, client=client)
    except SalesforceAuthError as exc:
        return f"authorization lost: {exc.message}"
    finally:
        client.close()
    return f"sent {result.sent}, refused {result.failed}, not written {result.superseded}, later {result.postponed}"


def scheduled_sync(connection_id: int) -> str:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return "connection gone"
    if not _first_sync_started(connection):
        return "waiting for the first sync"
    run, created = sync_request(connection=connection)
    return f"run {run.pk} {'queued' if created else run.state}: {run.state_reason}".strip()


def scheduled_reconcile(connection_id: int) -> str:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return "connection gone"
    if not _first_sync_started(connection):
        return "waiting for the first sync"
    run, created = sync_request(connection=connection, kind=SyncRun.Kind.RECONCILE)
    return f"reconcile run {run.pk} {'queued' if created else run.state}"


# ------------------------------------------------------------------------------------------ schedules


def schedule_names(connection_id: int) -> tuple[str, str]:
    return SYNC_SCHEDULE_NAME.format(id=connection_id), RECONCILE_SCHEDULE_NAME.format(id=connection_id)


def schedule_ensure(*, connection_id: int) -> None:
    """THE owner of a connection's django-q2 schedules: one incremental sync (every 1/5/15/60 minutes) and
    one daily reconcile while the connection is connected; none otherwise (paused, needs reconnecting,
    disconnected, deleted). Idempotent. The lifecycle services (integrations.services) and the settings
    service (integrations.connection_settings) call it after their transaction commits."""
    from django_q.models import Schedule

    sync_name, reconcile_name = schedule_names(connection_id)
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.status != Connection.Status.CONNECTED:
        Schedule.objects.filter(name__in=[sync_name, reconcile_name]).delete()
        return
    minutes = connection.schedule_interval_minutes or 5
    now = timezone.now()
    existing = Schedule.objects.filter(name=sync_name).first()
    # Re-running this is a no-op; a new schedule or a changed interval takes effect from now.
    next_run = existing.next_run if existing is not None and existing.minutes == minutes else now
    Schedule.objects.update_or_create(
        name=sync_name,
        defaults={
            "func": "integrations.salesforce.tasks.scheduled_sync",
            "args": repr((connection_id,)),
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
            "next_run": next_run,
        },
    )
    if not Schedule.objects.filter(name=reconcile_name).exists():
        Schedule.objects.create(
            name=reconcile_name,
            func="integrations.salesforce.tasks.scheduled_reconcile",
            args=repr((connection_id,)),
            schedule_type=Schedule.DAILY,
            repeats=-1,
            next_run=now + dt.timedelta(days=1),
        )


def schedule_ensure_on_commit(*, connection_id: int) -> None:
    """Schedules follow committed state only: a rolled-back pause must not drop the schedule. Robust: the
    change is committed whatever happens here; a failure is logged and `sync_schedules` repairs it."""
    transaction.on_commit(lambda: schedule_ensure(connection_id=connection_id), robust=True)


def schedules_ensure_all() -> int:
    """The repair (`sync_schedules`): every connected connection gets its schedules, every other schedule
    named salesforce-* is removed. Returns how many connections are scheduled."""
    from django_q.models import Schedule

    keep = []
    for connection_id in Connection.objects.filter(status=Connection.Status.CONNECTED).values_list(
        "pk", flat=True
    ):
        schedule_ensure(connection_id=connection_id)
        keep += schedule_names(connection_id)
    Schedule.objects.filter(name__startswith="salesforce-").exclude(name__in=keep).delete()
    return len(keep) // 2
