"""Writes to the org's records: create, update, delete (recycle bin), undelete, purge.

Values arrive and are stored in REST wire form (strings for dates and datetimes). Fields Salesforce
derives (Name, IsClosed/IsWon, IsHighPriority, CampaignMember's mirrored person fields, ...) are derived
here on every write, so every path — REST, seed, churn — keeps them consistent.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

import orjson
from django.db import IntegrityError, transaction
from django.db.models import F

from ..ids import make_id, to_18
from ..models import IdSequence, Record
from ..routers import db
from ..schema import SYSTEM_FIELDS, Schema, SObjectType
from ..schema.objects import STAGES
from ..wire import now as wire_now
from ..wire import parse_sf_datetime, sf_datetime
from . import change_events, recycle_bin

STAGE_INFO = {name: (prob, forecast, closed, won) for name, prob, forecast, closed, won in STAGES}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RecordError(Exception):
    """A write Salesforce would refuse: the REST error array entry."""

    def __init__(self, error_code: str, message: str, fields: list[str] | None = None, status: int = 400):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        # Salesforce's NOT_FOUND entry carries no `fields`; every other record error does.
        self.fields = fields if fields is not None else (None if error_code == "NOT_FOUND" else [])
        self.status = status

    def entry(self) -> dict:
        """The error array entry, as composite/batch sub-results carry it."""
        body = {"errorCode": self.error_code, "message": self.message}
        if self.fields is not None:
            body["fields"] = self.fields
        return body


def allocate_numbers(key_prefix: str, count: int) -> int:
    """Reserve `count` record numbers for `key_prefix`; returns the first one."""
    for _ in range(3):
        try:
            with transaction.atomic(using=db()):
                IdSequence.objects.using(db()).get_or_create(key_prefix=key_prefix)
                IdSequence.objects.using(db()).filter(pk=key_prefix).update(
                    next_value=F("next_value") + count
                )
                end = IdSequence.objects.using(db()).get(pk=key_prefix).next_value
            return end - count
        except IntegrityError:  # two first-ever allocations raced on the insert; the loser retries
            continue
    raise RuntimeError("could not allocate record ids")


def defaults_for(t: SObjectType) -> dict:
    """Non-null values a field has when a record does not store it (booleans are never null)."""
    cached = getattr(t, "_defaults", None)
    if cached is None:
        cached = {}
        for f in t.fields:
            if f["type"] == "boolean":
                cached[f["name"]] = bool(f["defaultValue"])
        t._defaults = cached
    return cached


def dumps(data: dict) -> str:
    return orjson.dumps({k: v for k, v in data.items() if v is not None}).decode()


def derive(t: SObjectType, data: dict, *, number: int | None = None, lookup=None) -> dict:
    """Fill in the fields Salesforce computes from others. `lookup(sf_id)` returns a related record's data."""
    name = t.name
    if name in ("Contact", "Lead", "User") or name == "CampaignMember":
        if name != "CampaignMember" or data.get("LastName") is not None:
            data["Name"] = " ".join(p for p in (data.get("FirstName"), data.get("LastName")) if p) or None
    if name == "Account" and data.get("IsPersonAccount"):
        # A Person Account's Name is its person's name (Salesforce derives it; it is not writable).
        data["Name"] = " ".join(p for p in (data.get("FirstName"), data.get("LastName")) if p) or None
    if name == "Opportunity":
        stage = data.get("StageName")
        if stage in STAGE_INFO:
            prob, forecast, closed, won = STAGE_INFO[stage]
            data.setdefault("Probability", prob)
            data["ForecastCategoryName"] = forecast
            data["ForecastCategory"] = {"Pipeline": "Pipeline", "Closed": "Closed", "Omitted": "Omitted"}[
                forecast
            ]
            data["IsClosed"], data["IsWon"] = closed, won
        amount, prob = data.get("Amount"), data.get("Probability")
        data["ExpectedRevenue"] = (
            round(amount * prob / 100, 2) if amount is not None and prob is not None else None
        )
        close = data.get("CloseDate")
        if close:
            year, month = int(close[:4]), int(close[5:7])
            quarter = (month - 1) // 3 + 1
            data.update(FiscalYear=year, FiscalQuarter=quarter, Fiscal=f"{year} {quarter}")
    elif name == "Task":
        data["IsClosed"] = data.get("Status") == "Completed"
        data["IsHighPriority"] = data.get("Priority") == "High"
        data.setdefault("TaskSubtype", "Task")
    elif name == "CampaignMember":
        data["LeadOrContactId"] = data.get("ContactId") or data.get("LeadId")
        data["HasResponded"] = data.get("Status") in ("Responded", "Attended")
        data["Type"] = "Contact" if data.get("ContactId") else "Lead"
        if lookup is not None and data["LeadOrContactId"]:
            person = lookup(data["LeadOrContactId"]) or {}
            for key in (
                "Salutation",
                "FirstName",
                "LastName",
                "Title",
                "Email",
                "Phone",
                "MobilePhone",
                "DoNotCall",
                "HasOptedOutOfEmail",
                "HasOptedOutOfFax",
                "LeadSource",
                "OwnerId",
            ):
                target = "LeadOrContactOwnerId" if key == "OwnerId" else key
                data[target] = person.get(key)
            data["Name"] = person.get("Name")
            street = "MailingStreet" if data["Type"] == "Contact" else "Street"
            for part in ("Street", "City", "State", "PostalCode", "Country"):
                src = street.replace("Street", part)
                data[part] = person.get(src)
            data["CompanyOrAccount"] = person.get("Company")
    if number is not None:
        name_field = t.field("Name")
        if name_field and name_field["autoNumber"]:
            data["Name"] = f"{t.label[:3].upper()}-{number:07d}"
    return data


