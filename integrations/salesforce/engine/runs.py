"""A sync run's life: claim it (compare-and-set, so a re-delivered task or a second worker cannot run it
twice), keep its heartbeat, record its counters and errors, and finish, pause or release it.

One run per connection is held by a partial unique constraint on SyncRun; the run is enqueued on commit
(tasks.sync_request). Every write of a run is fenced on its `worker`, so a presumed-dead worker never writes
next to its successor."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import F, Q
from django.utils import timezone

from integrations.models import Connection, SyncedObject, SyncError, SyncRun
from integrations.salesforce import mapping, shutdown
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.engine.database import DB_ERRORS, drop_connection
from integrations.salesforce.engine.knobs import conf
from integrations.salesforce.page_apply import PageCounts

logger = logging.getLogger(__name__)


Reason = SyncRun.ReasonCode


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


def owner_is_dead(run: SyncRun) -> bool:
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
    elif run.state == SyncRun.State.RUNNING and owner_is_dead(run):
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
                    drop_connection()
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
    applied: int = 0  # records written by this run, for the planner statistics refresh (page_writes)
    next_analyze: int = 20_000
    mappers: dict[str, mapping.ObjectMapper] = field(default_factory=dict)

    def calls(self) -> int:
        return sum(self.client.calls.values())


def checkpoint_check(state: RunState) -> None:
    """Between pages: stop for the API budget or for a shutdown of the worker."""
    budget_check(state)
    shutdown.check()


def budget_check(state: RunState) -> None:
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


def save_run(
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


def finish(
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


def release(run: SyncRun, reason: str, code: str) -> SyncRun:
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


def record_error(
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
