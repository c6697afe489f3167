"""REST reads from the watermark (`SystemModstamp, Id`, `>=`): a QUERY_TIMEOUT narrows the time window
until it passes, an expired locator or malformed page re-reads from the last committed checkpoint."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.utils import timezone

from integrations.models import SyncedObject, SyncError
from integrations.salesforce import mapped_page, shutdown
from integrations.salesforce.engine.knobs import conf
from integrations.salesforce.engine.page_writes import PAGE_SIZE, apply_records
from integrations.salesforce.engine.runs import (
    ObjectFailed,
    PauseRun,
    Reason,
    RunState,
    checkpoint_check,
    record_error,
    save_run,
)
from integrations.salesforce.errors import (
    SalesforceInvalidField,
    SalesforceInvalidLocator,
    SalesforceMalformedResponse,
    SalesforceQueryTimeout,
)
from integrations.salesforce.page_apply import ObjectContext
from integrations.salesforce.read_ahead import read_ahead
from integrations.salesforce.soql import build_soql

logger = logging.getLogger(__name__)


# Before any Salesforce record: the lower bound of a split window.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _rest_checkpoint(obj: SyncedObject) -> Callable[[mapped_page.PageResult], dict]:
    def checkpoint(result: mapped_page.PageResult) -> dict:
        if result.max_cursor is None:
            return {}
        current = (obj.watermark_modstamp, obj.watermark_id) if obj.watermark_modstamp else None
        if current is not None and result.max_cursor <= current:
            return {}
        return {"watermark_modstamp": result.max_cursor[0], "watermark_id": result.max_cursor[1]}

    return checkpoint


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
        now = time.monotonic()
        self.first = self.first or now
        self.count += 1
        if now - self.first >= conf("QUERY_TIMEOUT_WAIT_SECONDS", 120):
            record_error(
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


def sync_rest(state: RunState, ctx: ObjectContext) -> None:
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
                    save_run(state, object_name=name, total=page.total_size)
                first_total = False
                apply_records(state, ctx, page.records, checkpoint)
                checkpoint_check(state)
            retries = 0
            # A bounded read (`until`) always comes from a window; no window means read to the end.
            if until is None or window is None:
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
            record_error(
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
            record_error(
                state.run,
                state.connection,
                name,
                SyncError.Type.FIELD_DELETED,
                f"{obj.label}: Salesforce refused a field ({exc.message}).",
                fix="Re-open the object's field selection: the field list is refreshed on the next run.",
            )
            raise ObjectFailed(str(exc)) from None
