"""Data sources › Salesforce: a connection's pages after onboarding (overview, settings, sync health).

Every onboarding choice stays editable here with the same form and the same save as its step (the step is
this page's settings section, see `integrations.source_settings`). Every page looks the connection up
within the user's workspace: another workspace's id is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from cdp.charts import bar_chart_svg
from cdp.forms import add_validation_error
from integrations import catalog_offers, ops, services, source_selectors, sync_selectors, sync_settings
from integrations.connection_settings import connection_settings_update
from integrations.models import SyncError
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.objects import ACTIVITIES
from integrations.source_forms import ErrorBulkForm, HealthFilterForm, RetentionForm, ScheduleForm
from integrations.source_settings import SettingsSection, SourceContext, settings_section_for
from integrations.views.mixins import PAGES, ConnectionMixin

# Settings pages with a form of their own (no onboarding step).
OWN_PAGES = ("schedule", "retention")


class OverviewView(ConnectionMixin, TemplateView):
    template_name = "integrations/sources/overview.html"

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
            "progress": source_selectors.progress(workspace=self.workspace, connection=connection),
            "progress_url": reverse("integrations:source_progress", kwargs={"connection_id": connection.pk}),
            "schedule": sync_selectors.sync_schedule_state(workspace=self.workspace, connection=connection),
            "live": sync_selectors.live_status(workspace=self.workspace, connection=connection),
        }


class SyncNowView(ConnectionMixin, View):
    def post(self, request, *args, **kwargs):
        connection = self.get_connection()
        self.require_manager()
        try:
            message, _created = services.connection_sync_now(connection=connection)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, message)
        return redirect("integrations:source_overview", connection_id=connection.pk)


class ProgressJsonView(ConnectionMixin, View):
    def get(self, request, *args, **kwargs):
        return JsonResponse(
            source_selectors.progress(workspace=self.workspace, connection=self.get_connection())
        )


class SourceSettingsView(ConnectionMixin, FormView):
    """Fields, Permissions, Custom objects, Identifiers, Merge (the steps' forms) and Schedule."""

    def dispatch(self, request, *args, **kwargs):
        self.page = kwargs["page"]
        if settings_section_for(self.page) is None and self.page not in OWN_PAGES:
            raise Http404("No such page.")
        catalog_offers.catalog_read_at.set(None)
        try:
            return super().dispatch(request, *args, **kwargs)
        except SalesforceError as error:
            # Salesforce cannot be reached and no catalogue was ever read: show what is stored.
            return self.unreachable(error)

    def unreachable(self, error: SalesforceError):
        connection = self.get_connection()
        return render(
            self.request,
            "integrations/sources/unreachable.html",
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
    def section(self) -> SettingsSection | None:
        """The onboarding step whose choices this page edits (None for Schedule and Data retention)."""
        return settings_section_for(self.page)

    def section_context(self) -> SourceContext:
        if not hasattr(self, "ctx"):
            self.ctx = SourceContext(
                workspace=self.workspace, connection=self.get_connection(), request=self.request
            )
        return self.ctx

    def get_template_names(self):
        return [f"integrations/sources/{self.page.replace('-', '_')}.html"]

    def get_form_class(self):
        if self.section:
            return self.section.form_class
        return RetentionForm if self.page == "retention" else ScheduleForm

    def get_form_kwargs(self):
        ctx = self.section_context()
        if self.section:
            kwargs = self.section.get_form_kwargs(ctx)
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
            pruned = sync_settings.activities_prune(connection=connection)
            messages.success(
                request,
                f"Deleted {pruned:,} stored activit{'y' if pruned == 1 else 'ies'} the retention setting does "
                "not keep."
                if pruned
                else "Nothing to delete: every stored activity is within the setting.",
            )
            return redirect("integrations:source_page", connection_id=connection.pk, page=self.page)
        if "_preview" in request.POST and self.section is not None:
            form = self.get_form()
            extra = self.section.preview(self.section_context(), form) if form.is_valid() else {}
            return self.render_to_response(self.get_context_data(form=form, **extra))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        ctx = self.section_context()
        try:
            if self.section:
                self.section.save_settings(ctx, form)
            elif self.page == "retention":
                data = form.cleaned_data
                sync_settings.activity_retention_set(
                    connection=self.get_connection(),
                    retention=data["activity_retention"],
                    days=data.get("activity_retention_days"),
                    kinds=data["activity_kinds"],
                )
            else:
                connection_settings_update(connection=self.get_connection(), **form.cleaned_data)
        except ValidationError as error:
            add_validation_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{dict(PAGES)[self.page]} saved.")
        return redirect("integrations:source_page", connection_id=self.get_connection().pk, page=self.page)

    def get_context_data(self, **kwargs):
        data = {**super().get_context_data(**kwargs), **self.nav_context()}
        if self.section:
            data.update(
                {k: v for k, v in self.section.get_context(self.section_context()).items() if k not in data}
            )
            data["section"] = self.section
        data["catalog_read_at"] = catalog_offers.catalog_read_at.get()
        if self.page == "retention":
            data["activities_stored"] = sync_selectors.activities_stored(
                workspace=self.workspace, connection=self.get_connection()
            )
        return data


class HealthView(ConnectionMixin, TemplateView):
    """Open errors page by page, filtered by type; tick some (or all that match) to retry, ignore or
    export them. The run table counts the same open errors."""

    template_name = "integrations/sources/health.html"
    page = "health"

    def get_context_data(self, **kwargs):
        connection = self.get_connection()
        form = HealthFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        error_type = filters.get("type") or ""
        types = sync_selectors.open_errors_by_type(
            sync_selectors.sync_errors(workspace=self.workspace, connection=connection)
        )
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


class ErrorBulkView(ConnectionMixin, View):
    """Retry, ignore or export (CSV) the ticked errors, or every open error of the type shown."""

    def post(self, request, *args, **kwargs):
        connection = self.get_connection()
        form = ErrorBulkForm(request.POST)
        back = reverse("integrations:source_health", kwargs={"connection_id": connection.pk})
        if not form.is_valid():
            messages.error(request, " ".join(str(m) for ms in form.errors.values() for m in ms))
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
