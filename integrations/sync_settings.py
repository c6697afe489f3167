"""Per-object sync configuration: which objects and fields sync, their rules, permissions and identifiers
(the onboarding's object, field, permission and identifier steps write through here). The connection's own settings (merge, schedule, budget, precedence) are written by
integrations.connection_settings, the one write path for Connection columns.

Every write here is a typed service with keyword-only arguments; each validates before it writes and
raises `ValidationError` with a message a user can act on, leaving the stored configuration untouched.
Each takes the connection's row lock first (then the object's), the same order as
`connection_settings_update`, so a settings save and an object save never interleave.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from cdp import merge as cdp_merge
from cdp.models import FieldDefinition
from integrations import plan_limits
from integrations.models import Connection, FieldSelection, SyncedObject
from integrations.models.sync import MAX_ACTIVE_FIELDS_PER_OBJECT
from integrations.salesforce import filters, objects, permissions, target_fields
from integrations.salesforce.client import SalesforceClient

# The longest activity retention window one can type: a hundred years.
ACTIVITY_RETENTION_MAX_DAYS = 36_500
# Email permission defaults to HasOptedOutOfEmail on the person objects: Salesforce's own opt-out flag.
DEFAULT_EMAIL_RULE = {"field": "HasOptedOutOfEmail", "subscribed": False, "unsubscribed": True}


@dataclass(frozen=True)
class FieldChoice:
    """One field picked from the catalogue. Catalogue entries with the same attributes are accepted too."""

    name: str
    type: str
    label: str = ""
    target_field: str = ""
    calculated: bool = False
    # Its place among the fields feeding the same target (first non-empty wins); 0 = not stated.
    target_order: int = 0
    update_mode: str = ""


def _lock_connection(connection_id: int) -> None:
    """Call inside a transaction: serialises configuration writes of one connection."""
    Connection.objects.select_for_update().only("pk").get(pk=connection_id)


def _attr(item: Any, *names: str, default: Any = "") -> Any:
    for name in names:
        if isinstance(item, Mapping) and name in item:
            return item[name]
        if hasattr(item, name):
            return getattr(item, name)
    return default


@transaction.atomic
def synced_object_ensure(
    *,
    connection: Connection,
    api_name: str,
    label: str = "",
    is_custom: bool | None = None,
    becomes: str = "",
) -> SyncedObject:
    """Selects an object for sync (idempotent); a re-selected object keeps its watermark and settings."""
    if not api_name or len(api_name) > 80:
        raise ValidationError(
            {"api_name": "Give the Salesforce API name of the object, e.g. Contact or Loan__c."}
        )
    _lock_connection(connection.pk)
    enabled = SyncedObject.objects.filter(connection=connection, api_name=api_name, enabled=True).exists()
    if not enabled:
        try:
            plan_limits.check_object(connection.workspace, api_name, label)
        except ValidationError as exc:
            raise ValidationError({"api_name": exc.messages[0]}, code="plan_limit") from None
    custom = api_name.endswith("__c") if is_custom is None else is_custom
    kind = becomes or objects.becomes_for(api_name)
    if kind not in SyncedObject.Becomes.values:
        raise ValidationError({"becomes": f"'{kind}' is not something an object can become."})
    email_rule = DEFAULT_EMAIL_RULE if kind == objects.PERSON and objects.spec_for(api_name) else {}
    if (person_account := objects.person_account_for(api_name)) is not None:
        email_rule = dict(person_account.email_permission)  # its Person Accounts' people
    obj, created = SyncedObject.objects.get_or_create(
        connection=connection,
        api_name=api_name,
        defaults={
            "workspace_id": connection.workspace_id,
            "label": label or api_name,
            "is_custom": custom,
            "becomes": kind,
            "email_permission": dict(email_rule),
        },
    )
    if not created and not obj.enabled:
        obj.enabled = True
        obj.save(update_fields=["enabled"])
    # An object's activities may reach people only through a junction: it comes along (Opportunity brings
    # OpportunityContactRole, Campaign brings CampaignMember), read with the fields the engine needs.
    for companion in objects.companions_for([api_name]):
        companion_spec = objects.spec_for(companion)
        synced_object_ensure(
            connection=connection,
            api_name=companion,
            label=companion_spec.label if companion_spec else companion,
            is_custom=False,
        )
    return obj


@transaction.atomic
def synced_object_disable(*, synced_object: SyncedObject) -> SyncedObject:
    """Stops syncing an object; its data and watermark stay so re-enabling resumes where it left off."""
    _lock_connection(synced_object.connection_id)
    synced_object.enabled = False
    synced_object.save(update_fields=["enabled"])
    return synced_object


def synced_object_becomes_set(*, synced_object: SyncedObject, becomes: str) -> SyncedObject:
    """An Organization-like custom object can be synced as an organization or as a contact."""
    allowed = {
        SyncedObject.Becomes.ORGANIZATION,
        SyncedObject.Becomes.PERSON,
        SyncedObject.Becomes.CUSTOM_OBJECT,
    }
    if objects.spec_for(synced_object.api_name) is not None:
        raise ValidationError(
            {"becomes": f"{synced_object.label} is a standard object; what it becomes is fixed."}
        )
    if becomes not in allowed:
        raise ValidationError({"becomes": "Choose organization, contact (person) or custom object records."})
    with transaction.atomic():
        _lock_connection(synced_object.connection_id)
        # Fields still on their default target follow the object into its new namespace.
        for sel in FieldSelection.objects.filter(synced_object=synced_object):
            old_default = target_fields.default_target_field(
                synced_object.api_name, sel.sf_field, sel.sf_type, becomes=synced_object.becomes
            )
            if sel.target_field == old_default:
                sel.target_field = target_fields.default_target_field(
                    synced_object.api_name, sel.sf_field, sel.sf_type, becomes=becomes
                )
                sel.save(update_fields=["target_field"])
        synced_object.becomes = becomes
        synced_object.full_clean()
        synced_object.save(update_fields=["becomes"])
    return synced_object


def field_selection_save(*, synced_object: SyncedObject, fields: Iterable[Any]) -> list[FieldSelection]:
    """Replaces the object's active field selection with `fields` (catalogue entries or `FieldChoice`s).

    The 50-field limit is checked under a row lock on the object, so two concurrent saves cannot both
    pass the check; an over-limit save raises and changes nothing.
    """
    chosen: dict[str, FieldChoice] = {}
    for item in fields:
        name = _attr(item, "name", "api_name", "sf_field")
        if not name:
            raise ValidationError({"fields": "Every selected field needs its Salesforce API name."})
        sf_type = _attr(item, "type", "sf_type", default="string") or "string"
        target = _attr(
            item, "target_field", "cdp_field", "target", default=""
        ) or target_fields.default_target_field(synced_object.api_name, name, sf_type)
        mode = _attr(item, "update_mode", "mode", default="") or ""
        if mode not in FieldSelection.UpdateMode.values:
            raise ValidationError(
                {"fields": f"{name}: {mode!r} is not a field rule. Choose one of: {_MODE_NAMES}."}
            )
        order = _attr(item, "target_order", "order", default=0) or 0
        if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 50:
            raise ValidationError({"fields": f"{name}: the order must be a whole number from 1 to 50."})
        chosen[name] = FieldChoice(
            name=name,
            type=sf_type,
            label=_attr(item, "label", default="") or name,
            target_field=target,
            calculated=bool(_attr(item, "calculated", "is_formula", default=False)),
            target_order=order,
            update_mode=mode,
        )
    if len(chosen) > MAX_ACTIVE_FIELDS_PER_OBJECT:
        raise ValidationError(
            {
                "fields": (
                    f"{synced_object.label} has {len(chosen)} fields selected, but at most "
                    f"{MAX_ACTIVE_FIELDS_PER_OBJECT} fields per object can sync. "
                    f"Deselect {len(chosen) - MAX_ACTIVE_FIELDS_PER_OBJECT} to continue."
                )
            },
            code="too_many_fields",
        )
    for choice in chosen.values():
        target_fields.validate_target_field(choice.target_field)
    chosen = _ordered_targets(synced_object, chosen)

    with transaction.atomic():
        # The locks serialise concurrent saves of the same object (a no-op on SQLite, which serialises writers).
        _lock_connection(synced_object.connection_id)
        SyncedObject.objects.select_for_update().get(pk=synced_object.pk)
        existing = {sel.sf_field: sel for sel in FieldSelection.objects.filter(synced_object=synced_object)}
        to_create, to_update = [], []
        for name, choice in chosen.items():
            sel = existing.get(name)
            if sel is None:
                to_create.append(
                    FieldSelection(
                        synced_object=synced_object,
                        sf_field=name,
                        label=choice.label[:120],
                        sf_type=choice.type,
                        target_field=choice.target_field,
                        target_order=choice.target_order,
                        update_mode=choice.update_mode,
                        is_formula=choice.calculated,
                        active=True,
                    )
                )
            else:
                sel.label, sel.sf_type, sel.target_field = (
                    choice.label[:120],
                    choice.type,
                    choice.target_field,
                )
                sel.target_order, sel.update_mode = choice.target_order, choice.update_mode
                sel.is_formula, sel.active, sel.inactive_reason = choice.calculated, True, ""
                to_update.append(sel)
        for name, sel in existing.items():
            if name not in chosen and sel.active:
                sel.active, sel.inactive_reason = False, "Deselected"
                to_update.append(sel)
        for sel in to_create + to_update:
            sel.full_clean(exclude=["synced_object"])
        FieldSelection.objects.bulk_create(to_create)
        FieldSelection.objects.bulk_update(
            to_update,
            [
                "label",
                "sf_type",
                "target_field",
                "target_order",
                "update_mode",
                "is_formula",
                "active",
                "inactive_reason",
            ],
        )
        active = FieldSelection.objects.filter(synced_object=synced_object, active=True).count()
        if active > MAX_ACTIVE_FIELDS_PER_OBJECT:  # belt and braces: the database state decides
            raise ValidationError(
                {"fields": f"At most {MAX_ACTIVE_FIELDS_PER_OBJECT} fields per object can sync."}
            )
    return list(FieldSelection.objects.filter(synced_object=synced_object, active=True))


_MODE_NAMES = ", ".join(f'"{label}"' for label in FieldSelection.UpdateMode.labels)


def _ordered_targets(synced_object: SyncedObject, chosen: dict[str, FieldChoice]) -> dict[str, FieldChoice]:
    """One target per value: fields that feed one CDP field need a stated order (the first non-empty value
    wins). The catalogue states some (Phone, then MobilePhone); any other pair must be given one."""
    spec = objects.spec_for(synced_object.api_name)
    groups: dict[str, list[FieldChoice]] = {}
    for choice in chosen.values():
        if choice.update_mode != FieldSelection.UpdateMode.SKIP:
            groups.setdefault(choice.target_field, []).append(choice)
    out = dict(chosen)
    for target, members in groups.items():
        if len(members) == 1:
            out[members[0].name] = replace(members[0], target_order=0)
            continue
        stated = spec.coalesce.get(target, ()) if spec is not None else ()
        orders = {
            m.name: m.target_order or (stated.index(m.name) + 1 if m.name in stated else 0) for m in members
        }
        if 0 in orders.values() or len(set(orders.values())) != len(members):
            names = ", ".join(sorted(m.label or m.name for m in members))
            target_name = (
                FieldDefinition.objects.filter(workspace_id=synced_object.workspace_id, field_id=target)
                .values_list("name", flat=True)
                .first()
            )
            raise ValidationError(
                {
                    "fields": (
                        f"{names} all feed the CDP field “{target_name or target}”. Give each a different "
                        "order (the first one with a value wins), or map each to its own CDP field."
                    )
                },
                code="shared_target",
            )
        for m in members:
            out[m.name] = replace(m, target_order=orders[m.name])
    return out


def field_rule_set(*, synced_object: SyncedObject, sf_field: str, mode: str) -> FieldSelection:
    """A per-field rule on top of the merge strategy, for a field that is selected."""
    if mode not in FieldSelection.UpdateMode.values:
        raise ValidationError({"update_mode": f"{mode!r} is not a field rule. Choose one of: {_MODE_NAMES}."})
    with transaction.atomic():
        _lock_connection(synced_object.connection_id)
        selection = (
            FieldSelection.objects.select_for_update()
            .filter(synced_object=synced_object, sf_field=sf_field, active=True)
            .first()
        )
        if selection is None:
            raise ValidationError(
                {"sf_field": f"{synced_object.label} has no selected field {sf_field!r}; select it first."}
            )
        selection.update_mode = mode
        selection.save(update_fields=["update_mode"])
    return selection


def _permission_rule(rule: Mapping[str, Any] | None, *, channel: str) -> dict:
    if not rule:
        return {}
    field = str(rule.get("field") or "").strip()
    if not field:
        raise ValidationError({channel: f"Choose the Salesforce field that holds the {channel} permission."})
    has_sub, has_unsub = "subscribed" in rule, "unsubscribed" in rule
    if not has_sub and not has_unsub:
        raise ValidationError(
            {channel: "Give the value that means subscribed, the value that means unsubscribed, or both."}
        )
    if has_sub and has_unsub and rule["subscribed"] == rule["unsubscribed"]:
        raise ValidationError({channel: "The subscribed and unsubscribed values must differ."})
    out = {"field": field}
    if has_sub:
        out["subscribed"] = rule["subscribed"]
    if has_unsub:
        out["unsubscribed"] = rule["unsubscribed"]
    direction = rule.get("direction") or permissions.DIRECTION_FROM_SALESFORCE
    if direction not in permissions.DIRECTIONS:
        raise ValidationError(
            {
                channel: f"{direction!r} is not a sync direction. Choose one of: {', '.join(permissions.DIRECTIONS.values())}."
            }
        )
    if direction != permissions.DIRECTION_FROM_SALESFORCE:
        rule_ = permissions.PermissionRule.of(out)
        if rule_.value_for(True) is None or rule_.value_for(False) is None:
            raise ValidationError(
                {
                    channel: "To update Salesforce from Inflow, give both the value that means subscribed "
                    "and the value that means unsubscribed."
                }
            )
        out["direction"] = direction  # the default (from Salesforce) is not stored
    return out


@transaction.atomic
def permission_rules_set(
    *, synced_object: SyncedObject, email: Mapping[str, Any] | None, sms: Mapping[str, Any] | None
) -> SyncedObject:
    """Email and SMS permission rules for one object. `None`/`{}` = no rule (new people subscribed to email;
    SMS untouched, since Salesforce has no standard SMS field)."""
    if (
        synced_object.becomes != SyncedObject.Becomes.PERSON
        and objects.person_account_for(synced_object.api_name) is None
        and (email or sms)
    ):
        raise ValidationError(
            {"email": f"{synced_object.label} does not create people, so it has no permissions."}
        )
    email_rule, sms_rule = _permission_rule(email, channel="email"), _permission_rule(sms, channel="sms")
    _lock_connection(synced_object.connection_id)
    synced_object.email_permission = email_rule
    synced_object.sms_permission = sms_rule
    synced_object.save(update_fields=["email_permission", "sms_permission"])
    return synced_object


_IDENTIFIER_REQUIRED: dict[str, tuple[str, ...]] = {
    SyncedObject.IdentifierKind.AUTOMATIC: (),
    SyncedObject.IdentifierKind.UNIQUE_IDENTIFIER: ("field", "cdp_field"),
    SyncedObject.IdentifierKind.PARENT: ("field", "parent_object"),
    SyncedObject.IdentifierKind.REFERENCE_ID: ("field",),
    SyncedObject.IdentifierKind.JUNCTION: ("junction_object", "ref_field", "person_field"),
}


@transaction.atomic
def identifier_rule_set(
    *, synced_object: SyncedObject, kind: str, config: Mapping[str, Any] | None = None
) -> SyncedObject:
    """How an object that cannot link on its own finds its person: automatically, by a unique identifier
    field, through a parent object, by a reference id, or through a junction object (`_IDENTIFIER_REQUIRED`
    lists what each rule needs)."""
    if kind not in _IDENTIFIER_REQUIRED:
        raise ValidationError({"identifier_kind": f"'{kind}' is not an identifier rule."})
    config = {k: v for k, v in dict(config or {}).items() if v not in (None, "")}
    missing = [key for key in _IDENTIFIER_REQUIRED[kind] if key not in config]
    if missing:
        raise ValidationError(
            {"identifier_config": f"{SyncedObject.IdentifierKind(kind).label} needs: {', '.join(missing)}."}
        )
    if kind == SyncedObject.IdentifierKind.UNIQUE_IDENTIFIER:
        target_fields.validate_target_field(config["cdp_field"])
    if kind == SyncedObject.IdentifierKind.REFERENCE_ID:
        config.setdefault("object", "Contact")
        if config["object"] not in ("Contact", "Lead", "Account"):
            raise ValidationError(
                {"identifier_config": "A reference id points at a Contact, Lead or Account."}
            )
    if kind == SyncedObject.IdentifierKind.PARENT:
        # Walk the chain: it must end at an object that links on its own, and never loop.
        seen = {synced_object.api_name}
        parent_name = config["parent_object"]
        while True:
            if parent_name in seen:
                raise ValidationError({"identifier_config": f"The parent chain loops back to {parent_name}."})
            seen.add(parent_name)
            parent = SyncedObject.objects.filter(
                connection_id=synced_object.connection_id, api_name=parent_name
            ).first()
            if parent is None:
                raise ValidationError(
                    {
                        "identifier_config": f"Select {parent_name} for sync first: it is the parent in this chain."
                    }
                )
            if parent.identifier_kind != SyncedObject.IdentifierKind.PARENT:
                break
            parent_name = parent.identifier_config.get("parent_object", "")
    if kind == SyncedObject.IdentifierKind.JUNCTION:
        config.setdefault("primary_field", "")
    _lock_connection(synced_object.connection_id)
    synced_object.identifier_kind = kind
    synced_object.identifier_config = config
    synced_object.full_clean()
    synced_object.save(update_fields=["identifier_kind", "identifier_config"])
    return synced_object


# ------------------------------------------------------------------------------------- selective sync

# Objects whose records can stop matching and be archived: what becomes people, organizations or
# custom object records (activity objects follow the people they belong to).
FILTERABLE_BECOMES = (
    SyncedObject.Becomes.PERSON,
    SyncedObject.Becomes.ORGANIZATION,
    SyncedObject.Becomes.CUSTOM_OBJECT,
)


@dataclass(frozen=True)
class FilterChoice:
    """One object's selective sync choice as the user gave it (criteria not yet checked)."""

    api_name: str
    sync_filter: str = SyncedObject.SyncFilter.ALL
    criteria: tuple[Mapping[str, Any], ...] = ()
    unmatched_action: str = SyncedObject.UnmatchedAction.ARCHIVE


