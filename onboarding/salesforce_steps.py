"""The Salesforce steps of the onboarding, from connecting to launching the first sync. Each saves through
the integration services.

They apply only to a B2B business on Salesforce. The Allow Access page between them is Salesforce's own;
the Connect step hands over to it through the connection's OAuth view and gets the user back here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from cdp.forms import add_validation_error
from integrations import catalog_offers, source_selectors, sync_settings
from integrations.forms import ConnectForm, default_login_choice
from integrations.salesforce.errors import SalesforceError
from onboarding import salesforce as sf
from onboarding import salesforce_forms as sf_forms
from onboarding import services
from onboarding.stepkit import Step, StepContext

LOCKED_OBJECTS = ("Contact",)


class SalesforceStep(Step):
    group = "Salesforce"

    def applies(self, ctx: StepContext) -> bool:
        return ctx.profile.uses_salesforce

    def is_complete(self, ctx: StepContext) -> bool:
        return ctx.connection is not None and self.key in ctx.profile.completed_steps


class ConnectStep(SalesforceStep):
    """Posts straight to the connection's OAuth view (same form), which sends the browser to Salesforce's
    log-in and Allow Access pages and, once connected, back to the onboarding controller."""

    key = "salesforce-connect"
    title = "Connect to Salesforce"
    nav_label = "Connect"
    lead = (
        "Inflow reads your Salesforce data through a secure OAuth connection. Click Next and Salesforce asks "
        "you to log in (with a System Administrator user) and to allow access."
    )
    form_class = ConnectForm
    template_name = "onboarding/step_connect.html"

    def is_complete(self, ctx):
        return ctx.connection is not None and ctx.connection.is_connected

    def get_initial(self, ctx):
        initial = default_login_choice()
        connection = ctx.connection
        if connection is not None:
            initial = {
                "login_kind": connection.login_kind,
                "my_domain_url": connection.login_url if connection.login_kind == "my_domain" else "",
            }
        return {**initial, "next": reverse("onboarding:start")}

    def get_context(self, ctx):
        connection = ctx.connection
        action = reverse("integrations:salesforce_connect")
        if connection is not None and not connection.is_connected:
            action = reverse("integrations:salesforce_reconnect", args=[connection.pk])
        return {"connection": connection, "connect_url": action}

    def save(self, ctx, form):
        # The form posts to the connection's view; a POST here only happens without that action.
        return redirect(
            reverse("integrations:salesforce_connect")
            + "?"
            + urlencode({"next": reverse("onboarding:start")})
        )


class _PickerStep(SalesforceStep):
    form_class = sf_forms.FieldPickerForm
    template_name = "onboarding/step_fields.html"
    locked: tuple[str, ...] = ()
    defaults_only = True

    def offers(self, ctx: StepContext) -> list[catalog_offers.ObjectOffer]:
        if "offers" not in ctx.memo:
            offers = catalog_offers.object_offers(
                workspace=ctx.workspace, connection=ctx.connection, samples=True
            )
            ctx.memo["offers"] = offers
        return [o for o in ctx.memo["offers"] if o.default == self.defaults_only]

    def get_form_kwargs(self, ctx):
        return {"offers": self.offers(ctx), "locked": self.locked}

    def get_context(self, ctx):
        return {
            "max_fields": sync_settings.MAX_ACTIVE_FIELDS_PER_OBJECT,
            "connection": ctx.connection,
            "update_modes": sf_forms.UPDATE_MODES,
        }

    def save(self, ctx, form):
        services.salesforce_objects_save(connection=ctx.connection, choices=form.choices())
        return None


class FieldsStep(_PickerStep):
    key = "salesforce-fields"
    title = "Sync custom fields"
    nav_label = "Fields"
    lead = (
        "Choose the Salesforce objects and fields to bring into Inflow. The default objects are selected for "
        "you; expand one to change its fields. Each object can sync at most 50 fields."
    )
    locked = LOCKED_OBJECTS
    defaults_only = True


class PermissionsStep(SalesforceStep):
    key = "salesforce-permissions"
    title = "Email and SMS permissions"
    nav_label = "Permissions"
    lead = (
        "Tell Inflow which Salesforce fields say whether a contact may receive email and SMS, so new people "
        "arrive with the right permissions."
    )
    form_class = sf_forms.PermissionsForm
    template_name = "onboarding/step_permissions.html"

    def get_form_kwargs(self, ctx):
        offers = {
            o.api_name: o
            for o in catalog_offers.object_offers(workspace=ctx.workspace, connection=ctx.connection)
        }
        objects = catalog_offers.permission_objects(
            workspace=ctx.workspace, connection=ctx.connection, offers=offers
        )
        field_types = {
            obj.api_name: {f.name: f.type for f in offers[obj.api_name].fields}
            if obj.api_name in offers
            else {}
            for obj in objects
        }
        return {
            "objects": objects,
            "field_types": field_types,
            "initial": {"sticky_unsubscribe": ctx.workspace.sticky_unsubscribe},
        }

    def save(self, ctx, form):
        services.salesforce_permissions_save(
            workspace=ctx.workspace,
            rules=form.rules,
            objects=form.objects,
            sticky_unsubscribe=bool(form.cleaned_data.get("sticky_unsubscribe")),
        )
        return None


class CustomObjectsStep(_PickerStep):
    key = "salesforce-custom-objects"
    title = "Custom objects"
    nav_label = "Custom objects"
    lead = (
        "These other objects were found in your Salesforce org. Tick any you want in Inflow and choose their "
        "fields; you can skip this and add them later."
    )
    locked = ()
    defaults_only = False


class IdentifiersStep(SalesforceStep):
    key = "salesforce-identifiers"
    title = "Set identifiers"
    nav_label = "Identifiers"
    lead = (
        "Some objects have no direct link to a contact. Tell Inflow how their records find the person or "
        "organization they belong to."
    )
    form_class = sf_forms.IdentifiersForm
    template_name = "onboarding/step_identifiers.html"

    def _objects(self, ctx: StepContext) -> tuple[list[catalog_offers.ObjectOffer], list[str]]:
        offers = catalog_offers.object_offers(workspace=ctx.workspace, connection=ctx.connection)
        selected = [o for o in offers if o.synced is not None and o.synced.enabled]
        return [o for o in selected if o.needs_identifiers], [o.api_name for o in selected]

    def get_form_kwargs(self, ctx):
        objects, names = self._objects(ctx)
        return {"objects": objects, "synced_names": names}

    def save(self, ctx, form):
        services.salesforce_identifiers_save(offers=form.objects, rules=form.rules)
        return None


class MergeStep(SalesforceStep):
    key = "salesforce-merge"
    title = "Merge"
    nav_label = "Merge"
    lead = (
        "Choose how people and organizations from Salesforce merge with the ones already in Inflow. "
        "Use Preview to see what the first sync would do before you start it."
    )
    form_class = sf_forms.MergeForm
    template_name = "onboarding/step_merge.html"

    def get_initial(self, ctx):
        connection = ctx.connection
        return {
            "merge_strategy": connection.merge_strategy,
            "record_scope": "existing" if connection.skip_non_existing else "all",
            "find_strategy": connection.find_strategy,
            "merge_converted_leads": connection.merge_converted_leads,
        }

    def get_context(self, ctx):
        return {"merge_choices": sf_forms.MERGE_CHOICES, "connection": ctx.connection}

    def preview(self, ctx, form):
        try:
            return {"preview": sf.merge_preview(connection=ctx.connection, settings=form.settings())}
        except sf.PreviewUnavailable as error:
            return {"preview_error": str(error)}

    def save(self, ctx, form):
        services.salesforce_merge_settings_save(connection=ctx.connection, settings=form.settings())
        return None


class FiltersStep(SalesforceStep):
    """Ortto's selective sync, between Merge and the first sync."""

    key = "salesforce-filters"
    title = "Selective sync"
    nav_label = "Selective sync"
    lead = (
        "Choose which Salesforce records sync. Accounts, Leads and Contacts are filtered separately: sync "
        "all records, only the records matching your criteria, or none. Conditions are combined with AND; "
        "separate several values with commas to match any of them (OR)."
    )
    form_class = sf_forms.SelectiveSyncForm
    template_name = "onboarding/step_filters.html"
    next_label = "Start the first sync"

    def get_form_kwargs(self, ctx):
        if "filter_fields" not in ctx.memo:
            objects = sync_settings.filterable_objects(connection=ctx.connection)
            ctx.memo["filter_fields"] = (
                objects,
                sf.filter_fields(connection=ctx.connection, objects=objects),
            )
        objects, fields = ctx.memo["filter_fields"]
        return {"objects": objects, "fields": fields}

    def get_context(self, ctx):
        return {"connection": ctx.connection}

    def preview(self, ctx, form):
        from django.core.exceptions import ValidationError

        try:
            return {"filter_preview": sf.filter_preview(connection=ctx.connection, choices=form.choices)}
        except ValidationError as error:
            add_validation_error(form, error)
            return {}
        except SalesforceError as error:
            return {
                "filter_preview_error": f"Salesforce could not be read for the preview ({type(error).__name__})."
            }

    def save(self, ctx, form):
        counts = services.salesforce_filters_save_and_start(connection=ctx.connection, choices=form.choices)
        _warn_matches_nothing(ctx, form, counts)
        return None

    def save_settings(self, ctx, form):
        counts = services.salesforce_filters_save(connection=ctx.connection, choices=form.choices)
        _warn_matches_nothing(ctx, form, counts)


