"""Permission write-back: an Inflow-side subscribe/unsubscribe, written to every linked Salesforce record.

`enqueue_for_change` is the CDP's permission-change hook (registered in `IntegrationsConfig.ready`): in the
transaction that records the change it adds one `PermissionWriteback` row per linked record whose object's
rule for that channel writes to Salesforce ("Update Salesforce from Inflow" or "Keep both in sync").
`drain` writes what is due with `PATCH composite/sobjects` (200 records per call, counted like every call),
before the sync run reads, so the next read recognises our own write (`echoes_for`) and does not take it
for a change made in Salesforce. A record Salesforce refuses becomes a `SyncError` with Salesforce's message;
the person's permission in Inflow stays as the user set it. A call that gets no answer leaves the rows
pending with a later `next_attempt_at`: the outbox survives restarts and outages.

Conflicts (the record's field changed in Salesforce since Inflow last read it, to another value than ours):
with the workspace's sticky unsubscribe an unsubscribe on either side wins; otherwise the latest change
wins (Inflow's change time against the record's SystemModstamp). A change that loses is not written; the
next read brings Salesforce's value in.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import cdp.bulk  # noqa: F401 - registers the __any lookup
from cdp.models import PERMISSION_SOURCE_CDP, Identity, PermissionChange
from integrations.models import Connection, PermissionWriteback, SourceRecord, SyncedObject, SyncError
from integrations.salesforce import objects, permissions, tasks, values
from integrations.salesforce.client import MAX_COLLECTION_RECORDS, parse_sf_datetime
from integrations.salesforce.errors import SalesforceAuthError, SalesforceError
from integrations.salesforce.page_apply import sync_errors_upsert

logger = logging.getLogger(__name__)

CHANNEL_ATTR = {"bol::p": "email_permission", "bol::sp": "sms_permission"}
CHANNEL_NAME = {"bol::p": "email", "bol::sp": "SMS"}
# A refusal worth trying again by itself (a lock held by another save); every other refusal waits for a fix.
RETRYABLE_CODES = {"UNABLE_TO_LOCK_ROW"}
MAX_ATTEMPTS = 12
LEASE = dt.timedelta(minutes=5)


def _backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … up to an hour (`SYNC_WRITEBACK_RETRY_SECONDS` is the first wait)."""
    first = getattr(settings, "SYNC_WRITEBACK_RETRY_SECONDS", 30)
    return dt.timedelta(seconds=min(3600, first * 2 ** max(0, attempts - 1)))


# ----------------------------------------------------------------------------------------------- enqueue


def _linked_records(change: PermissionChange) -> list[tuple[int, str, str]]:
    """(connection id, object written, sf id) of every live Salesforce record naming the person."""
    out = []
    for source, obj, external_id in Identity.objects.filter(
        workspace_id=change.workspace_id, person_id=change.person_id, source__startswith="salesforce:"
    ).values_list("source", "object", "external_id"):
        try:
            connection_id = int(source.split(":", 1)[1])
        except ValueError:
            continue
        out.append((connection_id, objects.writes_through(obj), external_id))
    return out


