"""Bulk API 2.0 backfills, checkpointed by job id + locator + offset so a killed run resumes inside the
job; the watermark is the max (SystemModstamp, Id) seen, set when the job is done."""

from __future__ import annotations

import datetime as dt
from typing import Any

from integrations.models import SyncedObject
from integrations.salesforce import bulk_csv, mapped_page
from integrations.salesforce.engine.knobs import conf
from integrations.salesforce.engine.page_writes import PAGE_SIZE, apply_records
from integrations.salesforce.engine.rest_windows import QueryTimeouts, sync_rest
from integrations.salesforce.engine.runs import RunState, checkpoint_check
from integrations.salesforce.errors import SalesforceBulkJobFailed, SalesforceNotFound
from integrations.salesforce.page_apply import ObjectContext
from integrations.salesforce.read_ahead import read_ahead
from integrations.salesforce.soql import build_soql


def sync_bulk(
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

                apply_records(state, ctx, chunk, checkpoint)
                checkpoint_check(state)
    except SalesforceNotFound:
        # The job expired (Salesforce keeps results 7 days): start over; already applied rows are skipped.
        SyncedObject.objects.filter(pk=obj.pk).update(checkpoint={})
        obj.checkpoint = {}
        return sync_bulk(state, ctx, types, fields, resume=False)
    except SalesforceBulkJobFailed as exc:
        if "QUERY_TIMEOUT" not in exc.message and not cp.get("job_id"):
            raise
        # The job itself failed (Salesforce timed out running it): wait, then a new job from the same
        # watermark; rows the failed job's pages already applied are skipped. Timeouts pause the run.
        (timeouts or QueryTimeouts()).wait(state, obj)
        SyncedObject.objects.filter(pk=obj.pk).update(checkpoint={})
        obj.checkpoint = {}
        return sync_bulk(state, ctx, types, fields, resume=False, timeouts=timeouts or QueryTimeouts())
    updates: dict[str, Any] = {"checkpoint": {}}
    if cp.get("max_modstamp"):
        stamp = dt.datetime.fromisoformat(cp["max_modstamp"])
        if obj.watermark_modstamp is None or stamp > obj.watermark_modstamp:
            updates.update(watermark_modstamp=stamp, watermark_id=cp.get("max_id", ""))
    SyncedObject.objects.filter(pk=obj.pk).update(**updates)
    for k, v in updates.items():
        setattr(obj, k, v)
    # Anything changed while the job ran is read incrementally now, from the data's own watermark.
    sync_rest(state, ctx)
