"""Banners on every page of the workspace: a Salesforce connection that needs reconnecting."""

from __future__ import annotations

from django.urls import reverse

from integrations.selectors import connection_needing_reauth_list


def workspace_banners(request) -> dict:
    user = getattr(request, "user", None)
    workspace = getattr(request, "workspace", None)
    if user is None or not user.is_authenticated or not workspace:
        return {}
    banners = [
        {
            "message": (
                f"Salesforce ({connection.username}) needs to be reconnected: {connection.status_reason} "
                "Syncing from this org is paused until you reconnect."
            ),
            "level": "warning",
            "action_url": reverse("integrations:salesforce_reconnect", args=[connection.pk]),
            "action_label": "Reconnect",
        }
        for connection in connection_needing_reauth_list(workspace=workspace)
    ]
    return {"workspace_banners": banners}