def _warn_matches_nothing(ctx: StepContext, form, counts: dict[str, int]) -> None:
    """Criteria that match no record are saved (records may come to match later), with a warning."""
    from django.contrib import messages

    labels = {o.api_name: o.label for o in form.objects}
    modes = {c.api_name: c.sync_filter for c in form.choices}
    for name, count in counts.items():
        if count == 0 and modes.get(name) == "matching" and ctx.request is not None:
            messages.warning(
                ctx.request,
                f"{labels.get(name, name)}: the criteria match no record in Salesforce right now, so none will "
                "sync until a record matches. They were saved; check them if that is not what you meant.",
            )


class CongratulationsStep(SalesforceStep):
    key = "salesforce-congratulations"
    title = "Congratulations — Salesforce is connected"
    nav_label = "First sync"
    lead = (
        "Your first sync has started. It keeps running in the background: carry on with the next steps "
        "whenever you like."
    )
    template_name = "onboarding/step_congratulations.html"

    def get_context(self, ctx) -> dict[str, Any]:
        return {
            "connection": ctx.connection,
            "progress": source_selectors.progress(workspace=ctx.workspace, connection=ctx.connection),
            "progress_url": reverse(
                "integrations:source_progress", kwargs={"connection_id": ctx.connection.pk}
            ),
        }


# The data source's settings pages (Data sources › Salesforce) that edit what these steps chose.
SETTINGS_PAGES = {
    "fields": FieldsStep(),
    "permissions": PermissionsStep(),
    "custom-objects": CustomObjectsStep(),
    "identifiers": IdentifiersStep(),
    "merge": MergeStep(),
    "filters": FiltersStep(),
}
