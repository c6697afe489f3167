from django.urls import path
from django.views.generic import RedirectView

from integrations.views import connect, connections, source_pages

app_name = "integrations"


def moved_to(name: str):
    """Where a page lived under /integrations/ before Data sources moved to /sources/ (bookmarks)."""
    return RedirectView.as_view(pattern_name=f"integrations:{name}", permanent=True, query_string=True)


urlpatterns = [
    path("sources/", connections.SourcesView.as_view(), name="sources"),
    path("sources/salesforce/connect/", connect.SalesforceConnectView.as_view(), name="salesforce_connect"),
    # This exact path is registered as the callback of the connected apps (docs/salesforce.md), so it
    # stays where Salesforce sends the browser back.
    path(
        "integrations/salesforce/callback/",
        connect.SalesforceCallbackView.as_view(),
        name="salesforce_callback",
    ),
    path(
        "sources/salesforce/<int:connection_id>/", source_pages.OverviewView.as_view(), name="source_overview"
    ),
    path(
        "sources/salesforce/<int:connection_id>/progress.json",
        source_pages.ProgressJsonView.as_view(),
        name="source_progress",
    ),
    path(
        "sources/salesforce/<int:connection_id>/sync-now/",
        source_pages.SyncNowView.as_view(),
        name="source_sync_now",
    ),
    path(
        "sources/salesforce/<int:connection_id>/health/",
        source_pages.HealthView.as_view(),
        name="source_health",
    ),
    path(
        "sources/salesforce/<int:connection_id>/health/errors/",
        source_pages.ErrorBulkView.as_view(),
        name="source_errors_bulk",
    ),
    path(
        "sources/salesforce/<int:connection_id>/authorization/",
        connections.SalesforceManageView.as_view(),
        name="salesforce_manage",
    ),
    path(
        "sources/salesforce/<int:connection_id>/reconnect/",
        connect.SalesforceReconnectView.as_view(),
        name="salesforce_reconnect",
    ),
    path(
        "sources/salesforce/<int:connection_id>/disconnect/",
        connections.SalesforceDisconnectView.as_view(),
        name="salesforce_disconnect",
    ),
    path(
        "sources/salesforce/<int:connection_id>/delete/",
        connections.SalesforceDeleteView.as_view(),
        name="salesforce_delete",
    ),
    path(
        "sources/salesforce/<int:connection_id>/<slug:page>/",
        source_pages.SourceSettingsView.as_view(),
        name="source_page",
    ),
    # The old addresses of these pages.
    path("integrations/", moved_to("sources")),
    path("integrations/salesforce/connect/", moved_to("salesforce_connect")),
    path("integrations/salesforce/<int:connection_id>/", moved_to("salesforce_manage")),
    path("integrations/salesforce/<int:connection_id>/reconnect/", moved_to("salesforce_reconnect")),
    path("integrations/salesforce/<int:connection_id>/disconnect/", moved_to("salesforce_disconnect")),
    path("integrations/salesforce/<int:connection_id>/delete/", moved_to("salesforce_delete")),
]
