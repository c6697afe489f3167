"""The one view mixin of a connection's pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from cdp import roles
from cdp.mixins import WorkspaceRequiredMixin
from integrations import selectors
from integrations.models import Connection

# Data sources › Salesforce › …: the tabs of a connection's pages, in order.
PAGES: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("fields", "Fields"),
    ("permissions", "Permissions"),
    ("custom-objects", "Custom objects"),
    ("identifiers", "Identifiers"),
    ("merge", "Merge"),
    ("filters", "Selective sync"),
    ("retention", "Data retention"),
    ("schedule", "Schedule"),
    ("health", "Sync health"),
)


class ConnectionMixin(WorkspaceRequiredMixin):
    """A page of one connection, looked up within the user's workspace: another workspace's id is a 404.
    Members read; changing the connection and running its actions are for owners and admins."""

    page = "overview"
    _connection: Connection | None = None
    # Set by Django's View before dispatch.
    request: HttpRequest
    kwargs: dict[str, Any]

    def get_connection(self) -> Connection:
        if self._connection is None:
            self._connection = selectors.connection_get(
                workspace=self.workspace, connection_id=self.kwargs["connection_id"]
            )
        return self._connection

    def require_manager(self) -> None:
        roles.require_role(self.request.user, self.workspace, *roles.MANAGERS)

    def nav_context(self) -> dict[str, Any]:
        connection = self.get_connection()
        return {
            "connection": connection,
            "pages": PAGES,
            "page": self.page,
            "page_title": dict(PAGES).get(self.page, ""),
            "manage_url": reverse("integrations:salesforce_manage", args=[connection.pk]),
        }