def enqueue_for_change(*, change: PermissionChange) -> int:
    """Queue the write-back of a change made in Inflow; returns how many records it goes to."""
    if change.source != PERMISSION_SOURCE_CDP or change.field_id not in CHANNEL_ATTR:
        return 0
    linked = _linked_records(change)
    if not linked:
        return 0
    connections = {
        c.pk: c
        for c in Connection.objects.filter(
            workspace_id=change.workspace_id, pk__in={c for c, _, _ in linked}
        ).exclude(status=Connection.Status.DISCONNECTED)
    }
    synced = {
        (o.connection_id, o.api_name): o
        for o in SyncedObject.objects.filter(
            connection_id__in=connections, api_name__in={o for _, o, _ in linked}, enabled=True
        )
    }
    sources = {
        (s.connection_id, s.object_name, s.sf_id): s
        for s in SourceRecord.objects.filter(
            connection_id__in=connections, sf_id__in=[i for _, _, i in linked]
        ).only("connection_id", "object_name", "sf_id", "deleted", "payload")
    }
    now = timezone.now()
    rows = []
    for connection_id, object_name, sf_id in linked:
        obj = synced.get((connection_id, object_name))
        config = getattr(obj, CHANNEL_ATTR[change.field_id], None) if obj is not None else None
        if connection_id not in connections or config is None or not permissions.rule_writes_back(config):
            continue
        source = sources.get((connection_id, object_name, sf_id))
        if source is None or source.deleted:
            continue  # never read, or deleted in Salesforce: nothing to write to
        if object_name == "Lead" and values.is_true(source.payload.get("IsConverted")):
            continue  # Salesforce refuses edits to a converted lead; its contact carries the person now
        rule = permissions.PermissionRule.of(config)
        rows.append(
            PermissionWriteback(
                workspace_id=change.workspace_id,
                connection_id=connection_id,
                person_id=change.person_id,
                permission_change=change,
                field_id=change.field_id,
                subscribed=change.new_value,
                changed_at=change.changed_at,
                object_name=object_name,
                sf_id=sf_id,
                sf_field=rule.field,
                sf_value=rule.value_for(change.new_value),
                next_attempt_at=now,
            )
        )
    for row in rows:
        # A later change replaces one still waiting for the same field of the same record.
        PermissionWriteback.objects.filter(
            connection_id=row.connection_id,
            object_name=row.object_name,
            sf_id=row.sf_id,
            sf_field=row.sf_field,
            state=PermissionWriteback.State.PENDING,
        ).update(
            state=PermissionWriteback.State.SUPERSEDED, last_error="Replaced by a later change in Inflow."
        )
    PermissionWriteback.objects.bulk_create(rows)
    if rows:
        for connection_id in {r.connection_id for r in rows}:
            _enqueue_drain(connection_id)
    return len(rows)


def _enqueue_drain(connection_id: int) -> None:
    tasks.enqueue_writeback(connection_id)


# ------------------------------------------------------------------------------------------------- drain


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    superseded: int = 0
    postponed: int = 0
    calls: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.superseded + self.postponed


def _claim(connection: Connection, now: dt.datetime) -> list[PermissionWriteback]:
    """Due rows, leased so a concurrent drainer (the task and a run) never writes one twice."""
    due = list(
        PermissionWriteback.objects.filter(
            connection=connection, state=PermissionWriteback.State.PENDING, next_attempt_at__lte=now
        )
        .order_by("id")
        .values_list("pk", flat=True)[:5000]
    )
    if not due:
        return []
    lease_until = now + LEASE
    claimed = []
    for pk in due:
        if PermissionWriteback.objects.filter(
            pk=pk, state=PermissionWriteback.State.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=lease_until):
            claimed.append(pk)
    return list(PermissionWriteback.objects.filter(pk__in=claimed).select_related("workspace").order_by("id"))


def _soql_ids(ids) -> str:
    return ", ".join(f"'{i}'" for i in ids if mapping_id_ok(i))


def mapping_id_ok(sf_id: str) -> bool:
    return isinstance(sf_id, str) and len(sf_id) in (15, 18) and sf_id.isalnum()


def _current(client, object_name: str, ids: list[str], fields: set[str]) -> dict[str, dict]:
    names = ", ".join(["Id", "SystemModstamp", *sorted(fields)])
    soql = f"SELECT {names} FROM {object_name} WHERE Id IN ({_soql_ids(ids)})"  # noqa: S608 - names from rules
    return {r["Id"]: r for r in client.query_all_records(soql)}


def _conflict_winner(row: PermissionWriteback, salesforce_value, modstamp, rule) -> str:
    """'inflow' or 'salesforce': the workspace's sticky unsubscribe first, then the latest change."""
    theirs = rule.evaluate({rule.field: salesforce_value})
    if row.workspace.sticky_unsubscribe and (row.subscribed is False or theirs is False):
        return "inflow" if row.subscribed is False else "salesforce"
    if modstamp is not None and modstamp > row.changed_at:
        return "salesforce"
    return "inflow"


