"""The sync engine: plan, fetch, map, merge, checkpoint (DESIGN "One sync, as data flows").

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
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from cdp import fields as field_types
from cdp import merge as cdp_merge
from integrations import sync_settings
from integrations.models import Connection, FieldSelection, SourceRecord, SyncedObject, SyncError, SyncRun
from integrations.salesforce import (
    bulk_csv,
    filters,
    mapped_page,
    mapping,
    objects,
    planning,
    shutdown,
    target_fields,
    writeback,
)
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.errors import (
    SalesforceAuthError,
    SalesforceBulkJobFailed,
    SalesforceError,
    SalesforceInvalidField,
    SalesforceInvalidLocator,
    SalesforceInvalidType,
    SalesforceMalformedResponse,
    SalesforceNotFound,
    SalesforceQueryTimeout,
    SalesforceRateLimited,
    SalesforceServerError,
    SalesforceUnavailable,
)
from integrations.salesforce.page_apply import (
    ObjectContext,
    PageCounts,
    apply_page,
    archivable_keys,
    reapply_survivors,
)
from integrations.salesforce.read_ahead import read_ahead
from integrations.salesforce.soql import (
    build_count_soql,
    build_ids_soql,
    build_soql,
    build_unmatched_ids_soql,
    is_api_name,
    soql_fields,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 2000
EPOCH = dt.datetime(
    2000, 1, 1, tzinfo=dt.UTC
)  # before any Salesforce record: the lower bound of a split window


def conf(name: str, default):
    """Per-deployment knobs (settings.SYNC_*), read at use so tests can override them."""
    return getattr(settings, f"SYNC_{name}", default)


Reason = SyncRun.ReasonCode
DB_ERRORS = (OperationalError, InterfaceError)


class PauseRun(Exception):
    """Stop cleanly after the current page; the run is resumable from its checkpoints. `resume_after`: when
    schedule ticks may start the next run (None: at the next tick)."""

    def __init__(self, reason: str, code: str, resume_after: dt.datetime | None = None):
        super().__init__(reason)
        self.reason, self.code, self.resume_after = reason, code, resume_after


class RunTakenOver(Exception):  # noqa: N818
    """Another worker claimed this run (this one was presumed dead): stop without writing anything more."""


class ObjectFailed(Exception):
    """This object cannot go on in this run (recorded as a SyncError); the run goes on with the next one."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ----------------------------------------------------------------------------------------- claiming