def filterable_objects(*, connection: Connection) -> list[SyncedObject]:
    return list(
        SyncedObject.objects.filter(
            connection=connection,
            workspace_id=connection.workspace_id,
            enabled=True,
            becomes__in=FILTERABLE_BECOMES,
        ).order_by("api_name")
    )


def _filters_checked(
    connection: Connection, choices: Iterable[FilterChoice], client
) -> list[tuple[SyncedObject, FilterChoice, list[dict], int]]:
    """Each choice checked against its object's describe, with the number of records it matches now
    (a `COUNT()` per object). Raises ValidationError keyed `<object>__sync_filter`, naming every problem."""

    by_name = {o.api_name: o for o in filterable_objects(connection=connection)}
    errors: dict[str, list[str]] = {}
    checked = []
    for choice in choices:
        obj = by_name.get(choice.api_name)
        key = f"{choice.api_name}__sync_filter"
        if obj is None:
            errors[key] = [
                f"{choice.api_name} is not an object this connection syncs into people or records."
            ]
            continue
        if choice.sync_filter not in SyncedObject.SyncFilter.values:
            errors[key] = [f"{obj.label}: choose all records, records matching criteria, or none."]
            continue
        if choice.unmatched_action not in SyncedObject.UnmatchedAction.values:
            errors[key] = [f"{obj.label}: choose whether a record that stops matching is archived or kept."]
            continue
        criteria: list[dict] = []
        if choice.sync_filter == SyncedObject.SyncFilter.MATCHING:
            if not choice.criteria:
                errors[key] = [f"{obj.label}: add at least one condition, or choose “Sync all records”."]
                continue
            try:
                criteria = filters.criteria_clean(
                    choice.criteria, filters.filter_fields(client, obj.api_name), object_label=obj.label
                )
            except ValidationError as error:
                errors[key] = error.messages
                continue
        count = filters.matching_count(client, obj.api_name, choice.sync_filter, criteria)
        checked.append((obj, choice, criteria, count))
    if errors:
        raise ValidationError(errors)
    return checked


