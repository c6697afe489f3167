"""Data sources › Salesforce: the connection's pages after onboarding, reusing the steps' forms."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.views import View

from cdp.mixins import WorkspaceRequiredMixin
from onboarding import salesforce as sf


class OnboardingProgressView(WorkspaceRequiredMixin, View):
    def get(self, request, *args, **kwargs):
        connection = sf.onboarding_connection(workspace=self.workspace)
        if connection is None:
            raise Http404("No Salesforce connection yet.")
        return JsonResponse(sf.progress(workspace=self.workspace, connection=connection))


class ProgressJsonView(WorkspaceRequiredMixin, View):
    def get(self, request, connection_id: int, *args, **kwargs):
        connection = sf.connection_get(workspace=self.workspace, connection_id=connection_id)
        return JsonResponse(sf.progress(workspace=self.workspace, connection=connection))


OverviewView = ChartView = SyncNowView = HealthView = ErrorActionView = SourceSettingsView = ProgressJsonView
