"""Reads on Salesforce connections; each takes the workspace first."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from cdp.models import Workspace
from integrations.models import Connection
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.errors import SalesforceError


def connection_list(*, workspace: Workspace) -> QuerySet[Connection]:
    return Connection.objects.filter(workspace=workspace).order_by("created_at")


def connection_get(*, workspace: Workspace, connection_id: int) -> Connection:
    """The workspace's connection or Http404 (another workspace's id is indistinguishable from none)."""
    return get_object_or_404(Connection, workspace=workspace, pk=connection_id)


def connection_needing_reauth_list(*, workspace: Workspace) -> list[Connection]:
    return list(
        Connection.objects.filter(workspace=workspace, status=Connection.Status.NEEDS_REAUTH)
        .only("id", "username", "org_id", "status_reason", "workspace_id")
        .order_by("created_at")
    )


def connection_delete_summary(*, workspace: Workspace, connection: Connection) -> list[tuple[str, int]]:
    """What deleting the connection removes with it: (label, count) per cascaded model, counted in SQL.

    Generic over the models that point at Connection, so new sync tables are listed without edits here.
    """
    if connection.workspace_id != workspace.pk:
        raise ValueError("connection is not in this workspace")
    counts: list[tuple[str, int]] = []

    def walk(model, queryset, depth: int) -> None:
        if depth > 2:
            return
        for relation in model._meta.related_objects:
            if relation.on_delete is not models.CASCADE or relation.many_to_many:
                continue
            related = relation.related_model.objects.filter(**{f"{relation.field.name}__in": queryset})
            count = related.count()
            if count:
                counts.append((str(relation.related_model._meta.verbose_name_plural).capitalize(), count))
                walk(relation.related_model, related.values("pk"), depth + 1)

    walk(Connection, Connection.objects.filter(pk=connection.pk).values("pk"), 1)
    return counts


@dataclass
class LiveCheck:
    ok: bool
    message: str
    daily_api_max: int | None = None
    daily_api_remaining: int | None = None
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def daily_api_used(self) -> int | None:
        if self.daily_api_max is None or self.daily_api_remaining is None:
            return None
        return self.daily_api_max - self.daily_api_remaining

    @property
    def daily_api_percent(self) -> float | None:
        if not self.daily_api_max or self.daily_api_used is None:
            return None
        return round(100 * self.daily_api_used / self.daily_api_max, 1)


def connection_live_check(*, workspace: Workspace, connection: Connection) -> LiveCheck:
    """A cheap authenticated call (`/limits`): proves the tokens work and reads the daily API budget.

    May refresh the session (and so write the new token) like any API call.
    """

    if connection.workspace_id != workspace.pk:
        raise ValueError("connection is not in this workspace")
    try:
        with SalesforceClient.for_connection(connection, max_retries=1, timeout=(5.0, 15.0)) as client:
            limits = client.limits()
            calls = dict(client.calls)
    except SalesforceError as exc:
        return LiveCheck(ok=False, message=str(exc))
    daily = limits.get("DailyApiRequests") if isinstance(limits.get("DailyApiRequests"), dict) else {}
    return LiveCheck(
        ok=True,
        message="Salesforce answered: the authorization works.",
        daily_api_max=daily.get("Max"),
        daily_api_remaining=daily.get("Remaining"),
        calls=calls,
    )
