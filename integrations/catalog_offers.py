"""What a Salesforce org offers to sync: its objects and fields (the catalogue), each marked with what
is selected now or by default, with a sample value per field. The onboarding's steps and the data source's
settings pages build their pickers from these offers; the forms that edit them take them as they are.

Only reads live here; writes go through `integrations.sync_settings`.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.http import Http404
from django.utils import timezone

from cdp.models import Workspace
from cdp.selectors import builtin_fields
from integrations.models import Connection, FieldSelection, SyncedObject
from integrations.salesforce import catalog, target_fields
from integrations.salesforce import objects as sf_objects
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.errors import SalesforceError

logger = logging.getLogger(__name__)

SAMPLE_CACHE_SECONDS = 600
MAX_SAMPLED_OBJECTS = 20
API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
# Field types a permission can be read from (DESIGN "Permissions": non-boolean picklists allowed).
PERMISSION_FIELD_TYPES = {"boolean", "picklist", "string"}


@dataclass
class FieldOffer:
    name: str
    label: str
    type: str
    custom: bool
    calculated: bool = False
    default_selected: bool = False
    selected: bool = False
    sample: str = ""
    target_field: str = ""
    picklist_values: tuple[str, ...] = ()
    reference_to: tuple[str, ...] = ()
    recommended: bool = False
    # Its place among the fields feeding the same CDP field (first non-empty wins), and its rule.
    target_order: int = 0
    update_mode: str = ""
    # (CDP field id, name) the picker offers as what this field maps to; the first is its default.
    target_choices: tuple[tuple[str, str], ...] = ()


@dataclass
class ObjectOffer:
    api_name: str
    label: str
    custom: bool
    default: bool
    fields: list[FieldOffer] = field(default_factory=list)
    selected: bool = False
    needs_identifiers: bool = False
    organization_like: bool = False
    synced: SyncedObject | None = None

    @property
    def selected_count(self) -> int:
        return sum(1 for f in self.fields if f.selected)

    def field(self, name: str) -> FieldOffer | None:
        return next((f for f in self.fields if f.name == name), None)


# Set while a page is built from the last catalogue read because Salesforce cannot be reached now.
catalog_read_at: ContextVar[datetime | None] = ContextVar("catalog_read_at", default=None)
LAST_CATALOG_SECONDS = 30 * 24 * 3600


def _catalog_objects(connection: Connection) -> list[Any]:
    """The org's objects; when Salesforce cannot be reached, the last ones read (and `catalog_read_at`
    says when), so the settings pages still show what is stored. Raises SalesforceError when there is none."""

    key = f"onboarding:last-catalog:{connection.pk}:{connection.api_version}"
    try:
        objects = list(catalog.objects_for(connection=connection))
    except SalesforceError:
        last = cache.get(key)
        if last is None:
            raise
        catalog_read_at.set(last["read_at"])
        return list(last["objects"])
    cache.set(key, {"objects": objects, "read_at": timezone.now()}, LAST_CATALOG_SECONDS)
    return objects


def object_offers(
    *, workspace: Workspace, connection: Connection, samples: bool = False
) -> list[ObjectOffer]:
    """Every object the org offers, with its fields, marked with what is selected now (or by default)."""
    if connection.workspace_id != workspace.pk:
        raise Http404("No such data source.")
    synced = {
        obj.api_name: obj
        for obj in SyncedObject.objects.filter(connection=connection, workspace=workspace).prefetch_related(
            "fields"
        )
    }
    offers = []
    builtins = {
        entity: [
            (d.field_id, d.name, d.display_type) for d in builtin_fields(workspace=workspace, entity=entity)
        ]
        for entity in ("person", "organization")
    }
    for item in _catalog_objects(connection):
        obj = synced.get(item.api_name)
        stored = {sel.sf_field: sel for sel in obj.fields.all()} if obj is not None else {}
        enabled = obj is not None and obj.enabled
        # An object selected with no fields yet (a junction that came with its parent) starts from its defaults.
        chosen = {name for name, sel in stored.items() if sel.active} if enabled else None
        entity = {"person": "person", "organization": "organization"}.get(getattr(item, "kind", ""), "")
        fields = []
        for f in item.fields:
            default_target = getattr(f, "target_field", "") or ""
            saved = stored.get(f.name)
            fields.append(
                FieldOffer(
                    name=f.name,
                    label=f.label,
                    type=f.type,
                    custom=f.custom,
                    calculated=getattr(f, "calculated", False),
                    default_selected=f.default_selected,
                    selected=(f.name in chosen)
                    if chosen
                    else ((item.default or enabled) and f.default_selected),
                    target_field=saved.target_field if saved is not None else default_target,
                    picklist_values=tuple(getattr(f, "picklist_values", ()) or ()),
                    reference_to=tuple(getattr(f, "reference_to", ()) or ()),
                    recommended=bool(getattr(f, "recommended", False)),
                    target_order=saved.target_order if saved is not None else getattr(f, "target_order", 0),
                    update_mode=saved.update_mode if saved is not None else "",
                    target_choices=_target_choices(
                        item.api_name, f, default_target, builtins.get(entity, ())
                    ),
                )
            )
        offers.append(
            ObjectOffer(
                api_name=item.api_name,
                label=item.label,
                custom=item.custom,
                default=item.default,
                fields=fields,
                selected=(obj is not None and obj.enabled) if synced else item.default,
                needs_identifiers=item.needs_identifiers,
                organization_like=getattr(item, "organization_like", False),
                synced=obj,
            )
        )
    if samples and catalog_read_at.get() is None:  # no sample reads from an org that is down
        # One small query per object, for the ones a user is likely to open; capped for large orgs.
        for offer in [o for o in offers if o.default or o.selected or o.custom][:MAX_SAMPLED_OBJECTS]:
            _attach_samples(connection, offer)
    return offers


# Which built-in CDP fields a Salesforce type may feed (cdp.fields display types).
_TEXT_TYPES = {"string", "picklist", "combobox", "textarea", "email", "url", "phone", "encryptedstring"}
_COMPATIBLE = {
    "text": _TEXT_TYPES,
    "single_select": _TEXT_TYPES,
    "geo": _TEXT_TYPES,
    "email": {"email", "string"},
    "phone": {"phone", "string"},
    "link": {"url", "string"},
    "url": {"url", "string"},
    "bool": {"boolean"},
    "integer": {"int", "long", "double"},
    "decimal": {"double", "percent", "currency", "int"},
    "currency": {"currency", "double"},
    "date": {"date"},
    "time": {"datetime"},
}


def _target_choices(object_name: str, field, default_target: str, builtins) -> tuple[tuple[str, str], ...]:
    """What one Salesforce field may map to: its default, its own field in the object's namespace, and the
    built-in fields of its entity that take its type (never the permissions: those have their own step)."""

    own = target_fields.own_target_field(object_name, field.name, field.type)
    choices = {default_target: "", own: f"Its own field: {field.label}"}
    for field_id, name, display_type in builtins:
        if field_id in ("bol::p", "bol::sp") or field.type not in _COMPATIBLE.get(display_type, ()):
            continue
        choices.setdefault(field_id, name)
    names = {field_id: name for field_id, name, _ in builtins}
    choices[default_target] = names.get(default_target) or f"Its own field: {field.label}"
    return tuple((field_id, label) for field_id, label in choices.items() if field_id)


def _attach_samples(connection: Connection, offer: ObjectOffer) -> None:
    key = f"onboarding:samples:{connection.pk}:{offer.api_name}"
    values = cache.get(key)
    if values is None:
        values = _read_samples(connection, offer)
        cache.set(key, values, SAMPLE_CACHE_SECONDS)
    for f in offer.fields:
        f.sample = values.get(f.name, "")


def _read_samples(connection: Connection, offer: ObjectOffer) -> dict[str, str]:
    """One cheap query per object: the newest few rows, the first non-empty value of each field."""

    names = [
        f.name
        for f in offer.fields
        if f.type not in ("address", "location", "base64") and API_NAME.fullmatch(f.name)
    ]
    if not names or not API_NAME.fullmatch(offer.api_name):
        return {}
    # Names come from the org's describe and are checked against Salesforce's identifier syntax above.
    soql = f"SELECT {', '.join(names)} FROM {offer.api_name} ORDER BY SystemModstamp DESC LIMIT 5"  # noqa: S608
    try:
        client = SalesforceClient.for_connection(connection)
        page = next(iter(client.query_pages(soql, batch_size=200)), None)
    except SalesforceError as error:
        # Samples are a convenience: a failure here must never block choosing fields.
        logger.info("No sample values for %s: %s", offer.api_name, type(error).__name__)
        return {}
    values: dict[str, str] = {}
    for record in page.records if page else []:
        for name in names:
            value = record.get(name)
            if name not in values and value not in (None, "", [], {}):
                text = str(value)
                values[name] = text if len(text) <= 60 else text[:57] + "…"
    return values


def selected_objects(*, workspace: Workspace, connection: Connection) -> list[SyncedObject]:
    return list(
        SyncedObject.objects.filter(workspace=workspace, connection=connection, enabled=True).order_by(
            "api_name"
        )
    )


def person_objects(*, workspace: Workspace, connection: Connection) -> list[SyncedObject]:
    return [o for o in selected_objects(workspace=workspace, connection=connection) if o.becomes == "person"]


def permission_objects(*, workspace: Workspace, connection: Connection, offers: dict) -> list[SyncedObject]:
    """The objects whose records carry a person's permissions: those that become people, and an Account
    when the org has Person Accounts (its describe has the flag field)."""
    out = []
    for obj in selected_objects(workspace=workspace, connection=connection):
        person_account = sf_objects.person_account_for(obj.api_name)
        offer = offers.get(obj.api_name)
        has_people = (
            person_account is not None
            and offer is not None
            and any(f.name == person_account.flag for f in offer.fields)
        )
        if obj.becomes == "person" or has_people:
            out.append(obj)
    return out


def active_field_names(*, synced_object: SyncedObject) -> list[str]:
    return list(
        FieldSelection.objects.filter(synced_object=synced_object, active=True).values_list(
            "sf_field", flat=True
        )
    )
