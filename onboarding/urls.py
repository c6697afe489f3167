from django.urls import path

from onboarding import source_views, views

app_name = "onboarding"

urlpatterns = [
    path("onboarding/", views.OnboardingStartView.as_view(), name="start"),
    path("onboarding/<slug:key>/", views.StepView.as_view(), name="step"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/<slug:section>/", views.SettingsView.as_view(), name="settings_section"),
    path(
        "sources/salesforce/<int:connection_id>/", source_views.OverviewView.as_view(), name="source_overview"
    ),
    path(
        "sources/salesforce/<int:connection_id>/progress.json",
        source_views.ProgressJsonView.as_view(),
        name="source_progress",
    ),
    path(
        "sources/salesforce/<int:connection_id>/sync-now/",
        source_views.SyncNowView.as_view(),
        name="source_sync_now",
    ),
    path(
        "sources/salesforce/<int:connection_id>/health/",
        source_views.HealthView.as_view(),
        name="source_health",
    ),
    path(
        "sources/salesforce/<int:connection_id>/health/errors/",
        source_views.ErrorBulkView.as_view(),
        name="source_errors_bulk",
    ),
    path(
        "sources/salesforce/<int:connection_id>/<slug:page>/",
        source_views.SourceSettingsView.as_view(),
        name="source_page",
    ),
]
