from django.urls import path

from cdp import views

app_name = "cdp"

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("workspaces/new/", views.WorkspaceCreateView.as_view(), name="workspace_create"),
    path("people/", views.PeopleView.as_view(), name="people"),
    path("people/<int:pk>/", views.PersonView.as_view(), name="person"),
    path("organizations/", views.OrganizationsView.as_view(), name="organizations"),
    path("organizations/<int:pk>/", views.OrganizationView.as_view(), name="organization"),
    path("activities/", views.ActivitiesView.as_view(), name="activities"),
    path("objects/", views.CustomObjectsView.as_view(), name="custom_objects"),
    path("objects/<int:pk>/", views.CustomObjectRecordsView.as_view(), name="custom_object_records"),
    path("fields/", views.FieldsView.as_view(), name="fields"),
    path("members/", views.MembersView.as_view(), name="members"),
]