def _owner_is_dead(run: SyncRun) -> bool:
    """A run is dead when its lease (heartbeat) expired, or when its worker was on this host and is gone.
    Either way the old worker can never write again: every page commit is fenced on `worker`."""
    stale = dt.timedelta(seconds=conf("HEARTBEAT_STALE_SECONDS", 60))
    if run.heartbeat_at is None or timezone.now() - run.heartbeat_at > stale:
        return True
    host, _, pid = (run.worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def claim_run(run_id: int) -> SyncRun | None:
    """Queued -> running, or take over a running run whose worker died. None if someone else holds it."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return None
    now = timezone.now()
    if run.state == SyncRun.State.QUEUED:
        cond = Q(state=SyncRun.State.QUEUED)
    elif run.state == SyncRun.State.RUNNING and _owner_is_dead(run):
        cond = Q(state=SyncRun.State.RUNNING, heartbeat_at=run.heartbeat_at, worker=run.worker)
    else:
        return None
    claimed = SyncRun.objects.filter(cond, pk=run_id).update(
        state=SyncRun.State.RUNNING,
        started_at=run.started_at or now,
        heartbeat_at=now,
        worker=worker_name(),
        attempts=F("attempts") + 1,
        state_reason="",
        reason_code="",
        resume_after=None,
    )
    if not claimed:
        return None
    run.refresh_from_db()
    if run.attempts > 1:
        logger.info("Sync run %s resumed from its checkpoints (attempt %s)", run.pk, run.attempts)
    return run


# ------------------------------------------------------------------------------------------ the run


class Heartbeat(threading.Thread):
    """Keeps `heartbeat_at` fresh while the worker lives, also through a long Bulk API job wait, so only a
    dead worker's run is ever taken over. Pages refresh it too; this covers the gaps between them."""

    def __init__(self, run_id: int, worker: str):
        super().__init__(daemon=True, name=f"sync-heartbeat-{run_id}")
        self.run_id, self.worker = run_id, worker
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connections

        interval = conf("HEARTBEAT_SECONDS", 10)
        try:
            while not self.stop.wait(interval):
                try:
                    beat = SyncRun.objects.filter(
                        pk=self.run_id, worker=self.worker, state=SyncRun.State.RUNNING
                    ).update(heartbeat_at=timezone.now())
                except DB_ERRORS:
                    # The database is away (a restart): beat again once it is back.
                    logger.warning("Heartbeat of sync run %s missed: database unavailable", self.run_id)
                    _drop_connection()
                    continue
                if not beat:
                    return  # the run ended or was taken over
        finally:
            connections.close_all()


@dataclass
class RunState:
    run: SyncRun
    connection: Connection
    client: SalesforceClient
    started_calls: int = 0
    objects: list[SyncedObject] = field(default_factory=list)
    progress_cb: Callable[[SyncRun], None] | None = None
    applied: int = 0  # records written by this run, for _refresh_statistics
    next_analyze: int = 20_000
    mappers: dict[str, mapping.ObjectMapper] = field(default_factory=dict)

    def calls(self) -> int:
        return sum(self.client.calls.values())


def _drop_connection() -> None:
    """Forget this thread's database connection (after it broke); the next query opens a new one."""
    from django.db import connection

    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail too
        logger.debug("Closing a broken database connection failed", exc_info=True)
    connection.connection = None


def wait_for_database(what: str) -> None:
    """Block until the database answers again (bounded by SYNC_DB_WAIT_SECONDS); re-raises if it does not."""
    from django.db import connection

    deadline = timezone.now() + dt.timedelta(seconds=conf("DB_WAIT_SECONDS", 300))
    while True:
        _drop_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            logger.info("Database is back; %s", what)
            return
        except DB_ERRORS:
            if timezone.now() > deadline:
                raise
            shutdown.sleep(0.5)


def _checkpoint_check(state: RunState) -> None:
    """Between pages: stop for the API budget or for a shutdown of the worker."""
    _budget_check(state)
    shutdown.check()


def _budget_check(state: RunState) -> None:
    usage = state.client.api_usage
    if usage is None or not usage.max:
        return
    budget = usage.max * state.connection.api_budget_percent / 100
    if usage.used >= budget:
        raise PauseRun(
            f"paused: API budget ({usage.used:,} of {usage.max:,} daily API requests used; "
            f"the budget is {state.connection.api_budget_percent}%)",
            Reason.API_BUDGET,
            timezone.now() + dt.timedelta(minutes=conf("BUDGET_RETRY_MINUTES", 60)),
        )


def _save_run(
    rs: RunState,
    counts: PageCounts | None = None,
    /,
    *,
    object_name: str = "",
    fenced: bool = True,
    **progress,
) -> None:
    """Counters and heartbeat: F() increments so a resumed run adds to what its dead predecessor committed.
    Fenced: written only while this worker still holds the run, else RunTakenOver (inside a page's
    transaction, that rolls the page back, so a presumed-dead worker never writes next to its successor)."""
    run = rs.run
    now = timezone.now()
    calls = rs.calls()
    delta_calls = calls - rs.started_calls
    rs.started_calls = calls
    if object_name:
        entry = run.progress.setdefault(
            object_name, {"total": None, "done": 0, "api_calls": 0, "state": "pending"}
        )
        if counts is not None:
            entry["done"] = entry.get("done", 0) + counts.fetched
        entry["api_calls"] = entry.get("api_calls", 0) + delta_calls
        entry.update(progress)
    updates: dict[str, Any] = {
        "heartbeat_at": now,
        "progress": run.progress,
        "api_calls": F("api_calls") + delta_calls,
    }
    if counts is not None:
        updates.update(
            fetched=F("fetched") + counts.fetched,
            created=F("created") + counts.created,
            merged=F("merged") + counts.merged,
            ignored=F("ignored") + counts.ignored,
            archived=F("archived") + counts.archived,
            failed=F("failed") + counts.failed,
            activities_recorded=F("activities_recorded") + counts.activities,
        )
    held = SyncRun.objects.filter(pk=run.pk, worker=run.worker)
    if fenced:
        held = held.filter(state=SyncRun.State.RUNNING)
    if not held.update(**updates) and run.pk and fenced:
        raise RunTakenOver(f"sync run {run.pk} is no longer held by {run.worker}")
    run.heartbeat_at = now
    if rs.progress_cb is not None:
        run.refresh_from_db(
            fields=[
                "fetched",
                "created",
                "merged",
                "ignored",
                "archived",
                "failed",
                "api_calls",
                "activities_recorded",
            ]
        )
        rs.progress_cb(run)


def _finish(
    run: SyncRun, state: str, reason: str = "", code: str = "", resume_after: dt.datetime | None = None
) -> SyncRun:
    SyncRun.objects.filter(pk=run.pk, worker=run.worker).update(
        state=state,
        state_reason=reason[:300],
        reason_code=code,
        resume_after=resume_after,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        progress=run.progress,
    )
    run.refresh_from_db()
    return run


def _release(run: SyncRun, reason: str, code: str) -> SyncRun:
    """Back to the queue, keeping its checkpoints (a worker shutting down): no task holds it, so the next
    worker to start, schedule tick or "sync now" enqueues it again (tasks.recover_run)."""
    SyncRun.objects.filter(pk=run.pk, worker=run.worker, state=SyncRun.State.RUNNING).update(
        state=SyncRun.State.QUEUED,
        state_reason=reason[:300],
        reason_code=code,
        worker="",
        task_id="",
        enqueued_at=None,
        heartbeat_at=timezone.now(),
        progress=run.progress,
    )
    run.refresh_from_db()
    return run


def _record_error(
    run: SyncRun,
    connection: Connection,
    object_name: str,
    error_type: str,
    message: str,
    fix: str = "",
    retryable=True,
):
    SyncError.objects.create(
        workspace_id=connection.workspace_id,
        connection=connection,
        run=run if run is not None and run.pk else None,
        object_name=object_name,
        error_type=error_type,
        message=message[:2000],
        fix=fix,
        retryable=retryable,
    )


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
        return _finish(run, SyncRun.State.SKIPPED, reason, code)
    try:
        client = SalesforceClient.for_connection(
            connection, retry_window=conf("OUTAGE_RETRY_SECONDS", 60), sleep=shutdown.sleep
        )
    except SalesforceAuthError as exc:
        return _finish(run, SyncRun.State.SKIPPED, f"skipped: {exc.message}", Reason.NEEDS_REAUTH)
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
        return _release(
            run,
            "waiting: the worker stopped (shutdown); the run resumes from its last saved page",
            Reason.SHUTDOWN,
        )
    except PauseRun as pause:
        return _finish(run, SyncRun.State.PAUSED, pause.reason, pause.code, pause.resume_after)
    except SalesforceRateLimited as exc:
        return _finish(
            run,
            SyncRun.State.PAUSED,
            f"paused: API budget (Salesforce says {exc.message or exc.error_code})",
            Reason.API_BUDGET,
            timezone.now() + dt.timedelta(minutes=conf("BUDGET_RETRY_MINUTES", 60)),
        )
    except SalesforceAuthError as exc:
        _record_error(
            run,
            connection,
            "",
            SyncError.Type.AUTH,
            f"Salesforce refused the connection: {exc.message}",
            fix="Reconnect Salesforce from Data sources › Salesforce › Manage authorization.",
            retryable=True,
        )
        return _finish(run, SyncRun.State.FAILED, f"needs reconnecting: {exc.message}", Reason.NEEDS_REAUTH)
    except (SalesforceUnavailable, SalesforceServerError) as exc:
        # An outage longer than the client's retry window: pause, and let the next tick after a short wait
        # resume from the checkpoints (nothing is skipped, no other kind of run starts meanwhile).
        logger.warning("Sync run %s paused: Salesforce unreachable (%s)", run.pk, exc)
        return _finish(
            run,
            SyncRun.State.PAUSED,
            f"paused: Salesforce did not answer ({str(exc)[:200]}); resumes from the last saved page",
            Reason.SALESFORCE_UNREACHABLE,
            timezone.now() + dt.timedelta(seconds=conf("OUTAGE_PAUSE_SECONDS", 60)),
        )
    except SalesforceError as exc:
        logger.warning("Sync run %s stopped: %s", run.pk, exc)
        _record_error(
            run,
            connection,
            "",
            SyncError.Type.API,
            f"The run stopped on a Salesforce error: {exc}",
            fix="Nothing was lost: the next run resumes from the last saved page.",
        )
        return _finish(run, SyncRun.State.FAILED, f"failed: {str(exc)[:250]}", Reason.SALESFORCE_ERROR)
    except Exception as exc:
        # A bug, or a database outage longer than SYNC_DB_WAIT_SECONDS: the run fails visibly (the next run
        # resumes from the checkpoints) rather than looking alive until its lease expires.
        logger.exception("Sync run %s failed unexpectedly", run.pk)
        code = Reason.DB_UNAVAILABLE if isinstance(exc, DB_ERRORS) else Reason.INTERNAL
        try:
            if isinstance(exc, DB_ERRORS):
                _drop_connection()
            _record_error(
                run,
                connection,
                "",
                SyncError.Type.INTERNAL,
                f"Inflow stopped on an unexpected error: {type(exc).__name__}: {exc}",
                fix="Nothing was lost: the next run resumes from the last saved page. Report it if it repeats.",
            )
            _finish(run, SyncRun.State.FAILED, f"failed: unexpected {type(exc).__name__}", code)
        except DB_ERRORS:
            logger.warning("Sync run %s: could not record the failure (database unavailable)", run.pk)
        raise
    finally:
        beat.stop.set()
        try:
            _save_run(state, fenced=False)
        except DB_ERRORS:
            pass
        client.close()


def _run_riding_out_database_outages(state: RunState) -> SyncRun:
    """The run, restarted from its checkpoints when the database went away between pages (a restart):
    the worker waits for it (bounded) and goes on with the same claim. Pages retry on their own (_apply)."""
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
    _save_run(state)
    if run.kind != SyncRun.Kind.RECONCILE:
        _budget_check(state)
        # Before reading, so the read recognises what we wrote (writeback.echoes_for).
        drained = writeback.drain(connection=connection, client=state.client, run=run)
        if drained.total:
            logger.info("Sync run %s wrote back permissions: %s", run.pk, drained)
            _save_run(state)  # the write-back's API calls count in the run's
    failed_objects = []
    for obj in plan:
        _checkpoint_check(state)
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
            _save_run(state, object_name=obj.api_name, state="failed", message=str(exc)[:300])
    if failed_objects:
        return _finish(
            run,
            SyncRun.State.SUCCEEDED,
            f"finished with errors on {', '.join(failed_objects)}",
            Reason.OBJECT_ERRORS,
        )
    return _finish(run, SyncRun.State.SUCCEEDED)


# ------------------------------------------------------------------------------------- one object


def _reread(state: RunState, obj: SyncedObject, call: Callable[[], Any]) -> Any:
    """A describe or count whose answer came back malformed (cut short) is asked again, and reported."""
    for attempt in range(1, conf("REQUERY_ATTEMPTS", 3) + 1):
        try:
            return call()
        except SalesforceMalformedResponse as exc:
            _record_error(
                state.run,
                state.connection,
                obj.api_name,
                SyncError.Type.MALFORMED,
                f"{obj.label}: {exc}; asked again (attempt {attempt}).",
                fix="Nothing to do: no record was lost or applied twice.",
                retryable=False,
            )
    raise ObjectFailed(f"{obj.api_name}: Salesforce kept answering with malformed responses")


def _describe(state: RunState, obj: SyncedObject) -> dict[str, str]:
    """Field name -> Salesforce type. Deleted selected fields are deactivated (warning row), run goes on."""
    try:
        describe = _reread(state, obj, lambda: state.client.describe(obj.api_name))
    except (SalesforceInvalidType, SalesforceNotFound) as exc:
        _record_error(
            state.run,
            state.connection,
            obj.api_name,
            SyncError.Type.OBJECT_UNAVAILABLE,
            f"{obj.label} is not available in Salesforce any more ({exc.message}).",
            fix="Check that the object exists and that the integration user can read it, or deselect it.",
        )
        raise ObjectFailed(f"{obj.api_name} is not available") from None
    described = [f for f in describe.get("fields", []) if isinstance(f, dict) and f.get("name")]
    # A name that is not an API name can never be put in a query: that one field is skipped (a selected
    # one is deselected with an error row), the rest of the object syncs.
    unusable = sorted({str(f["name"]) for f in described if not is_api_name(f["name"])})
    types = {f["name"]: f.get("type", "string") for f in described if is_api_name(f["name"])}
    formulas = {f["name"] for f in described if f.get("calculated") and f["name"] in types}
    for sel in FieldSelection.objects.filter(synced_object=obj, active=True, sf_field__in=unusable):
        sel.active, sel.inactive_reason = False, "Not a valid Salesforce API name"
        sel.save(update_fields=["active", "inactive_reason"])
        _record_error(
            state.run,
            state.connection,
            obj.api_name,
            SyncError.Type.MALFORMED,
            f"Salesforce described a field of {obj.label} named {sel.sf_field!r:.120}, which is not a valid "
            "API name; it was skipped and deselected, and the rest of the object synced.",
            fix="Check the field in Salesforce's Object Manager; select it again once its API name is valid.",
            retryable=False,
        )
    gone = list(
        FieldSelection.objects.filter(synced_object=obj, active=True)
        .exclude(sf_field__in=list(types))
        .exclude(sf_field__in=unusable)
    )
    for sel in gone:
        sel.active, sel.inactive_reason = False, "Deleted in Salesforce (or hidden from the integration user)"
        sel.save(update_fields=["active", "inactive_reason"])
        _record_error(
            state.run,
            state.connection,
            obj.api_name,
            SyncError.Type.FIELD_DELETED,
            f"{obj.label}.{sel.sf_field} no longer exists in Salesforce; it was deselected and the sync went on.",
            fix="Pick a replacement field in the object's field selection if you still need the data.",
            retryable=False,
        )
    FieldSelection.objects.filter(
        synced_object=obj, active=True, sf_field__in=formulas, is_formula=False
    ).update(is_formula=True)
    return types


def _ensure_definitions(
    state: RunState, obj: SyncedObject, selections: list[FieldSelection], types: dict[str, str]
):
    workspace = obj.workspace
    if obj.becomes == SyncedObject.Becomes.CUSTOM_OBJECT:
        return cdp_merge.custom_object_ensure(
            workspace=workspace,
            source=f"salesforce:{obj.connection_id}",
            object_name=obj.api_name,
            name=obj.label,
            fields=[
                {
                    "id": s.target_field,
                    "name": s.label or s.sf_field,
                    "display_type": target_fields.cdp_type_for(s.sf_type),
                }
                for s in selections
            ],
        )
    for sel in selections:
        prefix, namespace, _ = sel.target_field.split(":", 2)
        if namespace == "" or namespace == "o":
            continue  # built-in fields exist already
        try:
            cdp_merge.field_definition_ensure(
                workspace=workspace,
                field_id=sel.target_field,
                name=f"{sel.label or sel.sf_field} (Salesforce)",
                display_type=target_fields.cdp_type_for(types.get(sel.sf_field, sel.sf_type)),
            )
        except ValueError as exc:
            _record_error(
                state.run,
                state.connection,
                obj.api_name,
                SyncError.Type.MAPPING,
                f"{obj.label}.{sel.sf_field} cannot feed {sel.target_field}: {exc}",
                fix="Map the field to a CDP field of the same type.",
                retryable=False,
            )
    spec = objects.spec_for(obj.api_name)
    for activity in spec.activities if spec is not None else ():
        cdp_merge.activity_definition_ensure(
            workspace=workspace,
            activity_id=activity.id,
            name=activity.name,
            attributes=[
                {
                    "id": field_id,
                    "name": name,
                    "display_type": field_types.DEFAULT_TYPE_FOR_PREFIX.get(field_id.split(":")[0], "text"),
                }
                for field_id, name in activity.attributes
            ],
        )
    return None


def object_context(
    state: RunState, obj: SyncedObject, *, dry_run: bool = False
) -> tuple[ObjectContext, dict[str, str], list[str]]:
    types = _describe(state, obj)
    selections = list(FieldSelection.objects.filter(synced_object=obj, active=True))
    custom_object = _ensure_definitions(state, obj, selections, types)
    mapper = _mapper(state, obj, selections)
    fields = soql_fields(obj.api_name, [s.sf_field for s in selections], types)
    try:
        criteria = filters.read_criteria(obj)
    except ValueError as exc:
        _record_error(
            state.run,
            state.connection,
            obj.api_name,
            SyncError.Type.INTERNAL,
            f"{obj.label}: the selective sync criteria cannot be read ({exc}).",
            fix="Open Data sources › Salesforce › Selective sync and save the object's criteria again.",
        )
        raise ObjectFailed(f"{obj.api_name}: unreadable criteria") from None

    def related_mapper(name: str) -> mapping.ObjectMapper | None:
        other = next((o for o in state.objects if o.api_name == name), None)
        if other is None:
            return None
        if name not in state.mappers:
            state.mappers[name] = _mapper(
                state, other, list(FieldSelection.objects.filter(synced_object=other, active=True))
            )
        return state.mappers[name]

    ctx = ObjectContext(
        workspace=obj.workspace,
        connection=state.connection,
        synced_object=obj,
        mapper=mapper,
        custom_object=custom_object,
        all_objects=state.objects,
        related_mapper=related_mapper,
        run=state.run if state.run.pk else None,
        dry_run=dry_run,
        fields=fields,
        client=state.client,
        criteria=criteria,
    )
    return ctx, types, fields


def _mapper(state: RunState, obj: SyncedObject, selections: list[FieldSelection]) -> mapping.ObjectMapper:
    since = sync_settings.activity_retention_cutoff(state.connection)
    # If another object is reached through this one as a junction, keep its lookup as ref_id.
    ref_field = next(
        (
            (o.identifier_config or {}).get("ref_field", "")
            for o in state.objects
            if o.identifier_kind == "junction"
            and (o.identifier_config or {}).get("junction_object") == obj.api_name
        ),
        "",
    )
    return mapping.mapper_for(
        obj,
        selections,
        merge_converted_leads=state.connection.merge_converted_leads,
        activity_since=since,
        activity_kinds=sync_settings.activity_kinds_kept(state.connection),
        ref_field=ref_field,
        precedence=state.connection.source_precedence,
        now=timezone.now(),
    )


def sync_object(state: RunState, obj: SyncedObject, *, full: bool = False) -> None:
    name = obj.api_name
    filter_changed_at = obj.filter_changed_at
    if full:
        SyncedObject.objects.filter(pk=obj.pk).update(watermark_modstamp=None, watermark_id="", checkpoint={})
        obj.watermark_modstamp, obj.watermark_id, obj.checkpoint = None, "", {}
    ctx, types, fields = object_context(state, obj)
    ctx.backfill = full or obj.backfill_completed_at is None
    _save_run(state, object_name=name, state="running")
    _budget_check(state)
    read_from = obj.watermark_modstamp
    if obj.sync_filter == SyncedObject.SyncFilter.NONE:
        pass  # nothing is read; what Inflow holds is settled below
    elif obj.checkpoint.get("job_id"):
        _sync_bulk(state, ctx, types, fields, resume=True)
    elif (obj.backfill_completed_at is None or full) and obj.watermark_modstamp is None:
        try:
            total = _reread(
                state, obj, lambda: state.client.count(build_count_soql(name, criteria=ctx.criteria))
            )
        except SalesforceQueryTimeout:
            total = None  # too big to count quickly: REST in narrowing windows still gets through
        _save_run(state, object_name=name, total=total)
        _budget_check(state)
        if total is not None and total > conf("BULK_THRESHOLD", 10_000):
            _sync_bulk(state, ctx, types, fields, resume=False)
        else:
            _sync_rest(state, ctx)
    else:
        _sync_rest(state, ctx)
    settle_unmatched(state, ctx, since=None if full else read_from)
    now = timezone.now()
    updates = {"last_synced_at": now}
    if obj.backfill_completed_at is None or full:
        updates["backfill_completed_at"] = now
    SyncedObject.objects.filter(pk=obj.pk).update(**updates)
    if filter_changed_at is not None:
        # Compare-and-set: a filter saved again while this pass ran keeps its own full pass.
        SyncedObject.objects.filter(pk=obj.pk, filter_changed_at=filter_changed_at).update(
            filter_changed_at=None
        )
        updates["filter_changed_at"] = None
    for k, v in updates.items():
        setattr(obj, k, v)
    _save_run(state, object_name=name, state="done")


def settle_unmatched(state: RunState, ctx: ObjectContext, *, since: dt.datetime | None) -> int:
    """Records Inflow holds that no longer match the object's selective sync criteria (changed since
    `since`; every record after a filter change) are archived, or kept when the user chose so, and stop
    being live sources: a person whose Contact stopped matching but whose Lead still matches stays live
    (archivable_keys), and gives up the values only that Contact held (reapply_survivors). A record that
    matches again later is applied afresh (its stored hash is cleared). Returns how many were archived."""
    obj = ctx.synced_object
    name = obj.api_name
    if obj.becomes not in ARCHIVABLE or obj.sync_filter == SyncedObject.SyncFilter.ALL:
        return 0
    live = SourceRecord.objects.filter(connection_id=obj.connection_id, object_name=name, deleted=False)
    if obj.sync_filter == SyncedObject.SyncFilter.NONE:
        stopped = sorted(live.values_list("sf_id", flat=True))
    else:
        if not ctx.criteria:
            return 0
        unmatched: set[str] = set()
        soql = build_unmatched_ids_soql(name, ctx.criteria, since=since)
        for page in state.client.query_pages(soql, batch_size=PAGE_SIZE):
            ids = [r["Id"] for r in page.records if isinstance(r, dict) and r.get("Id")]
            unmatched.update(live.filter(sf_id__in=ids).values_list("sf_id", flat=True))
            _budget_check(state)
        stopped = sorted(unmatched)
    archived = 0
    archive = obj.unmatched_action == SyncedObject.UnmatchedAction.ARCHIVE
    for start in range(0, len(stopped), PAGE_SIZE):
        chunk = stopped[start : start + PAGE_SIZE]
        with transaction.atomic():
            # Not live any more before the precedence check, so a person held only by records that all
            # stopped matching is archived, whichever object is settled last.
            SourceRecord.objects.filter(
                connection_id=obj.connection_id, object_name=name, sf_id__in=chunk
            ).update(deleted=True, hash="")
            if archive:
                gone_keys = [mapped_page.Key(ctx.source, name, sf_id) for sf_id in chunk]
                keys = archivable_keys(ctx, gone_keys, deleted_now=set(chunk))
                archived += cdp_merge.archive_records(
                    workspace=obj.workspace, keys=[cdp_merge.IdentityKey(*k) for k in keys]
                )
                kept = set(keys)
                reapply_survivors(ctx, [k for k in gone_keys if k not in kept], deleted_now=set(chunk))
    if stopped:
        _save_run(state, PageCounts(archived=archived), object_name=name, stopped_matching=len(stopped))
    return archived


def _rest_checkpoint(obj: SyncedObject) -> Callable[[mapped_page.PageResult], dict]:
    def checkpoint(result: mapped_page.PageResult) -> dict:
        if result.max_cursor is None:
            return {}
        current = (obj.watermark_modstamp, obj.watermark_id) if obj.watermark_modstamp else None
        if current is not None and result.max_cursor <= current:
            return {}
        return {"watermark_modstamp": result.max_cursor[0], "watermark_id": result.max_cursor[1]}

    return checkpoint


def _apply(state: RunState, ctx: ObjectContext, records, checkpoint) -> PageCounts:
    name = ctx.synced_object.api_name
    counts_box: list[PageCounts] = []

    def after(counts: PageCounts) -> None:
        counts_box.append(counts)
        _save_run(state, counts, object_name=name)

    # A page whose transaction lost the database (a restart, a dropped connection) was rolled back: wait
    # for the database and apply the same page again, keeping the run (bounded by SYNC_DB_WAIT_SECONDS).
    for attempt in range(1, conf("DB_RETRY_ATTEMPTS", 5) + 1):
        try:
            counts = apply_page(ctx, records, checkpoint=checkpoint, after_write=after)
            break
        except DB_ERRORS:
            if attempt == conf("DB_RETRY_ATTEMPTS", 5) or connections["default"].in_atomic_block:
                raise
            logger.warning("%s: database unavailable while writing a page; retrying it", name)
            wait_for_database(f"re-applying a page of {name}")
    state.applied += counts.applied
    if state.applied >= state.next_analyze and not ctx.dry_run:
        state.next_analyze = state.applied * 4
        _refresh_statistics()
    return counts


# Tables a backfill grows quickly. Their planner statistics do not know a new workspace yet (autovacuum
# analyzes after 10% of a table changes, which in a database shared by many workspaces can be millions of
# rows away), so PostgreSQL estimates a handful of rows for it and scans the whole workspace through its
# index for every page's lookups: measured at 100k contacts, 95 ms instead of 8 ms per activity lookup.
_ANALYZED_TABLES = (
    "cdp_person",
    "cdp_identity",
    "cdp_organization",
    "cdp_activity",
    "integrations_sourcerecord",
)


def _refresh_statistics() -> None:
    """ANALYZE the growing tables after 20k, 80k, 320k, ... records of a run (a second or so each)."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Never wait on a table lock (a running VACUUM): the next threshold tries again.
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            cursor.execute(f"ANALYZE {', '.join(_ANALYZED_TABLES)}")
    except DatabaseError:
        logger.info("ANALYZE skipped", exc_info=True)


def _rest_pages(state: RunState, soql: str) -> Iterator[Any]:
    """The pages of a REST query, each read while the previous one is applied."""
    yield from read_ahead(
        state.client,
        lambda client, next_url: client.query_pages(
            soql, include_deleted=True, batch_size=PAGE_SIZE, next_url=next_url
        ),
        resume_after=lambda page: page.next_url,
        is_last=lambda page: page.done,
    )


class QueryTimeouts:
    """QUERY_TIMEOUTs met by one object: once the window is down to a minute, each waits a little longer
    (1, 2, 4… up to 15 s) and the window widens again when a query passes; after
    SYNC_QUERY_TIMEOUT_WAIT_SECONDS of them the run pauses at the object's checkpoint (reason code
    query_timeout) and a later run resumes there. Objects after it wait too, so dependency order holds."""

    def __init__(self):
        self.first: float | None = None
        self.count = 0
        self.waits = 0

    def wait(self, state: RunState, obj: SyncedObject, *, pause: bool = True) -> None:
        """Count one timeout; sleep (when `pause`: narrowing needs none) or pause the run past the limit."""
        import time

        now = time.monotonic()
        self.first = self.first or now
        self.count += 1
        if now - self.first >= conf("QUERY_TIMEOUT_WAIT_SECONDS", 120):
            _record_error(
                state.run,
                state.connection,
                obj.api_name,
                SyncError.Type.API,
                f"{obj.label}: Salesforce kept answering QUERY_TIMEOUT for {int(now - self.first)} s; "
                "the run paused at the last saved page.",
                fix="Nothing was lost: the next run resumes there. If it repeats, ask Salesforce support "
                "to index SystemModstamp on this object, or deselect fields.",
                retryable=False,
            )
            raise PauseRun(
                f"paused: Salesforce timed out reading {obj.label}; resumes from the last saved page",
                Reason.QUERY_TIMEOUT,
                timezone.now() + dt.timedelta(seconds=conf("OUTAGE_PAUSE_SECONDS", 60)),
            )
        if pause:
            self.waits += 1
            shutdown.sleep(min(15.0, 2.0 ** (self.waits - 1)))


def _sync_rest(state: RunState, ctx: ObjectContext) -> None:
    """REST from the watermark; QUERY_TIMEOUT narrows the window, an expired locator or a malformed page
    re-queries from the last committed checkpoint."""
    obj = ctx.synced_object
    name = obj.api_name
    fields = ctx.fields
    checkpoint = _rest_checkpoint(obj)
    window: dt.timedelta | None = None  # None = no upper bound
    timeouts = QueryTimeouts()
    retries = 0
    first_total = True
    while True:
        since = obj.watermark_modstamp
        until = None
        if window is not None:
            until = (since or EPOCH) + window
            if until >= timezone.now():
                until, window = None, None
        soql = build_soql(name, fields, since=since, until=until, criteria=ctx.criteria)
        try:
            for page in _rest_pages(state, soql):
                if first_total and obj.backfill_completed_at is not None:
                    _save_run(state, object_name=name, total=page.total_size)
                first_total = False
                _apply(state, ctx, page.records, checkpoint)
                _checkpoint_check(state)
            retries = 0
            if until is None:
                return
            # The window is done; move its floor on even if it held no rows, then widen again.
            if obj.watermark_modstamp is None or obj.watermark_modstamp < until:
                SyncedObject.objects.filter(pk=obj.pk).update(
                    watermark_modstamp=until - dt.timedelta(microseconds=1000), watermark_id=""
                )
                obj.watermark_modstamp, obj.watermark_id = until - dt.timedelta(microseconds=1000), ""
            window = window * 2
        except SalesforceQueryTimeout:
            # A big window narrows until it passes; a burst of timeouts (Salesforce busy) is waited out.
            # Either way the watermark stays where the data put it: nothing past it is ever skipped.
            span = timezone.now() - (since or EPOCH)
            narrowest = window is not None and window <= dt.timedelta(minutes=1)
            window = max((window or span) / 2, dt.timedelta(minutes=1))
            timeouts.wait(state, obj, pause=narrowest)
            logger.info("%s: QUERY_TIMEOUT, narrowing the window to %s", name, window)
        except (SalesforceInvalidLocator, SalesforceMalformedResponse) as exc:
            retries += 1
            kind = (
                SyncError.Type.MALFORMED
                if isinstance(exc, SalesforceMalformedResponse)
                else SyncError.Type.API
            )
            _record_error(
                state.run,
                state.connection,
                name,
                kind,
                f"{obj.label}: {exc}; re-reading from the last saved page (attempt {retries}).",
                fix="Nothing to do: no record was lost or applied twice.",
                retryable=False,
            )
            if retries > conf("REQUERY_ATTEMPTS", 3):
                raise ObjectFailed(str(exc)) from None
        except SalesforceInvalidField as exc:
            _record_error(
                state.run,
                state.connection,
                name,
                SyncError.Type.FIELD_DELETED,
                f"{obj.label}: Salesforce refused a field ({exc.message}).",
                fix="Re-open the object's field selection: the field list is refreshed on the next run.",
            )
            raise ObjectFailed(str(exc)) from None


def _sync_bulk(
    state: RunState,
    ctx: ObjectContext,
    types: dict[str, str],
    fields: list[str],
    *,
    resume: bool,
    timeouts: QueryTimeouts | None = None,
) -> None:
    """A Bulk API 2.0 backfill, committed 2,000 rows at a time with (job, locator, offset) as checkpoint.
    Rows are unordered, so the watermark is the max (SystemModstamp, Id) seen, set when the job is done."""
    obj = ctx.synced_object
    name = obj.api_name
    cp = dict(obj.checkpoint) if resume else {}
    soql = build_soql(name, fields, since=obj.watermark_modstamp, ordered=False, criteria=ctx.criteria)
    kwargs: dict[str, Any] = {
        "include_deleted": True,
        "max_records": conf("BULK_MAX_RECORDS", 10_000),
        "delete_on_close": False,
    }
    if cp.get("job_id"):
        kwargs.update(job_id=cp["job_id"], locator=cp.get("locator"))
    try:
        # Each result page is read while the previous one is applied; a resume continues the same job.
        pages = read_ahead(
            state.client,
            lambda client, resume: client.bulk_query(
                soql, **{**kwargs, **({} if resume is None else {"job_id": resume[0], "locator": resume[1]})}
            ),
            resume_after=lambda page: (page.job_id, page.next_locator),
            is_last=lambda page: page.next_locator is None,
        )
        for page in pages:
            # Bulk rows come unordered; (SystemModstamp, Id) order within a page keeps "latest change wins"
            # for records that merge into one person, and is the same on every re-fetch of the locator.
            rows = sorted(page.rows, key=lambda r: (r.get("SystemModstamp") or "", r.get("Id") or ""))
            offset = (
                cp.get("offset", 0)
                if cp.get("job_id") == page.job_id and cp.get("locator") == page.locator
                else 0
            )
            for start in range(offset, len(rows), PAGE_SIZE):
                chunk = [bulk_csv.normalize_bulk_row(r, types) for r in rows[start : start + PAGE_SIZE]]
                end = start + len(chunk)
                last = end >= len(rows)

                def checkpoint(result: mapped_page.PageResult, page=page, end=end, last=last) -> dict:
                    best = (cp.get("max_modstamp"), cp.get("max_id", ""))
                    if result.max_cursor is not None:
                        stamp = result.max_cursor[0].isoformat()
                        if best[0] is None or (stamp, result.max_cursor[1]) > (best[0], best[1]):
                            cp["max_modstamp"], cp["max_id"] = stamp, result.max_cursor[1]
                    cp["job_id"] = page.job_id
                    if last:
                        cp["locator"], cp["offset"] = page.next_locator, 0
                    else:
                        cp["locator"], cp["offset"] = page.locator, end
                    return {"checkpoint": dict(cp)}

                _apply(state, ctx, chunk, checkpoint)
                _checkpoint_check(state)
    except SalesforceNotFound:
        # The job expired (Salesforce keeps results 7 days): start over; already applied rows are skipped.
        SyncedObject.objects.filter(pk=obj.pk).update(checkpoint={})
        obj.checkpoint = {}
        return _sync_bulk(state, ctx, types, fields, resume=False)
    except SalesforceBulkJobFailed as exc:
        if "QUERY_TIMEOUT" not in exc.message and not cp.get("job_id"):
            raise
        # The job itself failed (Salesforce timed out running it): wait, then a new job from the same
        # watermark; rows the failed job's pages already applied are skipped. Timeouts pause the run.
        (timeouts or QueryTimeouts()).wait(state, obj)
        SyncedObject.objects.filter(pk=obj.pk).update(checkpoint={})
        obj.checkpoint = {}
        return _sync_bulk(state, ctx, types, fields, resume=False, timeouts=timeouts or QueryTimeouts())
    updates: dict[str, Any] = {"checkpoint": {}}
    if cp.get("max_modstamp"):
        stamp = dt.datetime.fromisoformat(cp["max_modstamp"])
        if obj.watermark_modstamp is None or stamp > obj.watermark_modstamp:
            updates.update(watermark_modstamp=stamp, watermark_id=cp.get("max_id", ""))
    SyncedObject.objects.filter(pk=obj.pk).update(**updates)
    for k, v in updates.items():
        setattr(obj, k, v)
    # Anything changed while the job ran is read incrementally now, from the data's own watermark.
    _sync_rest(state, ctx)


# ---------------------------------------------------------------------------------------- reconcile


ARCHIVABLE = (
    SyncedObject.Becomes.PERSON,
    SyncedObject.Becomes.ORGANIZATION,
    SyncedObject.Becomes.CUSTOM_OBJECT,
)


def reconcile_object(state: RunState, obj: SyncedObject) -> None:
    """Compare id sets: ids Inflow holds that Salesforce no longer has (hard deletes, or rows the user can
    no longer see) are archived; ids Salesforce has that Inflow missed are fetched. Objects with formula
    fields are re-read in full, since a formula's change does not move SystemModstamp."""
    name = obj.api_name
    if obj.sync_filter == SyncedObject.SyncFilter.NONE:
        _save_run(state, object_name=name, state="done")
        return  # nothing of it is synced: nothing to compare
    ctx, types, fields = object_context(state, obj)
    _save_run(state, object_name=name, state="running")
    has_formulas = FieldSelection.objects.filter(synced_object=obj, active=True, is_formula=True).exists()
    if has_formulas:
        for page in state.client.query_pages(
            build_soql(name, fields, criteria=ctx.criteria),
            include_deleted=False,
            batch_size=PAGE_SIZE,
        ):
            _apply(state, ctx, page.records, None)
    remote: set[str] = set()
    for page in state.client.query_pages(
        build_soql(name, ["Id"], ordered=False, criteria=ctx.criteria), batch_size=PAGE_SIZE
    ):
        remote.update(r["Id"] for r in page.records if isinstance(r, dict) and r.get("Id"))
        _budget_check(state)
    local = set(
        SourceRecord.objects.filter(
            connection_id=obj.connection_id, object_name=name, deleted=False
        ).values_list("sf_id", flat=True)
    )
    gone = sorted(local - remote)
    missing = sorted(remote - local)
    archived = 0
    for start in range(0, len(gone), PAGE_SIZE):
        chunk = gone[start : start + PAGE_SIZE]
        with transaction.atomic():
            if obj.becomes in ARCHIVABLE:
                gone_keys = [mapped_page.Key(ctx.source, name, sf_id) for sf_id in chunk]
                keys = archivable_keys(ctx, gone_keys, deleted_now=set(chunk))
                archived += cdp_merge.archive_records(
                    workspace=obj.workspace, keys=[cdp_merge.IdentityKey(*k) for k in keys]
                )
                kept = set(keys)
                reapply_survivors(ctx, [k for k in gone_keys if k not in kept], deleted_now=set(chunk))
            SourceRecord.objects.filter(
                connection_id=obj.connection_id, object_name=name, sf_id__in=chunk
            ).update(deleted=True)
    for start in range(0, len(missing), 200):
        soql = build_ids_soql(name, fields, missing[start : start + 200])
        for page in state.client.query_pages(soql, batch_size=PAGE_SIZE):
            _apply(state, ctx, page.records, None)
    counts = PageCounts(archived=archived)
    _save_run(
        state, counts, object_name=name, state="done", missing_fetched=len(missing), hard_deleted=len(gone)
    )
    SyncedObject.objects.filter(pk=obj.pk).update(last_reconciled_at=timezone.now())


