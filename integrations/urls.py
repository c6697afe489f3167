from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.SourcesView.as_view(), name="sources"),
    path(
        "integrations/salesforce/connect/", views.SalesforceConnectView.as_view(), name="salesforce_connect"
    ),
    # This exact path is registered as the callback of the connected apps (docs/salesforce.md).
    path(
        "integrations/salesforce/callback/",
        views.SalesforceCallbackView.as_view(),
        name="salesforce_callback",
    ),
    path("integrations/salesforce/<int:pk>/", views.SalesforceManageView.as_view(), name="salesforce_manage"),
    path(
        "integrations/salesforce/<int:pk>/reconnect/",
        views.SalesforceReconnectView.as_view(),
        name="salesforce_reconnect",
    ),
    path(
        "integrations/salesforce/<int:pk>/disconnect/",
        views.SalesforceDisconnectView.as_view(),
        name="salesforce_disconnect",
    ),
    path(
        "integrations/salesforce/<int:pk>/delete/",
        views.SalesforceDeleteView.as_view(),
        name="salesforce_delete",
    ),
]
