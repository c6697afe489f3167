"""Live updates: listen to Salesforce's change events and apply them within seconds (docs/sync.md).

`manage.py listen_salesforce` runs `listen()`: every connection that is connected and has Live updates on
gets a thread, but only in the one process across the cluster that holds the connection's lease
(`ChangeStream.lease_owner`, renewed by a heartbeat; a dead process's lease expires and another takes it).

Each thread subscribes to `/data/ChangeEvents` from the stored replay id and long-polls. What one poll
returns is one batch (everything that arrived while the previous batch was being applied): events for
objects or fields the connection does not sync are skipped, the records the rest name are read in full
(one `Id IN (...)` query per object, queryAll so deletes come too), applied through the sync engine's page
path (`page_apply.apply_page`, the same mapping, precedence and merge as a scheduled run) in dependency order,
and the replay id advances in that same transaction. The listener never moves a watermark: polling stays
the truth, and a record the stream applied is skipped by the next run as already applied.

A gap (`GAP_*` events), a stored replay id Salesforce no longer retains, or a first start asks for an
incremental sync from the watermark. Malformed events, unknown channels and unknown change types are
skipped with a log line; an expired session is refreshed; a forgotten client handshakes again; any other
failure restarts the thread after `STREAMING_RETRY_SECONDS`, from the last stored replay id.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections import defaultdict

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.models import ChangeStream, Connection, SyncedObject, SyncRun
from integrations.salesforce import planning, tasks
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.engine.definitions import object_context
from integrations.salesforce.engine.runs import RunState
from integrations.salesforce.errors import SalesforceAuthError, SalesforceError
from integrations.salesforce.page_apply import ObjectContext, apply_page
from integrations.salesforce.soql import ID_RE, build_ids_soql
from integrations.salesforce.streaming import (
    ALL_CHANGE_EVENTS,
    REPLAY_NEW,
    BayeuxClient,
    BayeuxError,
    parse_event,
)

logger = logging.getLogger(__name__)

CHANGE_TYPES = {"CREATE", "UPDATE", "DELETE", "UNDELETE"}
# Fields every write changes: an update that changed only these changed nothing Inflow syncs.
_BOOKKEEPING = {"LastModifiedDate", "SystemModstamp", "LastModifiedById"}
ID_CHUNK = 200


def conf(name: str, default):
    return getattr(settings, f"STREAMING_{name}", default)


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------------------------------- lease


def lease_acquire(connection_id: int, owner: str) -> bool:
    """Take (or keep) the connection's stream; False while another live listener holds it."""
    ChangeStream.objects.get_or_create(connection_id=connection_id)
    now = timezone.now()
    return bool(
        ChangeStream.objects.filter(connection_id=connection_id)
        .filter(Q(lease_owner=owner) | Q(lease_owner="") | Q(lease_expires_at__lt=now))
        .update(lease_owner=owner, lease_expires_at=now + dt.timedelta(seconds=conf("LEASE_SECONDS", 30)))
    )


def lease_release(connection_id: int, owner: str) -> None:
    ChangeStream.objects.filter(connection_id=connection_id, lease_owner=owner).update(
        lease_owner="", lease_expires_at=None
    )


def stream_state_set(connection_id: int, state: str, reason: str = "") -> None:
    now = timezone.now()
    ChangeStream.objects.filter(connection_id=connection_id).exclude(
        state=state, state_reason=reason[:300]
    ).update(state=state, state_reason=reason[:300], state_changed_at=now)


# ------------------------------------------------------------------------------------------ one batch


def _relevant_fields(header: dict) -> set[str]:
    """Changed field names as the SOQL field list spells them (`Name.FirstName` -> Name, FirstName)."""
    names: set[str] = set()
    for changed in header.get("changedFields") or []:
        if not isinstance(changed, str):
            continue
        names.update(changed.split("."))
    return names - _BOOKKEEPING