# ------------------------------------------------------------------------------------------ preview


def preview(connection: Connection, *, sample: int = 2000) -> dict[str, dict[str, int]]:
    """Dry run: read up to `sample` records per people/organization object and merge them inside a
    transaction that is rolled back. Returns per-object counts of read / created / merged / ignored / invalid.

    Salesforce is read first, outside the transaction, so a token refresh during the preview is kept."""
    client = SalesforceClient.for_connection(connection)
    run = SyncRun(workspace_id=connection.workspace_id, connection=connection, kind=SyncRun.Kind.INITIAL)
    state = RunState(run=run, connection=connection, client=client)
    objects = list(SyncedObject.objects.filter(connection=connection, enabled=True))
    state.objects = objects
    wanted = [
        o
        for o in planning.plan_order(objects)
        if o.becomes in (SyncedObject.Becomes.PERSON, SyncedObject.Becomes.ORGANIZATION)
        and o.sync_filter != SyncedObject.SyncFilter.NONE
    ]
    fetched: dict[str, list[dict]] = {}
    try:
        for obj in wanted:
            describe = client.describe(obj.api_name)  # cached by the client for the merge phase below
            available = {
                f["name"]
                for f in describe.get("fields", [])
                if isinstance(f, dict) and is_api_name(f.get("name"))
            }
            selected = FieldSelection.objects.filter(synced_object=obj, active=True).values_list(
                "sf_field", flat=True
            )
            fields = soql_fields(obj.api_name, selected, available)
            soql = (
                build_soql(obj.api_name, fields, ordered=False, criteria=filters.read_criteria(obj))
                + f" LIMIT {int(sample)}"
            )
            fetched[obj.api_name] = [
                r for page in client.query_pages(soql, batch_size=PAGE_SIZE) for r in page.records
            ]
        out: dict[str, dict[str, int]] = {}
        with transaction.atomic():
            for obj in wanted:
                ctx, _types, _fields = object_context(state, obj)
                totals = apply_page(ctx, fetched[obj.api_name]) if fetched[obj.api_name] else PageCounts()
                out[obj.api_name] = {
                    "read": totals.fetched,
                    "created": totals.created,
                    "merged": totals.merged,
                    "ignored": totals.ignored,
                    "invalid": totals.failed,
                }
            transaction.set_rollback(True)
    finally:
        client.close()
    return out


