"""The operator console for Salesforce connections and syncs.

Every action calls the service the pages and commands call (`integrations.services`,
`integrations.ops`, `integrations.connection_settings`, `integrations.sync_settings`, the engine's `tasks.sync_request` /
`engine.retry.retry_errors`) and reports, per connection, what happened or why nothing did. The tokens are
never shown: their columns are excluded from every form and list. The sync health pages and the
disconnect confirmation live in `integrations/admin_views.py`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from cdp.admin import ReadOnlyAdmin, yes_no_badge
from cdp.palette import console_badge
from integrations import (
    admin_views,
    connection_settings,
    ops,
    selectors,
    services,
    sync_health,
    sync_selectors,
    sync_settings,
)
from integrations.models import (
    ChangeStream,
    Connection,
    ConnectionAlert,
    FieldSelection,
    PermissionWriteback,
    SalesforceUserName,
    SourceRecord,
    SyncedObject,
    SyncError,
    SyncRun,
)
from integrations.models.sync import MAX_ACTIVE_FIELDS_PER_OBJECT
from integrations.palette import connection_status_tone, sync_run_state_tone
from integrations.salesforce.errors import SalesforceAuthError, SalesforceError

TOKEN_FIELDS = ("access_token_encrypted", "refresh_token_encrypted")
# The most sync errors one "Retry" click re-reads inside the request (a few REST pages at most).
ADMIN_RETRY_LIMIT = 1000
# The action buttons a connection's page shows, by its status: only what makes sense in that status.
ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    Connection.Status.CONNECTED: (
        "sync_now",
        "full_resync",
        "reconcile",
        "refresh_token",
        "pause",
        "disconnect",
    ),
    Connection.Status.PAUSED: ("resume", "refresh_token", "disconnect"),
    Connection.Status.NEEDS_REAUTH: ("disconnect",),
}


def status_badge(connection: Connection):
    return console_badge(
        connection.get_status_display(),
        connection_status_tone(connection.status),
        title=connection.status_reason,
    )


def report(modeladmin, request, done: list[str], problems: list[str]) -> None:
    """One message per outcome, so an operator acting on twenty connections reads each result."""
    for line in done:
        modeladmin.message_user(request, line, messages.SUCCESS)
    for line in problems:
        modeladmin.message_user(request, line, messages.WARNING)
    if not done and not problems:
        modeladmin.message_user(request, "Nothing was selected.", messages.INFO)


def label(connection: Connection) -> str:
    return f"{connection.username or 'Salesforce'} ({connection.org_id})"


# ----------------------------------------------------------------------------------- connections


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = (
        "connection_label",
        "workspace",
        "status_badge",
        "last_sync",
        "api_usage",
        "open_errors",
        "live_updates",
        "health_link",
    )
    list_display_links = ("connection_label",)
    list_filter = ("status", "login_kind", "schedule_interval_minutes")
    search_fields = ("username", "display_name", "org_id", "sf_user_id", "workspace__name", "workspace__slug")
    list_select_related = ("workspace", "change_stream")
    # The token columns are never part of a form, a read-only field or a list: tokens are never shown.
    exclude = TOKEN_FIELDS
    readonly_fields = (
        "workspace",
        "org_id",
        "sf_user_id",
        "username",
        "display_name",
        "instance_url",
        "login_url",
        "login_kind",
        "identity_url",
        "scopes",
        "api_version",
        "status_badge",
        "status_reason",
        "status_changed_at",
        "connected_at",
        "token_issued_at",
        "last_refreshed_at",
        "refresh_count",
        "api_usage",
        "api_usage_seen_at",
        "live_updates",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            "Salesforce org",
            {
                "fields": (
                    "workspace",
                    ("org_id", "sf_user_id"),
                    ("username", "display_name"),
                    "instance_url",
                    ("login_url", "login_kind"),
                    "identity_url",
                    ("scopes", "api_version"),
                )
            },
        ),
        (
            "Status",
            {
                "fields": (
                    ("status_badge", "status_changed_at"),
                    "status_reason",
                    ("connected_at", "token_issued_at"),
                    ("last_refreshed_at", "refresh_count"),
                    ("api_usage", "api_usage_seen_at"),
                    "live_updates",
                    ("created_at", "updated_at"),
                )
            },
        ),
        (
            "Sync settings",
            {
                "description": "Saved through the same services as Data sources › Salesforce.",
                "fields": (
                    "merge_strategy",
                    "find_strategy",
                    ("skip_non_existing", "merge_converted_leads", "modify_system_fields"),
                    ("schedule_interval_minutes", "api_budget_percent"),
                    "streaming_enabled",
                ),
            },
        ),
    )
    actions = ("sync_now", "full_resync", "reconcile", "refresh_token", "pause", "resume", "disconnect")

    def get_queryset(self, request):
        last_run = (
            SyncRun.objects.filter(connection=OuterRef("pk"))
            .exclude(state=SyncRun.State.SKIPPED)
            .order_by("-queued_at", "-id")
        )
        errors = (
            SyncError.objects.filter(connection=OuterRef("pk"), resolved=False)
            .order_by()
            .values("connection")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .defer(*TOKEN_FIELDS)
            .annotate(
                last_run_at=Subquery(last_run.values("finished_at")[:1]),
                last_run_state=Subquery(last_run.values("state")[:1]),
                open_error_count=Subquery(errors),
            )
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = self.get_object(request, object_id)
        wanted = ACTIONS_BY_STATUS.get(connection.status, ()) if connection else ()
        available = self.get_actions(request)
        extra_context = {
            **(extra_context or {}),
            "connection_actions": [(name, available[name][2]) for name in wanted if name in available],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_ordering(self, request):
        # Connections needing reconnection first, then by workspace.
        rank = Case(
            *[When(status=s, then=Value(r)) for s, r in sync_health.STATUS_ORDER.items()],
            default=Value(9),
            output_field=IntegerField(),
        )
        return [rank.asc(), "workspace__name", "pk"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "sync-health/",
                view(admin_views.SyncHealthView.as_view(model_admin=self)),
                name="integrations_connection_sync_health",
            ),
            path(
                "<int:pk>/sync-health/",
                view(admin_views.SyncHealthView.as_view(model_admin=self)),
                name="integrations_connection_sync_health_one",
            ),
            *super().get_urls(),
        ]

    def has_add_permission(self, request) -> bool:
        return False  # connections come from the OAuth flow, never from a form

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting is for disconnected connections only (the service refuses the rest).
        if obj is not None and obj.status != Connection.Status.DISCONNECTED:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through connection_delete
        return actions

    # --- columns ---------------------------------------------------------------------------------
    @admin.display(description="Connection", ordering="username")
    def connection_label(self, obj):
        return format_html(
            "{}<br><small>org {} · {}</small>",
            obj.username or "Salesforce",
            obj.org_id,
            obj.get_login_kind_display(),
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description="Last sync", ordering="last_run_at")
    def last_sync(self, obj):
        when = getattr(obj, "last_run_at", None)
        if when is None:
            return "—" if not getattr(obj, "last_run_state", None) else obj.last_run_state
        return format_html(
            "{}<br><small>{}</small>", timezone.localtime(when).strftime("%Y-%m-%d %H:%M"), obj.last_run_state
        )

    @admin.display(description="API usage (24 h)", ordering="api_usage_used")
    def api_usage(self, obj):
        if obj.api_usage_max is None or obj.api_usage_used is None:
            return format_html("—<br><small>budget {}%</small>", obj.api_budget_percent)
        return format_html(
            "{}&nbsp;/&nbsp;{} ({}%)<br><small>budget {}%</small>",
            f"{obj.api_usage_used:,}",
            f"{obj.api_usage_max:,}",
            obj.api_usage_percent,
            obj.api_budget_percent,
        )

    @admin.display(description="Open errors", ordering="open_error_count")
    def open_errors(self, obj):
        count = getattr(obj, "open_error_count", None) or 0
        if not count:
            return "0"
        url = (
            reverse("admin:integrations_syncerror_changelist")
            + f"?connection__id__exact={obj.pk}&resolved__exact=0"
        )
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description="Health")
    def health_link(self, obj):
        return format_html(
            '<a href="{}">Sync health</a>',
            reverse("admin:integrations_connection_sync_health_one", args=[obj.pk]),
        )

    # --- saving and deleting through the services --------------------------------------------
    @admin.display(description="Live updates")
    def live_updates(self, obj):
        status = sync_selectors.live_status(workspace=obj.workspace, connection=obj)
        stream = getattr(obj, "change_stream", None) if hasattr(obj, "change_stream") else None
        held = (
            f" · listener {stream.lease_owner}, replay id {stream.replay_id}"
            if stream and stream.lease_owner
            else ""
        )
        return f"{status.label}: {status.detail}{held}"

    def save_model(self, request, obj, form, change):
        changed = [name for name in form.changed_data if name in connection_settings.SETTING_FIELDS]
        if not changed:
            return
        try:
            # The one write path: row lock, every rule, and the django-q2 schedule re-timed after commit.
            connection_settings.connection_settings_update(
                connection=obj, actor=request.user, **{name: form.cleaned_data[name] for name in changed}
            )
        except ValidationError as exc:
            self.message_user(request, "Settings not saved: " + " ".join(exc.messages), messages.ERROR)

    def get_deleted_objects(self, objs, request):
        """Counts in SQL instead of Django's list of every related row: a connection may own millions of
        source records, and the confirmation page must stay one page."""

        model_count: dict[str, int] = {}
        for connection in objs:
            for name, count in selectors.connection_delete_summary(
                workspace=connection.workspace, connection=connection
            ):
                model_count[name] = model_count.get(name, 0) + count
        summary = [f"{c}: {c.get_status_display()}, the CDP's people and organizations stay" for c in objs]
        return summary, model_count, set(), []

    def delete_model(self, request, obj):
        try:
            services.connection_delete(connection=obj)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)

    # --- actions ---------------------------------------------------------------------------------
    def _start(self, request, queryset, kind, verb):
        done, problems = [], []
        for connection in queryset.order_by("pk"):
            try:
                run, created = ops.connection_sync_start(connection=connection, kind=kind)
            except ValidationError as exc:
                problems.append(" ".join(exc.messages))
                continue
            done.append(
                f"{verb} {label(connection)}: run #{run.pk} queued."
                if created
                else f"{label(connection)} already has run #{run.pk} {run.get_state_display().lower()}; "
                "joined it instead of starting another."
            )
        report(self, request, done, problems)

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request, queryset):
        self._start(request, queryset, None, "Sync of")

    @admin.action(description="Full resync (re-read every record)", permissions=["change"])
    def full_resync(self, request, queryset):
        self._start(request, queryset, SyncRun.Kind.RESYNC, "Full resync of")

    @admin.action(description="Reconcile with Salesforce (hard deletes, missed rows)", permissions=["change"])
    def reconcile(self, request, queryset):
        self._start(request, queryset, SyncRun.Kind.RECONCILE, "Reconcile of")

    @admin.action(description="Refresh access token", permissions=["change"])
    def refresh_token(self, request, queryset):
        done, problems = [], []
        for connection in queryset.order_by("pk"):
            if connection.status in (Connection.Status.DISCONNECTED, Connection.Status.NEEDS_REAUTH):
                problems.append(ops.connection_state_problem(connection, doing="refresh the token of"))
                continue
            try:
                connection = services.connection_refresh_now(connection=connection)
            except SalesforceAuthError as exc:
                problems.append(
                    f"Salesforce refused the refresh token of {label(connection)} ({exc.message}); "
                    "the connection now needs reconnecting and its owners will be emailed."
                )
                continue
            except SalesforceError as exc:
                problems.append(
                    f"Could not refresh {label(connection)}: {exc}. Nothing changed; try again later."
                )
                continue
            done.append(
                f"Refreshed the access token of {label(connection)} at "
                f"{timezone.localtime(connection.last_refreshed_at):%H:%M:%S}."
            )
        report(self, request, done, problems)

    @admin.action(description="Pause syncing", permissions=["change"])
    def pause(self, request, queryset):
        done, problems = [], []
        for connection in queryset.order_by("pk"):
            if connection.status == Connection.Status.PAUSED:
                problems.append(f"{label(connection)} is already paused.")
                continue
            if connection.status != Connection.Status.CONNECTED:
                problems.append(ops.connection_state_problem(connection, doing="pause"))
                continue
            result = services.connection_set_paused(
                connection=connection, paused=True, reason=f"Paused by {request.user} from the admin."
            )
            if result.status == Connection.Status.PAUSED:
                done.append(f"Paused {label(connection)}: scheduled syncs stop until it is resumed.")
            else:
                problems.append(ops.connection_state_problem(result, doing="pause"))
        report(self, request, done, problems)

    @admin.action(description="Resume syncing", permissions=["change"])
    def resume(self, request, queryset):
        done, problems = [], []
        for connection in queryset.order_by("pk"):
            if connection.status == Connection.Status.CONNECTED:
                problems.append(f"{label(connection)} is not paused; it is already syncing.")
                continue
            if connection.status != Connection.Status.PAUSED:
                problems.append(ops.connection_state_problem(connection, doing="resume"))
                continue
            result = services.connection_set_paused(connection=connection, paused=False)
            if result.status == Connection.Status.CONNECTED:
                done.append(
                    f"Resumed {label(connection)}: the next scheduled sync picks up where it stopped."
                )
            else:
                problems.append(ops.connection_state_problem(result, doing="resume"))
        report(self, request, done, problems)

    @admin.action(description="Disconnect (revoke the token at Salesforce)", permissions=["change"])
    def disconnect(self, request, queryset):
        return admin_views.disconnect_confirm(self, request, queryset)


# ----------------------------------------------------------------------------- synced objects


class FieldSelectionFormSet(BaseInlineFormSet):
    """The 50-field limit is the service's: `clean` runs `field_selection_save` as a dry run (rolled
    back) so the form shows the service's own message, and the admin saves through it for real."""

    def chosen_fields(self) -> list[sync_settings.FieldChoice]:
        chosen = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or not data.get("sf_field") or not data.get("active"):
                continue
            chosen.append(
                sync_settings.FieldChoice(
                    name=data["sf_field"],
                    type=data.get("sf_type") or "string",
                    label=data.get("label") or "",
                    target_field=data.get("target_field") or "",
                    calculated=bool(data.get("is_formula")),
                )
            )
        return chosen

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            with transaction.atomic():
                sync_settings.field_selection_save(synced_object=self.instance, fields=self.chosen_fields())
                transaction.set_rollback(True)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class FieldSelectionForm(forms.ModelForm):
    class Meta:
        model = FieldSelection
        fields = ("sf_field", "label", "sf_type", "target_field", "is_formula", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Empty = the default CDP field for this Salesforce field, chosen by the service.
        self.fields["target_field"].required = False
        self.fields["target_field"].help_text = "Empty: the default CDP field."


class FieldSelectionInline(admin.TabularInline):
    model = FieldSelection
    form = FieldSelectionForm
    formset = FieldSelectionFormSet
    fields = ("sf_field", "label", "sf_type", "target_field", "is_formula", "active", "inactive_reason")
    readonly_fields = ("inactive_reason",)
    extra = 1
    can_delete = False  # unticking "active" deselects a field; its history stays


class ActiveFieldsFilter(admin.SimpleListFilter):
    title = "field selection"
    parameter_name = "fields"

    def lookups(self, request, model_admin):
        return (("full", "At the 50-field limit"), ("none", "No active field"))

    def queryset(self, request, queryset):
        if self.value() == "full":
            return queryset.filter(active_field_count__gte=MAX_ACTIVE_FIELDS_PER_OBJECT)
        if self.value() == "none":
            return queryset.filter(active_field_count=0)
        return queryset


@admin.register(SyncedObject)
class SyncedObjectAdmin(admin.ModelAdmin):
    list_display = (
        "api_name",
        "label",
        "connection",
        "workspace",
        "becomes",
        "enabled",
        "active_fields",
        "records_synced",
        "last_synced_at",
        "backfill_done",
    )
    list_filter = ("becomes", "enabled", "is_custom", "identifier_kind", ActiveFieldsFilter)
    search_fields = ("api_name", "label", "connection__org_id", "connection__username", "workspace__slug")
    list_select_related = ("connection", "workspace")
    readonly_fields = (
        "workspace",
        "connection",
        "api_name",
        "label",
        "is_custom",
        "becomes",
        "enabled",
        "identifier_kind",
        "identifier_config",
        "email_permission",
        "sms_permission",
        # Selective sync is changed on its page, which checks criteria against Salesforce's describe.
        "sync_filter",
        "filter_criteria",
        "unmatched_action",
        "filter_changed_at",
        "watermark_modstamp",
        "watermark_id",
        "backfill_completed_at",
        "checkpoint",
        "records_synced",
        "last_synced_at",
        "last_reconciled_at",
        "created_at",
    )
    inlines = [FieldSelectionInline]
    actions = ("resync_objects",)

    def get_queryset(self, request):
        active = (
            FieldSelection.objects.filter(synced_object=OuterRef("pk"), active=True)
            .order_by()
            .values("synced_object")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).defer("checkpoint").annotate(active_field_count=Subquery(active))

    def has_add_permission(self, request) -> bool:
        return False  # objects are selected through the onboarding / settings pages (sync_settings)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Active fields", ordering="active_field_count")
    def active_fields(self, obj):
        return f"{obj.active_field_count or 0} / {MAX_ACTIVE_FIELDS_PER_OBJECT}"

    @admin.display(description="Backfill done", boolean=True)
    def backfill_done(self, obj):
        return obj.backfill_completed_at is not None

    def save_model(self, request, obj, form, change):
        pass  # the object's own fields are read-only here; the selection is saved in save_formset

    def save_formset(self, request, form, formset, change):
        if formset.model is not FieldSelection:
            return super().save_formset(request, form, formset, change)
        try:
            saved = sync_settings.field_selection_save(
                synced_object=form.instance, fields=formset.chosen_fields()
            )
        except ValidationError as exc:  # a concurrent save won the race for the last slots
            self.message_user(request, "Field selection not saved: " + " ".join(exc.messages), messages.ERROR)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        self.message_user(
            request, f"{form.instance.label}: {len(saved)} field(s) selected for sync.", messages.INFO
        )

    def construct_change_message(self, request, form, formsets, add=False):
        return [{"changed": {"fields": ["field selection"]}}]

    @admin.action(description="Resync the selected objects (re-read every record)", permissions=["change"])
    def resync_objects(self, request, queryset):
        by_connection: dict[int, list[str]] = {}
        for obj in queryset.order_by("connection_id", "api_name"):
            by_connection.setdefault(obj.connection_id, []).append(obj.api_name)
        done, problems = [], []
        for connection in Connection.objects.filter(pk__in=list(by_connection)).order_by("pk"):
            names = by_connection[connection.pk]
            try:
                run, created = ops.connection_sync_start(
                    connection=connection, kind=SyncRun.Kind.RESYNC, only_objects=names
                )
            except ValidationError as exc:
                problems.append(" ".join(exc.messages))
                continue
            done.append(
                f"Resync of {', '.join(names)} on {label(connection)}: run #{run.pk} queued."
                if created
                else f"{label(connection)} already has run #{run.pk} in progress; try again when it finishes."
            )
        report(self, request, done, problems)


@admin.register(FieldSelection)
class FieldSelectionAdmin(ReadOnlyAdmin):
    list_display = (
        "sf_field",
        "synced_object",
        "sf_type",
        "target_field",
        "is_formula",
        "active",
        "inactive_reason",
    )
    list_filter = ("active", "is_formula", "sf_type")
    search_fields = ("sf_field", "target_field", "synced_object__api_name")
    list_select_related = ("synced_object",)


# ---------------------------------------------------------------------------------------- runs


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "connection",
        "workspace",
        "kind",
        "state_badge",
        "progress_percent",
        "fetched",
        "created",
        "merged",
        "ignored",
        "archived",
        "failed",
        "activities_recorded",
        "api_calls",
        "duration",
        "queued_at",
    )
    list_filter = ("state", "kind")
    search_fields = ("=id", "connection__org_id", "connection__username", "workspace__slug", "state_reason")
    list_select_related = ("connection", "workspace")
    show_full_result_count = False
    readonly_fields = (
        "workspace",
        "connection",
        "kind",
        "state_badge",
        "state_reason",
        "only_objects",
        "progress_table",
        "fetched",
        "created",
        "merged",
        "ignored",
        "archived",
        "failed",
        "activities_recorded",
        "api_calls",
        "attempts",
        "worker",
        "queued_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "duration",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("connection__access_token_encrypted", "connection__refresh_token_encrypted")
        )

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj):
        return console_badge(
            obj.get_state_display(),
            sync_run_state_tone(obj.state),
            title=obj.state_reason,
        )

    @admin.display(description="Progress")
    def progress_percent(self, obj):
        if obj.state == SyncRun.State.SUCCEEDED:
            return "100%"
        entries = list((obj.progress or {}).values())
        total = sum((e.get("total") or 0) for e in entries)
        done = sum((e.get("done") or 0) for e in entries)
        if not total:
            return f"{done:,} records" if done else "—"
        return f"{min(99, int(100 * done / total))}% ({done:,}/{total:,})"

    @admin.display(description="Duration")
    def duration(self, obj):
        seconds = obj.seconds
        if seconds is None:
            return "—"
        seconds = int(seconds)
        return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"

    @admin.display(description="Per-object progress")
    def progress_table(self, obj):
        if not obj.progress:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    name,
                    e.get("state", ""),
                    e.get("done", 0),
                    "—" if e.get("total") is None else e["total"],
                    e.get("api_calls", 0),
                )
                for name, e in obj.progress.items()
            ),
        )
        return format_html(
            "<table><thead><tr><th>Object</th><th>State</th><th>Done</th><th>Total</th><th>API calls</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )


# -------------------------------------------------------------------------------------- errors


class ObjectNameFilter(admin.SimpleListFilter):
    title = "object"
    parameter_name = "object_name"

    def lookups(self, request, model_admin):
        names = SyncError.objects.order_by("object_name").values_list("object_name", flat=True).distinct()
        return [(n, n or "(whole run)") for n in names]

    def queryset(self, request, queryset):
        if self.value() is not None:
            return queryset.filter(object_name=self.value())
        return queryset


@admin.register(SyncError)
class SyncErrorAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "error_type",
        "object_name",
        "sf_id",
        "short_message",
        "connection",
        "workspace",
        "retryable_badge",
        "resolved_badge",
    )
    list_filter = ("error_type", ObjectNameFilter, "resolved", "retryable")
    search_fields = ("sf_id", "message", "object_name", "connection__org_id", "workspace__slug")
    list_select_related = ("connection", "workspace")
    show_full_result_count = False
    readonly_fields = (
        "workspace",
        "connection",
        "run",
        "object_name",
        "sf_id",
        "error_type",
        "message",
        "fix",
        "payload_excerpt",
        "retryable",
        "resolved",
        "resolved_at",
        "created_at",
    )
    actions = ("retry_errors", "ignore_errors", "export_csv")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer(
                "payload_excerpt", "connection__access_token_encrypted", "connection__refresh_token_encrypted"
            )
        )

    def has_change_permission(self, request, obj=None) -> bool:
        # Retry and ignore change errors (the changelist's actions); a single error is never edited by hand.
        return obj is None and request.user.has_perm("integrations.change_syncerror")

    @admin.display(description="Message")
    def short_message(self, obj):
        return obj.message if len(obj.message) <= 120 else obj.message[:117] + "…"

    @admin.display(description="Retryable", ordering="retryable")
    def retryable_badge(self, obj):
        return yes_no_badge(obj.retryable)

    @admin.display(description="Resolved", ordering="resolved")
    def resolved_badge(self, obj):
        return yes_no_badge(obj.resolved)

    @admin.action(description="Retry: re-read these records from Salesforce now", permissions=["change"])
    def retry_errors(self, request, queryset):
        # Retrying reads Salesforce inside this request; past a few pages that belongs in a terminal.
        selected = queryset.filter(resolved=False).count()
        if selected > ADMIN_RETRY_LIMIT:
            self.message_user(
                request,
                f"Did not retry: {selected:,} open errors are selected and the admin retries at most "
                f"{ADMIN_RETRY_LIMIT:,} at once. Narrow the selection (filter by connection or type), or run "
                "`manage.py sync_errors --retry --connection <id>` in a terminal.",
                messages.WARNING,
            )
            return
        outcome = ops.sync_errors_retry(errors=queryset.select_related("connection"))
        if outcome.retried or outcome.resolved:
            self.message_user(
                request,
                f"Re-read {outcome.retried} record(s) from Salesforce; {outcome.resolved} error(s) resolved.",
                messages.SUCCESS,
            )
        if outcome.not_retryable:
            self.message_user(
                request,
                f"{outcome.not_retryable} error(s) cannot be retried (no record to re-read, or the fix is in "
                "Salesforce or in the field selection); they stay open until ignored.",
                messages.WARNING,
            )
        for line in outcome.refused:
            self.message_user(request, line, messages.WARNING)
        if not (outcome.retried or outcome.resolved or outcome.not_retryable or outcome.refused):
            self.message_user(request, "No open error was selected: nothing to retry.", messages.INFO)

    @admin.action(description="Ignore: mark resolved without retrying", permissions=["change"])
    def ignore_errors(self, request, queryset):
        count = ops.sync_errors_ignore(errors=queryset)
        if count:
            self.message_user(
                request, f"Ignored {count} error(s); they no longer count as open.", messages.SUCCESS
            )
        else:
            self.message_user(
                request, "The selected errors were already resolved: nothing changed.", messages.INFO
            )

    @admin.action(description="Export as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="sync-errors-{stamp}.csv"'
        ops.sync_errors_write_csv(errors=queryset, out=response)
        return response


# ----------------------------------------------------------------------------- stored payloads


@admin.register(SourceRecord)
class SourceRecordAdmin(ReadOnlyAdmin):
    list_display = ("sf_id", "object_name", "connection", "system_modstamp", "deleted")
    list_filter = ("deleted",)
    search_fields = ("=sf_id", "object_name")
    list_select_related = ("connection",)
    show_full_result_count = False
    readonly_fields = (
        "connection",
        "object_name",
        "sf_id",
        "system_modstamp",
        "payload",
        "hash",
        "ref_id",
        "deleted",
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("payload", "connection__access_token_encrypted", "connection__refresh_token_encrypted")
        )


@admin.register(SalesforceUserName)
class SalesforceUserNameAdmin(ReadOnlyAdmin):
    """The Salesforce user names the sync read, so owner ids show as people (read-only: the sync writes them)."""

    list_display = ("name", "sf_id", "connection", "fetched_at")
    search_fields = ("=sf_id", "name")
    list_select_related = ("connection",)
    readonly_fields = ("connection", "sf_id", "name", "fetched_at")

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*(f"connection__{f}" for f in TOKEN_FIELDS))


