from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView

from cdp.forms import WorkspaceCreateForm
from cdp.middleware import SESSION_KEY
from cdp.mixins import WorkspaceRequiredMixin
from cdp.services import workspace_create


class DashboardView(WorkspaceRequiredMixin, TemplateView):
    template_name = "cdp/dashboard.html"


class WorkspaceCreateView(LoginRequiredMixin, FormView):
    template_name = "cdp/workspace_create.html"
    form_class = WorkspaceCreateForm

    def form_valid(self, form):
        workspace = workspace_create(owner=self.request.user, name=form.cleaned_data["name"])
        self.request.session[SESSION_KEY] = workspace.pk
        return redirect("cdp:dashboard")
