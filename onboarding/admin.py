"""Onboarding in the operator console: each workspace's profile, plan and onboarding step.

`cdp` knows nothing of onboarding (apps import onboarding -> integrations -> cdp), so this module
re-registers cdp's Workspace admin with the plan and onboarding columns added rather than cdp reading them.
Profile edits go through `onboarding.services.profile_update`, the service the Settings pages use.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models

from cdp.admin import WorkspaceAdmin
from cdp.models import Workspace
from onboarding.models import WorkspaceProfile
from onboarding.services import PROFILE_FIELDS, profile_update


def _step(profile: WorkspaceProfile | None) -> str:
    if profile is None:
        return "not started"
    if profile.launched_at:
        return "launched"
    return profile.current_step or (
        f"{len(profile.completed_steps)} step(s) done" if profile.completed_steps else "not started"
    )


class OnboardingWorkspaceAdmin(WorkspaceAdmin):
    list_display = (*WorkspaceAdmin.list_display[:4], "plan", "onboarding_step", "launched", "created_at")
    list_filter = (
        "profile__plan",
        ("profile__launched_at", admin.EmptyFieldListFilter),
        "sticky_unsubscribe",
    )
    list_select_related = ("profile",)
    readonly_fields = (*WorkspaceAdmin.readonly_fields, "plan", "onboarding_step")

    def _profile(self, obj) -> WorkspaceProfile | None:
        try:
            return obj.profile
        except WorkspaceProfile.DoesNotExist:
            return None

    @admin.display(description="Plan", ordering="profile__plan")
    def plan(self, obj):
        profile = self._profile(obj)
        return profile.get_plan_display() if profile and profile.plan else "—"

    @admin.display(description="Onboarding step", ordering="profile__current_step")
    def onboarding_step(self, obj):
        return _step(self._profile(obj))

    @admin.display(description="Launched", boolean=True, ordering="profile__launched_at")
    def launched(self, obj):
        profile = self._profile(obj)
        return bool(profile and profile.launched_at)


admin.site.unregister(Workspace)
admin.site.register(Workspace, OnboardingWorkspaceAdmin)


@admin.register(WorkspaceProfile)
class WorkspaceProfileAdmin(admin.ModelAdmin):
    list_display = (
        "workspace",
        "plan",
        "trial_ends_at",
        "onboarding_step",
        "business_type",
        "crm",
        "country",
        "launched_at",
        "updated_at",
    )
    list_filter = ("plan", "business_type", "crm", ("launched_at", admin.EmptyFieldListFilter))
    search_fields = ("workspace__name", "workspace__slug", "sender_email", "city")
    list_select_related = ("workspace",)
    readonly_fields = (
        "workspace",
        "completed_steps",
        "drafts",
        "current_step",
        "launched_at",
        "trial_ends_at",
        "updated_at",
    )
    fieldsets = (
        ("Progress", {"fields": ("workspace", "current_step", "completed_steps", "launched_at", "drafts")}),
        ("Business", {"fields": ("business_type", "crm", "plan", "trial_ends_at")}),
        (
            "Address",
            {"fields": ("address_line1", "address_line2", "city", "region", "postal_code", "country")},
        ),
        ("Email", {"fields": ("sender_name", "sender_email", "reply_to")}),
        (
            "Brand",
            {"fields": ("logo", "primary_color", "background_color", "text_color", "font", "button_style")},
        ),
        (
            "Links",
            {
                "fields": (
                    "website_url",
                    "facebook_url",
                    "x_url",
                    "linkedin_url",
                    "instagram_url",
                    "youtube_url",
                )
            },
        ),
        ("", {"fields": ("updated_at",)}),
    )

    def has_add_permission(self, request) -> bool:
        return False  # a profile is created with its workspace's onboarding

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"  # as the Links step's form does for a bare domain
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Onboarding step")
    def onboarding_step(self, obj):
        return _step(obj)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in PROFILE_FIELDS}
        if not data:
            return
        try:
            profile_update(workspace=obj.workspace, data=data)
        except ValidationError as exc:
            self.message_user(request, "Profile not saved: " + " ".join(exc.messages), messages.ERROR)
