"""Field describes for fields no real org was recorded for, built from recorded fields of the same type.

Every built field starts as a copy of a real recorded field of its type (so it carries all 57 keys in the
real order with real per-type values) and then changes only what differs: name, label, custom, lengths,
picklist values, references, flags.
"""

from __future__ import annotations

import copy
from functools import cache

from .recorded import recorded_field

# (object, field) of a real recorded field to start from, per kind.
EXEMPLARS = {
    "id": ("Contact", "Id"),
    "string": ("Contact", "Title"),
    "email": ("Contact", "Email"),
    "phone": ("Contact", "Phone"),
    "url": ("Account", "Website"),
    "picklist": ("Contact", "LeadSource"),
    "multipicklist": ("Contact", "LeadSource"),
    "combobox": ("Event", "Subject"),
    "textarea": ("Contact", "Description"),
    "boolean": ("Opportunity", "IsPrivate"),
    "boolean_system": ("Contact", "IsDeleted"),
    "reference": ("Contact", "AccountId"),
    "currency": ("Opportunity", "Amount"),
    "percent": ("Opportunity", "Probability"),
    "double": ("Opportunity", "TotalOpportunityQuantity"),
    "int": ("Account", "NumberOfEmployees"),
    "date": ("Contact", "Birthdate"),
    "datetime": ("Event", "ActivityDateTime"),
    "datetime_system": ("Contact", "SystemModstamp"),
}


@cache
def _exemplar(kind: str) -> dict:
    obj, name = EXEMPLARS[kind]
    return recorded_field(obj, name)


def picklist_values(values, default: str | None = None) -> list[dict]:
    return [
        {"active": True, "defaultValue": v == default, "label": v, "validFor": None, "value": v}
        for v in values
    ]


def build_field(kind: str, name: str, label: str, **overrides) -> dict:
    """A complete field describe of `kind`, e.g. ``build_field("picklist", "Tier__c", "Tier", values=[...])``."""
    field = copy.deepcopy(_exemplar(kind))
    field["name"] = name
    field["label"] = label
    custom = name.endswith("__c")
    field["custom"] = custom
    field["inlineHelpText"] = None
    if custom:
        field["permissionable"] = True
    if kind == "multipicklist":
        field.update(type="multipicklist", length=4099, byteLength=12297, sortable=False, groupable=False)
    values = overrides.pop("values", None)
    default = overrides.pop("default", None)
    if values is not None:
        field["picklistValues"] = picklist_values(values, default)
        field["defaultValue"] = default
        field["defaultedOnCreate"] = default is not None
    if kind == "boolean":
        field["permissionable"] = overrides.pop("permissionable", True)
    if "length" in overrides and kind in (
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "combobox",
    ):
        overrides.setdefault("byteLength", overrides["length"] * 3)
    if kind == "reference":
        field["permissionable"] = overrides.pop("permissionable", True)
        field["searchPrefilterable"] = overrides.pop("searchPrefilterable", True)
    field.update(overrides)
    return field


def relabel(field: dict, **overrides) -> dict:
    """A recorded field reused on another object (e.g. Event.WhoId on Task) with a few keys changed."""
    field = copy.deepcopy(field)
    field.update(overrides)
    return field
