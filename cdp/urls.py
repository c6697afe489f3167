from django.urls import path

from cdp import views

app_name = "cdp"

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("workspaces/new/", views.WorkspaceCreateView.as_view(), name="workspace_create"),
]
