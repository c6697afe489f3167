"""The admin's longer views (STYLE 5): Sync health (per connection and across all) and the disconnect
confirmation. Registered by `ConnectionAdmin.get_urls` behind `admin_site.admin_view` (staff only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.generic import TemplateView

from integrations import admin_charts, services, sync_health
from integrations.models import Connection, SyncRun
from integrations.ops import connection_state_problem
from integrations.salesforce.errors import SalesforceOAuthError


class SyncHealthView(TemplateView):
    """HubSpot-style Sync health: connections needing reconnection first, errors grouped by type with the
    affected records and a fix, API usage of the last 24 h against the limit and the budget, run history."""

    template_name = "admin/integrations/connection/sync_health.html"
    model_admin: admin.ModelAdmin | None = None

    def dispatch(self, request, *args, **kwargs):
        # admin_view lets any active staff user in; this page also needs permission to view connections.
        if self.model_admin is None or not self.model_admin.has_view_permission(request):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        model_admin = self.model_admin
        assert model_admin is not None  # dispatch refused the page without one
        pk = self.kwargs.get("pk")
        ids = None
        connection = None
        if pk is not None:
            connection = sync_health.connections_for_health(connection_ids=[pk]).first()
            if connection is None:
                raise Http404("No such connection.")
            ids = [pk]
        connections = [connection] if connection else list(sync_health.connections_for_health())
        calls = sync_health.api_calls_last_24h(connection_ids=ids)
        rows = []
        for c in connections:
            inflow_calls = calls.get(c.pk, 0) or 0
            rows.append(
                {
                    "connection": c,
                    "inflow_calls": inflow_calls,
                    "budget_requests": (
                        int(c.api_usage_max * c.api_budget_percent / 100) if c.api_usage_max else None
                    ),
                    "usage_svg": admin_charts.usage_bar_svg(
                        used=c.api_usage_used,
                        limit=c.api_usage_max,
                        budget_percent=c.api_budget_percent,
                        inflow_calls=inflow_calls,
                    ),
                    "url": reverse("admin:integrations_connection_sync_health_one", args=[c.pk]),
                    "change_url": reverse("admin:integrations_connection_change", args=[c.pk]),
                    "errors_url": reverse("admin:integrations_syncerror_changelist")
                    + f"?connection__id__exact={c.pk}&resolved__exact=0",
                }
            )
        runs = sync_health.recent_runs(connection_ids=ids)
        groups = sync_health.error_groups(connection_ids=ids)
        errors_base = reverse("admin:integrations_syncerror_changelist") + "?resolved__exact=0"
        for group in groups:
            group["url"] = (
                errors_base
                + f"&error_type__exact={group['type']}"
                + (f"&connection__id__exact={pk}" if pk else "")
            )
        stuck = list(
            sync_health.stuck_runs()
            .select_related("connection")
            .defer("connection__access_token_encrypted", "connection__refresh_token_encrypted")
            .filter(**({"connection_id": pk} if pk else {}))[:20]
        )
        title = f"Sync health: {connection.username} ({connection.org_id})" if connection else "Sync health"
        return {
            **super().get_context_data(**kwargs),
            **model_admin.admin_site.each_context(self.request),
            "opts": model_admin.model._meta,
            "title": title,
            "connection": connection,
            "rows": rows,
            "needs_reauth": sum(1 for c in connections if c.status == Connection.Status.NEEDS_REAUTH),
            "groups": groups,
            "open_errors": sum(g["count"] for g in groups),
            "runs": list(reversed(runs))[:10],
            "chart": admin_charts.run_history_svg(
                runs, title=f"The last {len(runs)} sync runs: records fetched and duration"
            ),
            "stuck": stuck,
            "stale_after": int(sync_health.stale_after().total_seconds()),
            "queued_after": int(sync_health.queued_after().total_seconds()),
            "all_url": reverse("admin:integrations_connection_sync_health"),
            "run_states": SyncRun.State,
        }


def disconnect_confirm(model_admin, request, queryset):
    """The "Disconnect" action: a confirmation page first (like Django's delete), then
    `services.connection_disconnect` per connection, reporting each outcome."""
    connections = list(queryset.select_related("workspace").order_by("pk"))
    if request.POST.get("confirm") != "yes":
        return TemplateResponse(
            request,
            "admin/integrations/connection/disconnect_confirmation.html",
            {
                **model_admin.admin_site.each_context(request),
                "title": "Disconnect Salesforce connections?",
                "opts": model_admin.model._meta,
                "connections": connections,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "select_across": request.POST.get("select_across", "0"),
                "index": request.POST.get("index", "0"),
            },
        )

    for connection in connections:
        name = f"{connection.username} ({connection.org_id})"
        if connection.status == Connection.Status.DISCONNECTED:
            model_admin.message_user(
                request, connection_state_problem(connection, doing="disconnect"), messages.WARNING
            )
            continue
        try:
            services.connection_disconnect(
                connection=connection, reason=f"Disconnected by an operator ({request.user}) from the admin."
            )
        except SalesforceOAuthError as exc:
            model_admin.message_user(
                request,
                f"Did not disconnect {name}: Salesforce did not revoke the token ({exc.description or exc.error}), "
                "so the connection is unchanged. Try again, or run "
                f"`manage.py salesforce_disconnect {connection.pk} --force` to forget the tokens anyway.",
                messages.WARNING,
            )
            continue
        model_admin.message_user(
            request,
            f"Disconnected {name}: the token was revoked at Salesforce; synced data and settings are kept.",
            messages.SUCCESS,
        )
    return None
