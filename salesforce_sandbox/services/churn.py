"""Change over time, the way a busy org changes: edits, new records, deletes, undeletes, purges, lead
conversions, opportunities moving stage, tasks completed, and custom fields appearing and disappearing.

Each call stamps every record it touches with one timestamp, so several records share a SystemModstamp,
as they do after a real bulk edit. With a seed, every choice (which records, which values, which new
ids) comes from that seed and the org's contents alone: two orgs seeded alike and churned alike with the
same seed change alike, only the timestamps differ. Deletes go through the recycle bin service, so they
take their dependants along exactly as a REST delete does.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from django.db import connections, transaction
from django.db.models import Q

from ..ids import make_id
from ..models import Record, SchemaChange
from ..routers import db
from ..schema import Schema, SObjectType, build_schema
from ..schema.fields import build_field
from ..schema.objects import STAGES
from ..wire import now, sf_datetime
from . import change_events, recycle_bin
from .records import allocate_numbers, derive, dumps, lookup_data

CHURN_FIELD = "Favourite_Colour__c"
TITLES = ["Head of Growth", "CFO", "Marketing Manager", "VP Sales", "Engineer", "Founder", "Buyer"]
OPEN_STAGES = [name for name, _, _, closed, _ in STAGES if not closed]
CONVERTED_STATUS = "Closed - Converted"
# Salesforce's standard lead field mapping (custom fields of the same name on both objects come too).
LEAD_TO_CONTACT = {
    "Salutation": "Salutation",
    "FirstName": "FirstName",
    "LastName": "LastName",
    "Email": "Email",
    "Phone": "Phone",
    "MobilePhone": "MobilePhone",
    "Fax": "Fax",
    "Title": "Title",
    "LeadSource": "LeadSource",
    "Description": "Description",
    "HasOptedOutOfEmail": "HasOptedOutOfEmail",
    "HasOptedOutOfFax": "HasOptedOutOfFax",
    "DoNotCall": "DoNotCall",
    "Street": "MailingStreet",
    "City": "MailingCity",
    "State": "MailingState",
    "PostalCode": "MailingPostalCode",
    "Country": "MailingCountry",
}
LEAD_TO_ACCOUNT = {
    "Company": "Name",
    "Phone": "Phone",
    "Fax": "Fax",
    "Website": "Website",
    "Industry": "Industry",
    "AnnualRevenue": "AnnualRevenue",
    "NumberOfEmployees": "NumberOfEmployees",
    "Rating": "Rating",
    "LeadSource": "AccountSource",
    "Street": "BillingStreet",
    "City": "BillingCity",
    "State": "BillingState",
    "PostalCode": "BillingPostalCode",
    "Country": "BillingCountry",
}


class ChurnError(ValueError):
    """Arguments churn cannot act on."""


@dataclass
class ChurnReport:
    changed: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        if n:
            self.changed[key] = self.changed.get(key, 0) + n

    def add_counts(self, prefix: str, counts: Counter) -> None:
        for sobject in sorted(counts):
            self.add(f"{prefix} {sobject}", counts[sobject])


def _sample(
    qs, n: int, rng: random.Random, accept: Callable[[str, dict], bool] | None = None
) -> list[Record]:
    """Up to `n` records of `qs` chosen by `rng`; `accept(sobject, data)` narrows the choice.

    Candidates are taken in Id order before `rng` draws from them, so the choice depends only on the seed
    and the org's contents (never on the database's physical order).
    """
    if n <= 0:
        return []
    pks = list(qs.order_by("sf_id").values_list("pk", flat=True))
    if accept is None:
        chosen = rng.sample(pks, min(n, len(pks)))
        by_pk = Record.objects.using(db()).in_bulk(chosen)
        return [by_pk[pk] for pk in chosen]
    rng.shuffle(pks)
    picked: list[Record] = []
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        by_pk = Record.objects.using(db()).in_bulk(chunk)
        for pk in chunk:
            if accept(by_pk[pk].sobject, orjson.loads(by_pk[pk].data)):
                picked.append(by_pk[pk])
                if len(picked) == n:
                    return picked
    return picked


def _save(records: list[Record], moment: dt.datetime) -> None:
    """Write data and timestamps of `records` with one executemany (the ORM's bulk_update is too slow)."""
    if not records:
        return
    connection = connections[db()]
    adapt = connection.ops.adapt_datetimefield_value
    table = Record._meta.db_table
    sql = (
        f"UPDATE {table} SET data = %s, last_modified_date = %s, system_modstamp = %s "  # noqa: S608
        "WHERE id = %s"
    )
    rows = [(r.data, adapt(r.last_modified_date), adapt(moment), r.pk) for r in records]
    stamp = sf_datetime(moment)
    changes = []
    for r in records:
        new = orjson.loads(r.data)
        old = orjson.loads(getattr(r, "_old_data", None) or "{}")
        change = change_events.updated(r.sobject, r.sf_id, old, new, stamp)
        if change:
            changes.append(change)
        r._old_data = r.data
    user_id = orjson.loads(records[0].data).get("LastModifiedById") or ""
    with transaction.atomic(using=db()), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        change_events.publish(changes=changes, moment=moment, user_id=user_id)


def _edit(record: Record, t: SObjectType, data: dict, moment: dt.datetime, user_id: str) -> Record:
    record._old_data = record.data  # what the change event compares against
    data["LastModifiedById"] = user_id
    derive(t, data)
    record.data = dumps(data)
    record.last_modified_date = record.system_modstamp = moment
    return record


def _shares(n: int, k: int) -> list[int]:
    """`n` split over `k` objects as evenly as possible."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)] if k else []


def _live(sobject: str):
    return Record.objects.using(db()).filter(sobject=sobject, is_deleted=False)


def editable(sobject: str) -> Callable[[str, dict], bool] | None:
    """Which records of `sobject` an edit may touch: a converted lead is read-only."""
    if sobject == "Lead":
        return lambda _, data: not data.get("IsConverted")
    return None


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
    counts = {
        "updates": updates,
        "creates": creates,
        "deletes": deletes,
        "undeletes": undeletes,
        "purge": purge,
        "convert_leads": convert_leads,
        "advance_opportunities": advance_opportunities,
        "complete_tasks": complete_tasks,
    }
    for name, value in counts.items():
        if value < 0:
            raise ChurnError(f"--{name.replace('_', '-')} must be 0 or more (got {value})")
    unknown = [name for name in objects if schema.get(name) is None]
    if unknown:
        raise ChurnError(f"Unknown object(s) for --objects: {', '.join(unknown)}")
    rng = random.Random(seed)
    moment = now()
    stamp = sf_datetime(moment)
    report = ChurnReport()
    user_id = user_id or (
        Record.objects.using(db())
        .filter(sobject="User")
        .order_by("sf_id")
        .values_list("sf_id", flat=True)
        .first()
    )
    types = [schema.get(name) for name in objects]

    for t, share in zip(types, _shares(updates, len(types)), strict=True):
        touched = []
        for record in _sample(_live(t.name), share, rng, editable(t.name)):
            data = orjson.loads(record.data)
            if t.field("Title"):
                data["Title"] = rng.choice(TITLES)
            if t.field("HasOptedOutOfEmail") and rng.random() < 0.2:
                data["HasOptedOutOfEmail"] = not data.get("HasOptedOutOfEmail", False)
            if t.field("Phone") and rng.random() < 0.3:
                data["Phone"] = f"+1 555 {rng.randrange(1000, 9999)} {rng.randrange(100, 999)}"
            if t.field("Email") and data.get("Email") and rng.random() < 0.1:
                data["Email"] = "new." + str(data["Email"]).strip()
            touched.append(_edit(record, t, data, moment, user_id))
        _save(touched, moment)
        report.add(f"updated {t.name}", len(touched))

    if creates:
        contact = schema.get("Contact")
        first = allocate_numbers(contact.key_prefix, creates)
        accounts = list(_live("Account").order_by("sf_id").values_list("sf_id", flat=True)[:500])
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
                # The record number keeps the address unique and the same in every org churned alike.
                "Email": f"{first_name.lower()}.{first + k}@new.example.com",
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
        with transaction.atomic(using=db()):
            Record.objects.using(db()).bulk_create(rows, batch_size=1000)
            change_events.publish(
                changes=[
                    change_events.created("Contact", r.sf_id, orjson.loads(r.data), stamp) for r in rows
                ],
                moment=moment,
                user_id=user_id or "",
            )
        report.add("created Contact", len(rows))

    for t, share in zip(types, _shares(deletes, len(types)), strict=True):
        picked = _sample(_live(t.name), share, rng)
        with transaction.atomic(using=db()):
            taken = recycle_bin.delete_records(schema=schema, roots=picked, moment=moment)
        report.add(f"deleted {t.name}", len(picked))
        report.add_counts("deleted with them", taken)

    # Only what was deleted itself is in the recycle bin (what went with it comes back with it), and a
    # record comes back only when no parent it goes with is still in the bin.
    names = [t.name for t in types]
    restorable = lambda sobject, data: recycle_bin.restorable(schema, sobject, data)  # noqa: E731
    restored = _sample(recycle_bin.binned_roots(names), undeletes, rng, restorable)
    with transaction.atomic(using=db()):
        back = recycle_bin.undelete_records(schema=schema, roots=restored, moment=moment)
    report.add("undeleted", len(restored))
    back.subtract(Counter(r.sobject for r in restored))
    report.add_counts("undeleted with them", +back)

    if purge:
        emptied = _sample(
            recycle_bin.binned_roots(names).exclude(pk__in=[r.pk for r in restored]), purge, rng
        )
        with transaction.atomic(using=db()):
            gone = recycle_bin.purge_records(roots=emptied)
        report.add("purged", len(emptied))
        gone.subtract(Counter(r.sobject for r in emptied))
        report.add_counts("purged with them", +gone)

    if convert_leads:
        with transaction.atomic(using=db()):
            converted = _convert_leads(schema, rng, convert_leads, moment, user_id)
        for key, n in converted.items():
            report.add(key, n)

    if advance_opportunities:
        opp = schema.get("Opportunity")
        moved = []
        is_open = lambda _, data: data.get("StageName") in OPEN_STAGES  # noqa: E731
        for record in _sample(_live("Opportunity"), advance_opportunities, rng, is_open):
            data = orjson.loads(record.data)
            position = OPEN_STAGES.index(data["StageName"])
            if position + 1 < len(OPEN_STAGES) and rng.random() < 0.7:
                data["StageName"] = OPEN_STAGES[position + 1]
            else:
                data["StageName"] = rng.choice(["Closed Won", "Closed Lost"])
            data.pop("Probability", None)
            data["LastStageChangeDate"] = stamp
            moved.append(_edit(record, opp, data, moment, user_id))
        _save(moved, moment)
        report.add("advanced Opportunity", len(moved))

    if complete_tasks:
        task = schema.get("Task")
        done = []
        is_open = lambda _, data: data.get("Status") != "Completed"  # noqa: E731
        for record in _sample(_live("Task"), complete_tasks, rng, is_open):
            data = orjson.loads(record.data)
            data["Status"] = "Completed"
            data["CompletedDateTime"] = stamp
            done.append(_edit(record, task, data, moment, user_id))
        _save(done, moment)
        report.add("completed Task", len(done))

    if schema_change:
        report.add(schema_toggle(), 1)
    return report


def _norm_email(value) -> str:
    return str(value or "").strip().lower()


def _containing(sobject: str, needles: list[str], *, ignore_case: bool = False) -> list[Record]:
    """Live `sobject` records whose JSON contains one of `needles`, in Id order: one scan per 200 needles
    (callers check the parsed values, a substring only narrows)."""
    lookup = "data__icontains" if ignore_case else "data__contains"
    found: dict[str, Record] = {}
    for start in range(0, len(needles), 200):
        condition = Q()
        for needle in needles[start : start + 200]:
            condition |= Q(**{lookup: needle})
        found.update((r.sf_id, r) for r in _live(sobject).filter(condition))
    return [found[sf_id] for sf_id in sorted(found)]


def _referencing(sobject: str, field: str, ids: list[str]) -> dict[str, list[Record]]:
    """Live `sobject` records whose `field` is one of `ids`, grouped by that id, in Id order."""
    grouped: dict[str, list[Record]] = {}
    for record in _containing(sobject, [f'"{field}":"{sf_id}"' for sf_id in ids]):
        value = orjson.loads(record.data).get(field)
        if value in ids:
            grouped.setdefault(value, []).append(record)
    return grouped


def _new_record(t: SObjectType, data: dict, moment: dt.datetime, user_id: str) -> Record:
    data.setdefault("OwnerId", user_id)
    data["CreatedById"] = data["LastModifiedById"] = user_id
    derive(t, data)
    record = Record.objects.using(db()).create(
        sobject=t.name,
        sf_id=make_id(t.key_prefix, allocate_numbers(t.key_prefix, 1)),
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


def _mapped(lead: dict, mapping: dict[str, str], target: SObjectType) -> dict:
    return {dst: lead[src] for src, dst in mapping.items() if lead.get(src) is not None and target.field(dst)}


def _convert_leads(
    schema: Schema, rng: random.Random, n: int, moment: dt.datetime, user_id: str
) -> dict[str, int]:
    """Convert `n` open leads as Salesforce's lead conversion does (without creating an opportunity).

    The contact is an existing live contact with the lead's email (lowest Id) if there is one, its blank
    fields filled from the lead; otherwise a new contact made from the lead. The account is that contact's
    account, else an existing account named like the lead's company, else a new account made from the lead.
    The lead's open and closed tasks move to the contact and its campaign memberships follow it.
    """
    lead_t, contact_t, account_t = (schema.get(name) for name in ("Lead", "Contact", "Account"))
    task_t, member_t = schema.get("Task"), schema.get("CampaignMember")
    custom = [f["name"] for f in lead_t.fields if f["custom"] and contact_t.field(f["name"])]
    to_contact = {**LEAD_TO_CONTACT, **{name: name for name in custom}}
    counts: Counter = Counter()
    leads = _sample(_live("Lead"), n, rng, editable("Lead"))
    lead_ids = sorted(r.sf_id for r in leads)
    emails = {_norm_email(orjson.loads(r.data).get("Email")) for r in leads} - {""}
    emails = sorted(e for e in emails if "@" in e)
    # The existing contact per email (lowest Id), and contacts this run creates, kept up to date in memory.
    by_email: dict[str, Record] = {}
    for record in _containing("Contact", emails, ignore_case=True):
        by_email.setdefault(_norm_email(orjson.loads(record.data).get("Email")), record)
    companies = {(d.get("Company") or d.get("LastName") or "") for d in (orjson.loads(r.data) for r in leads)}
    companies = sorted(companies - {""})
    by_name: dict[str, str] = {}
    for record in _containing("Account", [orjson.dumps({"Name": c}).decode()[1:-1] for c in companies]):
        by_name.setdefault(orjson.loads(record.data).get("Name"), record.sf_id)
    tasks_of = _referencing("Task", "WhoId", lead_ids)
    members_of = _referencing("CampaignMember", "LeadId", lead_ids)

    for lead_record in leads:
        lead = orjson.loads(lead_record.data)
        email = _norm_email(lead.get("Email"))
        contact_record = by_email.get(email) if "@" in email else None
        contact = orjson.loads(contact_record.data) if contact_record else None

        account_id = contact.get("AccountId") if contact else None
        if account_id and not _live("Account").filter(sf_id=account_id).exists():
            account_id = None  # a contact left pointing at a deleted account counts as having none
        company = lead.get("Company") or lead.get("LastName")
        if account_id is None and company:
            account_id = by_name.get(company)
        if account_id is None:
            account = _mapped({**lead, "Company": company}, LEAD_TO_ACCOUNT, account_t)
            account["OwnerId"] = lead.get("OwnerId") or user_id
            account_id = _new_record(account_t, account, moment, user_id).sf_id
            by_name.setdefault(company, account_id)
            counts["new Account from Lead"] += 1

        if contact_record is None:
            values = _mapped(lead, to_contact, contact_t)
            values.update(AccountId=account_id, OwnerId=lead.get("OwnerId") or user_id)
            contact_record = _new_record(contact_t, values, moment, user_id)
            if "@" in email:
                by_email[email] = contact_record
            counts["new Contact from Lead"] += 1
        else:
            # Salesforce adds the lead's information to empty contact fields, never overwriting.
            for name, value in _mapped(lead, to_contact, contact_t).items():
                if contact.get(name) is None and not isinstance(value, bool):
                    contact[name] = value
            if contact.get("AccountId") != account_id:
                contact["AccountId"] = account_id
            _save([_edit(contact_record, contact_t, contact, moment, user_id)], moment)
            counts["converted into existing Contact"] += 1
        contact_id = contact_record.sf_id

        lead.update(
            IsConverted=True,
            Status=CONVERTED_STATUS,
            ConvertedContactId=contact_id,
            ConvertedAccountId=account_id,
            ConvertedDate=moment.date().isoformat(),
        )
        _save([_edit(lead_record, lead_t, lead, moment, user_id)], moment)
        counts["converted Lead"] += 1

        moved = []
        for task in tasks_of.get(lead_record.sf_id, []):
            data = orjson.loads(task.data)
            data["WhoId"] = contact_id
            moved.append(_edit(task, task_t, data, moment, user_id))
        _save(moved, moment)
        counts["Task moved to Contact"] += len(moved)

        members = [
            m for m in members_of.get(lead_record.sf_id, []) if not orjson.loads(m.data).get("ContactId")
        ]
        if not members:
            continue
        campaigns_of_contact = {
            orjson.loads(m.data).get("CampaignId")
            for m in _referencing("CampaignMember", "ContactId", [contact_id]).get(contact_id, [])
        }
        followed = []
        for member in members:
            data = orjson.loads(member.data)
            if data.get("CampaignId") in campaigns_of_contact:
                continue  # the contact is already a member of that campaign
            member._old_data = member.data
            data["ContactId"] = contact_id
            data["LastModifiedById"] = user_id
            derive(member_t, data, lookup=lookup_data)
            member.data = dumps(data)
            member.last_modified_date = moment
            followed.append(member)
        _save(followed, moment)
        counts["CampaignMember moved to Contact"] += len(followed)
    return {key: counts[key] for key in sorted(counts) if counts[key]}


def schema_toggle() -> str:
    """Add the churn custom field to Contact, or remove it if it is there."""
    last = SchemaChange.objects.using(db()).filter(sobject="Contact").order_by("-id").first()
    if last is not None and last.action == SchemaChange.Action.ADD:
        SchemaChange.objects.using(db()).create(
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
    SchemaChange.objects.using(db()).create(
        sobject="Contact", action=SchemaChange.Action.ADD, payload=orjson.dumps(field_describe).decode()
    )
    return f"added Contact.{CHURN_FIELD}"


def validation_rule_add(spec: str, message: str) -> str:
    """`OBJECT.FIELD=VALUE`: from now on every save leaving FIELD equal to VALUE is refused with `message`."""
    target, sep, raw = spec.partition("=")
    sobject, dot, field_name = target.partition(".")
    changes = tuple(
        SchemaChange.objects.using(db()).order_by("id").values_list("sobject", "action", "payload")
    )
    t = build_schema(changes).get(sobject.strip())
    if not sep or not dot or t is None or t.field(field_name.strip()) is None:
        raise ChurnError(
            f"{spec!r}: give OBJECT.FIELD=VALUE for a field the org has, e.g. Contact.HasOptedOutOfEmail=false"
        )
    try:
        equals = orjson.loads(raw)
    except orjson.JSONDecodeError:
        equals = raw
    rule = {
        "name": f"Inflow_Test_{field_name.strip()}",
        "field": t.field(field_name.strip())["name"],
        "equals": equals,
        "message": message,
    }
    SchemaChange.objects.using(db()).create(
        sobject=t.name, action=SchemaChange.Action.RULE, payload=orjson.dumps(rule).decode()
    )
    return f"added a validation rule on {t.name}.{rule['field']}"
