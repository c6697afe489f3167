"""Data sources › Salesforce: the connection's pages after onboarding.

Every onboarding choice stays editable here with the same form and the same save as its step.
Every page looks the connection up within the user's workspace: another workspace's id is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from cdp import roles
from cdp.charts import bar_chart_svg
from cdp.mixins import WorkspaceRequiredMixin
from integrations import ops, sync_selectors
from integrations.models import SyncError
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.objects import ACTIVITIES
from onboarding import salesforce as sf
from onboarding import salesforce_steps as sf_steps
from onboarding import services, source_selectors
from onboarding.salesforce_forms import RetentionForm, ScheduleForm
from onboarding.source_forms import ErrorBulkForm, HealthFilterForm
from onboarding.steps import StepContext

PAGES: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("fields", "Fields"),
    ("permissions", "Permissions"),
    ("custom-objects", "Custom objects"),
    ("identifiers", "Identifiers"),
    ("merge", "Merge"),
    ("filters", "Selective sync"),
    ("retention", "Data retention"),
    ("schedule", "Schedule"),
    ("health", "Sync health"),
)
STEP_PAGES = {
    "fields": sf_steps.FieldsStep(),
    "permissions": sf_steps.PermissionsStep(),
    "custom-objects": sf_steps.CustomObjectsStep(),
    "identifiers": sf_steps.IdentifiersStep(),
    "merge": sf_steps.MergeStep(),
    "filters": sf_steps.FiltersStep(),
}
# Settings pages with a form of their own (no onboarding step).
OWN_PAGES = ("schedule", "retention")


class ConnectionPageMixin(WorkspaceRequiredMixin):
    page = "overview"

    def get_connection(self):
        if not hasattr(self, "connection"):
            self.connection = sf.connection_get(
                workspace=self.workspace, connection_id=self.kwargs["connection_id"]
            )
        return self.connection

    def step_context(self) -> StepContext:
        if not hasattr(self, "ctx"):
            self.ctx = StepContext(workspace=self.workspace, request=self.request)
            self.ctx.__dict__["connection"] = self.get_connection()
        return self.ctx

    def require_manager(self) -> None:
        """Changing a source's settings and running its actions are for owners and admins; members read."""
        roles.require_role(self.request.user, self.workspace, *roles.MANAGERS)

    def nav_context(self) -> dict[str, Any]:
        connection = self.get_connection()
        return {
            "connection": connection,
            "pages": PAGES,
            "page": self.page,
            "page_title": dict(PAGES).get(self.page, ""),
            "manage_url": reverse("integrations:salesforce_manage", args=[connection.pk]),
        }


class OverviewView(ConnectionPageMixin, TemplateView):
    template_name = "onboarding/sources/overview.html"

    def get_context_data(self, **kwargs):
        connection = self.get_connection()
        overview = source_selectors.source_overview(workspace=self.workspace, connection=connection)
        return {
            **super().get_context_data(**kwargs),
            **self.nav_context(),
            "overview": overview,
            "chart": bar_chart_svg(
                overview.chart, title="Records and activities from Salesforce, last 14 days"
            ),
            "progress": sf.progress(workspace=self.workspace, connection=connection),
            "progress_url": reverse("onboarding:source_progress", kwargs={"connection_id": connection.pk}),
            "schedule": sync_selectors.sync_schedule_state(workspace=self.workspace, connection=connection),
            "live": sync_selectors.live_status(workspace=self.workspace, connection=connection),
        }


class SyncNowView(ConnectionPageMixin, View):
    def post(self, request, *args, **kwargs):
        connection = self.get_connection()
        self.require_manager()
        try:
            message, _created = services.salesforce_sync_now(connection=connection)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, message)
        return redirect("onboarding:source_overview", connection_id=connection.pk)


class ProgressJsonView(ConnectionPageMixin, View):
    def get(self, request, *args, **kwargs):
        return JsonResponse(sf.progress(workspace=self.workspace, connection=self.get_connection()))


