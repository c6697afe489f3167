"""The CDP field a Salesforce field feeds: type tables, Ortto-style field ids, and the default target of
each field (a built-in twin, else its own field in its object's namespace)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from integrations.salesforce import objects

# Salesforce describe type -> CDP display type (cdp.fields.FIELD_TYPES). Strings are never coerced to numbers.
SF_TYPE_TO_CDP = {
    "string": "text",
    "picklist": "single_select",
    "combobox": "text",
    "id": "text",
    "reference": "text",
    "encryptedstring": "text",
    "textarea": "large_text",
    "email": "email",
    "url": "link",
    "phone": "phone",
    "boolean": "bool",
    "int": "integer",
    "long": "integer",
    "double": "decimal",
    "percent": "decimal",
    "currency": "currency",
    "date": "date",
    "datetime": "time",
    "multipicklist": "multi_select",
    "time": "text",
    "address": "large_text",
}


CDP_TYPE_PREFIX = {
    "text": "str",
    "single_select": "str",
    "large_text": "str",
    "email": "str",
    "link": "lnk",
    "phone": "phn",
    "bool": "bol",
    "integer": "int",
    "decimal": "dec",
    "currency": "cur",
    "date": "dtz",
    "time": "tme",
    "multi_select": "sst",
}


_SLUG_RE = re.compile(r"[^a-z0-9]+")


_FIELD_ID_RE = re.compile(r"^[a-z0-9]{2,4}:[a-z0-9]{0,8}:[a-z0-9][a-z0-9_\-!]{0,99}$")


def field_slug(api_name: str) -> str:
    """`Lead_Score__c` -> `lead-score`, `LeadSource` -> `lead-source` (Ortto's kebab-case)."""
    name = api_name[:-3] if api_name.endswith("__c") else api_name
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name)
    return _SLUG_RE.sub("-", name.lower()).strip("-")[:100] or "field"


def namespace_for(object_name: str, field_name: str) -> str:
    standard, custom = objects.namespaces_for(object_name)
    return custom if field_name.endswith("__c") else standard


def cdp_type_for(sf_type: str) -> str:
    return SF_TYPE_TO_CDP.get(sf_type, "text")


def default_target_field(object_name: str, field_name: str, sf_type: str, *, becomes: str = "") -> str:
    """The CDP field a Salesforce field feeds unless the user picks another: a built-in twin, else its own
    field in the object's namespace (e.g. Contact.LeadSource -> `str:sfc:lead-source`). An Organization-like
    custom object synced as an organization uses Ortto's "Salesforce Organization" namespace `osc`."""
    spec = objects.spec_for(object_name)
    builtin = spec.target_for(field_name) if spec is not None else None
    if builtin:
        return builtin
    person_account = spec.person_account if spec is not None else None
    if person_account is not None and field_name.endswith(person_account.custom_suffix):
        # A Person Account's person field feeds what the Contact's twin would (`X__pc` -> `str:scc:x`).
        twin = field_name[: -len(person_account.custom_suffix)] + "__c"
        return own_target_field(person_account.custom_twin, twin, sf_type)
    if becomes == objects.ORGANIZATION and spec is None and field_name == "Name":
        return "str:o:name"
    return own_target_field(object_name, field_name, sf_type, becomes=becomes)


def own_target_field(object_name: str, field_name: str, sf_type: str, *, becomes: str = "") -> str:
    """The field's own CDP field in its object's namespace, e.g. Contact.Phone -> `phn:sfc:phone`."""
    namespace = namespace_for(object_name, field_name)
    if becomes == objects.ORGANIZATION and objects.spec_for(object_name) is None:
        namespace = objects.ORGANIZATION_LIKE_NAMESPACE
    return f"{CDP_TYPE_PREFIX[cdp_type_for(sf_type)]}:{namespace}:{field_slug(field_name)}"


def validate_target_field(field_id: str) -> None:
    if not isinstance(field_id, str) or not _FIELD_ID_RE.match(field_id):
        raise ValidationError(
            {"target_field": f"{field_id!r} is not a CDP field id such as str:cm:job-title."}
        )