# -------------------------------------------------------------------------------------------- retry


def retry_errors(connection: Connection, errors: list[SyncError]) -> dict[str, int]:
    """Re-read the records behind `errors` by id and apply them again; errors whose record now syncs are
    resolved. Refused write-backs are written again. Returns {"retried": n, "resolved": m}."""
    refused = [e for e in errors if e.error_type == SyncError.Type.WRITEBACK]
    if refused:
        done = _retry_writebacks(connection, refused)
        others = _retry_reads(connection, [e for e in errors if e.error_type != SyncError.Type.WRITEBACK])
        return {
            "retried": done["retried"] + others["retried"],
            "resolved": done["resolved"] + others["resolved"],
        }
    return _retry_reads(connection, errors)


def _retry_writebacks(connection: Connection, errors: list[SyncError]) -> dict[str, int]:
    from integrations.models import PermissionWriteback

    ids = {e.sf_id for e in errors}
    retried = writeback.retry_failed(connection=connection, sf_ids=ids)
    client = SalesforceClient.for_connection(connection)
    try:
        writeback.drain(connection=connection, client=client)
    finally:
        client.close()
    still_failing = set(
        PermissionWriteback.objects.filter(
            connection=connection, sf_id__in=ids, state=PermissionWriteback.State.FAILED
        ).values_list("sf_id", flat=True)
    )
    resolved = SyncError.objects.filter(pk__in=[e.pk for e in errors if e.sf_id not in still_failing]).update(
        resolved=True, resolved_at=timezone.now()
    )
    return {"retried": retried, "resolved": resolved}