class ConnectionListener:
    """The stream of one connection, run in its own thread while this process holds the lease."""

    def __init__(self, connection_id: int, owner: str, stop: threading.Event):
        self.connection_id = connection_id
        self.owner = owner
        self.stop = stop
        self.lost_lease = threading.Event()
        self.contexts: dict[str, ObjectContext] = {}
        self.order: list[str] = []
        self.contexts_built_at = 0.0
        self.replay_id: int | None = None
        self.failed_batches = 0

    # -- setup -----------------------------------------------------------------------------------------
    def _build_contexts(self) -> None:
        self.connection.refresh_from_db()
        objects = list(SyncedObject.objects.filter(connection=self.connection, enabled=True))
        run = SyncRun(connection=self.connection, workspace_id=self.connection.workspace_id)
        state = RunState(run=run, connection=self.connection, client=self.client, objects=objects)
        contexts = {}
        for obj in planning.plan_order(objects):
            ctx, _, _ = object_context(state, obj)
            contexts[obj.api_name] = ctx
        self.contexts = contexts
        self.order = list(contexts)
        self.contexts_built_at = time.monotonic()

    def _heartbeat(self) -> None:
        every = max(conf("LEASE_SECONDS", 30) / 3, 0.5)
        try:
            while not self.stop.is_set() and not self.lost_lease.is_set():
                if not lease_acquire(self.connection_id, self.owner):
                    logger.warning(
                        "Streaming: connection %s: lease taken by another listener", self.connection_id
                    )
                    self.lost_lease.set()
                    return
                self.stop.wait(every)
        finally:
            connections.close_all()

    def _running(self) -> bool:
        if self.stop.is_set() or self.lost_lease.is_set():
            return False
        enabled = Connection.objects.filter(
            pk=self.connection_id, status=Connection.Status.CONNECTED, streaming_enabled=True
        ).exists()
        return enabled

    # -- the loop --------------------------------------------------------------------------------------
    def run(self) -> None:
        beat = threading.Thread(target=self._heartbeat, name=f"lease-{self.connection_id}", daemon=True)
        beat.start()
        self.connection = Connection.objects.get(pk=self.connection_id)
        self.client = SalesforceClient.for_connection(self.connection)
        self.bayeux = BayeuxClient(self.connection)
        try:
            stream_state_set(self.connection_id, ChangeStream.State.STARTING)
            self._build_contexts()
            self._subscribe()
            while self._running():
                if time.monotonic() - self.contexts_built_at > conf("CONTEXT_SECONDS", 300):
                    self._build_contexts()  # selections and describes change now and then
                try:
                    result = self.bayeux.connect()
                except BayeuxError as exc:
                    if not exc.unknown_client:
                        raise
                    logger.info(
                        "Streaming: connection %s: Salesforce forgot the client (%s); handshaking again",
                        self.connection_id,
                        exc.error,
                    )
                    self._subscribe()
                    continue
                for message in result.other:
                    logger.warning(
                        "Streaming: connection %s skipped a message on an unknown channel %r",
                        self.connection_id,
                        str(message.get("channel"))[:100],
                    )
                if result.events:
                    self.apply_batch(result.events)
        finally:
            self.stop_event_thread()
            self.bayeux.disconnect()
            self.bayeux.close()
            self.client.close()

    def stop_event_thread(self) -> None:
        self.lost_lease.set()  # ends the heartbeat; the lease itself is released by the supervisor

    def _subscribe(self) -> None:
        """Handshake and subscribe from the stored replay id; a replay id Salesforce no longer retains (or
        none yet) subscribes to new events and asks polling for what came before."""
        stored = ChangeStream.objects.filter(connection_id=self.connection_id).values_list(
            "replay_id", flat=True
        )
        self.replay_id = stored.first()
        self.bayeux.handshake()
        if self.replay_id is None:
            self.bayeux.subscribe(ALL_CHANGE_EVENTS, REPLAY_NEW)
            self.fallback("the stream starts with new events only")
        else:
            try:
                self.bayeux.subscribe(ALL_CHANGE_EVENTS, self.replay_id)
            except BayeuxError as exc:
                if not exc.invalid_replay:
                    raise
                ChangeStream.objects.filter(connection_id=self.connection_id).update(replay_id=None)
                self.replay_id = None
                self.bayeux.subscribe(ALL_CHANGE_EVENTS, REPLAY_NEW)
                self.fallback(f"Salesforce no longer retains events after replay id {exc_replay(exc)}")
        stream_state_set(self.connection_id, ChangeStream.State.LIVE)

    def fallback(self, reason: str) -> None:
        """Ask for an incremental sync from the watermark (it catches whatever the stream cannot give)."""
        logger.info("Streaming: connection %s falls back to polling: %s", self.connection_id, reason)
        ChangeStream.objects.filter(connection_id=self.connection_id).update(
            fallbacks=F("fallbacks") + 1, last_fallback_reason=reason[:300]
        )
        try:
            tasks.sync_request(connection=self.connection)
        except Exception:  # noqa: BLE001 - the scheduled run catches up anyway
            logger.exception("Streaming: connection %s could not request a sync", self.connection_id)

    # -- applying --------------------------------------------------------------------------------------
    def apply_batch(self, messages: list[dict]) -> int:
        """Apply one poll's events; returns how many records were applied."""
        last_replay = None
        commit_ms = None
        wanted: dict[str, list[str]] = defaultdict(list)
        gaps: list[str] = []
        for message in messages:
            try:
                replay, header, _ = parse_event(message)
            except ValueError as exc:
                logger.warning(
                    "Streaming: connection %s skipped a malformed change event: %s", self.connection_id, exc
                )
                skipped = replay_of(message)
                if skipped is not None:
                    last_replay = max(last_replay or skipped, skipped)
                continue
            last_replay = max(last_replay or replay, replay)
            stamp = header.get("commitTimestamp")
            if isinstance(stamp, int) and not isinstance(stamp, bool):
                commit_ms = max(commit_ms or stamp, stamp)
            entity, kind = header["entityName"], header["changeType"]
            ids = [i for i in header.get("recordIds") or [] if ID_RE.match(i)]
            ctx = self.contexts.get(entity)
            if kind.startswith("GAP_"):
                gaps.append(f"{kind} on {entity}")
                if ctx is not None:
                    wanted[entity] += ids
                continue
            if kind not in CHANGE_TYPES:
                logger.warning(
                    "Streaming: connection %s skipped event %s with unknown change type %r",
                    self.connection_id,
                    replay,
                    kind[:40],
                )
                continue
            if ctx is None:
                logger.debug("Streaming: %s is not synced; event %s skipped", entity, replay)
                continue
            if kind == "UPDATE" and not (_relevant_fields(header) & set(ctx.fields)):
                logger.debug("Streaming: event %s changed no synced field of %s; skipped", replay, entity)
                continue
            wanted[entity] += ids
        if last_replay is None:
            return 0
        records = self._fetch(wanted)
        applied = 0
        with transaction.atomic():
            for name in self.order:
                if records.get(name):
                    rows = sorted(
                        records[name], key=lambda r: (str(r.get("SystemModstamp")), str(r.get("Id")))
                    )
                    applied += apply_page(self.contexts[name], rows).applied
            now = timezone.now()
            commit_at = (
                dt.datetime.fromtimestamp(commit_ms / 1000, tz=dt.UTC) if commit_ms is not None else None
            )
            updates = {
                "replay_id": last_replay,
                "last_event_at": now,
                "events_received": F("events_received") + len(messages),
                "state": ChangeStream.State.LIVE,
                "state_reason": "",
            }
            if commit_at is not None:
                updates["last_commit_at"] = commit_at
            ChangeStream.objects.filter(connection_id=self.connection_id).update(**updates)
        self.replay_id = last_replay
        if gaps:
            self.fallback(f"Salesforce sent gap events ({', '.join(sorted(set(gaps))[:5])})")
        return applied

    def _fetch(self, wanted: dict[str, list[str]]) -> dict[str, list[dict]]:
        """The full records the events name, read with queryAll (deleted ones come with IsDeleted)."""
        records: dict[str, list[dict]] = {}
        for name, ids in wanted.items():
            unique = list(dict.fromkeys(ids))
            ctx = self.contexts[name]
            found: list[dict] = []
            for start in range(0, len(unique), ID_CHUNK):
                soql = build_ids_soql(name, ctx.fields, unique[start : start + ID_CHUNK])
                for page in self.client.query_pages(soql, include_deleted=True):
                    found += page.records
            records[name] = found
        return records