def coerce(t: SObjectType, field_name: str, value, *, for_insert: bool) -> tuple[str, object]:
    """Validate one incoming REST value against the field's describe; returns (canonical name, wire value)."""
    f = t.field(field_name)
    if f is None:
        raise RecordError("INVALID_FIELD", f"No such column '{field_name}' on sobject of type {t.name}")
    name = f["name"]
    if not (f["createable"] if for_insert else f["updateable"]):
        raise RecordError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {name}. Please check the security settings of this "
            "field and verify that it is read/write for your profile or permission set.",
            [name],
        )
    if value is None or value == "":
        if not f["nillable"] and f["type"] != "boolean":
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", [name])
        return name, (False if f["type"] == "boolean" else None)
    kind = f["type"]
    bad = RecordError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{f['label']}: value not of required type: {value}", [name]
    )
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad
        return name, value
    if kind in ("int", "double", "currency", "percent"):
        if isinstance(value, bool):
            raise bad
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise bad
        if not number.is_finite():
            raise bad
        return name, int(number) if kind == "int" else float(number)
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            raise bad
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise bad
        return name, value
    if kind == "datetime":
        if not isinstance(value, str):
            raise bad
        try:
            return name, sf_datetime(parse_sf_datetime(value))
        except ValueError:
            raise bad
    if not isinstance(value, str):
        raise bad
    if kind in ("reference", "id"):
        full = to_18(value)
        if full is None:
            raise RecordError("MALFORMED_ID", f"{f['label']}: id value of incorrect type: {value}", [name])
        targets = f.get("referenceTo") or []
        if kind == "reference" and targets and not _points_at(full, targets):
            # An id of another object: Salesforce accepts the id's form and refuses the link.
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"field integrity exception: unknown ({f['label']}: id value of incorrect type: {value})",
                [name],
            )
        return name, full
    if f["length"] and len(value) > f["length"]:
        raise RecordError(
            "STRING_TOO_LONG",
            f"{f['label']}: data value too large: {value[:80]} (max length={f['length']})",
            [name],
        )
    if kind == "picklist" and f["restrictedPicklist"]:
        allowed = {p["value"] for p in f["picklistValues"]}
        if value not in allowed:
            raise RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{f['label']}: bad value for restricted picklist field: {value}",
                [name],
            )
    return name, value


def _points_at(sf_id: str, targets: list[str]) -> bool:
    """Whether an id's key prefix is one of the objects a lookup may point at (unknown prefixes pass)."""
    from ..schema import build_schema

    prefixes = {t.key_prefix for t in build_schema() if t.name in targets and t.key_prefix}
    known = {t.key_prefix for t in build_schema() if t.key_prefix}
    return sf_id[:3] in prefixes or sf_id[:3] not in known


def validate(t: SObjectType, data: dict) -> None:
    """The object's validation rules, checked on the record as it would be saved (as Salesforce does)."""
    for rule in t.validation_rules:
        value = data.get(rule["field"])
        if t.field(rule["field"]) is not None and t.field(rule["field"])["type"] == "boolean":
            value = bool(value)
        if value == rule["equals"]:
            raise RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION", rule["message"], [rule["field"]])