def drain(*, connection: Connection, client, run=None) -> DrainResult:
    """Write every due write-back of the connection. Raises only for a lost authorization."""
    result = DrainResult()
    calls_before = client.total_calls
    now = timezone.now()
    rows = _claim(connection, now)
    by_object: dict[str, list[PermissionWriteback]] = defaultdict(list)
    for row in rows:
        by_object[row.object_name].append(row)
    rules = {
        (o.api_name, channel): permissions.PermissionRule.of(getattr(o, attr))
        for o in SyncedObject.objects.filter(connection=connection, api_name__in=by_object)
        for channel, attr in CHANNEL_ATTR.items()
        if getattr(o, attr).get("field")
    }
    try:
        for object_name, object_rows in by_object.items():
            for start in range(0, len(object_rows), MAX_COLLECTION_RECORDS):
                _drain_chunk(
                    connection,
                    client,
                    run,
                    object_name,
                    object_rows[start : start + MAX_COLLECTION_RECORDS],
                    rules,
                    result,
                )
    except SalesforceAuthError:
        _release(rows)
        raise
    except SalesforceError as exc:
        # No answer (an outage) or a refused call: everything not yet written waits for the next attempt.
        result.postponed += _postpone(rows, f"{type(exc).__name__}: {exc}")
        logger.warning("Write-back for connection %s postponed: %s", connection.pk, exc)
    result.calls = client.total_calls - calls_before
    return result


def _release(rows: list[PermissionWriteback]) -> None:
    PermissionWriteback.objects.filter(
        pk__in=[r.pk for r in rows], state=PermissionWriteback.State.PENDING
    ).update(next_attempt_at=timezone.now())


def _postpone(rows: list[PermissionWriteback], reason: str) -> int:
    now = timezone.now()
    waiting = PermissionWriteback.objects.filter(
        pk__in=[r.pk for r in rows], state=PermissionWriteback.State.PENDING
    )
    count = 0
    for row in waiting:
        row.attempts += 1
        row.last_error = reason[:2000]
        row.next_attempt_at = now + _backoff(row.attempts)
        row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        count += 1
    return count


def _drain_chunk(connection, client, run, object_name, rows, rules, result: DrainResult) -> None:
    now = timezone.now()
    ids = list(dict.fromkeys(r.sf_id for r in rows))
    current = _current(client, object_name, ids, {r.sf_field for r in rows})
    stored = dict(
        SourceRecord.objects.filter(
            connection=connection, object_name=object_name, sf_id__in=ids
        ).values_list("sf_id", "payload")
    )
    to_write: list[PermissionWriteback] = []
    for row in rows:
        rule = rules.get((object_name, row.field_id))
        record = current.get(row.sf_id)
        if rule is None or record is None or row.sf_field not in record:
            to_write.append(row)  # Salesforce says what is wrong (a deleted record, a removed field)
            continue
        theirs = record[row.sf_field]
        if permissions.same_value(theirs, row.sf_value):
            _mark_sent(row, now, None)  # already so in Salesforce: nothing to write, no echo to expect
            result.sent += 1
            continue
        last_read = (stored.get(row.sf_id) or {}).get(row.sf_field, theirs)
        changed_there = not permissions.same_value(theirs, last_read)
        if (
            changed_there
            and _conflict_winner(row, theirs, parse_sf_datetime(record.get("SystemModstamp")), rule)
            == "salesforce"
        ):
            row.state = PermissionWriteback.State.SUPERSEDED
            row.last_error = (
                f"Not written: {object_name}.{row.sf_field} was changed in Salesforce to {theirs!r} "
                "since the last sync, and that change wins (sticky unsubscribe, then the latest change)."
            )
            row.save(update_fields=["state", "last_error"])
            result.superseded += 1
            continue
        to_write.append(row)
    if not to_write:
        return
    # One record entry per Salesforce record (its email and SMS fields together).
    entries: dict[str, dict] = {}
    for row in to_write:
        entry = entries.setdefault(row.sf_id, {"attributes": {"type": object_name}, "id": row.sf_id})
        entry[row.sf_field] = row.sf_value
    order = list(entries)
    save_results = client.update_records([entries[i] for i in order], all_or_none=False)
    outcome = dict(zip(order, save_results, strict=True))
    written = [i for i in order if outcome[i].get("success")]
    stamps = {}
    if written:
        stamps = {
            sf_id: parse_sf_datetime(r.get("SystemModstamp"))
            for sf_id, r in _current(client, object_name, written, set()).items()
        }
    errors = []
    with transaction.atomic():
        for row in to_write:
            answer = outcome[row.sf_id]
            if answer.get("success"):
                _mark_sent(row, now, stamps.get(row.sf_id))
                result.sent += 1
                continue
            problems = answer.get("errors") or [{}]
            code = str(problems[0].get("statusCode") or "UNKNOWN")
            message = "; ".join(str(p.get("message") or "") for p in problems).strip() or code
            if code in RETRYABLE_CODES and row.attempts + 1 < MAX_ATTEMPTS:
                row.attempts += 1
                row.last_error = f"{code}: {message}"[:2000]
                row.next_attempt_at = now + _backoff(row.attempts)
                row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                result.postponed += 1
                continue
            row.state = PermissionWriteback.State.FAILED
            row.attempts += 1
            row.last_error = f"{code}: {message}"[:2000]
            row.save(update_fields=["state", "attempts", "last_error"])
            result.failed += 1
            errors.append(
                SyncError(
                    workspace_id=connection.workspace_id,
                    connection=connection,
                    run=run if run is not None and run.pk else None,
                    object_name=object_name,
                    sf_id=row.sf_id,
                    error_type=SyncError.Type.WRITEBACK,
                    message=(
                        f"Salesforce refused to set {object_name}.{row.sf_field} to {row.sf_value!r} "
                        f"({CHANNEL_NAME[row.field_id]} {'subscribed' if row.subscribed else 'unsubscribed'} "
                        f"in Inflow): {message} ({code})"
                    ),
                    fix="The person's permission in Inflow stays as it was set. Fix the record (or the "
                    "validation rule) in Salesforce, then retry this error to write it again.",
                    retryable=True,
                )
            )
        if errors:
            sync_errors_upsert(errors)


