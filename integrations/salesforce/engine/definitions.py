"""What an object is before its records are read: its fields as Salesforce describes them now (deleted or
unusable fields deselected, with an error row), the CDP definitions its fields and activities feed, and its
mapper, gathered in the `ObjectContext` the page writer uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from cdp import fields as field_types
from cdp import merge as cdp_merge
from integrations import sync_settings
from integrations.models import FieldSelection, SyncedObject, SyncError
from integrations.salesforce import filters, mapping, objects, target_fields
from integrations.salesforce.engine.knobs import conf
from integrations.salesforce.engine.runs import ObjectFailed, RunState, record_error
from integrations.salesforce.errors import (
    SalesforceInvalidType,
    SalesforceMalformedResponse,
    SalesforceNotFound,
)
from integrations.salesforce.page_apply import ObjectContext
from integrations.salesforce.soql import is_api_name, soql_fields


def reread(state: RunState, obj: SyncedObject, call: Callable[[], Any]) -> Any:
    """A describe or count whose answer came back malformed (cut short) is asked again, and reported."""
    for attempt in range(1, conf("REQUERY_ATTEMPTS", 3) + 1):
        try:
            return call()
        except SalesforceMalformedResponse as exc:
            record_error(
                state.run,
                state.connection,
                obj.api_name,
                SyncError.Type.MALFORMED,
                f"{obj.label}: {exc}; asked again (attempt {attempt}).",
                fix="Nothing to do: no record was lost or applied twice.",
                retryable=False,
            )
    raise ObjectFailed(f"{obj.api_name}: Salesforce kept answering with malformed responses")


def describe_object(state: RunState, obj: SyncedObject) -> dict[str, str]:
    """Field name -> Salesforce type. Deleted selected fields are deactivated (warning row), run goes on."""
    try:
        describe = reread(state, obj, lambda: state.client.describe(obj.api_name))
    except (SalesforceInvalidType, SalesforceNotFound) as exc:
        record_error(
            state.run,
            state.connection,
            obj.api_name,
            SyncError.Type.OBJECT_UNAVAILABLE,
            f"{obj.label} is not available in Salesforce any more ({exc.message}).",
            fix="Check that the object exists and that the integration user can read it, or deselect it.",
        )
        raise ObjectFailed(f"{obj.api_name} is not available") from None
    described = [f for f in describe.get("fields", []) if isinstance(f, dict) and f.get("name")]
    # A name that is not an API name can never be put in a query: that one field is skipped (a selected
    # one is deselected with an error row), the rest of the object syncs.
    unusable = sorted({str(f["name"]) for f in described if not is_api_name(f["name"])})
    types = {f["name"]: f.get("type", "string") for f in described if is_api_name(f["name"])}
    formulas = {f["name"] for f in described if f.get("calculated") and f["name"] in types}
    for sel in FieldSelection.objects.filter(synced_object=obj, active=True, sf_field__in=unusable):
        sel.active, sel.inactive_reason = False, "Not a valid Salesforce API name"
        sel.save(update_fields=["active", "inactive_reason"])
        record_error(
            state.run,
            state.connection,
            obj.api_name,
            SyncError.Type.MALFORMED,
            f"Salesforce described a field of {obj.label} named {sel.sf_field!r:.120}, which is not a valid "
            "API name; it was skipped and deselected, and the rest of the object synced.",
            fix="Check the field in Salesforce's Object Manager; select it again once its API name is valid.",
            retryable=False,
        )
    gone = list(
        FieldSelection.objects.filter(synced_object=obj, active=True)
        .exclude(sf_field__in=list(types))
        .exclude(sf_field__in=unusable)
    )
    for sel in gone:
        sel.active, sel.inactive_reason = False, "Deleted in Salesforce (or hidden from the integration user)"
        sel.save(update_fields=["active", "inactive_reason"])
        record_error(
            state.run,
            state.connection,
            obj.api_name,
            SyncError.Type.FIELD_DELETED,
            f"{obj.label}.{sel.sf_field} no longer exists in Salesforce; it was deselected and the sync went on.",
            fix="Pick a replacement field in the object's field selection if you still need the data.",
            retryable=False,
        )
    FieldSelection.objects.filter(
        synced_object=obj, active=True, sf_field__in=formulas, is_formula=False
    ).update(is_formula=True)
    return types


def ensure_definitions(
    state: RunState, obj: SyncedObject, selections: list[FieldSelection], types: dict[str, str]
):
    workspace = obj.workspace
    if obj.becomes == SyncedObject.Becomes.CUSTOM_OBJECT:
        return cdp_merge.custom_object_ensure(
            workspace=workspace,
            source=f"salesforce:{obj.connection_id}",
            object_name=obj.api_name,
            name=obj.label,
            fields=[
                {
                    "id": s.target_field,
                    "name": s.label or s.sf_field,
                    "display_type": target_fields.cdp_type_for(s.sf_type),
                }
                for s in selections
            ],
        )
    for sel in selections:
        prefix, namespace, _ = sel.target_field.split(":", 2)
        if namespace == "" or namespace == "o":
            continue  # built-in fields exist already
        try:
            cdp_merge.field_definition_ensure(
                workspace=workspace,
                field_id=sel.target_field,
                name=f"{sel.label or sel.sf_field} (Salesforce)",
                display_type=target_fields.cdp_type_for(types.get(sel.sf_field, sel.sf_type)),
            )
        except ValueError as exc:
            record_error(
                state.run,
                state.connection,
                obj.api_name,
                SyncError.Type.MAPPING,
                f"{obj.label}.{sel.sf_field} cannot feed {sel.target_field}: {exc}",
                fix="Map the field to a CDP field of the same type.",
                retryable=False,
            )
    spec = objects.spec_for(obj.api_name)
    for activity in spec.activities if spec is not None else ():
        cdp_merge.activity_definition_ensure(
            workspace=workspace,
            activity_id=activity.id,
            name=activity.name,
            attributes=[
                {
                    "id": field_id,
                    "name": name,
                    "display_type": field_types.DEFAULT_TYPE_FOR_PREFIX.get(field_id.split(":")[0], "text"),
                }
                for field_id, name in activity.attributes
            ],
        )
    return None


def object_context(
    state: RunState, obj: SyncedObject, *, dry_run: bool = False
) -> tuple[ObjectContext, dict[str, str], list[str]]:
    types = describe_object(state, obj)
    selections = list(FieldSelection.objects.filter(synced_object=obj, active=True))
    custom_object = ensure_definitions(state, obj, selections, types)
    mapper = _mapper(state, obj, selections)
    fields = soql_fields(obj.api_name, [s.sf_field for s in selections], types)
    try:
        criteria = filters.read_criteria(obj)
    except ValueError as exc:
        record_error(
            state.run,
            state.connection,
            obj.api_name,
            SyncError.Type.INTERNAL,
            f"{obj.label}: the selective sync criteria cannot be read ({exc}).",
            fix="Open Data sources › Salesforce › Selective sync and save the object's criteria again.",
        )
        raise ObjectFailed(f"{obj.api_name}: unreadable criteria") from None

    def related_mapper(name: str) -> mapping.ObjectMapper | None:
        other = next((o for o in state.objects if o.api_name == name), None)
        if other is None:
            return None
        if name not in state.mappers:
            state.mappers[name] = _mapper(
                state, other, list(FieldSelection.objects.filter(synced_object=other, active=True))
            )
        return state.mappers[name]

    ctx = ObjectContext(
        workspace=obj.workspace,
        connection=state.connection,
        synced_object=obj,
        mapper=mapper,
        custom_object=custom_object,
        all_objects=state.objects,
        related_mapper=related_mapper,
        run=state.run if state.run.pk else None,
        dry_run=dry_run,
        fields=fields,
        client=state.client,
        criteria=criteria,
    )
    return ctx, types, fields


def _mapper(state: RunState, obj: SyncedObject, selections: list[FieldSelection]) -> mapping.ObjectMapper:
    since = sync_settings.activity_retention_cutoff(state.connection)
    # If another object is reached through this one as a junction, keep its lookup as ref_id.
    ref_field = next(
        (
            (o.identifier_config or {}).get("ref_field", "")
            for o in state.objects
            if o.identifier_kind == "junction"
            and (o.identifier_config or {}).get("junction_object") == obj.api_name
        ),
        "",
    )
    return mapping.mapper_for(
        obj,
        selections,
        merge_converted_leads=state.connection.merge_converted_leads,
        activity_since=since,
        activity_kinds=sync_settings.activity_kinds_kept(state.connection),
        ref_field=ref_field,
        precedence=state.connection.source_precedence,
        now=timezone.now(),
    )
