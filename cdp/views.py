from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView

from cdp import display, extensions, roles, selectors
from cdp.charts import growth_chart_svg
from cdp.fields import FIELD_TYPES
from cdp.forms import (
    ActivityFilterForm,
    MemberInviteForm,
    MemberRoleForm,
    PageForm,
    PeopleFilterForm,
    SearchForm,
    WorkspaceCreateForm,
    cleaned_or_empty,
)
from cdp.middleware import SESSION_KEY
from cdp.mixins import WorkspaceRequiredMixin, signed_in_user
from cdp.models import Membership
from cdp.services import member_invite, membership_role_set, workspace_create


class DashboardView(WorkspaceRequiredMixin, TemplateView):
    template_name = "cdp/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["counts"] = selectors.dashboard_counts(workspace=self.workspace)
        if not context["counts"].empty:
            context["growth"] = growth_chart_svg(selectors.growth(workspace=self.workspace))
            context["recent_activities"] = selectors.recent_activities(workspace=self.workspace)
        context.update(extensions.dashboard_context(workspace=self.workspace))
        return context


class WorkspaceCreateView(LoginRequiredMixin, FormView):
    template_name = "cdp/workspace_create.html"
    form_class = WorkspaceCreateForm

    def form_valid(self, form):
        workspace = workspace_create(owner=signed_in_user(self.request), name=form.cleaned_data["name"])
        self.request.session[SESSION_KEY] = workspace.pk
        return redirect("cdp:dashboard")


def _query_without_after(request) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    return query.urlencode()


class DataPageView(WorkspaceRequiredMixin, TemplateView):
    """Workspace pages that show customer data: GET only; filters come from a small form."""

    http_method_names: Sequence[str] = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["workspace"] = self.workspace
        context["base_query"] = _query_without_after(self.request)
        return context


class PeopleView(DataPageView):
    template_name = "cdp/people.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sources = selectors.identity_sources(workspace=self.workspace)
        form = PeopleFilterForm(
            self.request.GET or None,
            sources=extensions.source_names(workspace=self.workspace, sources=sources),
        )
        filters = cleaned_or_empty(form)
        organization = None
        if filters.get("organization"):
            organization = selectors.organization_get(
                workspace=self.workspace, organization_id=filters["organization"]
            )
        context["page"] = selectors.person_list(
            workspace=self.workspace,
            q=filters.get("q", ""),
            source=filters.get("source", ""),
            permission=filters.get("permission", ""),
            organization_id=organization.pk if organization else None,
            after=filters.get("after"),
            archived=filters.get("status") == "archived",
        )
        context["form"] = form
        context["organization"] = organization
        context["archived"] = filters.get("status") == "archived"
        context["filtered"] = any(
            filters.get(k) for k in ("q", "source", "permission", "organization", "status")
        )
        if not any(filters.get(k) for k in ("q", "source", "permission", "organization")):
            # The same figure as the home page's (one selector), archived or live.
            context["total"] = selectors.person_count(workspace=self.workspace, archived=context["archived"])
        return context


class PersonView(DataPageView):
    template_name = "cdp/person.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person = selectors.person_get(workspace=self.workspace, person_id=self.kwargs["pk"])
        history = selectors.archive_history(workspace=self.workspace, person=person)
        context.update(
            person=person,
            field_groups=selectors.record_field_groups(workspace=self.workspace, record=person),
            identities=selectors.person_identities(workspace=self.workspace, person=person),
            source_names=selectors.person_source_names(workspace=self.workspace, person=person),
            archive_history=history,
            # Only for people archived before the history was kept: the reason read off their identities.
            archive_reason=""
            if history
            else selectors.person_archive_reason(workspace=self.workspace, person=person),
            timeline=selectors.activity_list(workspace=self.workspace, person=person).items,
            permission_history=selectors.person_permission_history(workspace=self.workspace, person=person),
        )
        return context


class OrganizationsView(DataPageView):
    template_name = "cdp/organizations.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = SearchForm(self.request.GET or None)
        filters = cleaned_or_empty(form)
        context["form"] = form
        context["filtered"] = bool(filters.get("q") or filters.get("status"))
        context["archived"] = filters.get("status") == "archived"
        context["page"] = selectors.organization_list(
            workspace=self.workspace,
            q=filters.get("q", ""),
            after=filters.get("after"),
            archived=context["archived"],
        )
        return context


class OrganizationView(DataPageView):
    template_name = "cdp/organization.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = selectors.organization_get(workspace=self.workspace, organization_id=self.kwargs["pk"])
        filters = cleaned_or_empty(PageForm(self.request.GET or None))
        context.update(
            organization=organization,
            field_groups=selectors.record_field_groups(workspace=self.workspace, record=organization),
            archive_history=selectors.archive_history(workspace=self.workspace, organization=organization),
            page=selectors.person_list(
                workspace=self.workspace, organization_id=organization.pk, after=filters.get("after")
            ),
        )
        return context