def _mark_sent(row: PermissionWriteback, now, modstamp) -> None:
    row.state = PermissionWriteback.State.SENT
    row.sent_at = now
    row.attempts += 1
    row.last_error = ""
    row.written_modstamp = modstamp
    row.save(update_fields=["state", "sent_at", "attempts", "last_error", "written_modstamp"])


def retry_failed(*, connection: Connection, sf_ids) -> int:
    """Puts refused write-backs of these records back in the queue (retrying their SyncErrors)."""
    return PermissionWriteback.objects.filter(
        connection=connection, sf_id__in=list(sf_ids), state=PermissionWriteback.State.FAILED
    ).update(state=PermissionWriteback.State.PENDING, next_attempt_at=timezone.now())


# ------------------------------------------------------------------------------------------------ reads


def echoes_for(*, connection_id: int, object_name: str, ids) -> dict[str, tuple[dt.datetime, dict]]:
    """sf id -> (SystemModstamp after our write, {field: value written}), for the reader's echo check."""
    out: dict[str, tuple[dt.datetime, dict]] = {}
    for sf_id, stamp, field, value in (
        PermissionWriteback.objects.filter(
            connection_id=connection_id,
            object_name=object_name,
            sf_id__any=list(ids),  # one array parameter: a page's 2,000 ids as IN placeholders cost ~60 ms
            state=PermissionWriteback.State.SENT,
            written_modstamp__isnull=False,
        )
        .order_by("id")
        .values_list("sf_id", "written_modstamp", "sf_field", "sf_value")
    ):
        assert stamp is not None  # the query asks for written_modstamp__isnull=False
        held = out.get(sf_id)
        if held is None or held[0] < stamp:
            out[sf_id] = (stamp, {field: value})
        elif held[0] == stamp:
            held[1][field] = value
    return out


def permission_notes(*, workspace, changes) -> dict[int, list[str]]:
    """The person page's history lines: what became of each change in Salesforce."""
    notes: dict[int, list[str]] = defaultdict(list)
    rows = PermissionWriteback.objects.filter(
        workspace=workspace, permission_change_id__in=[c.pk for c in changes]
    ).order_by("id")
    for row in rows:
        where = f"Salesforce {row.object_name} {row.sf_id}"
        if row.state == PermissionWriteback.State.SENT:
            text = f"Written to {where}"
        elif row.state == PermissionWriteback.State.FAILED:
            text = f"Salesforce refused the write to {where}: {row.last_error}"
        elif row.state == PermissionWriteback.State.SUPERSEDED:
            text = f"Not written to {where}: {row.last_error}"
        elif row.attempts:
            text = f"Waiting to be written to {where} (attempt {row.attempts + 1}; last: {row.last_error})"
        else:
            text = f"Waiting to be written to {where}"
        assert row.permission_change_id is not None  # the query selects rows of the given changes
        notes[row.permission_change_id].append(text)
    return dict(notes)
