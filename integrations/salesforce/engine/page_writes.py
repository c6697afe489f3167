"""Writing a page of records: `page_apply.apply_page` retried across a database outage, and the planner
statistics refreshed as a backfill grows the tables."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, connections, transaction

from integrations.salesforce.engine.database import DB_ERRORS, wait_for_database
from integrations.salesforce.engine.knobs import conf
from integrations.salesforce.engine.runs import RunState, save_run
from integrations.salesforce.page_apply import ObjectContext, PageCounts, apply_page

logger = logging.getLogger(__name__)


PAGE_SIZE = 2000


def apply_records(state: RunState, ctx: ObjectContext, records, checkpoint) -> PageCounts:
    name = ctx.synced_object.api_name
    counts_box: list[PageCounts] = []

    def after(counts: PageCounts) -> None:
        counts_box.append(counts)
        save_run(state, counts, object_name=name)

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
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Never wait on a table lock (a running VACUUM): the next threshold tries again.
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            cursor.execute(f"ANALYZE {', '.join(_ANALYZED_TABLES)}")
    except DatabaseError:
        logger.info("ANALYZE skipped", exc_info=True)
