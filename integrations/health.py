"""/healthz facts about Salesforce connections (settings.HEALTH_CHECKS)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count

from integrations.models import Connection


def salesforce_connections() -> dict:
    """Counts by status across workspaces; an operator fact, never a token or an org id."""
    counts = dict(Connection.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    body: dict[str, object] = {
        "salesforce": {
            "configured": bool(settings.SALESFORCE_CLIENT_ID and settings.SALESFORCE_CLIENT_SECRET),
            "connections": {status: counts.get(status, 0) for status in Connection.Status.values},
        }
    }
    if counts.get(Connection.Status.NEEDS_REAUTH):
        body["problems"] = [
            f"{counts[Connection.Status.NEEDS_REAUTH]} Salesforce connection(s) need reconnecting"
        ]
    return body
