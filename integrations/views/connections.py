"""Data sources: the list of connections, and a connection's authorization page, disconnecting (the
authorization is revoked, data and settings kept) and deleting it. Connecting, disconnecting and deleting
are for the workspace's owners and admins."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView

from cdp.mixins import WorkspaceRequiredMixin
from integrations import selectors, services
from integrations.forms import ConfirmDeleteForm
from integrations.models import Connection
from integrations.salesforce.errors import SalesforceOAuthError
from integrations.views.mixins import ConnectionMixin


class SourcesView(WorkspaceRequiredMixin, TemplateView):
    """Data sources: the workspace's connections."""

    template_name = "integrations/sources/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            connections=selectors.connection_list(workspace=self.workspace), **kwargs
        )


class SalesforceManageView(ConnectionMixin, TemplateView):
    """The seed's "Manage Salesforce authorization" page."""

    template_name = "integrations/sources/salesforce_manage.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        connection = self.get_connection()
        check = None
        # A connection whose refresh token was refused is not checked: a still-valid access token
        # would report "working" for a link that cannot survive its next expiry.
        if connection.status in (Connection.Status.CONNECTED, Connection.Status.PAUSED):
            check = selectors.connection_live_check(workspace=self.workspace, connection=connection)
            connection.refresh_from_db()
        return super().get_context_data(connection=connection, check=check, **kwargs)


class SalesforceDisconnectView(ConnectionMixin, TemplateView):
    template_name = "integrations/sources/salesforce_disconnect.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(connection=self.get_connection(), **kwargs)

    def post(self, request, *args, **kwargs):
        self.require_manager()
        connection = self.get_connection()
        try:
            services.connection_disconnect(
                connection=connection, reason=f"Disconnected by {request.user.email or request.user}."
            )
        except SalesforceOAuthError as exc:
            messages.error(
                request,
                f"Salesforce could not revoke the authorization ({exc.description or exc.error}). "
                "The connection was not changed; try again.",
            )
            return redirect("integrations:salesforce_manage", connection_id=connection.pk)
        messages.success(
            request,
            f"Disconnected {connection.username}. The authorization was revoked at Salesforce; "
            "synced data and settings are kept.",
        )
        return redirect("integrations:salesforce_manage", connection_id=connection.pk)


class SalesforceDeleteView(ConnectionMixin, FormView):
    template_name = "integrations/sources/salesforce_delete.html"
    form_class = ConfirmDeleteForm

    def get_form_kwargs(self) -> dict[str, Any]:
        self.require_manager()
        return {**super().get_form_kwargs(), "connection": self.get_connection()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        connection = self.get_connection()
        summary = selectors.connection_delete_summary(workspace=self.workspace, connection=connection)
        return super().get_context_data(connection=connection, removed=summary, **kwargs)

    def form_valid(self, form: ConfirmDeleteForm) -> HttpResponse:
        connection = self.get_connection()
        try:
            services.connection_delete(connection=connection)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
            return self.form_invalid(form)
        messages.success(
            self.request, f"Deleted the Salesforce connection {connection.username} ({connection.org_id})."
        )
        return redirect("integrations:sources")
