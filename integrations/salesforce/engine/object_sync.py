"""One object in a sync run: REST or Bulk by size, then records that stopped matching the selective sync
criteria are settled."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from cdp import merge as cdp_merge
from integrations.models import SourceRecord, SyncedObject
from integrations.salesforce import mapped_page
from integrations.salesforce.engine.bulk_checkpoints import sync_bulk
from integrations.salesforce.engine.definitions import object_context, reread
from integrations.salesforce.engine.knobs import conf
from integrations.salesforce.engine.page_writes import PAGE_SIZE
from integrations.salesforce.engine.rest_windows import sync_rest
from integrations.salesforce.engine.runs import RunState, budget_check, save_run
from integrations.salesforce.errors import SalesforceQueryTimeout
from integrations.salesforce.page_apply import ObjectContext, PageCounts, archivable_keys, reapply_survivors
from integrations.salesforce.soql import build_count_soql, build_unmatched_ids_soql

ARCHIVABLE = (
    SyncedObject.Becomes.PERSON,
    SyncedObject.Becomes.ORGANIZATION,
    SyncedObject.Becomes.CUSTOM_OBJECT,
)


def sync_object(state: RunState, obj: SyncedObject, *, full: bool = False) -> None:
    name = obj.api_name
    filter_changed_at = obj.filter_changed_at
    if full:
        SyncedObject.objects.filter(pk=obj.pk).update(watermark_modstamp=None, watermark_id="", checkpoint={})
        obj.watermark_modstamp, obj.watermark_id, obj.checkpoint = None, "", {}
    ctx, types, fields = object_context(state, obj)
    ctx.backfill = full or obj.backfill_completed_at is None
    save_run(state, object_name=name, state="running")
    budget_check(state)
    read_from = obj.watermark_modstamp
    if obj.sync_filter == SyncedObject.SyncFilter.NONE:
        pass  # nothing is read; what Inflow holds is settled below
    elif obj.checkpoint.get("job_id"):
        sync_bulk(state, ctx, types, fields, resume=True)
    elif (obj.backfill_completed_at is None or full) and obj.watermark_modstamp is None:
        try:
            total = reread(
                state, obj, lambda: state.client.count(build_count_soql(name, criteria=ctx.criteria))
            )
        except SalesforceQueryTimeout:
            total = None  # too big to count quickly: REST in narrowing windows still gets through
        save_run(state, object_name=name, total=total)
        budget_check(state)
        if total is not None and total > conf("BULK_THRESHOLD", 10_000):
            sync_bulk(state, ctx, types, fields, resume=False)
        else:
            sync_rest(state, ctx)
    else:
        sync_rest(state, ctx)
    settle_unmatched(state, ctx, since=None if full else read_from)
    now = timezone.now()
    updates: dict[str, dt.datetime | None] = {"last_synced_at": now}
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
    save_run(state, object_name=name, state="done")


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
            budget_check(state)
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
        save_run(state, PageCounts(archived=archived), object_name=name, stopped_matching=len(stopped))
    return archived
