"""From Salesforce describes to what Inflow offers for sync: objects, fields, default mappings.

Pure functions over describe JSON (the sobjects list and each object's describe) returning plain dataclasses; `build_catalog` fetches the
describes through a client. The sync engine persists the user's selections (SyncedObject /
FieldSelection); nothing here writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from integrations.salesforce import objects
from integrations.salesforce.client import SalesforceClient
from integrations.salesforce.soql import is_api_name
from integrations.salesforce.target_fields import default_target_field

EXCLUDED_SUFFIXES: tuple[str, ...] = ("ChangeEvent", "History", "Share", "Feed")
MAX_FIELDS_PER_OBJECT = 50
# Compound and binary fields are not selectable: their parts are (MailingCity, ...), Bulk cannot read them.
UNSELECTABLE_TYPES: frozenset[str] = frozenset({"address", "location", "base64"})
SYSTEM_FIELDS: frozenset[str] = frozenset(objects.SYSTEM_FIELDS)
# A custom object ticked in the picker starts with its name, its lookups to people and up to this many of
# its own fields, so ticking an object never selects nothing.
RECOMMENDED_CUSTOM_FIELDS = 20

ORGANIZATION_HINTS = re.compile(r"website|domain|industry|employees|company|revenue", re.IGNORECASE)

# Standard objects described beyond the catalogue's own (an org has hundreds more, described on request).
ALSO_DESCRIBED: tuple[str, ...] = ("Event", "Case")
CATALOG_CACHE_SECONDS = 600

# What each object becomes in the CDP unless the user says otherwise (objects.ObjectSpec.becomes).
KIND_PERSON, KIND_ORGANIZATION, KIND_ACTIVITY, KIND_CUSTOM = (
    objects.PERSON,
    objects.ORGANIZATION,
    objects.ACTIVITY_SOURCE,
    objects.CUSTOM_OBJECT,
)


@dataclass(frozen=True)
class CatalogField:
    name: str
    label: str
    type: str
    custom: bool
    cdp_field: str | None
    reference_to: tuple[str, ...] = ()
    selected_by_default: bool = False
    length: int = 0
    nillable: bool = True
    picklist_values: tuple[str, ...] = ()
    calculated: bool = False
    recommended: bool = False
    # Its place among the fields that feed the same CDP field by default (Phone 1, MobilePhone 2), else 0.
    target_order: int = 0

    # Names the onboarding pages read.
    @property
    def default_selected(self) -> bool:
        return self.selected_by_default

    @property
    def target_field(self) -> str:
        return self.cdp_field or ""


@dataclass(frozen=True)
class Link:
    """How a non-default object reaches people on its own."""

    kind: str  # "reference" (a lookup field) or "email" (an email field matched against str::email)
    field: str
    target: str  # Contact / Lead / Account, or "str::email"

    @property
    def description(self) -> str:
        if self.kind == "reference":
            return f"through its {self.field} lookup to {self.target}"
        return f"by its email field {self.field}"


@dataclass(frozen=True)
class CatalogObject:
    name: str
    label: str
    label_plural: str
    custom: bool
    default: bool
    kind: str
    key_prefix: str | None = None
    # None until the object's describe was read (see `build_catalog(describe=...)`).
    fields: tuple[CatalogField, ...] | None = None
    link: Link | None = None
    system_fields: tuple[str, ...] = ()

    @property
    def described(self) -> bool:
        return self.fields is not None

    @property
    def needs_identifiers(self) -> bool | None:
        """True when Inflow cannot link the object to people on its own ("Set identifiers")."""
        if self.fields is None:
            return None
        if objects.spec_for(self.name) is not None:
            return False
        return self.link is None

    @property
    def companions(self) -> tuple[str, ...]:
        spec = objects.spec_for(self.name)
        return spec.companions if spec is not None else ()

    @property
    def default_selection(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields or () if f.selected_by_default)

    def field(self, name: str) -> CatalogField | None:
        return next((f for f in self.fields or () if f.name == name), None)

    @property
    def api_name(self) -> str:
        return self.name

    @property
    def organization_like(self) -> bool:
        """An object that describes companies rather than people (Ortto's "Organization" example):
        nothing links it to people, and it has company-ish fields. It can become an organization."""
        if not self.needs_identifiers:
            return False
        return any(
            f.type == "url" or ORGANIZATION_HINTS.search(f"{f.name} {f.label}") for f in self.fields or ()
        )


@dataclass(frozen=True)
class Catalog:
    default_objects: tuple[CatalogObject, ...]
    other_objects: tuple[CatalogObject, ...]

    def get(self, name: str) -> CatalogObject | None:
        return next((o for o in (*self.default_objects, *self.other_objects) if o.name == name), None)


def is_offered(sobject: dict[str, Any]) -> bool:
    """Objects offered for sync: queryable, replicateable, and not change events, history, shares or feeds."""
    name = sobject.get("name") or ""
    return (
        bool(sobject.get("queryable"))
        and bool(sobject.get("replicateable"))
        and not sobject.get("deprecatedAndHidden", False)
        and not name.endswith(EXCLUDED_SUFFIXES)
    )


def _object_summary(sobject: dict[str, Any]) -> CatalogObject:
    name = sobject["name"]
    custom = bool(sobject.get("custom"))
    return CatalogObject(
        name=name,
        label=sobject.get("label") or name,
        label_plural=sobject.get("labelPlural") or sobject.get("label") or name,
        custom=custom,
        default=name in objects.DEFAULT_OBJECTS,
        kind=objects.becomes_for(name),
        key_prefix=sobject.get("keyPrefix"),
    )


def offered_objects(describe_global: dict[str, Any]) -> list[CatalogObject]:
    return [
        _object_summary(s)
        for s in describe_global.get("sobjects", [])
        if isinstance(s, dict) and is_offered(s)
    ]


def _is_selectable(raw: dict[str, Any]) -> bool:
    return (
        raw.get("name") not in SYSTEM_FIELDS
        and raw.get("type") not in UNSELECTABLE_TYPES
        and not raw.get("deprecatedAndHidden", False)
    )


def _find_link(fields: Iterable[dict[str, Any]]) -> Link | None:
    fields = list(fields)
    for target in objects.LINK_TARGETS:
        for raw in fields:
            if raw.get("type") == "reference" and target in (raw.get("referenceTo") or []):
                return Link(kind="reference", field=raw["name"], target=target)
    for raw in fields:
        if raw.get("type") == "email":
            return Link(kind="email", field=raw["name"], target="str::email")
    return None


def _recommended_custom(raw_fields: list[dict[str, Any]]) -> set[str]:
    """A custom object's starting selection: its name, its lookups to people and its own fields."""
    out = [f["name"] for f in raw_fields if f.get("nameField")]
    out += [
        f["name"]
        for f in raw_fields
        if f.get("type") == "reference" and set(f.get("referenceTo") or ()) & set(objects.LINK_TARGETS)
    ]
    out += [f["name"] for f in raw_fields if f.get("custom")]
    return set(list(dict.fromkeys(out))[:RECOMMENDED_CUSTOM_FIELDS])


def catalog_object(describe: dict[str, Any]) -> CatalogObject:
    """One object with its selectable fields, default mappings and default selection (≤ 50)."""
    summary = _object_summary(describe)
    spec = objects.spec_for(summary.name)
    raw_fields = [
        f
        for f in describe.get("fields", [])
        # A name that is not an API name could never be queried: it is not offered.
        if isinstance(f, dict) and is_api_name(f.get("name") or "") and _is_selectable(f)
    ]
    if spec is not None:
        wanted = set(spec.selected_by_default)
        recommended = set(spec.recommended_fields)
        orders = {name: i for fields in spec.coalesce.values() for i, name in enumerate(fields, start=1)}
    else:
        wanted, recommended, orders = set(), _recommended_custom(raw_fields), {}
    fields: list[CatalogField] = []
    selected = 0
    for raw in raw_fields:
        name = raw["name"]
        pick = name in wanted and selected < MAX_FIELDS_PER_OBJECT
        selected += pick
        sf_type = raw.get("type") or "string"
        fields.append(
            CatalogField(
                name=name,
                label=raw.get("label") or name,
                type=sf_type,
                custom=bool(raw.get("custom")),
                cdp_field=default_target_field(summary.name, name, sf_type, becomes=summary.kind),
                recommended=name in recommended,
                target_order=orders.get(name, 0),
                reference_to=tuple(raw.get("referenceTo") or ()),
                selected_by_default=pick,
                length=int(raw.get("length") or 0),
                nillable=bool(raw.get("nillable", True)),
                calculated=bool(raw.get("calculated")),
                picklist_values=tuple(
                    str(p.get("value"))
                    for p in raw.get("picklistValues") or ()
                    if isinstance(p, dict) and p.get("active", True)
                ),
            )
        )
    link = None if spec is not None else _find_link(raw_fields)
    return CatalogObject(
        name=summary.name,
        label=summary.label,
        label_plural=summary.label_plural,
        custom=summary.custom,
        default=summary.default,
        kind=summary.kind,
        key_prefix=summary.key_prefix,
        fields=tuple(fields),
        link=link,
        system_fields=tuple(
            sorted(n for n in SYSTEM_FIELDS if any(f.get("name") == n for f in describe.get("fields", [])))
        ),
    )


def _order(items: Iterable[CatalogObject]) -> tuple[CatalogObject, ...]:
    return tuple(sorted(items, key=lambda o: (o.custom, o.label.lower(), o.name)))


def build_catalog(client, *, describe: Iterable[str] | None = None) -> Catalog:
    """The org's catalogue. Describes the default objects, ALSO_DESCRIBED and every custom object (or the
    names given); other standard objects are listed from the global describe only (fields=None).
    Costs 1 + (objects described) API calls; the client caches describes for the run.
    """
    summaries = offered_objects(client.describe_global())
    names = {o.name for o in summaries}
    if describe is None:
        to_describe = {
            o.name for o in summaries if o.custom or o.name in objects.SPECS or o.name in ALSO_DESCRIBED
        }
    else:
        to_describe = set(describe) & names
    found = [catalog_object(client.describe(o.name)) if o.name in to_describe else o for o in summaries]
    defaults = sorted((o for o in found if o.default), key=lambda o: objects.DEFAULT_OBJECTS.index(o.name))
    return Catalog(default_objects=tuple(defaults), other_objects=_order(o for o in found if not o.default))


def objects_for(*, connection, refresh: bool = False) -> list[CatalogObject]:
    """The described objects of a connection's org (defaults first), cached for ten minutes."""
    from django.core.cache import cache

    key = f"integrations:catalog:{connection.pk}:{connection.api_version}"
    catalog = None if refresh else cache.get(key)
    if catalog is None:
        with SalesforceClient.for_connection(connection) as client:
            catalog = build_catalog(client)
        cache.set(key, catalog, CATALOG_CACHE_SECONDS)
    return [o for o in (*catalog.default_objects, *catalog.other_objects) if o.described]
