from django.urls import path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("onboarding/", views.OnboardingStartView.as_view(), name="start"),
    path("onboarding/<slug:key>/", views.StepView.as_view(), name="step"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/<slug:section>/", views.SettingsView.as_view(), name="settings_section"),
]