def replay_of(message: dict) -> int | None:
    """The replay id of a message too malformed to use, when it has one (so the stream can move past it)."""
    data = message.get("data")
    event = data.get("event") if isinstance(data, dict) else None
    replay = event.get("replayId") if isinstance(event, dict) else None
    return replay if isinstance(replay, int) and not isinstance(replay, bool) else None


def exc_replay(exc: BayeuxError) -> str:
    text = exc.error
    start, end = text.find("{"), text.find("}")
    return text[start + 1 : end] if 0 <= start < end else "?"


# ------------------------------------------------------------------------------------------ supervisor


def _run_thread(listener: ConnectionListener) -> None:
    try:
        listener.run()
    except SalesforceAuthError as exc:
        logger.warning("Streaming: connection %s needs reconnecting: %s", listener.connection_id, exc)
        stream_state_set(
            listener.connection_id, ChangeStream.State.RECONNECTING, f"Salesforce refused: {exc}"
        )
    except SalesforceError as exc:
        logger.warning("Streaming: connection %s lost its stream: %s; retrying", listener.connection_id, exc)
        stream_state_set(listener.connection_id, ChangeStream.State.RECONNECTING, str(exc))
    except Exception as exc:
        logger.exception(
            "Streaming: connection %s stopped on an unexpected error; retrying", listener.connection_id
        )
        stream_state_set(
            listener.connection_id, ChangeStream.State.RECONNECTING, f"unexpected {type(exc).__name__}: {exc}"
        )
    finally:
        connections.close_all()


