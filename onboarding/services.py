"""Writes on the onboarding profile and progress. Views and steps call these, never `.save()`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cdp import services as cdp_services
from cdp.models import Workspace
from integrations import plan_limits, sync_settings
from integrations.connection_settings import connection_settings_update
from integrations.models import SyncRun
from integrations.salesforce import objects
from integrations.salesforce.tasks import sync_request
from onboarding.models import WorkspaceProfile
from onboarding.plans import PLANS_BY_KEY, TRIAL_DAYS

# The workspace fields each step or settings form may write; anything else is refused.
PROFILE_FIELDS = frozenset(
    f.name
    for f in WorkspaceProfile._meta.get_fields()
    if getattr(f, "concrete", False)
    and f.name not in {"workspace", "completed_steps", "drafts", "current_step", "launched_at", "updated_at"}
)


def profile_ensure(*, workspace: Workspace) -> WorkspaceProfile:
    """The workspace's profile, created on first use (the primary key makes a race create one row)."""
    profile, _ = WorkspaceProfile.objects.get_or_create(workspace=workspace)
    return profile


def _locked(workspace: Workspace) -> WorkspaceProfile:
    profile_ensure(workspace=workspace)
    return WorkspaceProfile.objects.select_for_update().get(workspace=workspace)


@transaction.atomic
def profile_update(*, workspace: Workspace, data: dict[str, Any]) -> WorkspaceProfile:
    unknown = set(data) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    if "logo" in data:
        # A file form gives None for "unchanged" and False for "cleared".
        if data["logo"] is None:
            data = {k: v for k, v in data.items() if k != "logo"}
        elif data["logo"] is False:
            data = {**data, "logo": ""}
    if "plan" in data and data["plan"] not in PLANS_BY_KEY:
        raise ValidationError({"plan": "Choose one of the plans shown."})
    if "plan" in data:
        plan = PLANS_BY_KEY[data["plan"]]
        problems = plan_limits.plan_change_problems(workspace, plan.limits)
        if problems:
            raise ValidationError({"plan": f"The {plan.name} plan does not fit yet: {'; '.join(problems)}."})
    profile = _locked(workspace)
    for name, value in data.items():
        setattr(profile, name, value)
    # A trial starts once: choosing the trial again (or going back) does not extend it.
    if data.get("plan") == WorkspaceProfile.Plan.PREMIUM_TRIAL and profile.trial_ends_at is None:
        profile.trial_ends_at = timezone.now() + timedelta(days=TRIAL_DAYS)
        data = {**data, "trial_ends_at": profile.trial_ends_at}
    profile.full_clean()
    profile.save(update_fields=[*data.keys(), "updated_at"])
    if "plan" in data:
        # Run the connection settings' own checks against the limits just chosen (they read the profile).
        plan_limits.intervals_fit(workspace, PLANS_BY_KEY[data["plan"]].limits)
    return profile


@transaction.atomic
def onboarding_step_complete(*, workspace: Workspace, key: str, next_key: str = "") -> WorkspaceProfile:
    """Record that the user confirmed step `key`; drop its draft. Idempotent: a double submit is a no-op."""
    profile = _locked(workspace)
    if key not in profile.completed_steps:
        profile.completed_steps = [*profile.completed_steps, key]
    profile.drafts = {k: v for k, v in profile.drafts.items() if k != key}
    profile.current_step = next_key
    profile.save(update_fields=["completed_steps", "drafts", "current_step", "updated_at"])
    return profile


@transaction.atomic
def onboarding_draft_save(*, workspace: Workspace, key: str, data: dict[str, list[str]]) -> WorkspaceProfile:
    """Keep what the user typed on a step they left with Back, unvalidated, to show it again."""
    profile = _locked(workspace)
    profile.drafts = {**profile.drafts, key: data}
    profile.current_step = key
    profile.save(update_fields=["drafts", "current_step", "updated_at"])
    return profile