class SourceSettingsView(ConnectionPageMixin, FormView):
    """Fields, Permissions, Custom objects, Identifiers, Merge (the steps' forms) and Schedule."""

    def dispatch(self, request, *args, **kwargs):
        self.page = kwargs["page"]
        if self.page not in STEP_PAGES and self.page not in OWN_PAGES:
            raise Http404("No such page.")
        sf.catalog_read_at.set(None)
        try:
            return super().dispatch(request, *args, **kwargs)
        except SalesforceError as error:
            # Salesforce cannot be reached and no catalogue was ever read: show what is stored.
            return self.unreachable(error)

    def unreachable(self, error: SalesforceError):
        connection = self.get_connection()
        return render(
            self.request,
            "onboarding/sources/unreachable.html",
            {
                **self.nav_context(),
                "reason": type(error).__name__,
                "stored": source_selectors.stored_sync_settings(
                    workspace=self.workspace, connection=connection
                ),
            },
            status=200 if self.request.method == "GET" else 503,
        )

    @property
    def step(self):
        return STEP_PAGES.get(self.page)

    def get_template_names(self):
        return [f"onboarding/sources/{self.page.replace('-', '_')}.html"]

    def get_form_class(self):
        if self.step:
            return self.step.form_class
        return RetentionForm if self.page == "retention" else ScheduleForm

    def get_form_kwargs(self):
        ctx = self.step_context()
        if self.step:
            kwargs = self.step.get_form_kwargs(ctx)
        elif self.page == "retention":
            connection = self.get_connection()
            kwargs = {
                "initial": {
                    "activity_retention": connection.activity_retention,
                    "activity_retention_days": connection.activity_retention_days,
                    "activity_kinds": connection.activity_kinds or list(ACTIVITIES),
                }
            }
        else:
            connection = self.get_connection()
            kwargs = {
                "initial": {
                    "schedule_interval_minutes": connection.schedule_interval_minutes,
                    "api_budget_percent": connection.api_budget_percent,
                    "streaming_enabled": connection.streaming_enabled,
                }
            }
        if self.request.method == "POST":
            kwargs.update(data=self.request.POST, files=self.request.FILES)
        return kwargs

    def post(self, request, *args, **kwargs):
        self.get_connection()  # another workspace's connection is a 404 before it is a 403
        self.require_manager()
        if "_prune" in request.POST and self.page == "retention":
            connection = self.get_connection()
            pruned = services.salesforce_activities_prune(connection=connection)
            messages.success(
                request,
                f"Deleted {pruned:,} stored activit{'y' if pruned == 1 else 'ies'} the retention setting does "
                "not keep."
                if pruned
                else "Nothing to delete: every stored activity is within the setting.",
            )
            return redirect("onboarding:source_page", connection_id=connection.pk, page=self.page)
        if "_preview" in request.POST and self.step is not None:
            form = self.get_form()
            extra = self.step.preview(self.step_context(), form) if form.is_valid() else {}
            return self.render_to_response(self.get_context_data(form=form, **extra))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        ctx = self.step_context()
        try:
            if self.step:
                self.step.save_settings(ctx, form)
            elif self.page == "retention":
                data = form.cleaned_data
                services.salesforce_retention_save(
                    connection=self.get_connection(),
                    retention=data["activity_retention"],
                    days=data.get("activity_retention_days"),
                    kinds=data["activity_kinds"],
                )
            else:
                services.salesforce_schedule_save(connection=self.get_connection(), **form.cleaned_data)
        except ValidationError as error:
            from onboarding.views import _add_errors

            _add_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{dict(PAGES)[self.page]} saved.")
        return redirect("onboarding:source_page", connection_id=self.get_connection().pk, page=self.page)

    def get_context_data(self, **kwargs):
        data = {**super().get_context_data(**kwargs), **self.nav_context()}
        if self.step:
            data.update(
                {k: v for k, v in self.step.get_context(self.step_context()).items() if k not in data}
            )
            data["step"] = self.step
        data["catalog_read_at"] = sf.catalog_read_at.get()
        if self.page == "retention":
            data["activities_stored"] = sync_selectors.activities_stored(
                workspace=self.workspace, connection=self.get_connection()
            )
        return data


