"""Change over time, the way a busy org changes: edits, new records, deletes, undeletes, purges, lead
conversions, opportunities moving stage, tasks completed, and custom fields appearing and disappearing.

Each call stamps every record it touches with one timestamp, so several records share a SystemModstamp,
as they do after a real bulk edit.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import orjson
from django.db import connections, transaction

from ..ids import make_id
from ..models import Record, SchemaChange
from ..routers import SANDBOX_DB as DB
from ..schema import Schema
from ..schema.fields import build_field
from ..schema.objects import STAGES
from ..wire import now, sf_datetime
from .records import allocate_numbers, derive, dumps

CHURN_FIELD = "Favourite_Colour__c"
TITLES = ["Head of Growth", "CFO", "Marketing Manager", "VP Sales", "Engineer", "Founder", "Buyer"]
OPEN_STAGES = [name for name, _, _, closed, _ in STAGES if not closed]


@dataclass
class ChurnReport:
    changed: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        if n:
            self.changed[key] = self.changed.get(key, 0) + n


def _pick(qs, n: int) -> list[Record]:
    if n <= 0:
        return []
    return list(qs.order_by("?")[:n])


def _save(records: list[Record], moment: dt.datetime) -> None:
    """Write data and timestamps of `records` with one executemany (the ORM's bulk_update is too slow)."""
    if not records:
        return
    connection = connections[DB]
    adapt = connection.ops.adapt_datetimefield_value
    table = Record._meta.db_table
    sql = (
        f"UPDATE {table} SET data = %s, last_modified_date = %s, system_modstamp = %s, "  # noqa: S608
        "is_deleted = %s, deleted_date = %s WHERE id = %s"
    )
    rows = [
        (
            r.data,
            adapt(r.last_modified_date),
            adapt(moment),
            r.is_deleted,
            adapt(r.deleted_date) if r.deleted_date else None,
            r.pk,
        )
        for r in records
    ]
    with transaction.atomic(using=DB), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _shares(n: int, k: int) -> list[int]:
    """`n` split over `k` objects as evenly as possible."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)] if k else []


def _live(sobject: str):
    return Record.objects.using(DB).filter(sobject=sobject, is_deleted=False)


def churn(
    *,
    schema: Schema,
    seed: int | None = None,
    updates: int = 0,
    creates: int = 0,
    deletes: int = 0,
    undeletes: int = 0,
    purge: int = 0,
    convert_leads: int = 0,
    advance_opportunities: int = 0,
    complete_tasks: int = 0,
    schema_change: bool = False,
    objects: tuple[str, ...] = ("Contact", "Lead"),
    user_id: str | None = None,
) -> ChurnReport:
    rng = random.Random(seed)
    moment = now()
    stamp = sf_datetime(moment)
    report = ChurnReport()
    user_id = user_id or (
        Record.objects.using(DB)
        .filter(sobject="User")
        .order_by("sf_id")
        .values_list("sf_id", flat=True)
        .first()
    )
    types = [schema.get(name) for name in objects if schema.get(name)]

    for t, share in zip(types, _shares(updates, len(types)), strict=True):
        touched = []
        for record in _pick(_live(t.name), share):
            data = orjson.loads(record.data)
            if t.field("Title"):
                data["Title"] = rng.choice(TITLES)
            if t.field("HasOptedOutOfEmail") and rng.random() < 0.2:
                data["HasOptedOutOfEmail"] = not data.get("HasOptedOutOfEmail", False)
            if t.field("Phone") and rng.random() < 0.3:
                data["Phone"] = f"+1 555 {rng.randrange(1000, 9999)} {rng.randrange(100, 999)}"
            if t.field("Email") and data.get("Email") and rng.random() < 0.1:
                data["Email"] = "new." + str(data["Email"]).strip()
            data["LastModifiedById"] = user_id
            derive(t, data)
            record.data = dumps(data)
            record.last_modified_date = moment
            touched.append(record)
        _save(touched, moment)
        report.add(f"updated {t.name}", len(touched))

    if creates:
        contact = schema.get("Contact")
        first = allocate_numbers(contact.key_prefix, creates)
        accounts = list(_live("Account").values_list("sf_id", flat=True)[:500])
        rows = []
        for k in range(creates):
            last = rng.choice(
                ["Nguyen", "García", "Okafor", "Müller", "Rossi", "Kowalski", "Silva", "Tanaka"]
            )
            first_name = rng.choice(["Ana", "Ben", "Chloé", "Dmitri", "Eun", "Fatima", "Gus", "Hana"])
            data = {
                "FirstName": first_name,
                "LastName": last,
                "AccountId": rng.choice(accounts) if accounts else None,
                "Email": f"{first_name.lower()}.{k}.{moment:%H%M%S}@new.example.com",
                "OwnerId": user_id,
                "CreatedById": user_id,
                "LastModifiedById": user_id,
                "HasOptedOutOfEmail": False,
            }
            derive(contact, data)
            rows.append(
                Record(
                    sobject="Contact",
                    sf_id=make_id(contact.key_prefix, first + k),
                    created_date=moment,
                    last_modified_date=moment,
                    system_modstamp=moment,
                    data=dumps(data),
                )
            )
        Record.objects.using(DB).bulk_create(rows, batch_size=1000)
        report.add("created Contact", len(rows))

    for t, share in zip(types, _shares(deletes, len(types)), strict=True):
        picked = _pick(_live(t.name), share)
        for record in picked:
            record.is_deleted = True
            record.deleted_date = moment
        _save(picked, moment)
        report.add(f"deleted {t.name}", len(picked))

    binned = Record.objects.using(DB).filter(
        sobject__in=[t.name for t in types], is_deleted=True, purged=False
    )
    restored = _pick(binned, undeletes)
    for record in restored:
        record.is_deleted = False
        record.deleted_date = None
    _save(restored, moment)
    report.add("undeleted", len(restored))

    if purge:
        ids = [r.pk for r in _pick(binned.exclude(pk__in=[r.pk for r in restored]), purge)]
        report.add("purged", Record.objects.using(DB).filter(pk__in=ids).update(purged=True))

    if convert_leads:
        report.add("converted Lead", _convert_leads(schema, rng, convert_leads, moment, user_id))

    if advance_opportunities:
        opp = schema.get("Opportunity")
        moved = []
        for record in _pick(_live("Opportunity"), advance_opportunities * 3):
            data = orjson.loads(record.data)
            if data.get("StageName") not in OPEN_STAGES:
                continue
            position = OPEN_STAGES.index(data["StageName"])
            if position + 1 < len(OPEN_STAGES) and rng.random() < 0.7:
                data["StageName"] = OPEN_STAGES[position + 1]
            else:
                data["StageName"] = rng.choice(["Closed Won", "Closed Lost"])
            data.pop("Probability", None)
            data["LastStageChangeDate"] = stamp
            derive(opp, data)
            record.data = dumps(data)
            record.last_modified_date = moment
            moved.append(record)
            if len(moved) == advance_opportunities:
                break
        _save(moved, moment)
        report.add("advanced Opportunity", len(moved))

    if complete_tasks:
        task = schema.get("Task")
        done = []
        for record in _pick(_live("Task"), complete_tasks * 3):
            data = orjson.loads(record.data)
            if data.get("Status") == "Completed":
                continue
            data["Status"] = "Completed"
            data["CompletedDateTime"] = stamp
            derive(task, data)
            record.data = dumps(data)
            record.last_modified_date = moment
            done.append(record)
            if len(done) == complete_tasks:
                break
        _save(done, moment)
        report.add("completed Task", len(done))

    if schema_change:
        report.add(schema_toggle(), 1)
    return report


def _convert_leads(schema: Schema, rng: random.Random, n: int, moment: dt.datetime, user_id: str) -> int:
    lead_t, contact_t = schema.get("Lead"), schema.get("Contact")
    candidates = [r for r in _pick(_live("Lead"), n * 3) if not orjson.loads(r.data).get("IsConverted")][:n]
    if not candidates:
        return 0
    first = allocate_numbers(contact_t.key_prefix, len(candidates))
    accounts = list(_live("Account").values_list("sf_id", flat=True)[:500])
    contacts = []
    for k, lead in enumerate(candidates):
        data = orjson.loads(lead.data)
        contact_id = make_id(contact_t.key_prefix, first + k)
        account = rng.choice(accounts) if accounts else None
        contact = {
            key: data.get(key)
            for key in (
                "FirstName",
                "LastName",
                "Email",
                "Phone",
                "Title",
                "LeadSource",
                "HasOptedOutOfEmail",
                "DoNotCall",
                "SMS_Opt_In__c",
                "Tier__c",
                "Interests__c",
            )
        }
        contact.update(
            AccountId=account,
            OwnerId=data.get("OwnerId") or user_id,
            CreatedById=user_id,
            LastModifiedById=user_id,
        )
        derive(contact_t, contact)
        contacts.append(
            Record(
                sobject="Contact",
                sf_id=contact_id,
                created_date=moment,
                last_modified_date=moment,
                system_modstamp=moment,
                data=dumps(contact),
            )
        )
        data.update(
            IsConverted=True,
            Status="Closed - Converted",
            ConvertedContactId=contact_id,
            ConvertedAccountId=account,
            ConvertedDate=moment.date().isoformat(),
            LastModifiedById=user_id,
        )
        derive(lead_t, data)
        lead.data = dumps(data)
        lead.last_modified_date = moment
    Record.objects.using(DB).bulk_create(contacts)
    _save(candidates, moment)
    return len(candidates)


def schema_toggle() -> str:
    """Add the churn custom field to Contact, or remove it if it is there."""
    last = SchemaChange.objects.using(DB).filter(sobject="Contact").order_by("-id").first()
    if last is not None and last.action == SchemaChange.Action.ADD:
        SchemaChange.objects.using(DB).create(
            sobject="Contact", action=SchemaChange.Action.REMOVE, payload=CHURN_FIELD
        )
        return f"removed Contact.{CHURN_FIELD}"
    field_describe = build_field(
        "picklist",
        CHURN_FIELD,
        "Favourite Colour",
        values=["Red", "Green", "Blue", "Yellow"],
        length=255,
        byteLength=765,
    )
    SchemaChange.objects.using(DB).create(
        sobject="Contact", action=SchemaChange.Action.ADD, payload=orjson.dumps(field_describe).decode()
    )
    return f"added Contact.{CHURN_FIELD}"