def selective_sync_preview(
    *, connection: Connection, choices: Iterable[FilterChoice], client=None
) -> dict[str, int]:
    """How many records each object's (unsaved) choice matches in Salesforce now. Nothing is stored."""

    own = client is None
    client = client or SalesforceClient.for_connection(connection)
    try:
        return {obj.api_name: count for obj, _, _, count in _filters_checked(connection, choices, client)}
    finally:
        if own:
            client.close()


def selective_sync_set(
    *, connection: Connection, choices: Iterable[FilterChoice], client=None
) -> dict[str, int]:
    """Store every object's selective sync choice, all or none, after checking each against Salesforce's
    describe. An object whose choice changed is re-read in full on the next run, which archives (or keeps)
    the records that stopped matching and brings in those that now match. Returns what each matches now;
    0 is saved, and the caller warns that it matches nothing."""
    from django.utils import timezone

    own = client is None
    client = client or SalesforceClient.for_connection(connection)
    try:
        checked = _filters_checked(connection, choices, client)
    finally:
        if own:
            client.close()
    with transaction.atomic():
        for obj, choice, criteria, _count in checked:
            locked = SyncedObject.objects.select_for_update().get(pk=obj.pk)
            changed = (locked.sync_filter, locked.filter_criteria) != (choice.sync_filter, criteria)
            locked.sync_filter = choice.sync_filter
            locked.filter_criteria = criteria
            locked.unmatched_action = choice.unmatched_action
            fields = ["sync_filter", "filter_criteria", "unmatched_action"]
            # The first sync reads everything anyway: only an object already synced needs the full pass.
            if changed and (
                locked.backfill_completed_at is not None or locked.watermark_modstamp is not None
            ):
                locked.filter_changed_at = timezone.now()
                fields.append("filter_changed_at")
            locked.save(update_fields=fields)
    return {obj.api_name: count for obj, _, _, count in checked}


