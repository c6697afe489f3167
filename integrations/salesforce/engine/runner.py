"""Running a sync: plan, fetch, map, merge, checkpoint (docs/sync.md).

`run_sync(run_id)` is what the django-q2 task calls. It claims the run (compare-and-set, so a re-delivered
task or a second worker cannot run it twice), re-describes the selected objects, syncs them in dependency
order and records everything on the `SyncRun`. Each page is committed with its checkpoint in one
transaction (`page_apply.apply_page`), so a run killed at any point resumes from the last committed page and
repeats nothing visible.

Reads per object: REST `query`/`queryAll` ordered by `SystemModstamp, Id` from the watermark with `>=`
(rows already applied at the same stamp are skipped), or a Bulk API 2.0 job for a backfill larger than
`SYNC_BULK_THRESHOLD` rows, checkpointed by job id + locator + offset. The watermark always comes from the
data, never from the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.utils import timezone

from integrations.models import Connection, SyncedObject, SyncError, SyncRun
from integrations.salesforce import planning, shutdown, writeback
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.engine.database import DB_ERRORS, drop_connection, wait_for_database
from integrations.salesforce.engine.knobs import conf
from integrations.salesforce.engine.object_sync import sync_object
from integrations.salesforce.engine.reconcile import reconcile_object
from integrations.salesforce.engine.runs import (
    Heartbeat,
    ObjectFailed,
    PauseRun,
    Reason,
    RunState,
    RunTakenOver,
    budget_check,
    checkpoint_check,
    claim_run,
    finish,
    record_error,
    release,
    save_run,
)
from integrations.salesforce.errors import (
    SalesforceAuthError,
    SalesforceError,
    SalesforceRateLimited,
    SalesforceServerError,
    SalesforceUnavailable,
)

logger = logging.getLogger(__name__)


def run_sync(run_id: int, *, progress: Callable[[SyncRun], None] | None = None) -> SyncRun | None:
    run = claim_run(run_id)
    if run is None:
        return None
    connection = Connection.objects.get(pk=run.connection_id)
    if connection.status != Connection.Status.CONNECTED:
        reason = f"skipped: the connection is {connection.get_status_display().lower()}"
        if connection.status_reason:
            reason += f" ({connection.status_reason})"
        code = (
            Reason.NEEDS_REAUTH
            if connection.status == Connection.Status.NEEDS_REAUTH
            else Reason.CONNECTION_NOT_CONNECTED
        )
        return finish(run, SyncRun.State.SKIPPED, reason, code)
    try:
        client = SalesforceClient.for_connection(
            connection, retry_window=conf("OUTAGE_RETRY_SECONDS", 60), sleep=shutdown.sleep
        )
    except SalesforceAuthError as exc:
        return finish(run, SyncRun.State.SKIPPED, f"skipped: {exc.message}", Reason.NEEDS_REAUTH)
    state = RunState(run=run, connection=connection, client=client, progress_cb=progress)
    beat = Heartbeat(run.pk, run.worker)
    beat.start()
    try:
        with shutdown.busy():
            return _run_riding_out_database_outages(state)
    except RunTakenOver:
        logger.warning("Sync run %s was taken over by another worker; this one stops", run.pk)
        run.refresh_from_db()
        return run
    except shutdown.WorkerShutdown:
        logger.info("Sync run %s put back in the queue: the worker is shutting down", run.pk)
        return release(
            run,
            "waiting: the worker stopped (shutdown); the run resumes from its last saved page",
            Reason.SHUTDOWN,
        )
    except PauseRun as pause:
        return finish(run, SyncRun.State.PAUSED, pause.reason, pause.code, pause.resume_after)
    except SalesforceRateLimited as exc:
        return finish(
            run,
            SyncRun.State.PAUSED,
            f"paused: API budget (Salesforce says {exc.message or exc.error_code})",
            Reason.API_BUDGET,
            timezone.now() + dt.timedelta(minutes=conf("BUDGET_RETRY_MINUTES", 60)),
        )
    except SalesforceAuthError as exc:
        record_error(
            run,
            connection,
            "",
            SyncError.Type.AUTH,
            f"Salesforce refused the connection: {exc.message}",
            fix="Reconnect Salesforce from Data sources › Salesforce › Manage authorization.",
            retryable=True,
        )
        return finish(run, SyncRun.State.FAILED, f"needs reconnecting: {exc.message}", Reason.NEEDS_REAUTH)
    except (SalesforceUnavailable, SalesforceServerError) as exc:
        # An outage longer than the client's retry window: pause, and let the next tick after a short wait
        # resume from the checkpoints (nothing is skipped, no other kind of run starts meanwhile).
        logger.warning("Sync run %s paused: Salesforce unreachable (%s)", run.pk, exc)
        return finish(
            run,
            SyncRun.State.PAUSED,
            f"paused: Salesforce did not answer ({str(exc)[:200]}); resumes from the last saved page",
            Reason.SALESFORCE_UNREACHABLE,
            timezone.now() + dt.timedelta(seconds=conf("OUTAGE_PAUSE_SECONDS", 60)),
        )
    except SalesforceError as exc:
        logger.warning("Sync run %s stopped: %s", run.pk, exc)
        record_error(
            run,
            connection,
            "",
            SyncError.Type.API,
            f"The run stopped on a Salesforce error: {exc}",
            fix="Nothing was lost: the next run resumes from the last saved page.",
        )
        return finish(run, SyncRun.State.FAILED, f"failed: {str(exc)[:250]}", Reason.SALESFORCE_ERROR)
    except Exception as exc:
        # A bug, or a database outage longer than SYNC_DB_WAIT_SECONDS: the run fails visibly (the next run
        # resumes from the checkpoints) rather than looking alive until its lease expires.
        logger.exception("Sync run %s failed unexpectedly", run.pk)
        code = Reason.DB_UNAVAILABLE if isinstance(exc, DB_ERRORS) else Reason.INTERNAL
        try:
            if isinstance(exc, DB_ERRORS):
                drop_connection()
            record_error(
                run,
                connection,
                "",
                SyncError.Type.INTERNAL,
                f"Inflow stopped on an unexpected error: {type(exc).__name__}: {exc}",
                fix="Nothing was lost: the next run resumes from the last saved page. Report it if it repeats.",
            )
            finish(run, SyncRun.State.FAILED, f"failed: unexpected {type(exc).__name__}", code)
        except DB_ERRORS:
            logger.warning("Sync run %s: could not record the failure (database unavailable)", run.pk)
        raise
    finally:
        beat.stop.set()
        try:
            save_run(state, fenced=False)
        except DB_ERRORS:
            pass
        client.close()


def _run_riding_out_database_outages(state: RunState) -> SyncRun:
    """The run, restarted from its checkpoints when the database went away between pages (a restart):
    the worker waits for it (bounded) and goes on with the same claim. Pages retry on their own (apply_records)."""
    for attempt in range(1, conf("DB_RETRY_ATTEMPTS", 5) + 1):
        try:
            return _run(state)
        except DB_ERRORS:
            if attempt == conf("DB_RETRY_ATTEMPTS", 5):
                raise
            logger.warning("Sync run %s: database unavailable; waiting to resume", state.run.pk)
            wait_for_database(f"sync run {state.run.pk} resumes from its checkpoints")
            state.mappers.clear()
    raise AssertionError("unreachable")


def _run(state: RunState) -> SyncRun:
    run, connection = state.run, state.connection
    objects = list(SyncedObject.objects.filter(connection=connection, enabled=True).prefetch_related(None))
    state.objects = objects
    selected = objects
    if run.only_objects:
        selected = [o for o in objects if o.api_name in run.only_objects]
    plan = planning.plan_order(selected)
    for obj in plan:
        run.progress.setdefault(obj.api_name, {"total": None, "done": 0, "api_calls": 0, "state": "pending"})
    save_run(state)
    if run.kind != SyncRun.Kind.RECONCILE:
        budget_check(state)
        # Before reading, so the read recognises what we wrote (writeback.echoes_for).
        drained = writeback.drain(connection=connection, client=state.client, run=run)
        if drained.total:
            logger.info("Sync run %s wrote back permissions: %s", run.pk, drained)
            save_run(state)  # the write-back's API calls count in the run's
    failed_objects = []
    for obj in plan:
        checkpoint_check(state)
        try:
            if run.kind == SyncRun.Kind.RECONCILE:
                reconcile_object(state, obj)
            else:
                # A changed selective sync filter re-reads the object in full (incremental reads only
                # see records that changed, not records that now match or stopped matching).
                full = run.kind == SyncRun.Kind.RESYNC or obj.filter_changed_at is not None
                sync_object(state, obj, full=full)
        except ObjectFailed as exc:
            failed_objects.append(obj.api_name)
            save_run(state, object_name=obj.api_name, state="failed", message=str(exc)[:300])
    if failed_objects:
        return finish(
            run,
            SyncRun.State.SUCCEEDED,
            f"finished with errors on {', '.join(failed_objects)}",
            Reason.OBJECT_ERRORS,
        )
    return finish(run, SyncRun.State.SUCCEEDED)
