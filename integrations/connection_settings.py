"""The one write path for a connection's sync settings (the Connection columns a user or operator edits).

`connection_settings_update` holds every rule: it takes the connection's row lock, validates all the
changes together (each rule lives here once), writes only what was given, and re-creates the sync
schedule after commit. The onboarding steps, the Data sources pages, the admin and the commands call it;
bad input raises `ValidationError` with a message per setting and nothing is saved.

What syncs per object (SyncedObject, FieldSelection) is written by integrations.sync_settings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from integrations import plan_limits
from integrations.models import Connection
from integrations.salesforce import objects, soql
from integrations.salesforce.tasks import schedule_ensure_on_commit

logger = logging.getLogger(__name__)

SETTING_FIELDS = (
    "merge_strategy",
    "find_strategy",
    "skip_non_existing",
    "merge_converted_leads",
    "modify_system_fields",
    "schedule_interval_minutes",
    "api_budget_percent",
    "source_precedence",
    "streaming_enabled",
)
_BOOLEAN_FIELDS = ("skip_non_existing", "merge_converted_leads", "modify_system_fields", "streaming_enabled")


def merge_settings_problem(*, merge_strategy: str, skip_non_existing: bool) -> str:
    """The one combination that would import nothing; "" when the pair is fine. Forms show it early."""
    if merge_strategy == Connection.MergeStrategy.IGNORE and skip_non_existing:
        return (
            f"“{Connection.MergeStrategy.IGNORE.label}” with “Existing records only” would import nothing. "
            "Choose another option."
        )
    return ""


def _interval_message() -> str:
    values = [str(v) for v in Connection.ScheduleInterval.values]
    return f"Choose an interval of {', '.join(values[:-1])} or {values[-1]} minutes."


def _clean_source_precedence(order: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
    """Which object wins when several records describe one person or organization (first wins).

    Every entity's list names each source once (a source twice would be a loop: A before B before A); the
    sources are objects that become that entity, or "Lead" for organizations (a lead's company)."""
    if order is not None and not isinstance(order, Mapping):
        raise ValidationError("Give the order per entity, e.g. {'person': ['Contact', 'Lead']}.")
    cleaned: dict[str, list[str]] = {}
    for entity, names in (order or {}).items():
        if entity not in objects.DEFAULT_PRECEDENCE:
            raise ValidationError(f"{entity!r} is not people or organizations (person, organization).")
        if isinstance(names, str | bytes) or not isinstance(names, Iterable):
            raise ValidationError(f"The {entity} order is a list of object names.")
        names = [str(n) for n in names]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValidationError(
                f"{', '.join(repeated)} appears more than once in the {entity} order: that would put it "
                "both before and after another object. Name each object once.",
                code="precedence_loop",
            )
        for name in names:
            allowed = name in objects.DEFAULT_PRECEDENCE[entity] or (
                objects.spec_for(name) is None and soql.is_api_name(name)
            )
            if not allowed:
                raise ValidationError(f"{name} cannot describe a {entity}, so it has no place in its order.")
        cleaned[entity] = names
    return cleaned


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    """Every per-setting rule; all problems are reported together, keyed by setting."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "merge_strategy" and value not in Connection.MergeStrategy.values:
            labels = ", ".join(f"“{label}”" for label in Connection.MergeStrategy.labels)
            errors[name] = f"{value!r} is not a merge strategy. Choose one of: {labels}."
        elif name == "find_strategy" and value not in Connection.FindStrategy.values:
            labels = ", ".join(f"“{label}”" for label in Connection.FindStrategy.labels)
            errors[name] = f"{value!r} is not a merge key strategy. Choose one of: {labels}."
        elif name in _BOOLEAN_FIELDS and not isinstance(value, bool):
            errors[name] = f"{name.replace('_', ' ').capitalize()} is on or off (true or false)."
        elif name == "schedule_interval_minutes" and (
            isinstance(value, bool) or value not in Connection.ScheduleInterval.values
        ):
            errors[name] = _interval_message()
        elif name == "api_budget_percent" and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100
        ):
            errors[name] = "The API budget is a whole percentage from 1 to 100."
        elif name == "source_precedence":
            try:
                value = _clean_source_precedence(value)
            except ValidationError as exc:
                errors[name] = " ".join(exc.messages)
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def connection_settings_update(*, connection: Connection, actor: Any = None, **changes: Any) -> Connection:
    """Writes the given settings of `connection` under its row lock, or refuses them all.

    Returns the saved row (and updates `connection` in place). A changed interval re-times the django-q2
    schedule after commit; while the connection is not connected the schedule stays absent.
    """
    unknown = sorted(set(changes) - set(SETTING_FIELDS))
    if unknown:
        message = (
            f"Not a connection setting: {', '.join(unknown)}. The settings are: {', '.join(SETTING_FIELDS)}."
        )
        raise ValidationError({NON_FIELD_ERRORS: ValidationError(message, code="unknown_setting")})
    cleaned = _clean(changes)
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        # Rules across settings read the stored value of whatever this call does not change.
        problem = merge_settings_problem(
            merge_strategy=cleaned.get("merge_strategy", locked.merge_strategy),
            skip_non_existing=cleaned.get("skip_non_existing", locked.skip_non_existing),
        )
        if problem:
            raise ValidationError({"skip_non_existing": problem}, code="imports_nothing")
        changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
        if "schedule_interval_minutes" in changed:
            try:
                plan_limits.check_interval(locked.workspace, cleaned["schedule_interval_minutes"])
            except ValidationError as exc:
                raise ValidationError(
                    {"schedule_interval_minutes": exc.messages[0]}, code="plan_limit"
                ) from None
        for name in changed:
            setattr(locked, name, cleaned[name])
        if changed:
            untouched = [f.name for f in Connection._meta.concrete_fields if f.name not in changed]
            locked.full_clean(exclude=untouched, validate_unique=False, validate_constraints=False)
            locked.save(update_fields=[*changed, "updated_at"])
            logger.info(
                "Connection %s settings changed (%s) by %s",
                locked.pk,
                ", ".join(changed),
                getattr(actor, "pk", None) or actor or "the system",
            )
        if "schedule_interval_minutes" in cleaned:
            # Also when unchanged: saving the Schedule page repairs a missing schedule.
            schedule_ensure_on_commit(connection_id=locked.pk)
    for name in SETTING_FIELDS:
        setattr(connection, name, getattr(locked, name))
    return locked