# ------------------------------------------------------------------------------------ data retention


def activity_retention_set(
    *, connection: Connection, retention: str, days: int | None = None, kinds: Iterable[str] = ()
) -> Connection:
    """Keep the last 90 days of activities (the default), the last `days` days, or everything, of the
    `kinds` listed (every kind when all are listed). Applies to what is recorded from now on;
    `activities_prune` applies it to what is stored."""
    kinds = list(dict.fromkeys(kinds))
    errors: dict[str, str] = {}
    if retention not in Connection.ActivityRetention.values:
        errors["activity_retention"] = "Choose 90 days, a time frame, or everything."
    if retention == Connection.ActivityRetention.WINDOW and (
        days is None or not 1 <= int(days) <= ACTIVITY_RETENTION_MAX_DAYS
    ):
        errors["activity_retention_days"] = (
            f"Give the time frame in days, from 1 to {ACTIVITY_RETENTION_MAX_DAYS:,}."
        )
    unknown = [k for k in kinds if k not in objects.ACTIVITIES]
    if unknown:
        errors["activity_kinds"] = f"Unknown activity kinds: {', '.join(unknown)}."
    elif not kinds:
        errors["activity_kinds"] = "Choose at least one kind of activity to store."
    if errors:
        raise ValidationError(errors)
    connection.activity_retention = retention
    if retention == Connection.ActivityRetention.WINDOW and days is not None:
        connection.activity_retention_days = int(days)
    # Every kind ticked is stored as [] ("every kind"), so kinds Inflow learns later are kept too.
    connection.activity_kinds = [] if set(kinds) >= set(objects.ACTIVITIES) else kinds
    connection.save(
        update_fields=["activity_retention", "activity_retention_days", "activity_kinds", "updated_at"]
    )
    return connection


def activity_retention_cutoff(connection: Connection, *, now=None):
    """The oldest moment an activity may have to be stored, or None when everything is kept."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    retention = connection.activity_retention
    if retention == Connection.ActivityRetention.EVERYTHING:
        return None
    days = (
        connection.activity_retention_days
        if retention == Connection.ActivityRetention.WINDOW
        else getattr(settings, "SYNC_ACTIVITY_BACKFILL_DAYS", 90)
    )
    return (now or timezone.now()) - dt.timedelta(days=days)


def activity_kinds_kept(connection: Connection) -> frozenset[str] | None:
    """The activity kinds to store, or None for every kind."""
    return frozenset(connection.activity_kinds) if connection.activity_kinds else None


def activities_prune(*, connection: Connection) -> int:
    """Delete this connection's stored activities that the retention setting would not store now (older
    than the window, or of a kind not chosen). Returns how many were deleted."""

    kept = activity_kinds_kept(connection)
    return cdp_merge.activities_prune(
        workspace=connection.workspace,
        source=f"salesforce:{connection.pk}",
        before=activity_retention_cutoff(connection),
        keep_kinds=None if kept is None else sorted(kept),
    )