def listen(*, stop: threading.Event, owner: str | None = None, connection_ids: tuple[int, ...] = ()) -> None:
    """Supervise one stream per connection this process can lease, until `stop` is set."""
    owner = owner or owner_name()
    threads: dict[int, tuple[threading.Thread, ConnectionListener]] = {}
    not_before: dict[int, float] = {}
    logger.info("Streaming: listener %s started", owner)
    try:
        while not stop.is_set():
            wanted = Connection.objects.filter(status=Connection.Status.CONNECTED, streaming_enabled=True)
            if connection_ids:
                wanted = wanted.filter(pk__in=connection_ids)
            wanted_ids = set(wanted.values_list("pk", flat=True))
            off = ChangeStream.objects.filter(lease_owner=owner).exclude(connection_id__in=wanted_ids)
            for connection_id in list(off.values_list("connection_id", flat=True)):
                if connection_id not in threads or not threads[connection_id][0].is_alive():
                    stream_state_set(
                        connection_id, ChangeStream.State.OFF, "Live updates are off for this connection"
                    )
                    lease_release(connection_id, owner)
            for connection_id in sorted(wanted_ids):
                thread = threads.get(connection_id)
                if thread is not None and thread[0].is_alive():
                    continue
                if thread is not None:  # it ended: try again after a pause
                    threads.pop(connection_id)
                    not_before[connection_id] = time.monotonic() + conf("RETRY_SECONDS", 5)
                if time.monotonic() < not_before.get(connection_id, 0):
                    continue
                if not lease_acquire(connection_id, owner):
                    continue
                listener = ConnectionListener(connection_id, owner, stop)
                worker = threading.Thread(
                    target=_run_thread, args=(listener,), name=f"stream-{connection_id}", daemon=True
                )
                worker.start()
                threads[connection_id] = (worker, listener)
            stop.wait(conf("SCAN_SECONDS", 5))
    finally:
        for connection_id, (worker, _) in threads.items():
            worker.join(timeout=conf("LEASE_SECONDS", 30))
            stream_state_set(connection_id, ChangeStream.State.STOPPED, "The listener stopped")
            lease_release(connection_id, owner)
        logger.info("Streaming: listener %s stopped", owner)
