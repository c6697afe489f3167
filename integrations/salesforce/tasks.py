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
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import Connection, SyncedObject, SyncRun
from integrations.salesforce import shutdown, writeback
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.engine.runner import run_sync
from integrations.salesforce.engine.runs import owner_is_dead
from integrations.salesforce.errors import SalesforceAuthError

logger = logging.getLogger(__name__)

SYNC_SCHEDULE_NAME = "salesforce-sync-{id}"
RECONCILE_SCHEDULE_NAME = "salesforce-reconcile-{id}"


def _timeout() -> int:
    # Strictly below the broker's retry, so a slow task is never re-delivered while it still runs.
    cluster = getattr(settings, "Q_CLUSTER", {})
    return max(60, min(cluster.get("timeout", 1800), cluster.get("retry", 2100) - 60))


def _conf(name: str, default):
    return getattr(settings, f"SYNC_{name}", default)


def enqueue_run(run_id: int) -> None:
    """Hand the run to the broker once the transaction that created it commits."""
    transaction.on_commit(lambda: _enqueue(run_id, expected_task_id=""))


def _enqueue(run_id: int, *, expected_task_id: str, expected_enqueued_at=None) -> bool:
    """Enqueue `run_sync_task(run_id)` if the run's task is still `expected_task_id` (a compare-and-set:
    of two ticks racing to re-enqueue one run, exactly one enqueues). The run records the task id and when
    it was enqueued; a broker that is down leaves it queued with no task and says so (the next tick, "sync
    now" or starting worker enqueues it). True when this call enqueued it."""
    from django_q.tasks import async_task

    marker = f"enqueuing-{uuid.uuid4().hex[:20]}"
    claim = SyncRun.objects.filter(pk=run_id, state=SyncRun.State.QUEUED, task_id=expected_task_id)
    if expected_enqueued_at is not None:
        claim = claim.filter(enqueued_at=expected_enqueued_at)
    running = SyncRun.objects.filter(pk=run_id, state=SyncRun.State.RUNNING, enqueued_at=expected_enqueued_at)
    now = timezone.now()
    if not (claim.update(task_id=marker, enqueued_at=now) or running.update(task_id=marker, enqueued_at=now)):
        return False
    try:
        task_id = async_task(
            "integrations.salesforce.tasks.run_sync_task",
            run_id,
            timeout=_timeout(),
            task_name=f"sync-run-{run_id}",
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure: the run waits, visibly, for the next try
        logger.warning("Sync run %s could not be enqueued: %s", run_id, exc)
        SyncRun.objects.filter(pk=run_id, task_id=marker, state=SyncRun.State.QUEUED).update(
            task_id="",
            enqueued_at=None,
            reason_code=SyncRun.ReasonCode.BROKER_UNAVAILABLE,
            state_reason="waiting: the task queue is unreachable; the run starts when it is back",
        )
        SyncRun.objects.filter(pk=run_id, task_id=marker).update(task_id="")
        return False
    SyncRun.objects.filter(pk=run_id, task_id=marker).update(task_id=str(task_id))
    return True


def task_in_broker(task_id: str) -> bool | None:
    """Whether the broker still holds the task (None: this broker cannot be inspected). A task a cluster
    has already pulled (prefetched, or running) is not in the broker any more."""
    from django_q.brokers import get_broker
    from django_q.signing import BadSignature, SignedPackage

    broker = get_broker()
    kind = type(broker).__name__
    if kind == "Redis":
        payloads = broker.connection.lrange(broker.list_key, 0, 50_000)
    elif kind == "ORM":
        from django_q.conf import Conf
        from django_q.models import OrmQ

        payloads = (
            OrmQ.objects.using(Conf.ORM or "default")
            .filter(key=broker.list_key)
            .values_list("payload", flat=True)
        )
    else:
        return None
    for payload in payloads:
        try:
            if SignedPackage.loads(payload).get("id") == task_id:
                return True
        except (BadSignature, ValueError, TypeError, AttributeError):
            continue
    return False


def _task_lost(run: SyncRun) -> bool:
    """A queued run nobody will run: no task reached the broker, or its task is gone from the broker
    (lost data, a worker killed holding it) and nothing claimed it within SYNC_QUEUED_GRACE_SECONDS, or the
    broker cannot tell and the run waited past SYNC_QUEUED_STALE_SECONDS."""
    if not run.task_id:
        return True
    if run.enqueued_at is None:
        return True
    age = (timezone.now() - run.enqueued_at).total_seconds()
    if age < _conf("QUEUED_GRACE_SECONDS", 10):
        return False
    try:
        present = task_in_broker(run.task_id)
    except Exception:  # noqa: BLE001 - the broker is down: enqueueing would fail too
        logger.warning("Cannot inspect the task queue for sync run %s", run.pk, exc_info=True)
        return False
    if present is None:
        return age > _conf("QUEUED_STALE_SECONDS", 600)
    return not present


def recover_run(run: SyncRun) -> bool:
    """Re-enqueue an active run that no task will run: a queued run whose task was lost, or a running run
    whose worker is provably gone (its pid absent on this host, or its lease expired). Exactly once per
    lost task, however many callers race. True when it was re-enqueued."""

    if run.state == SyncRun.State.QUEUED and _task_lost(run):
        logger.warning("Sync run %s has no task in the queue (%s); enqueuing it again", run.pk, run.task_id)
        if run.task_id and not run.task_id.startswith("enqueuing-"):
            SyncRun.objects.filter(pk=run.pk, task_id=run.task_id, state=SyncRun.State.QUEUED).update(
                reason_code=SyncRun.ReasonCode.TASK_LOST,
                state_reason="waiting: its queued task was lost; queued again",
            )
        return _enqueue(run.pk, expected_task_id=run.task_id, expected_enqueued_at=run.enqueued_at)
    if run.state == SyncRun.State.RUNNING and owner_is_dead(run):
        # Once per dead owner: a task enqueued after the owner's last heartbeat is the takeover already
        # under way, unless the broker lost that one too; racing callers are settled by the
        # compare-and-set on enqueued_at.
        resumed = (
            run.enqueued_at is not None
            and run.heartbeat_at is not None
            and run.enqueued_at > run.heartbeat_at
        )
        if resumed and not _task_lost(run):
            return False
        logger.warning("Sync run %s lost its worker; re-enqueued to resume from its checkpoints", run.pk)
        return _enqueue(run.pk, expected_task_id="", expected_enqueued_at=run.enqueued_at)
    return False


def recover_runs(*, reason: str = "") -> int:
    """Every active run that needs a task gets one (a starting worker, a schedule tick). Returns how many."""
    recovered = 0
    for run in SyncRun.objects.filter(state__in=SyncRun.ACTIVE_STATES).order_by("pk"):
        if recover_run(run):
            recovered += 1
    if recovered:
        logger.info("Recovered %s sync run(s) (%s)", recovered, reason or "recovery")
    return recovered


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
    return SyncRun.Kind.INITIAL if _backfill_unfinished(connection) else SyncRun.Kind.INCREMENTAL


def _backfill_unfinished(connection: Connection) -> bool:
    return SyncedObject.objects.filter(
        connection=connection, enabled=True, backfill_completed_at__isnull=True
    ).exists()


def _interleaves_with_backfill(connection: Connection, kind: str | None) -> bool:
    """A reconcile while any backfill is unfinished, or a resync while one is under way (an object part
    read), would apply records out of the backfill's order."""
    if kind == SyncRun.Kind.RECONCILE:
        return _backfill_unfinished(connection)
    if kind == SyncRun.Kind.RESYNC:
        return (
            SyncedObject.objects.filter(
                connection=connection, enabled=True, backfill_completed_at__isnull=True
            )
            .filter(Q(watermark_modstamp__isnull=False) | ~Q(checkpoint={}))
            .exists()
        )
    return False


def _waiting_to_resume(connection: Connection, *, kind: str | None) -> SyncRun | None:
    """The last run paused until a moment still ahead (the API budget window, an outage): ticks wait."""
    last = (
        SyncRun.objects.filter(connection=connection)
        .exclude(state=SyncRun.State.SKIPPED)
        .order_by("-queued_at", "-id")
        .first()
    )
    if last is None or last.state != SyncRun.State.PAUSED:
        return None
    resume_after = last.resume_after
    if last.reason_code == SyncRun.ReasonCode.API_BUDGET:
        if kind == SyncRun.Kind.RECONCILE:
            return None  # a reconcile's calls are few and daily: it is not held by the budget window
        # The window is read at use, so a changed SYNC_BUDGET_RETRY_MINUTES applies to runs already paused.
        window = dt.timedelta(minutes=_conf("BUDGET_RETRY_MINUTES", 60))
        resume_after = (last.finished_at or timezone.now()) + window
    if resume_after is None or resume_after <= timezone.now():
        return None
    last.resume_after = resume_after
    return last


def _skipped(connection: Connection, kind: str, reason: str, code: str) -> SyncRun:
    """Record why a run did not start. Repeated schedule ticks for the same reason touch one row instead of
    adding one every few minutes."""
    last = SyncRun.objects.filter(connection=connection).order_by("-queued_at", "-id").first()
    if last is not None and last.state == SyncRun.State.SKIPPED and last.reason_code == code:
        SyncRun.objects.filter(pk=last.pk).update(finished_at=timezone.now(), state_reason=reason[:300])
        last.refresh_from_db()
        return last
    return SyncRun.objects.create(
        workspace_id=connection.workspace_id,
        connection=connection,
        kind=kind,
        state=SyncRun.State.SKIPPED,
        state_reason=reason[:300],
        reason_code=code,
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
    """Start a run or join the active one. Returns (run, created). Skipped runs are recorded with why.

    While a backfill is unfinished no other kind of run starts: a reconcile or resync request continues
    the backfill instead (records applied out of order could let the wrong record's value win)."""
    connection.refresh_from_db()
    if connection.status != Connection.Status.CONNECTED:
        reason = f"skipped: the connection is {connection.get_status_display().lower()}"
        if connection.status_reason:
            reason += f" ({connection.status_reason})"
        logger.info("Sync of connection %s %s", connection.pk, reason)
        code: str = (
            SyncRun.ReasonCode.NEEDS_REAUTH
            if connection.status == Connection.Status.NEEDS_REAUTH
            else SyncRun.ReasonCode.CONNECTION_NOT_CONNECTED
        )
        return _skipped(connection, kind or SyncRun.Kind.INCREMENTAL, reason, code), False
    if respect_budget_pause and (paused := _waiting_to_resume(connection, kind=kind)):
        when = timezone.localtime(paused.resume_after).strftime("%H:%M")
        reason = f"skipped: waiting until {when} after run #{paused.pk} paused ({paused.get_reason_code_display()})"
        code = (
            SyncRun.ReasonCode.BUDGET_WINDOW
            if paused.reason_code == SyncRun.ReasonCode.API_BUDGET
            else paused.reason_code
        )
        return _skipped(connection, kind or _kind_for(connection), reason, code), False
    if _interleaves_with_backfill(connection, kind):
        logger.info(
            "Connection %s: %s requested mid-backfill; the backfill goes on first", connection.pk, kind
        )
        kind, only_objects = SyncRun.Kind.INITIAL, ()
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
        if enqueue:
            transaction.on_commit(lambda: recover_run(active))
        return active, False


# --------------------------------------------------------------------------------------- entry points


def run_sync_task(run_id: int) -> str:
    try:
        run = run_sync(run_id)
    finally:
        shutdown.exit_if_requested()
    return "not claimed" if run is None else f"{run.state} {run.state_reason}".strip()


def _first_sync_started(connection: Connection) -> bool:
    """The onboarding's Merge step (or an operator's command) starts the first sync; schedule ticks before
    it would sync with settings the user has not chosen yet, so they wait."""
    return SyncRun.objects.filter(connection=connection).exclude(state=SyncRun.State.SKIPPED).exists()


def writeback_task(connection_id: int) -> str:
    """Drain the connection's write-back outbox now (the next sync run drains it too, before reading)."""

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
    run, created = sync_request(connection=connection)  # re-enqueues its active run if no task holds it
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

    keep: list[str] = []
    for connection_id in Connection.objects.filter(status=Connection.Status.CONNECTED).values_list(
        "pk", flat=True
    ):
        schedule_ensure(connection_id=connection_id)
        keep += schedule_names(connection_id)
    Schedule.objects.filter(name__startswith="salesforce-").exclude(name__in=keep).delete()
    return len(keep) // 2
