"""The onboarding's Salesforce reads that only its steps make: the connection it configures and the
previews of the Merge and Selective sync steps. The catalogue offers live in `integrations.catalog_offers`.
"""

from __future__ import annotations

from typing import Any

from cdp.models import Workspace
from integrations import sync_settings
from integrations.models import Connection, SyncedObject
from integrations.salesforce import filters
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.engine import preview
from integrations.salesforce.errors import SalesforceError


def onboarding_connection(*, workspace: Workspace) -> Connection | None:
    """The connection the onboarding configures: the workspace's newest one that is not disconnected."""
    return (
        Connection.objects.filter(workspace=workspace)
        .exclude(status=Connection.Status.DISCONNECTED)
        .order_by("-created_at", "-id")
        .first()
    )


class PreviewUnavailable(Exception):
    pass


def merge_preview(*, connection: Connection, settings: dict[str, Any], sample: int = 500) -> dict[str, Any]:
    """What the first sync would create, merge and ignore with these (unsaved) merge settings.

    The engine's dry run merges a sample inside a transaction it rolls back; the settings are applied to
    an in-memory copy of the connection only, so nothing is stored.
    """

    candidate = Connection.objects.get(pk=connection.pk)
    for name, value in settings.items():
        setattr(candidate, name, value)
    try:
        counts = preview.preview(candidate, sample=sample)
    except SalesforceError as error:
        raise PreviewUnavailable(
            f"Salesforce could not be read for the preview ({type(error).__name__})."
        ) from None
    labels = dict(SyncedObject.objects.filter(connection=connection).values_list("api_name", "label"))
    rows = [
        {
            "name": name,
            "label": labels.get(name, name),
            **{k: c.get(k, 0) for k in ("read", "created", "merged", "ignored", "invalid")},
        }
        for name, c in counts.items()
    ]
    return {
        "rows": rows,
        "sampled": sum(r["read"] for r in rows),
        "created": sum(r["created"] for r in rows),
        "merged": sum(r["merged"] for r in rows),
        "ignored": sum(r["ignored"] for r in rows),
        "invalid": sum(r["invalid"] for r in rows),
        "strategy_label": Connection.merge_label_for(
            merge_strategy=settings.get("merge_strategy", ""),
            skip_non_existing=settings.get("skip_non_existing", False),
        ),
    }


def filter_fields(*, connection: Connection, objects: list[SyncedObject]) -> dict[str, dict[str, Any]]:
    """Per object, the fields the Selective sync step offers (its own and its lookups' ones), from the
    org's describes. Raises SalesforceError when Salesforce cannot be reached."""

    if not objects:
        return {}
    client = SalesforceClient.for_connection(connection)
    try:
        return {obj.api_name: filters.filter_fields(client, obj.api_name) for obj in objects}
    finally:
        client.close()


def filter_preview(*, connection: Connection, choices) -> list[dict[str, Any]]:
    """How many records each (unsaved) choice matches now: a `COUNT()` per object. Nothing is stored."""

    counts = sync_settings.selective_sync_preview(connection=connection, choices=choices)
    labels = dict(SyncedObject.objects.filter(connection=connection).values_list("api_name", "label"))
    return [{"name": name, "label": labels.get(name, name), "count": count} for name, count in counts.items()]
