"""The workspace's catalogue: field definitions, activity definitions and custom objects.

Built-in fields and activities are Ortto's, as listed by a real account's instance schema
(`cdp/data/ortto_builtin_schema.json`, trimmed to the field types Inflow models; per-activity
`tme::<code>!f/!l` fields and audience/campaign membership fields are left out because Inflow derives or
lacks them). A workspace gets them when it is created, and lazily on first use for older workspaces.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from django.db import transaction

from cdp.fields import DEFAULT_TYPE_FOR_PREFIX, FIELD_TYPES, parse_field_id
from cdp.models import ActivityDefinition, CustomObject, FieldDefinition, Workspace

_SCHEMA_PATH = Path(__file__).parent / "data" / "ortto_builtin_schema.json"

# Namespaces whose fields describe organizations rather than people (Ortto's `o`/`oc`, Salesforce accounts).
ORGANIZATION_NAMESPACES = frozenset({"o", "oc", "osa", "osb", "oso", "osc"})
# Namespaces Inflow itself owns: a source may not register fields in them.
RESERVED_NAMESPACES = frozenset({"", "o"})

SENTINEL_FIELD_ID = "str::email"


@cache
def builtin_schema() -> dict:
    with _SCHEMA_PATH.open() as handle:
        return json.load(handle)


def _builtin_field_rows(workspace: Workspace) -> list[FieldDefinition]:
    schema = builtin_schema()
    rows = []
    for key, entity in (("person_fields", "person"), ("organization_fields", "organization")):
        for item in schema[key]:
            field_id = item["id"]
            namespace = field_id.split(":")[1] if field_id.count(":") == 2 else ""
            rows.append(
                FieldDefinition(
                    workspace=workspace,
                    field_id=field_id,
                    name=item["name"],
                    display_type=item["display_type"],
                    entity=entity,
                    namespace=namespace,
                    read_only=item["read_only"],
                    builtin=True,
                    liquid_name=item["liquid_name"],
                )
            )
    return rows


def catalogue_ensure(*, workspace: Workspace) -> None:
    """Create the built-in field and activity definitions the workspace lacks. Safe to call concurrently."""
    FieldDefinition.objects.bulk_create(_builtin_field_rows(workspace), ignore_conflicts=True)
    ActivityDefinition.objects.bulk_create(
        [
            ActivityDefinition(
                workspace=workspace,
                activity_id=item["id"],
                name=item["name"],
                display_type=item["display_type"],
                attributes=item["attributes"],
                builtin=True,
                hidden=item["hidden"],
            )
            for item in builtin_schema()["activities"]
        ],
        ignore_conflicts=True,
    )


def field_definitions_for_merge(*, workspace: Workspace, entity: str) -> dict[str, FieldDefinition]:
    """Field id -> definition for one entity, creating the built-ins on a workspace's first merge."""
    definitions = {d.field_id: d for d in FieldDefinition.objects.filter(workspace=workspace)}
    if SENTINEL_FIELD_ID not in definitions:
        catalogue_ensure(workspace=workspace)
        definitions = {d.field_id: d for d in FieldDefinition.objects.filter(workspace=workspace)}
    return {fid: d for fid, d in definitions.items() if d.entity == entity}


def entity_for_namespace(namespace: str) -> str:
    return (
        FieldDefinition.Entity.ORGANIZATION
        if namespace in ORGANIZATION_NAMESPACES
        else FieldDefinition.Entity.PERSON
    )