class ActivitiesView(DataPageView):
    template_name = "cdp/activities.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = ActivityFilterForm(
            self.request.GET or None,
            definitions=selectors.activity_definitions_for_filter(workspace=self.workspace),
        )
        filters = cleaned_or_empty(form)

        def midnight(day, plus_days=0):
            if day is None or day > dt.date.max - dt.timedelta(days=plus_days):
                return None  # the day after 9999-12-31 does not exist: no bound is the same filter
            return dt.datetime.combine(day + dt.timedelta(days=plus_days), dt.time.min, tzinfo=dt.UTC)

        context["form"] = form
        context["filtered"] = any(filters.get(k) for k in ("type", "since", "until"))
        context["page"] = selectors.activity_list(
            workspace=self.workspace,
            activity_id=filters.get("type", ""),
            since=midnight(filters.get("since")),
            until=midnight(filters.get("until"), plus_days=1),
            after=filters.get("after"),
        )
        return context


class CustomObjectsView(DataPageView):
    template_name = "cdp/custom_objects.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        objects = selectors.custom_object_list(workspace=self.workspace)
        names = extensions.source_names(workspace=self.workspace, sources={o.source for o in objects})
        for custom_object in objects:
            custom_object.source_name = names[custom_object.source]
        context["custom_objects"] = objects
        return context


class CustomObjectRecordsView(DataPageView):
    template_name = "cdp/custom_object_records.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        custom_object = selectors.custom_object_get(
            workspace=self.workspace, custom_object_id=self.kwargs["pk"]
        )
        filters = cleaned_or_empty(PageForm(self.request.GET or None))
        page = selectors.custom_object_record_list(
            workspace=self.workspace, custom_object=custom_object, after=filters.get("after")
        )
        columns = [
            (f["id"], f.get("name", f["id"]), f.get("display_type", "text")) for f in custom_object.fields
        ]
        if not columns:
            seen = dict.fromkeys(key for record in page.items for key in record.values)
            columns = [(key, display.humanize_slug(key), "") for key in list(seen)[:8]]
        references = selectors.external_id_names(
            workspace=self.workspace,
            values=[record.values.get(fid) for record in page.items for fid, _, _ in columns],
        )

        def cell(kind: str, stored) -> display.Shown:
            if isinstance(stored, str) and stored in references:
                return references[stored]
            text, href = display.format_raw(kind, stored)
            return display.Shown("", text, href)

        context.update(
            custom_object=custom_object,
            source_name=extensions.source_names(workspace=self.workspace, sources=[custom_object.source])[
                custom_object.source
            ],
            page=page,
            columns=columns,
            rows=[
                (record, [cell(kind, record.values.get(fid)) for fid, _, kind in columns])
                for record in page.items
            ],
        )
        return context


class FieldsView(DataPageView):
    template_name = "cdp/fields.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["groups"] = selectors.field_catalogue(workspace=self.workspace)
        context["type_labels"] = {code: t.label for code, t in FIELD_TYPES.items()}
        return context


class MembersView(WorkspaceRequiredMixin, TemplateView):
    """The workspace's members: an owner invites someone by email and sets each member's role."""

    template_name = "cdp/members.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.workspace:
            roles.require_role(request.user, request.workspace, roles.OWNER)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("invite_form", MemberInviteForm())
        context["memberships"] = (
            Membership.objects.filter(workspace=self.workspace).select_related("user").order_by("created_at")
        )
        context["role_choices"] = Membership.Role.choices
        return context

    def post(self, request, *args, **kwargs):
        if "invite" in request.POST:
            invite_form = MemberInviteForm(request.POST)
            if not invite_form.is_valid():
                return self.render_to_response(self.get_context_data(invite_form=invite_form))
            member_invite(
                workspace=self.workspace,
                email=invite_form.cleaned_data["email"],
                role=invite_form.cleaned_data["role"],
                invited_by=request.user,
                site_url=settings.SITE_URL.rstrip("/") or request.build_absolute_uri("/").rstrip("/"),
            )
            messages.success(
                request, f"{invite_form.cleaned_data['email']} is a member now; we emailed them."
            )
            return redirect("cdp:members")
        form = MemberRoleForm(request.POST)
        if form.is_valid():
            try:
                membership = membership_role_set(
                    workspace=self.workspace,
                    membership_id=form.cleaned_data["membership"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                )
            except Membership.DoesNotExist:
                messages.error(request, "That person is not a member of this workspace.")
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request, f"{membership.user.email} is {membership.get_role_display().lower()} now."
                )
        else:
            messages.error(request, "Choose Owner, Admin or Member.")
        return redirect("cdp:members")
