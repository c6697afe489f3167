"""Reconcile runs: compare Salesforce's id set with Inflow's, archive what is gone and fetch what was
missed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cdp import merge as cdp_merge
from integrations.models import FieldSelection, SourceRecord, SyncedObject
from integrations.salesforce import mapped_page
from integrations.salesforce.engine.definitions import object_context
from integrations.salesforce.engine.object_sync import ARCHIVABLE
from integrations.salesforce.engine.page_writes import PAGE_SIZE, apply_records
from integrations.salesforce.engine.runs import RunState, budget_check, save_run
from integrations.salesforce.page_apply import PageCounts, archivable_keys, reapply_survivors
from integrations.salesforce.soql import build_ids_soql, build_soql


def reconcile_object(state: RunState, obj: SyncedObject) -> None:
    """Compare id sets: ids Inflow holds that Salesforce no longer has (hard deletes, or rows the user can
    no longer see) are archived; ids Salesforce has that Inflow missed are fetched. Objects with formula
    fields are re-read in full, since a formula's change does not move SystemModstamp."""
    name = obj.api_name
    if obj.sync_filter == SyncedObject.SyncFilter.NONE:
        save_run(state, object_name=name, state="done")
        return  # nothing of it is synced: nothing to compare
    ctx, types, fields = object_context(state, obj)
    save_run(state, object_name=name, state="running")
    has_formulas = FieldSelection.objects.filter(synced_object=obj, active=True, is_formula=True).exists()
    if has_formulas:
        for page in state.client.query_pages(
            build_soql(name, fields, criteria=ctx.criteria),
            include_deleted=False,
            batch_size=PAGE_SIZE,
        ):
            apply_records(state, ctx, page.records, None)
    remote: set[str] = set()
    for page in state.client.query_pages(
        build_soql(name, ["Id"], ordered=False, criteria=ctx.criteria), batch_size=PAGE_SIZE
    ):
        remote.update(r["Id"] for r in page.records if isinstance(r, dict) and r.get("Id"))
        budget_check(state)
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
            apply_records(state, ctx, page.records, None)
    counts = PageCounts(archived=archived)
    save_run(
        state, counts, object_name=name, state="done", missing_fetched=len(missing), hard_deleted=len(gone)
    )
    SyncedObject.objects.filter(pk=obj.pk).update(last_reconciled_at=timezone.now())
