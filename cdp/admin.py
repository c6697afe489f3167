"""The operator console for the CDP: workspaces and their customer data, read-only.

Customer data is written only by the merge engine and the CDP services, so the admin shows it and
never edits it (STYLE 5: the admin is another interface over the same services). Every list page runs
a fixed number of queries: related rows come through `list_select_related`, counts through
annotations, and large tables skip the full-count query.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.utils.html import format_html

from cdp.models import (
    Activity,
    ActivityDefinition,
    ArchiveChange,
    CustomObject,
    CustomObjectRecord,
    FieldDefinition,
    Identity,
    Membership,
    Organization,
    PermissionChange,
    Person,
    Workspace,
)
from cdp.services import person_permission_set

admin.site.site_header = "Inflow operator console"
admin.site.site_title = "Inflow console"
admin.site.index_title = "Operations"


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: rows change through services and the sync engine, never through a form here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return (("no", "Active"), ("yes", "Archived"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        return queryset


def yes_no_badge(value: bool | None, *, yes: str = "Yes", no: str = "No"):
    if value is None:
        return "—"
    return format_html(
        '<span class="{}">{}</span>', "inflow-yes" if value else "inflow-no", yes if value else no
    )


# ------------------------------------------------------------------------------------ workspaces


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Workspace)
class WorkspaceAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "owner_email", "member_count", "sticky_unsubscribe", "created_at")
    list_filter = ("sticky_unsubscribe",)
    search_fields = ("name", "slug", "memberships__user__email")
    list_select_related = ()
    readonly_fields = ("name", "slug", "sticky_unsubscribe", "created_at")
    inlines = [MembershipInline]

    def get_queryset(self, request):
        owner = Membership.objects.filter(workspace=OuterRef("pk"), role=Membership.Role.OWNER).order_by("pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("memberships", distinct=True),
                owner_email=Subquery(owner.values("user__email")[:1]),
            )
        )

    @admin.display(description="Owner", ordering="owner_email")
    def owner_email(self, obj):
        return obj.owner_email or "—"

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "workspace", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "workspace__name", "workspace__slug")
    list_select_related = ("user", "workspace")


# --------------------------------------------------------------------------------- customer data


class IdentityInline(ReadOnlyInline):
    model = Identity
    fields = ("source", "object", "external_id", "created_at")
    readonly_fields = fields
    show_change_link = False


class PermissionChangeInline(ReadOnlyInline):
    model = PermissionChange
    fields = ("field_id", "old_value", "new_value", "source", "actor", "changed_at")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "full_name",
        "email",
        "phone",
        "organization",
        "email_subscribed",
        "sms_subscribed",
        "workspace",
        "updated_at",
        "archived_at",
    )
    list_display_links = ("id", "full_name")
    list_filter = ("email_permission", "sms_permission", ArchivedFilter)
    search_fields = ("email", "first_name", "last_name", "phone", "external_id", "workspace__slug")
    list_select_related = ("workspace", "organization")
    show_full_result_count = False  # people tables are large: skip the second COUNT(*)
    inlines = [IdentityInline, PermissionChangeInline]
    readonly_fields = [f.name for f in Person._meta.concrete_fields]
    actions = ["unsubscribe_from_email", "subscribe_to_email"]

    def _set_email_permission(self, request, queryset, value: bool) -> None:
        # Through the service: a history row with the operator as actor, and the sources' write-back hooks.
        for person in queryset.select_related("workspace"):
            person_permission_set(
                workspace=person.workspace,
                person_id=person.pk,
                field_id="bol::p",
                value=value,
                actor=request.user,
            )
        self.message_user(
            request, f"{queryset.count()} {'subscribed to' if value else 'unsubscribed from'} email."
        )

    @admin.action(description="Unsubscribe from email")
    def unsubscribe_from_email(self, request, queryset):
        self._set_email_permission(request, queryset, False)

    @admin.action(description="Subscribe to email")
    def subscribe_to_email(self, request, queryset):
        self._set_email_permission(request, queryset, True)

    @admin.display(description="Name", ordering="last_name")
    def full_name(self, obj):
        return obj.full_name or "—"

    @admin.display(description="Email permission", ordering="email_permission")
    def email_subscribed(self, obj):
        return yes_no_badge(obj.email_permission, yes="Subscribed", no="Unsubscribed")

    @admin.display(description="SMS permission", ordering="sms_permission")
    def sms_subscribed(self, obj):
        return yes_no_badge(obj.sms_permission, yes="Subscribed", no="Unsubscribed")


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "name",
        "website",
        "industry",
        "employees",
        "country",
        "workspace",
        "updated_at",
        "archived_at",
    )
    list_display_links = ("id", "name")
    list_filter = (ArchivedFilter,)
    search_fields = ("name", "website", "workspace__slug")
    list_select_related = ("workspace",)
    show_full_result_count = False
    inlines = [IdentityInline]
    readonly_fields = [f.name for f in Organization._meta.concrete_fields]


@admin.register(Identity)
class IdentityAdmin(ReadOnlyAdmin):
    list_display = ("source", "object", "external_id", "person", "organization", "workspace", "created_at")
    list_filter = ("object",)
    search_fields = ("external_id", "source", "workspace__slug")
    list_select_related = ("workspace", "person", "organization")
    show_full_result_count = False


@admin.register(ActivityDefinition)
class ActivityDefinitionAdmin(ReadOnlyAdmin):
    list_display = ("name", "activity_id", "workspace", "builtin", "hidden", "created_at")
    list_filter = ("builtin", "hidden")
    search_fields = ("name", "activity_id", "workspace__slug")
    list_select_related = ("workspace",)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "definition", "person", "organization", "source", "workspace")
    list_filter = ("definition__activity_id",)
    search_fields = ("source_key", "person__email", "workspace__slug")
    list_select_related = ("workspace", "definition", "person", "organization")
    show_full_result_count = False
    readonly_fields = [f.name for f in Activity._meta.concrete_fields]


@admin.register(CustomObject)
class CustomObjectAdmin(ReadOnlyAdmin):
    list_display = ("name", "object_name", "source", "workspace", "record_count", "created_at")
    search_fields = ("name", "object_name", "workspace__slug")
    list_select_related = ("workspace",)

    def get_queryset(self, request):
        records = (
            CustomObjectRecord.objects.filter(custom_object=OuterRef("pk"))
            .order_by()
            .values("custom_object")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(record_count=Subquery(records))

    @admin.display(description="Records", ordering="record_count")
    def record_count(self, obj):
        return obj.record_count or 0


@admin.register(CustomObjectRecord)
class CustomObjectRecordAdmin(ReadOnlyAdmin):
    list_display = ("name_or_id", "external_id", "custom_object", "workspace", "updated_at", "archived_at")
    list_filter = ("custom_object__object_name", ArchivedFilter)
    search_fields = ("external_id", "name", "workspace__slug")
    list_select_related = ("workspace", "custom_object")
    show_full_result_count = False
    readonly_fields = (
        "workspace",
        "custom_object",
        "external_id",
        "name",
        "values",
        "people",
        "organizations",
        "created_at",
        "updated_at",
        "archived_at",
    )

    @admin.display(description="Record", ordering="name")
    def name_or_id(self, obj):
        return obj.name or obj.external_id


@admin.register(FieldDefinition)
class FieldDefinitionAdmin(ReadOnlyAdmin):
    list_display = (
        "field_id",
        "name",
        "display_type",
        "entity",
        "namespace",
        "builtin",
        "read_only",
        "workspace",
    )
    list_filter = ("entity", "builtin", "display_type", "namespace")
    search_fields = ("field_id", "name", "workspace__slug")
    list_select_related = ("workspace",)


@admin.register(PermissionChange)
class PermissionChangeAdmin(ReadOnlyAdmin):
    """The email/SMS permission history: an audit trail, so nobody edits or deletes it here."""

    list_display = ("changed_at", "person", "channel", "change", "source", "actor", "workspace")
    list_filter = ("field_id", "source")
    search_fields = ("person__email", "source", "workspace__slug")
    list_select_related = ("workspace", "person", "actor")
    show_full_result_count = False

    @admin.display(description="Channel", ordering="field_id")
    def channel(self, obj):
        return {"bol::p": "Email", "bol::sp": "SMS"}.get(obj.field_id, obj.field_id)

    @admin.display(description="Change")
    def change(self, obj):
        def word(value):
            return "—" if value is None else ("subscribed" if value else "unsubscribed")

        return f"{word(obj.old_value)} → {word(obj.new_value)}"


@admin.register(ArchiveChange)
class ArchiveChangeAdmin(ReadOnlyAdmin):
    """When people and organizations were archived or restored, and which source record caused it."""

    list_display = ("changed_at", "person", "organization", "archived", "object", "source", "workspace")
    list_filter = ("archived", "object", "source")
    search_fields = ("person__email", "organization__name", "source", "workspace__slug")
    list_select_related = ("workspace", "person", "organization")
    show_full_result_count = False
