"""Retrying the records behind sync errors, and refused permission write-backs, on demand."""

from __future__ import annotations

from django.utils import timezone

from integrations.models import (
    Connection,
    PermissionWriteback,
    SourceRecord,
    SyncedObject,
    SyncError,
    SyncRun,
)
from integrations.salesforce import writeback
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.engine.definitions import object_context
from integrations.salesforce.engine.page_writes import PAGE_SIZE
from integrations.salesforce.engine.runs import RunState
from integrations.salesforce.page_apply import apply_page
from integrations.salesforce.soql import build_ids_soql


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