def _retry_reads(connection: Connection, errors: list[SyncError]) -> dict[str, int]:
    by_object: dict[str, set[str]] = {}
    for err in errors:
        if err.sf_id and err.object_name:
            by_object.setdefault(err.object_name, set()).add(err.sf_id)
    if not by_object:
        return {"retried": 0, "resolved": 0}
    client = SalesforceClient.for_connection(connection)
    run = SyncRun(workspace_id=connection.workspace_id, connection=connection, kind=SyncRun.Kind.RESYNC)
    state = RunState(run=run, connection=connection, client=client)
    state.objects = list(SyncedObject.objects.filter(connection=connection))
    retried = resolved = 0
    try:
        for obj in state.objects:
            ids = sorted(by_object.get(obj.api_name, ()))
            if not ids:
                continue
            ctx, _types, fields = object_context(state, obj)
            # Forget the stored version so the records are applied even if unchanged in Salesforce.
            SourceRecord.objects.filter(
                connection=connection, object_name=obj.api_name, sf_id__in=ids
            ).update(hash="")
            for start in range(0, len(ids), 200):
                soql = build_ids_soql(obj.api_name, fields, ids[start : start + 200])
                for page in client.query_pages(soql, batch_size=PAGE_SIZE):
                    # A record that fails again updates its open error (last_seen_at) rather than adding one.
                    since = timezone.now()
                    apply_page(ctx, page.records)
                    retried += len(page.records)
                    failing = set(
                        SyncError.objects.filter(
                            connection=connection, resolved=False, last_seen_at__gte=since
                        ).values_list("sf_id", flat=True)
                    )
                    read = {r.get("Id") for r in page.records}
                    ok = [e.pk for e in errors if e.object_name == obj.api_name and e.sf_id in read - failing]
                    resolved += SyncError.objects.filter(pk__in=ok).update(
                        resolved=True, resolved_at=timezone.now()
                    )
    finally:
        client.close()
    return {"retried": retried, "resolved": resolved}
