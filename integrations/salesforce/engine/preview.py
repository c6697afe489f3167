"""The dry run behind the onboarding's Preview: merge a sample inside a transaction that is rolled back."""

from __future__ import annotations

from django.db import transaction

from integrations.models import Connection, FieldSelection, SyncedObject, SyncRun
from integrations.salesforce import filters, planning
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.engine.definitions import object_context
from integrations.salesforce.engine.page_writes import PAGE_SIZE
from integrations.salesforce.engine.runs import RunState
from integrations.salesforce.page_apply import PageCounts, apply_page
from integrations.salesforce.soql import build_soql, is_api_name, soql_fields


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
                if isinstance(f, dict) and is_api_name(f.get("name", ""))
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