@transaction.atomic
def onboarding_launch(*, workspace: Workspace) -> WorkspaceProfile:
    profile = _locked(workspace)
    if profile.launched_at is None:
        profile.launched_at = timezone.now()
    if "launch" not in profile.completed_steps:
        profile.completed_steps = [*profile.completed_steps, "launch"]
    profile.drafts = {}
    profile.current_step = ""
    profile.save(update_fields=["launched_at", "completed_steps", "drafts", "current_step", "updated_at"])
    return profile


def salesforce_merge_settings_save(*, connection, settings: dict[str, Any]):
    """The Merge step: store the merge settings (the first sync starts after Selective sync)."""

    return connection_settings_update(connection=connection, **settings)


def salesforce_filters_save(*, connection, choices) -> dict[str, int]:
    """Selective sync from the source's settings: store every object's choice (all or none); returns how
    many records each matches now, so the page can warn about a choice that matches nothing."""

    return sync_settings.selective_sync_set(connection=connection, choices=choices)


def salesforce_filters_save_and_start(*, connection, choices) -> dict[str, int]:
    """The Selective sync step's Next: store the choices, then start the first sync (once; a second submit
    joins the run already queued). The sync engine enqueues its task after this transaction commits."""

    with transaction.atomic():
        counts = sync_settings.selective_sync_set(connection=connection, choices=choices)
        started = SyncRun.objects.filter(connection=connection).exclude(state=SyncRun.State.SKIPPED).exists()
        if not started:
            sync_request(connection=connection, kind=SyncRun.Kind.INITIAL)
    return counts


def _field_choice(offer, chosen):
    """A picked field as the selection service takes it: the offer's defaults, then what the picker posted."""
    if isinstance(chosen, str):  # a field name alone: the offer's own CDP field, order and rule
        field = offer.field(chosen)
        return field if field is not None else {"name": chosen}
    field = offer.field(chosen["name"])
    base = (
        {
            "name": field.name,
            "type": field.type,
            "label": field.label,
            "calculated": field.calculated,
            "target_field": field.target_field,
            "target_order": field.target_order,
            "update_mode": field.update_mode,
        }
        if field is not None
        else {}
    )
    return {**base, **chosen}


@transaction.atomic
def salesforce_objects_save(*, connection, choices) -> None:
    """The field picker's save: for each (object offer, selected?, field names) select the object with
    exactly those fields, or stop syncing it. All or nothing: a refused 51st field on one object leaves
    every other object as it was."""

    # A junction another selected object needs (Opportunity's contact roles) stays selected.
    needed = set(objects.companions_for([offer.api_name for offer, selected, _ in choices if selected]))
    for offer, selected, names in choices:
        if offer.api_name in needed and not selected:
            continue
        if selected:
            synced = sync_settings.synced_object_ensure(
                connection=connection, api_name=offer.api_name, label=offer.label, is_custom=offer.custom
            )
            sync_settings.field_selection_save(
                synced_object=synced, fields=[_field_choice(offer, f) for f in names]
            )
        elif offer.synced is not None and offer.synced.enabled:
            sync_settings.synced_object_disable(synced_object=offer.synced)


@transaction.atomic
def salesforce_permissions_save(
    *, workspace: Workspace, rules: dict, objects, sticky_unsubscribe: bool
) -> None:
    """Email and SMS rules per person object, and the workspace's sticky-unsubscribe switch, together."""

    for synced in objects:
        chosen = rules.get(synced.api_name, {})
        sync_settings.permission_rules_set(
            synced_object=synced, email=chosen.get("email"), sms=chosen.get("sms")
        )
    cdp_services.workspace_sticky_unsubscribe_set(workspace=workspace, sticky=sticky_unsubscribe)


@transaction.atomic
def salesforce_identifiers_save(*, offers, rules: dict) -> None:
    """Identifier rules (and organization-or-contact) for the objects that cannot link by themselves."""

    for offer in offers:
        rule = rules.get(offer.api_name)
        if rule is None:
            continue
        kind, config, becomes = rule
        synced = offer.synced
        if becomes and becomes != synced.becomes:
            synced = sync_settings.synced_object_becomes_set(synced_object=synced, becomes=becomes)
        sync_settings.identifier_rule_set(synced_object=synced, kind=kind, config=config)