def lookup_data(sf_id: str) -> dict | None:
    row = Record.objects.using(db()).filter(sf_id=sf_id).values_list("data", flat=True).first()
    return orjson.loads(row) if row else None


def record_create(*, schema: Schema, sobject: str, values: dict, user_id: str) -> Record:
    t = schema.get(sobject)
    data: dict = {}
    for key, value in values.items():
        if key == "attributes":
            continue
        name, wire_value = coerce(t, key, value, for_insert=True)
        data[name] = wire_value
    for f in t.fields:
        if f["name"] in data or f["name"] in SYSTEM_FIELDS:
            continue
        if f["defaultValue"] is not None and f["type"] == "picklist":
            data[f["name"]] = f["defaultValue"]
        elif f["createable"] and not f["nillable"] and not f["defaultedOnCreate"] and f["type"] != "boolean":
            raise RecordError(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{f['name']}]", [f["name"]]
            )
    if t.field("OwnerId") is not None:
        data.setdefault("OwnerId", user_id)
    data["CreatedById"] = data["LastModifiedById"] = user_id
    number = allocate_numbers(t.key_prefix, 1)
    derive(t, data, number=number, lookup=lookup_data)
    validate(t, data)
    moment = wire_now()
    with transaction.atomic(using=db()):
        record = Record.objects.using(db()).create(
            sobject=t.name,
            sf_id=make_id(t.key_prefix, number),
            created_date=moment,
            last_modified_date=moment,
            system_modstamp=moment,
            data=dumps(data),
        )
        change_events.publish(
            changes=[change_events.created(t.name, record.sf_id, data, sf_datetime(moment))],
            moment=moment,
            user_id=user_id,
        )
    return record


def record_get(*, schema: Schema, sobject: str, sf_id: str, include_deleted: bool = False) -> Record | None:
    t = schema.get(sobject)
    full = to_18(sf_id)
    if t is None or full is None:
        return None
    qs = Record.objects.using(db()).filter(sobject=t.name, sf_id=full, purged=False)
    if not include_deleted:
        qs = qs.filter(is_deleted=False)
    return qs.first()


def record_update(*, schema: Schema, sobject: str, sf_id: str, values: dict, user_id: str) -> Record:
    t = schema.get(sobject)
    changes = {}
    for key, value in values.items():
        if key == "attributes":
            continue
        name, wire_value = coerce(t, key, value, for_insert=False)
        changes[name] = wire_value
    with transaction.atomic(using=db()):
        record = (
            Record.objects.using(db())
            .select_for_update()
            .filter(sobject=t.name, sf_id=to_18(sf_id) or "", purged=False)
            .first()
        )
        if record is None:
            raise RecordError("NOT_FOUND", "The requested resource does not exist", status=404)
        if record.is_deleted:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [], status=404)
        data = orjson.loads(record.data)
        before = dict(data)
        if t.name == "Lead" and data.get("IsConverted"):
            # A converted lead is read-only (no "View and Edit Converted Leads" permission here).
            raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        data.update(changes)
        data["LastModifiedById"] = user_id
        derive(t, data, lookup=lookup_data)
        validate(t, data)
        moment = wire_now()
        record.data = dumps(data)
        record.last_modified_date = record.system_modstamp = moment
        record.save(using=db(), update_fields=["data", "last_modified_date", "system_modstamp"])
        change = change_events.updated(t.name, record.sf_id, before, data, sf_datetime(moment))
        change_events.publish(changes=[change] if change else [], moment=moment, user_id=user_id)
    return record


def record_delete(*, schema: Schema, sobject: str, sf_id: str) -> dict[str, int]:
    """Move a record to the recycle bin with everything that goes with it; returns what went along."""
    t = schema.get(sobject)
    with transaction.atomic(using=db()):
        record = (
            Record.objects.using(db())
            .select_for_update()
            .filter(sobject=t.name, sf_id=to_18(sf_id) or "", purged=False)
            .first()
        )
        if record is None:
            raise RecordError("NOT_FOUND", "The requested resource does not exist", status=404)
        if record.is_deleted:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [], status=404)
        return dict(recycle_bin.delete_records(schema=schema, roots=[record], moment=wire_now()))