@admin.register(PermissionWriteback)
class PermissionWritebackAdmin(ReadOnlyAdmin):
    """The write-back outbox: permission changes made in Inflow on their way to Salesforce records."""

    list_display = (
        "created_at",
        "state",
        "object_name",
        "sf_id",
        "sf_field",
        "sf_value",
        "attempts",
        "connection",
    )
    list_filter = ("state", "object_name")
    search_fields = ("=sf_id", "last_error", "workspace__slug")
    list_select_related = ("connection",)
    readonly_fields = [f.name for f in PermissionWriteback._meta.concrete_fields]

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*(f"connection__{f}" for f in TOKEN_FIELDS))


@admin.register(ConnectionAlert)
class ConnectionAlertAdmin(ReadOnlyAdmin):
    list_display = ("sent_at", "kind", "connection", "recipients", "status_changed_at")
    list_filter = ("kind",)
    search_fields = ("recipients", "connection__org_id", "connection__username")
    list_select_related = ("connection",)


@admin.register(ChangeStream)
class ChangeStreamAdmin(ReadOnlyAdmin):
    """Each connection's live-updates listener: who holds the lease, the replay id, the last event."""

    list_display = (
        "connection",
        "state",
        "lease_owner",
        "lease_expires_at",
        "replay_id",
        "last_event_at",
        "events_received",
        "fallbacks",
    )
    list_filter = ("state",)
    search_fields = ("connection__username", "connection__org_id", "lease_owner")
    list_select_related = ("connection",)