class HealthView(ConnectionPageMixin, TemplateView):
    """Open errors page by page, filtered by type; tick some (or all that match) to retry, ignore or
    export them. The run table counts the same open errors."""

    template_name = "onboarding/sources/health.html"
    page = "health"

    def get_context_data(self, **kwargs):
        connection = self.get_connection()
        form = HealthFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        error_type = filters.get("type") or ""
        types = source_selectors.sync_error_types(workspace=self.workspace, connection=connection)
        errors = source_selectors.sync_error_page(
            workspace=self.workspace,
            connection=connection,
            error_type=error_type,
            page=filters.get("page") or 1,
        )
        return {
            **super().get_context_data(**kwargs),
            **self.nav_context(),
            "runs": source_selectors.sync_run_list(workspace=self.workspace, connection=connection),
            "error_types": types,
            "error_type": error_type,
            "error_type_label": dict(SyncError.Type.choices).get(error_type, ""),
            "errors": errors,
            "matching": errors.paginator.count,
            "open_total": sum(t["count"] for t in types),
        }


class ErrorBulkView(ConnectionPageMixin, View):
    """Retry, ignore or export (CSV) the ticked errors, or every open error of the type shown."""

    def post(self, request, *args, **kwargs):
        connection = self.get_connection()
        form = ErrorBulkForm(request.POST)
        back = reverse("onboarding:source_health", kwargs={"connection_id": connection.pk})
        if not form.is_valid():
            messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
            return redirect(back)
        data = form.cleaned_data
        if data["error_type"]:
            back += f"?type={data['error_type']}"
        action, ids, every = data["action"], data["ids"], data["every"]
        if data["one"]:
            action, one_id = data["one"]
            ids, every = [one_id], False
        errors = source_selectors.sync_errors_chosen(
            workspace=self.workspace,
            connection=connection,
            ids=ids,
            every=every,
            error_type=data["error_type"],
        )
        if action != "export":
            self.require_manager()  # retry and ignore change the sync; exporting reads
        if action == "export":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="sync-errors-{connection.pk}.csv"'
            ops.sync_errors_write_csv(errors=errors, out=response)
            return response
        chosen = list(errors)
        if not chosen:
            messages.error(request, "Tick the errors to act on, or choose every error of this type.")
            return redirect(back)
        names = source_selectors.sync_error_record_names(
            workspace=self.workspace, connection=connection, errors=chosen
        )
        what = (
            names.get((chosen[0].object_name, chosen[0].sf_id)) or f"a {chosen[0].object_name}"
            if len(chosen) == 1
            else f"{len(chosen):,} records"
        )
        if action == "ignore":
            ignored = ops.sync_errors_ignore(errors=chosen)
            messages.success(
                request, f"Ignored the error on {what}." if ignored == 1 else f"Ignored {ignored:,} errors."
            )
            return redirect(back)
        outcome = ops.sync_errors_retry(errors=chosen)
        if outcome.refused:
            messages.error(request, " ".join(outcome.refused))
        elif outcome.not_retryable and not outcome.retried:
            messages.error(
                request, "These errors cannot be retried: fix them in Salesforce, then sync again."
            )
        elif outcome.resolved == len(chosen):
            messages.success(request, f"{what[:1].upper()}{what[1:]} synced this time.")
        else:
            still = len(chosen) - outcome.resolved - outcome.not_retryable
            messages.warning(
                request,
                f"Retried {what}: {outcome.resolved:,} synced this time, {still:,} still fails; see the errors below.",
            )
        return redirect(back)
