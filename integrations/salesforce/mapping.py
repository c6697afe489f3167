"""Salesforce records -> CDP changes: pure functions, no database, no HTTP.

One page of records of one object, plus the previous payload of each record (from `SourceRecord`) and a
little context looked up by the engine (campaign names, opportunity contact roles, parent links), becomes:
people / organization / custom-object rows for `cdp.merge`, activity events with deterministic source keys,
keys to archive, the `SourceRecord` rows to store, and per-record errors. Nothing here raises for bad data:
a record that cannot be mapped becomes a `RecordError` and the rest of the page goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from cdp.catalogue import ORGANIZATION_NAMESPACES
from integrations.salesforce import objects
from integrations.salesforce.activities import ACTIVITY_HANDLERS
from integrations.salesforce.mapped_page import (
    CustomRecordOut,
    Key,
    MapContext,
    OrganizationOut,
    PageResult,
    PersonOut,
    RecordError,
    SourceOut,
)
from integrations.salesforce.permissions import PermissionRule, apply_permissions
from integrations.salesforce.values import clean_payload, decimal_safe, is_true, parse_datetime, payload_hash


@dataclass(frozen=True)
class Selection:
    sf_field: str
    sf_type: str
    target_field: str
    # Among the fields feeding one target: 1, 2, ... = first non-empty in this order (0 = the only one).
    order: int = 0
    # "" follows the merge strategy; "overwrite" / "fill" (cdp.merge.FieldMode); "skip" = read, never written.
    mode: str = ""


@dataclass
class ObjectMapper:
    """Compiled once per object per run; `map_page` is the hot loop."""

    connection_id: int
    object_name: str
    becomes: str
    selections: Sequence[Selection]
    email_rule: PermissionRule | None = None
    sms_rule: PermissionRule | None = None
    identifier_kind: str = "automatic"
    identifier_config: Mapping[str, Any] = field(default_factory=dict)
    merge_converted_leads: bool = True
    activity_since: dt.datetime | None = None
    # The activity kinds the connection stores (data retention); None = every kind.
    activity_kinds: frozenset[str] | None = None
    # The lookup stored as SourceRecord.ref_id, so junction rows can be found by the record they join.
    ref_field: str = ""
    # The connection's source precedence ({"person": ("Contact", "Lead"), ...}); see objects.DEFAULT_PRECEDENCE.
    precedence: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # When records are mapped (stage changes are never dated after it).
    now: dt.datetime | None = None

    def __post_init__(self) -> None:
        self.source = f"salesforce:{self.connection_id}"
        self._user_names: Mapping[str, str] = {}
        self.spec = objects.spec_for(self.object_name)
        # target -> [(sf field, is decimal)], first non-empty wins, in the selections' stated order.
        groups: dict[str, list[tuple[int, str, bool]]] = {}
        for s in self.selections:
            if s.mode == "skip":
                continue
            decimal = s.sf_type in ("currency", "percent", "double")
            groups.setdefault(s.target_field, []).append((s.order, s.sf_field, decimal))
        # Identity fields are always mapped for people (DESIGN: Salesforce id, then email, then phone).
        if self.becomes == objects.PERSON and self.spec is not None:
            for sf_field, target in (("Email", "str::email"), ("Phone", "phn::phone")):
                groups.setdefault(target, [(0, sf_field, False)])
        self._targets = [
            (target, tuple((name, decimal) for _, name, decimal in sorted(group)))
            for target, group in groups.items()
        ]
        self.field_modes = {
            s.target_field: s.mode for s in self.selections if s.mode in ("overwrite", "fill")
        }
        self.person_precedence = objects.precedence_of(self.precedence, objects.PERSON, self.object_name)
        self.organization_precedence = objects.precedence_of(
            self.precedence, objects.ORGANIZATION, self.object_name
        )
        self._handler = ACTIVITY_HANDLERS.get(self.object_name)

    def key(self, object_name: str, sf_id: str) -> Key:
        return Key(self.source, object_name, sf_id)

    def person_key_for_id(self, sf_id: str | None) -> Key | None:
        if not sf_id or not isinstance(sf_id, str):
            return None
        obj = objects.ID_PREFIX_OBJECT.get(sf_id[:3])
        if obj in ("Contact", "Lead"):
            return self.key(obj, sf_id)
        return None

    # ------------------------------------------------------------------ one page

    def map_page(
        self,
        records: Sequence[Mapping[str, Any]],
        previous: Mapping[str, tuple[dt.datetime, str, dict]] | None = None,
        context: MapContext | None = None,
    ) -> PageResult:
        """`previous`: sf id -> (SystemModstamp, hash, payload) of what was last applied."""
        previous = previous or {}
        context = context or MapContext()
        self._user_names = context.user_names
        result = PageResult()
        # Duplicate ids within a page: the latest version wins, the others are reported.
        latest: dict[str, tuple[dt.datetime, dict]] = {}
        for raw in records:
            try:
                payload = clean_payload(raw)
                sf_id = payload.get("Id")
                if not isinstance(sf_id, str) or not sf_id:
                    raise ValueError("the record has no Id")
                modstamp = parse_datetime(payload.get("SystemModstamp"))
                if modstamp is None:
                    raise ValueError("the record has no SystemModstamp")
            except (ValueError, TypeError, AttributeError) as exc:
                result.errors.append(
                    RecordError(
                        sf_id=str(raw.get("Id", ""))[:18] if isinstance(raw, Mapping) else "",
                        error_type="malformed",
                        message=f"Salesforce sent a {self.object_name} record Inflow cannot read: {exc}.",
                        fix="Nothing to do if it happens once; if it repeats, check the object's sharing settings.",
                        excerpt=excerpt(raw),
                        retryable=False,
                    )
                )
                continue
            held = latest.get(sf_id)
            if held is not None:
                result.errors.append(
                    RecordError(
                        sf_id=sf_id,
                        error_type="duplicate",
                        message=f"{self.object_name} {sf_id} appeared twice in one page; the newer version was used.",
                        fix="No action needed.",
                        retryable=False,
                    )
                )
                if held[0] > modstamp:
                    continue
            latest[sf_id] = (modstamp, payload)

        for sf_id, (modstamp, payload) in latest.items():
            cursor = (modstamp, sf_id)
            if result.max_cursor is None or cursor > result.max_cursor:
                result.max_cursor = cursor
            digest = payload_hash(payload)
            prev = previous.get(sf_id)
            if prev is not None and prev[0] == modstamp and prev[1] == digest:
                result.skipped += 1
                continue
            prev_payload = prev[2] if prev is not None else None
            if prev_payload and is_true(prev_payload.get("IsDeleted")):
                prev_payload = None  # back from the recycle bin: what it brings happens again
            deleted = is_true(payload.get("IsDeleted"))
            result.source_records.append(
                SourceOut(sf_id, modstamp, payload, digest, ref_id=self._ref_id(payload), deleted=deleted)
            )
            try:
                if deleted:
                    self._map_delete(sf_id, result)
                    continue
                self._map_record(sf_id, payload, prev_payload, context, result)
            except Exception as exc:  # noqa: BLE001 - one bad record must never stop the page
                result.errors.append(
                    RecordError(
                        sf_id=sf_id,
                        error_type="mapping",
                        message=f"{self.object_name} {sf_id} could not be mapped: {exc}.",
                        fix="Check the record's values in Salesforce; it is retried on the next run after it changes.",
                        excerpt=excerpt(payload),
                    )
                )
        return result

    # ------------------------------------------------------------------ per kind

    def _ref_id(self, payload: Mapping[str, Any]) -> str:
        if not self.ref_field:
            return ""
        value = payload.get(self.ref_field)
        return value[:18] if isinstance(value, str) else ""

    def _map_delete(self, sf_id: str, result: PageResult) -> None:
        if self.becomes in ("person", "organization", "custom_object"):
            result.archive_keys.append(self.key(self.object_name, sf_id))

    def _fields(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for target, sources in self._targets:
            found = False
            for sf_field, is_decimal in sources:
                if sf_field not in payload:
                    continue
                found = True
                value = payload[sf_field]
                if isinstance(value, dict):  # compound address -> one line of text
                    value = ", ".join(
                        str(v) for k, v in value.items() if v not in (None, "") and k != "geocodeAccuracy"
                    )
                elif is_decimal:
                    value = decimal_safe(value)
                elif isinstance(value, str) and value in self._user_names:
                    value = self._user_names[value]
                if value not in (None, ""):
                    out[target] = value
                    break
            else:
                if found:
                    out[target] = None  # every source field is empty: the target is cleared
        return out

    def _map_record(self, sf_id, payload, prev, context: MapContext, result: PageResult) -> None:
        becomes = self.becomes
        name = self.object_name
        if becomes == objects.PERSON:
            fields = self._fields(payload)
            apply_permissions(
                self.email_rule, self.sms_rule, payload, prev, fields, context.echoes.get(sf_id)
            )
            org_key = None
            extra: tuple[Key, ...] = ()
            precedence = self.person_precedence
            if name == "Contact" and payload.get("AccountId"):
                org_key = self.key("Account", payload["AccountId"])
            org_fields = {k: fields.pop(k) for k in [k for k in fields if _is_org_field(k)]}
            if name == "Lead":
                converted = is_true(payload.get("IsConverted"))
                if converted:
                    precedence = objects.CONVERTED_LEAD_PRECEDENCE
                converted_to = payload.get("ConvertedContactId")
                if self.merge_converted_leads and converted and converted_to:
                    extra = (self.key("Contact", converted_to),)
                company = org_fields.get("str:o:name")
                if isinstance(company, str) and company.strip() and not extra:
                    # A lead carries its company: it joins the organization of that name (when exactly one
                    # has it) or becomes one, and only fills what the Account left empty.
                    org_key = self.key("LeadCompany", company.strip().lower()[:255])
                    result.organizations.append(
                        OrganizationOut(sf_id, org_key, org_fields, self.organization_precedence)
                    )
            result.people.append(PersonOut(sf_id, self.key(name, sf_id), fields, org_key, extra, precedence))
        elif becomes == objects.ORGANIZATION:
            fields = self._fields(payload)
            if self.spec is None and "str:o:name" not in fields and payload.get("Name"):
                fields["str:o:name"] = payload.get("Name")
            person_account = self.spec.person_account if self.spec is not None else None
            person_fields = {k: fields.pop(k) for k in [k for k in fields if not _is_org_field(k)]}
            result.organizations.append(
                OrganizationOut(sf_id, self.key(name, sf_id), fields, self.organization_precedence)
            )
            if person_account is not None and is_true(payload.get(person_account.flag)):
                # A Person Account is an organization and a person (Ortto a-823), both keyed on its id.
                person_fields.update(self._person_account_fields(person_account, payload))
                apply_permissions(
                    self.email_rule, self.sms_rule, payload, prev, person_fields, context.echoes.get(sf_id)
                )
                result.people.append(
                    PersonOut(
                        sf_id,
                        self.key(person_account.identity_object, sf_id),
                        person_fields,
                        self.key(name, sf_id),
                        (),
                        self.person_precedence,
                    )
                )
        elif becomes == "custom_object":
            fields = self._fields(payload)
            people = self._custom_people(sf_id, payload, context)
            orgs: tuple[Key, ...] = ()
            for value in payload.values():
                if isinstance(value, str) and len(value) in (15, 18) and value[:3] == "001":
                    orgs = (self.key("Account", value),)
                    break
            if self.identifier_kind == "unique_identifier" and not people:
                value = payload.get(self.identifier_config.get("field", ""))
                if value:
                    # The record creates (or finds) its person by the unique identifier (Ortto a-281). The
                    # person gets its own identity for the link, so archiving the record never archives them.
                    link = self.key(f"{name}.person", sf_id)
                    result.people.append(
                        PersonOut(
                            sf_id,
                            link,
                            {self.identifier_config["cdp_field"]: value},
                            precedence=self.person_precedence,
                        )
                    )
                    people = (link,)
            result.custom_records.append(
                CustomRecordOut(sf_id, fields, str(payload.get("Name") or "")[:255], people, orgs)
            )
        if self._handler is not None:
            self._handler(self, sf_id, payload, prev, context, result)

    def _custom_people(self, sf_id: str, payload: Mapping[str, Any], context: MapContext) -> tuple[Key, ...]:
        kind, config = self.identifier_kind, self.identifier_config
        if kind == "reference_id":
            ref = payload.get(config.get("field", ""))
            if ref:
                obj = config.get("object") or objects.ID_PREFIX_OBJECT.get(str(ref)[:3], "Contact")
                return (self.key(obj, ref),)
            return ()
        if kind in ("parent", "junction"):
            return context.linked_people.get(sf_id, ())
        # automatic: any lookup to a Contact or Lead
        keys = []
        for fname, value in payload.items():
            if fname in ("Id", "OwnerId", "CreatedById", "LastModifiedById"):
                continue
            key = self.person_key_for_id(value) if isinstance(value, str) and len(value) in (15, 18) else None
            if key is not None:
                keys.append(key)
        return tuple(keys)

    def _person_account_fields(self, spec: objects.PersonAccountSpec, payload) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for target in dict.fromkeys(spec.person_targets.values()):
            sources = spec.coalesce.get(target) or tuple(
                f for f, t in spec.person_targets.items() if t == target
            )
            present = [f for f in sources if f in payload]
            if not present:
                continue
            out[target] = next((payload[f] for f in present if payload[f] not in (None, "")), None)
        return out

    # ------------------------------------------------------------------ activities


def _is_org_field(field_id: str) -> bool:
    parts = field_id.split(":")
    return len(parts) == 3 and parts[1] in ORGANIZATION_NAMESPACES


def excerpt(value: Any, limit: int = 500) -> str:
    try:
        text = orjson.dumps(value, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = repr(value)
    return text[:limit]


def mapper_for(
    synced_object,
    selections: Iterable[Any],
    *,
    merge_converted_leads: bool,
    activity_since,
    activity_kinds: frozenset[str] | None = None,
    ref_field: str = "",
    precedence: Mapping[str, Sequence[str]] | None = None,
    now: dt.datetime | None = None,
) -> ObjectMapper:
    """Builds the mapper from a SyncedObject and its active FieldSelections."""
    spec = objects.spec_for(synced_object.api_name)
    return ObjectMapper(
        connection_id=synced_object.connection_id,
        object_name=synced_object.api_name,
        becomes=synced_object.becomes,
        selections=[
            Selection(s.sf_field, s.sf_type, s.target_field, s.target_order, s.update_mode)
            for s in selections
        ],
        email_rule=PermissionRule.from_config(synced_object.email_permission),
        sms_rule=PermissionRule.from_config(synced_object.sms_permission),
        identifier_kind=synced_object.identifier_kind,
        identifier_config=synced_object.identifier_config or {},
        merge_converted_leads=merge_converted_leads,
        activity_since=activity_since,
        activity_kinds=activity_kinds,
        ref_field=ref_field or (spec.ref_field if spec is not None else ""),
        precedence=precedence or {},
        now=now,
    )
