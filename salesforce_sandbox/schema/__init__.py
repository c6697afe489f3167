"""The org's schema: which objects exist, their fields, and how they relate.

Built once per process from code (objects.py) plus the custom fields that `sandbox_churn
--schema-change` added or removed (rows in the database, passed in as `changes`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from . import objects as defs
from .recorded import recorded_global, recorded_object

# Columns every record row has; all other fields live in the row's JSON document.
SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")

GLOBAL_KEYS = (
    "activateable",
    "associateEntityType",
    "associateParentEntity",
    "createable",
    "custom",
    "customSetting",
    "deepCloneable",
    "deletable",
    "deprecatedAndHidden",
    "feedEnabled",
    "hasSubtypes",
    "isInterface",
    "isSubtype",
    "keyPrefix",
    "label",
    "labelPlural",
    "layoutable",
    "mergeable",
    "mruEnabled",
    "name",
    "queryable",
    "replicateable",
    "retrieveable",
    "searchable",
    "triggerable",
    "undeletable",
    "updateable",
)
ADDRESS_PARTS = (
    "Street",
    "City",
    "State",
    "PostalCode",
    "Country",
    "Latitude",
    "Longitude",
    "GeocodeAccuracy",
)
ADDRESS_KEYS = (
    "city",
    "country",
    "geocodeAccuracy",
    "latitude",
    "longitude",
    "postalCode",
    "state",
    "street",
)
_VERSION_IN_URL = re.compile(r"/services/data/v(?:\d+|xx)\.0/")


@dataclass
class SObjectType:
    name: str
    key_prefix: str
    label: str
    label_plural: str
    custom: bool
    fields: list[dict]
    meta: dict  # describe's object-level keys, in the real order, without fields/childRelationships/urls
    recorded_children: list[dict] = field(default_factory=list)
    # For objects without a recorded describe: (child object, field) pairs that cascade on delete.
    cascade_built: frozenset = frozenset()
    # Validation rules (`sandbox_churn --validation-rule`): ({"name", "field", "equals", "message"}, ...).
    validation_rules: tuple = ()

    def __post_init__(self):
        self.by_lower = {f["name"].lower(): f for f in self.fields}
        self.relationships = {
            f["relationshipName"].lower(): f
            for f in self.fields
            if f["type"] == "reference" and f["relationshipName"]
        }

    def field(self, name: str) -> dict | None:
        return self.by_lower.get(name.lower())

    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def address_parts(self, address_field: str) -> dict[str, str]:
        """For a compound address field, its key in the JSON object -> the component field name."""
        prefix = address_field[: -len("Address")]
        return {
            key: prefix + part
            for key, part in zip(ADDRESS_KEYS, sorted(ADDRESS_PARTS, key=str.lower), strict=True)
        }


def _versioned(value, version: str):
    if isinstance(value, str):
        return _VERSION_IN_URL.sub(f"/services/data/v{version}/", value)
    if isinstance(value, list):
        return [_versioned(v, version) for v in value]
    if isinstance(value, dict):
        return {k: _versioned(v, version) for k, v in value.items()}
    return value


def _meta_for_built(spec: dict, *, custom: bool) -> dict:
    template = recorded_object("Custom__c" if custom else spec.get("like", "Contact"))["object"]
    meta = copy.deepcopy(template)
    meta.update(
        keyPrefix=spec["keyPrefix"],
        label=spec["label"],
        labelPlural=spec["labelPlural"],
        name=spec["name"],
        custom=custom,
    )
    meta["recordTypeInfos"] = [
        {
            "active": True,
            "available": True,
            "defaultRecordTypeMapping": True,
            "developerName": "Master",
            "master": True,
            "name": "Master",
            "recordTypeId": "012000000000000AAA",
            "urls": {
                "layout": f"/services/data/vxx.0/sobjects/{spec['name']}/describe/layouts/012000000000000AAA"
            },
        }
    ]
    plural = spec["labelPlural"].lower()
    meta["supportedScopes"] = [
        {"label": f"All {plural}", "name": "everything"},
        {"label": f"My {plural}", "name": "mine"},
    ]
    if custom:
        meta.update(
            customSetting=False,
            compactLayoutable=True,
            listviewable=None,
            lookupLayoutable=None,
            mergeable=False,
            mruEnabled=True,
            triggerable=True,
            feedEnabled=False,
            deepCloneable=False,
        )
        if not any(f["name"] == "OwnerId" for f in spec["fields"]):
            meta["supportedScopes"] = [{"label": f"All {plural}", "name": "everything"}]
    recorded = recorded_global(spec["name"])
    if recorded:
        for key in GLOBAL_KEYS:
            meta[key] = recorded[key]
    return meta


class Schema:
    def __init__(self, types: list[SObjectType]):
        self.types = {t.name: t for t in types}
        self._lower = {t.name.lower(): t for t in types}
        self._prefix = {t.key_prefix: t for t in types}
        self._cascades: dict[str, list[tuple[SObjectType, str]]] = {}

    def get(self, name: str) -> SObjectType | None:
        return self._lower.get(name.lower())

    def __iter__(self):
        return iter(self.types.values())

    def child_relationships(self, parent: SObjectType) -> list[dict]:
        recorded = {(c["childSObject"], c["field"]): c for c in parent.recorded_children}
        out = []
        for child in self:
            for f in child.fields:
                if f["type"] != "reference" or parent.name not in f["referenceTo"]:
                    continue
                entry = recorded.get((child.name, f["name"]))
                if entry is None:
                    entry = {
                        "cascadeDelete": bool(f["cascadeDelete"])
                        or (child.name, f["name"]) in parent.cascade_built,
                        "childSObject": child.name,
                        "deprecatedAndHidden": False,
                        "field": f["name"],
                        "junctionIdListNames": [],
                        "junctionReferenceTo": [],
                        "relationshipName": _child_relationship_name(child, f),
                        "restrictedDelete": False,
                    }
                out.append(copy.deepcopy(entry))
        out.sort(key=lambda c: (c["childSObject"], c["field"]))
        return out

    def cascade_children(self, parent: SObjectType) -> list[tuple[SObjectType, str]]:
        """(child object, reference field) whose records go to the recycle bin with a `parent` record.

        Read from the describe's childRelationships (`cascadeDelete`), the real org's where one was
        recorded, so the org deletes exactly what its describe promises.
        """
        cached = self._cascades.get(parent.name)
        if cached is None:
            cached = [
                (self.types[c["childSObject"]], c["field"])
                for c in self.child_relationships(parent)
                if c["cascadeDelete"] and c["childSObject"] in self.types
            ]
            self._cascades[parent.name] = cached
        return cached

    def describe_global_entry(self, t: SObjectType, version: str) -> dict:
        entry = {key: t.meta[key] for key in GLOBAL_KEYS}
        entry["urls"] = _urls(t.name, version, ui_origin=None)
        return entry

    def describe(
        self, t: SObjectType, version: str, *, origin: str, fields: list[dict] | None = None
    ) -> dict:
        body = {key: _versioned(copy.deepcopy(value), version) for key, value in t.meta.items()}
        body["childRelationships"] = self.child_relationships(t)
        body["fields"] = fields if fields is not None else t.fields
        body["urls"] = _urls(t.name, version, ui_origin=origin, key_prefix=t.key_prefix)
        # Salesforce lists the object-level keys in ASCII order (urls happens to sort last).
        return {key: body[key] for key in sorted(body)}


def _child_relationship_name(child: SObjectType, f: dict) -> str | None:
    if not f["relationshipName"]:
        return None
    if child.custom:
        return child.label_plural.replace(" ", "_") + "__r"
    return child.label_plural.replace(" ", "")


def _urls(name: str, version: str, *, ui_origin: str | None, key_prefix: str = "") -> dict:
    base = f"/services/data/v{version}/sobjects/{name}"
    urls = {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
    }
    if ui_origin is not None:
        urls["uiDetailTemplate"] = f"{ui_origin}/{{ID}}"
        urls["uiEditTemplate"] = f"{ui_origin}/{{ID}}/e"
    urls.update({"listviews": f"{base}/listviews", "describe": f"{base}/describe"})
    if ui_origin is not None:
        urls["uiNewRecord"] = f"{ui_origin}/{key_prefix}/e"
    urls.update(
        {"quickActions": f"{base}/quickActions", "layouts": f"{base}/describe/layouts", "sobject": base}
    )
    return urls


_STATIC: list[SObjectType] | None = None


def _static_types() -> list[SObjectType]:
    global _STATIC
    if _STATIC is None:
        types = []
        for spec in defs.standard_objects():
            if spec["recorded"]:
                rec = recorded_object(spec["recorded"])
                # Some recordings come from older API versions without a few keys: take Contact's values.
                meta = {**copy.deepcopy(recorded_object("Contact")["object"]), **copy.deepcopy(rec["object"])}
                children = rec["childRelationships"]
            else:
                meta = _meta_for_built(spec, custom=False)
                children = []
            cascade_built = frozenset(spec.get("cascade", ()))
            types.append(
                SObjectType(
                    spec["name"],
                    meta["keyPrefix"],
                    meta["label"],
                    meta["labelPlural"],
                    False,
                    spec["fields"],
                    meta,
                    children,
                    cascade_built,
                )
            )
        for spec in defs.custom_objects():
            meta = _meta_for_built(spec, custom=True)
            types.append(
                SObjectType(
                    spec["name"],
                    spec["keyPrefix"],
                    spec["label"],
                    spec["labelPlural"],
                    True,
                    spec["fields"],
                    meta,
                )
            )
        _STATIC = types
    return _STATIC


_CACHE: dict = {}


def build_schema(changes: tuple = ()) -> Schema:
    """The schema with `changes` applied: ((sobject, "add", field_dict_json) | (sobject, "remove", name), ...)."""
    cached = _CACHE.get(changes)
    if cached is not None:
        return cached
    import json

    types = []
    for t in _static_types():
        fields = list(t.fields)
        rules = []
        for sobject, action, payload in changes:
            if sobject != t.name:
                continue
            if action == "rule":
                rules.append(json.loads(payload))
            elif action == "add":
                new = json.loads(payload)
                fields = [f for f in fields if f["name"] != new["name"]] + [new]
            elif action == "remove":
                fields = [f for f in fields if f["name"] != payload]
        types.append(
            SObjectType(
                t.name,
                t.key_prefix,
                t.label,
                t.label_plural,
                t.custom,
                fields,
                t.meta,
                t.recorded_children,
                t.cascade_built,
                tuple(rules),
            )
        )
    schema = Schema(types)
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[changes] = schema
    return schema