@transaction.atomic
def field_definition_ensure(
    *,
    workspace: Workspace,
    field_id: str,
    name: str,
    display_type: str | None = None,
    entity: str | None = None,
    options: Sequence[str] = (),
    read_only: bool = False,
) -> FieldDefinition:
    """The definition of `field_id`, created if missing (idempotent; safe when two workers race).

    `display_type` defaults from the id's prefix (`int` -> integer, `str` -> text, ...); `entity` from the
    namespace (`o`, `oc`, `osa`, `osb` -> organization). An existing field keeps its type: Ortto does not
    allow changing a field's type after creation, so asking for another type is an error. Its name and
    select options follow the caller.
    """
    prefix, namespace, _ = parse_field_id(field_id)
    display_type = display_type or DEFAULT_TYPE_FOR_PREFIX.get(prefix)
    if display_type not in FIELD_TYPES:
        raise ValueError(f"Unknown field type {display_type!r} for {field_id}.")
    entity = entity or entity_for_namespace(namespace)
    definition = FieldDefinition(
        workspace=workspace,
        field_id=field_id,
        name=name.strip()[:255] or field_id,
        display_type=display_type,
        entity=entity,
        namespace=namespace,
        options=list(options),
        read_only=read_only,
    )
    definition.full_clean(exclude=["workspace"], validate_unique=False, validate_constraints=False)
    FieldDefinition.objects.bulk_create([definition], ignore_conflicts=True)
    stored = FieldDefinition.objects.select_for_update().get(workspace=workspace, field_id=field_id)
    if stored.display_type != display_type or stored.entity != entity:
        raise ValueError(
            f"{field_id} already exists as a {stored.entity} field of type {stored.display_type}; "
            f"a field's type cannot change."
        )
    updates: dict[str, object] = {}
    if not stored.builtin:
        if stored.name != definition.name:
            updates["name"] = definition.name
        if options and stored.options != list(options):
            updates["options"] = list(options)
    for attr, value in updates.items():
        setattr(stored, attr, value)
    if updates:
        stored.save(update_fields=list(updates))
    return stored


@transaction.atomic
def activity_definition_ensure(
    *,
    workspace: Workspace,
    activity_id: str,
    name: str,
    icon: str = "",
    attributes: Iterable[dict] = (),
) -> ActivityDefinition:
    """The activity definition `act:<namespace>:<name>`, created if missing; name, icon and schema follow."""
    prefix, _, _ = parse_field_id(activity_id)
    if prefix != "act":
        raise ValueError(f"{activity_id!r} is not an activity id (act:namespace:name).")
    attributes = [
        {"id": a["id"], "name": a.get("name", a["id"]), "display_type": a.get("display_type", "text")}
        for a in attributes
    ]
    ActivityDefinition.objects.bulk_create(
        [
            ActivityDefinition(
                workspace=workspace, activity_id=activity_id, name=name, icon=icon, attributes=attributes
            )
        ],
        ignore_conflicts=True,
    )
    stored = ActivityDefinition.objects.select_for_update().get(workspace=workspace, activity_id=activity_id)
    wanted = {"name": name, "icon": icon, "attributes": attributes}
    changed = [attr for attr, value in wanted.items() if getattr(stored, attr) != value]
    for attr in changed:
        setattr(stored, attr, wanted[attr])
    if changed:
        stored.full_clean(exclude=["workspace"], validate_unique=False, validate_constraints=False)
        stored.save(update_fields=changed)
    return stored


@transaction.atomic
def custom_object_ensure(
    *, workspace: Workspace, source: str, object_name: str, name: str, fields: Iterable[dict] = ()
) -> CustomObject:
    """The custom object a source syncs (e.g. Salesforce `Subscription__c`), created if missing."""
    fields = [
        {"id": f["id"], "name": f.get("name", f["id"]), "display_type": f.get("display_type", "text")}
        for f in fields
    ]
    CustomObject.objects.bulk_create(
        [CustomObject(workspace=workspace, source=source, object_name=object_name, name=name, fields=fields)],
        ignore_conflicts=True,
    )
    stored = CustomObject.objects.select_for_update().get(
        workspace=workspace, source=source, object_name=object_name
    )
    changed = [attr for attr, value in (("name", name), ("fields", fields)) if getattr(stored, attr) != value]
    for attr in changed:
        setattr(stored, attr, {"name": name, "fields": fields}[attr])
    if changed:
        stored.save(update_fields=changed)
    return stored
