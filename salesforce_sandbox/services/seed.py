"""A deterministic org of any size with realistic, messy data.

The same `seed` gives the same records (Ids, values, relations); timestamps are spread over the 25 days
before seeding. Faker fills pools of names, companies and places once (Faker is too slow to call per
field a million times); rows are then drawn from the pools with one seeded `random.Random` and written
with `executemany` in large batches, so a million contacts take minutes, not hours.

Messy on purpose: leads that share emails with contacts, duplicate contacts, missing and invalid emails,
unicode names, very long texts, converted leads, opportunities at every stage with contact roles,
campaign members with every status, open and completed tasks, records sharing one SystemModstamp.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connections, transaction

from ..ids import make_id
from ..models import (
    AccessToken,
    AuthorizationCode,
    BulkJob,
    ConnectedApp,
    Grant,
    IdSequence,
    OrgUser,
    QueryCursor,
    Record,
    SchemaChange,
)
from ..routers import SANDBOX_DB as DB
from ..schema.objects import (
    CAMPAIGN_MEMBER_STATUSES,
    CAMPAIGN_STATUSES,
    CAMPAIGN_TYPES,
    INTERESTS,
    LANGUAGES,
    LEAD_STATUSES,
    STAGES,
    TASK_PRIORITIES,
    TASK_STATUSES,
    TIERS,
)
from ..wire import now as wire_now
from ..wire import sf_datetime
from .records import allocate_numbers, derive
from .records import dumps as dump_data

DEFAULT_APP = {
    "name": "Inflow (local development)",
    "client_id": "inflow-local-dev",
    "client_secret": "inflow-local-dev-secret",
    "callback_urls": "http://localhost:*/integrations/salesforce/callback/\n"
    "http://127.0.0.1:*/integrations/salesforce/callback/\n"
    "https://localhost:*/integrations/salesforce/callback/\n"
    "https://127.0.0.1:*/integrations/salesforce/callback/",
}
DEMO_USER = {
    "username": "demo@inflow.local",
    "password": "inflow-demo",
    "FirstName": "Dana",
    "LastName": "Demo",
    "Email": "demo@inflow.local",
}
BATCH = 5000
LOCALES = ["en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "ja_JP", "pl_PL", "sv_SE", "tr_TR"]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
INDUSTRIES = [
    "Agriculture",
    "Banking",
    "Consulting",
    "Education",
    "Energy",
    "Finance",
    "Healthcare",
    "Hospitality",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Telecommunications",
]
ACCOUNT_TYPES = ["Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Other"]
SALUTATIONS = ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]
ROLES = [
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
]
TASK_SUBJECTS = ["Call", "Send Letter", "Send Quote", "Follow up", "Email", "Other"]
BAD_EMAILS = [
    "{first}.{last}@",
    "{first} at example.com",
    "{first}@@example..com",
    "{first}.{last}@example",
    "mailto:{first}@example.com",
    "{first}@exa mple.com",
]


@dataclass
class SeedReport:
    counts: dict[str, int]
    seconds: float


class Pools:
    """Values drawn from Faker once, per seed."""

    def __init__(self, seed: int, size: int = 600):
        from faker import Faker

        fake = Faker(LOCALES)
        fake.seed_instance(seed)
        self.first = [fake[loc].first_name() for loc in LOCALES for _ in range(size // len(LOCALES) + 1)]
        self.last = [fake[loc].last_name() for loc in LOCALES for _ in range(size // len(LOCALES) + 1)]
        en = fake["en_US"]
        self.company = [en.company() for _ in range(size)]
        self.city = [
            (fake[loc].city(), fake[loc].postcode(), fake[loc].current_country_code())
            for loc in LOCALES
            for _ in range(30)
        ]
        self.street = [en.street_address() for _ in range(size)]
        self.state = [en.state_abbr() for _ in range(60)]
        self.title = [en.job() for _ in range(300)]
        self.domain = [en.domain_word() for _ in range(size)]
        self.sentence = [en.paragraph(nb_sentences=3) for _ in range(200)]
        self.long_text = [" ".join(en.paragraphs(nb=40)) for _ in range(8)]
        self.catch = [en.catch_phrase() for _ in range(300)]


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum()) or "user"


class Writer:
    """Batched INSERTs of record rows with raw executemany (the ORM is too slow for millions of rows)."""

    def __init__(self):
        self.connection = connections[DB]
        table = Record._meta.db_table
        # The table name comes from the model; every value is a parameter.
        self.sql = (
            f"INSERT INTO {table} (sobject, sf_id, created_date, last_modified_date, system_modstamp, "  # noqa: S608
            "is_deleted, deleted_date, purged, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        )
        self.rows: list[tuple] = []
        self.adapt = self.connection.ops.adapt_datetimefield_value
        self.counts: dict[str, int] = {}

    def add(
        self,
        sobject: str,
        sf_id: str,
        created: dt.datetime,
        modified: dt.datetime,
        data: dict,
        deleted: dt.datetime | None = None,
    ) -> None:
        modstamp = deleted or modified
        self.rows.append(
            (
                sobject,
                sf_id,
                self.adapt(created),
                self.adapt(modified),
                self.adapt(modstamp),
                deleted is not None,
                self.adapt(deleted) if deleted else None,
                False,
                dump_data(data),
            )
        )
        self.counts[sobject] = self.counts.get(sobject, 0) + 1
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        with transaction.atomic(using=DB), self.connection.cursor() as cursor:
            cursor.executemany(self.sql, self.rows)
        self.rows = []


class Seeder:
    def __init__(self, *, contacts: int, seed: int, progress: Callable[[str], None] | None = None):
        self.n = contacts
        self.seed = seed
        self.rng = random.Random(seed)
        self.pools = Pools(seed)
        self.writer = Writer()
        self.base = wire_now().replace(microsecond=0)
        self.progress = progress or (lambda message: None)
        self.ids: dict[str, list[str]] = {}
        self.contact_info: list[tuple[str, str | None, str | None]] = []  # (first, last, email)
        self.schema = None

    # -- helpers ---------------------------------------------------------------------------------------
    def _ids(self, t, count: int) -> list[str]:
        first = allocate_numbers(t.key_prefix, count)
        return [make_id(t.key_prefix, first + i) for i in range(count)]

    def _times(self) -> tuple[dt.datetime, dt.datetime]:
        rng = self.rng
        created = self.base - dt.timedelta(days=25) + dt.timedelta(seconds=rng.randrange(0, 24 * 86400))
        if rng.random() < 0.2:
            created = created.replace(second=0)  # several records share one timestamp
        modified = (
            created
            if rng.random() < 0.5
            else created + dt.timedelta(seconds=rng.randrange(1, int((self.base - created).total_seconds())))
        )
        if rng.random() < 0.3:
            created = created.replace(microsecond=rng.randrange(0, 1000) * 1000)
        return created, modified

    def _user(self) -> str:
        return self.rng.choice(self.ids["User"])

    def _email(self, first: str, last: str, domain: str) -> str | None:
        roll = self.rng.random()
        if roll < 0.05:
            return None
        if roll < 0.08:
            return self.rng.choice(BAD_EMAILS).format(first=_ascii(first), last=_ascii(last))
        email = f"{_ascii(first)}.{_ascii(last)}{self.rng.randrange(1, 9999)}@{domain}"
        if roll < 0.10:
            return f"  {email.upper()} "
        return email

    def _phone(self) -> str | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.2:
            return None
        digits = "".join(str(rng.randrange(10)) for _ in range(10))
        formats = [
            f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
            f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}",
            f"+44 20 {digits[:4]} {digits[4:8]}",
            f"0{digits[1:]}",
            f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
        ]
        return rng.choice(formats)

    def _address(self, prefix: str) -> dict:
        rng = self.rng
        if rng.random() < 0.15:
            return {}
        city, postcode, country = rng.choice(self.pools.city)
        return {
            f"{prefix}Street": rng.choice(self.pools.street),
            f"{prefix}City": city,
            f"{prefix}State": rng.choice(self.pools.state) if country == "US" else None,
            f"{prefix}PostalCode": postcode,
            f"{prefix}Country": country,
        }

    def _write(self, t, sf_id: str, data: dict, *, number: int | None = None, deleted: bool = False) -> None:
        created, modified = self._times()
        data.setdefault("CreatedById", self._user())
        data.setdefault("LastModifiedById", data["CreatedById"])
        derive(t, data, number=number)
        deleted_at = None
        if deleted:
            deleted_at = modified + dt.timedelta(seconds=self.rng.randrange(60, 86400))
            deleted_at = min(deleted_at, self.base)
        self.writer.add(t.name, sf_id, created, modified, data, deleted_at)

    # -- objects ---------------------------------------------------------------------------------------
    def users(self) -> None:
        t = self.schema.get("User")
        people = [DEMO_USER] + [
            {"FirstName": self.pools.first[i * 7], "LastName": self.pools.last[i * 11]} for i in range(1, 6)
        ]
        ids = self._ids(t, len(people))
        self.ids["User"] = ids
        for sf_id, person in zip(ids, people, strict=True):
            first, last = person["FirstName"], person["LastName"]
            username = person.get("username") or f"{_ascii(first)}.{_ascii(last)}@inflow-sandbox.local"
            data = {
                "Username": username,
                "FirstName": first,
                "LastName": last,
                "Email": person.get("Email") or username,
                "Alias": _ascii(first)[:4] + _ascii(last)[:4],
                "IsActive": True,
                "TimeZoneSidKey": "Europe/London",
                "LocaleSidKey": "en_GB",
                "LanguageLocaleKey": "en_US",
                "UserType": "Standard",
                "CompanyName": "Inflow Sandbox",
                "CreatedById": ids[0],
                "ProfileId": "00eDw0000000001AAA",
            }
            self._write(t, sf_id, data)
            OrgUser.objects.using(DB).update_or_create(
                user_id=sf_id,
                # Only the demo user can log in; the others own records (hashing is slow on purpose).
                defaults={"username": username, "password": make_password(person.get("password"))},
            )

    def accounts(self) -> None:
        t = self.schema.get("Account")
        count = max(2, self.n // 5)
        ids = self._ids(t, count)
        self.ids["Account"] = ids
        self.account_domains = []
        rng, pools = self.rng, self.pools
        for i, sf_id in enumerate(ids):
            name = pools.company[i % len(pools.company)] + ("" if i < len(pools.company) else f" {i}")
            domain = f"{pools.domain[i % len(pools.domain)]}{'' if i < len(pools.domain) else i}.example.com"
            self.account_domains.append(domain)
            data = {
                "Name": name,
                "Type": rng.choice(ACCOUNT_TYPES),
                "Industry": rng.choice(INDUSTRIES),
                "Phone": self._phone(),
                "Website": f"https://www.{domain}",
                "OwnerId": self._user(),
                "NumberOfEmployees": rng.choice([None, 5, 12, 50, 120, 800, 5000, 25000]),
                "AnnualRevenue": rng.choice([None, 250000.0, 1200000.0, 9500000.0, 48000000.0]),
                "AccountSource": rng.choice(LEAD_SOURCES),
                "Rating": rng.choice([None, "Hot", "Warm", "Cold"]),
                "Customer_Tier__c": rng.choice(TIERS + [None]),
                "Description": rng.choice(pools.catch),
                **self._address("Billing"),
            }
            self._write(t, sf_id, data, deleted=rng.random() < 0.01)

    def contacts(self) -> None:
        t = self.schema.get("Contact")
        ids = self._ids(t, self.n)
        self.ids["Contact"] = ids
        self.contact_accounts: list[str | None] = []
        rng, pools = self.rng, self.pools
        for i, sf_id in enumerate(ids):
            if i and rng.random() < 0.04:  # a duplicate of an earlier contact, same person and email
                first, last, email = self.contact_info[rng.randrange(len(self.contact_info))]
            else:
                first = rng.choice(pools.first) if rng.random() > 0.03 else None
                last = rng.choice(pools.last)
                account_index = rng.randrange(len(self.ids["Account"]))
                email = self._email(
                    first or "x",
                    last,
                    self.account_domains[account_index]
                    if rng.random() < 0.6
                    else rng.choice(["gmail.com", "yahoo.co.uk", "outlook.com", "proton.me"]),
                )
            self.contact_info.append((first, last, email))
            account = rng.choice(self.ids["Account"]) if rng.random() < 0.85 else None
            self.contact_accounts.append(account)
            description = None
            roll = rng.random()
            if roll < 0.01:
                description = rng.choice(pools.long_text)
            elif roll < 0.3:
                description = rng.choice(pools.sentence)
            data = {
                "AccountId": account,
                "FirstName": first,
                "LastName": last,
                "Salutation": rng.choice(SALUTATIONS) if rng.random() < 0.4 else None,
                "Email": email,
                "Phone": self._phone(),
                "MobilePhone": self._phone(),
                "Title": rng.choice(pools.title) if rng.random() < 0.7 else None,
                "Department": rng.choice([None, "Sales", "Marketing", "Finance", "IT", "Operations"]),
                "LeadSource": rng.choice(LEAD_SOURCES + [None]),
                "Birthdate": f"{rng.randrange(1945, 2004)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                if rng.random() < 0.5
                else None,
                "Description": description,
                "OwnerId": self._user(),
                "HasOptedOutOfEmail": rng.random() < 0.1,
                "HasOptedOutOfFax": rng.random() < 0.02,
                "DoNotCall": rng.random() < 0.05,
                "SMS_Opt_In__c": rng.random() < 0.3,
                "et4ae5__HasOptedOutOfMobile__c": rng.random() < 0.04,
                "Tier__c": rng.choice(TIERS + [None, None]),
                "Interests__c": ";".join(sorted(rng.sample(INTERESTS, rng.randrange(0, 4)))) or None,
                "Lifetime_Value__c": round(rng.uniform(0, 25000), 2) if rng.random() < 0.7 else None,
                "Loyalty_Points__c": float(rng.randrange(0, 50000)) if rng.random() < 0.5 else None,
                "Discount_Rate__c": rng.choice([None, 0.0, 5.0, 12.5, 20.0]),
                "Customer_Since__c": (
                    self.base.date() - dt.timedelta(days=rng.randrange(30, 3650))
                ).isoformat()
                if rng.random() < 0.6
                else None,
                "Last_Purchase_At__c": sf_datetime(
                    self.base - dt.timedelta(minutes=rng.randrange(60, 500000))
                )
                if rng.random() < 0.5
                else None,
                "Preferred_Language__c": rng.choice(LANGUAGES + [None]),
                "NPS_Score__c": rng.randrange(0, 11) if rng.random() < 0.4 else None,
                "External_Ref__c": f"EXT-{self.seed}-{i:08d}" if rng.random() < 0.5 else None,
                "Support_Notes__c": rng.choice(pools.long_text) if rng.random() < 0.005 else None,
                **self._address("Mailing"),
            }
            self._write(t, sf_id, data, deleted=rng.random() < 0.01)

    def leads(self) -> None:
        t = self.schema.get("Lead")
        count = max(1, self.n // 2)
        ids = self._ids(t, count)
        self.ids["Lead"] = ids
        rng, pools = self.rng, self.pools
        for sf_id in ids:
            converted = rng.random() < 0.15
            contact_index = rng.randrange(len(self.ids["Contact"]))
            if converted or rng.random() < 0.3:  # shares a person (and email) with a contact
                first, last, email = self.contact_info[contact_index]
            else:
                first, last = rng.choice(pools.first), rng.choice(pools.last)
                email = self._email(first, last, rng.choice(["gmail.com", "hotmail.com", "example.org"]))
            data = {
                "FirstName": first,
                "LastName": last,
                "Email": email,
                "Company": rng.choice(pools.company),
                "Title": rng.choice(pools.title) if rng.random() < 0.6 else None,
                "Phone": self._phone(),
                "LeadSource": rng.choice(LEAD_SOURCES),
                "Industry": rng.choice(INDUSTRIES + [None]),
                "Rating": rng.choice(["Hot", "Warm", "Cold", None]),
                "OwnerId": self._user(),
                "Status": rng.choice(LEAD_STATUSES[:2] + [LEAD_STATUSES[3]]),
                "HasOptedOutOfEmail": rng.random() < 0.08,
                "DoNotCall": rng.random() < 0.04,
                "SMS_Opt_In__c": rng.random() < 0.2,
                "Tier__c": rng.choice(TIERS + [None]),
                "Interests__c": ";".join(sorted(rng.sample(INTERESTS, rng.randrange(0, 3)))) or None,
                "IsUnreadByOwner": rng.random() < 0.3,
                **self._address(""),
            }
            if converted:
                data.update(
                    IsConverted=True,
                    Status="Closed - Converted",
                    ConvertedContactId=self.ids["Contact"][contact_index],
                    ConvertedAccountId=self.contact_accounts[contact_index],
                    ConvertedDate=(self.base.date() - dt.timedelta(days=rng.randrange(1, 20))).isoformat(),
                )
            else:
                data["IsConverted"] = False
            self._write(t, sf_id, data, deleted=rng.random() < 0.01)

    def opportunities(self) -> None:
        t = self.schema.get("Opportunity")
        role_t = self.schema.get("OpportunityContactRole")
        count = max(len(STAGES), self.n // 5)
        ids = self._ids(t, count)
        self.ids["Opportunity"] = ids
        rng = self.rng
        roles: list[tuple[str, str, bool]] = []
        for i, sf_id in enumerate(ids):
            stage = STAGES[i % len(STAGES)][0]  # every stage, evenly
            contact_index = rng.randrange(len(self.ids["Contact"]))
            account = self.contact_accounts[contact_index] or rng.choice(self.ids["Account"])
            data = {
                "AccountId": account,
                "Name": f"{self.pools.company[i % len(self.pools.company)]} - "
                f"{rng.choice(['Renewal', 'Expansion', 'New Business', 'Pilot'])}",
                "StageName": stage,
                "Amount": float(rng.randrange(1, 400) * 250),
                "CloseDate": (self.base.date() + dt.timedelta(days=rng.randrange(-120, 180))).isoformat(),
                "Type": rng.choice(["New Customer", "Existing Customer - Upgrade", None]),
                "LeadSource": rng.choice(LEAD_SOURCES),
                "OwnerId": self._user(),
                "IsPrivate": False,
                "ContactId": self.ids["Contact"][contact_index],
            }
            self._write(t, sf_id, data, deleted=rng.random() < 0.01)
            roles.append((sf_id, self.ids["Contact"][contact_index], True))
            if rng.random() < 0.25:
                roles.append((sf_id, rng.choice(self.ids["Contact"]), False))
        role_ids = self._ids(role_t, len(roles))
        for sf_id, (opp, contact, primary) in zip(role_ids, roles, strict=True):
            self._write(
                role_t,
                sf_id,
                {"OpportunityId": opp, "ContactId": contact, "IsPrimary": primary, "Role": rng.choice(ROLES)},
            )

    def campaigns(self) -> None:
        t = self.schema.get("Campaign")
        member_t = self.schema.get("CampaignMember")
        count = max(3, self.n // 500)
        ids = self._ids(t, count)
        self.ids["Campaign"] = ids
        rng = self.rng
        for i, sf_id in enumerate(ids):
            start = self.base.date() - dt.timedelta(days=rng.randrange(0, 300))
            self._write(
                t,
                sf_id,
                {
                    "Name": f"{rng.choice(['Spring', 'Summer', 'Autumn', 'Winter'])} "
                    f"{rng.choice(CAMPAIGN_TYPES)} {2024 + i % 3} #{i + 1}",
                    "Type": rng.choice(CAMPAIGN_TYPES),
                    "Status": rng.choice(CAMPAIGN_STATUSES),
                    "StartDate": start.isoformat(),
                    "EndDate": (start + dt.timedelta(days=rng.randrange(7, 90))).isoformat(),
                    "IsActive": rng.random() < 0.6,
                    "OwnerId": self._user(),
                    "BudgetedCost": float(rng.randrange(1, 50) * 1000),
                },
            )
        count = max(2, self.n // 2)
        member_ids = self._ids(member_t, count)
        seen = set()
        for sf_id in member_ids:
            campaign = rng.choice(ids)
            if rng.random() < 0.6:
                index = rng.randrange(len(self.ids["Contact"]))
                person_id, person = self.ids["Contact"][index], self.contact_info[index]
                link = {"ContactId": person_id}
            else:
                index = rng.randrange(len(self.ids["Lead"]))
                person_id, person = self.ids["Lead"][index], (None, None, None)
                link = {"LeadId": person_id}
            if (campaign, person_id) in seen:
                continue
            seen.add((campaign, person_id))
            first, last, email = person
            data = {
                "CampaignId": campaign,
                **link,
                "Status": rng.choice(CAMPAIGN_MEMBER_STATUSES),
                "FirstName": first,
                "LastName": last,
                "Email": email,
            }
            self._write(member_t, sf_id, data)

    def tasks(self) -> None:
        t = self.schema.get("Task")
        count = max(2, self.n // 2)
        ids = self._ids(t, count)
        rng = self.rng
        for sf_id in ids:
            who = rng.choice(self.ids["Contact"]) if rng.random() < 0.7 else rng.choice(self.ids["Lead"])
            what = rng.choice(self.ids["Opportunity"]) if rng.random() < 0.3 else None
            status = rng.choice(TASK_STATUSES)
            data = {
                "WhoId": who,
                "WhatId": what,
                "Subject": rng.choice(TASK_SUBJECTS),
                "Status": status,
                "Priority": rng.choice(TASK_PRIORITIES),
                "OwnerId": self._user(),
                "ActivityDate": (self.base.date() + dt.timedelta(days=rng.randrange(-30, 30))).isoformat(),
                "Description": rng.choice(self.pools.sentence) if rng.random() < 0.3 else None,
                "TaskSubtype": rng.choice(["Task", "Email", "Call"]),
                "IsArchived": False,
            }
            if status == "Completed":
                data["CompletedDateTime"] = sf_datetime(self.base - dt.timedelta(hours=rng.randrange(1, 500)))
            self._write(t, sf_id, data, deleted=rng.random() < 0.01)

    def custom(self) -> None:
        rng, pools = self.rng, self.pools
        companies = self.schema.get("Company_Profile__c")
        count = max(2, self.n // 10)
        ids = self._ids(companies, count)
        for i, sf_id in enumerate(ids):
            domain = f"{pools.domain[i % len(pools.domain)]}-{i}.example.net"
            self._write(
                companies,
                sf_id,
                {
                    "Name": pools.company[i % len(pools.company)],
                    "Domain__c": domain,
                    "Industry__c": rng.choice(
                        ["Software", "Retail", "Finance", "Healthcare", "Education", "Manufacturing"]
                    ),
                    "Employees__c": rng.randrange(1, 20000),
                    "OwnerId": self._user(),
                    "Annual_Revenue__c": float(rng.randrange(1, 1000) * 10000),
                },
            )
        subs = self.schema.get("Subscription__c")
        for i, sf_id in enumerate(self._ids(subs, max(2, self.n // 4))):
            self._write(
                subs,
                sf_id,
                {
                    "Name": f"SUB-{i + 1:07d}",
                    "Contact__c": rng.choice(self.ids["Contact"]),
                    "Plan__c": rng.choice(["Free", "Starter", "Pro", "Enterprise"]),
                    "Status__c": rng.choice(["Active", "Paused", "Cancelled"]),
                    "Started_On__c": (
                        self.base.date() - dt.timedelta(days=rng.randrange(1, 900))
                    ).isoformat(),
                    "OwnerId": self._user(),
                    "Monthly_Amount__c": rng.choice([0.0, 9.0, 29.0, 99.0, 499.0]),
                },
            )
        dossier_t, loan_t, inst_t = (self.schema.get(n) for n in ("Dossier__c", "Loan__c", "Instalment__c"))
        dossiers = self._ids(dossier_t, max(2, self.n // 10))
        for i, sf_id in enumerate(dossiers):
            self._write(
                dossier_t,
                sf_id,
                {
                    "Name": f"DOS-{i + 1:07d}",
                    "Contact__c": rng.choice(self.ids["Contact"]),
                    "Opened_On__c": (self.base.date() - dt.timedelta(days=rng.randrange(1, 700))).isoformat(),
                    "Status__c": rng.choice(["Open", "Under Review", "Closed"]),
                    "OwnerId": self._user(),
                },
            )
        loans = self._ids(loan_t, len(dossiers))
        for i, sf_id in enumerate(loans):
            self._write(
                loan_t,
                sf_id,
                {
                    "Name": f"LN-{i + 1:07d}",
                    "Dossier__c": dossiers[i],
                    "Principal__c": float(rng.randrange(1, 200) * 1000),
                    "Interest_Rate__c": rng.choice([2.5, 3.9, 4.75, 6.1]),
                    "Status__c": rng.choice(["Requested", "Active", "Repaid", "Defaulted"]),
                    "OwnerId": self._user(),
                },
            )
        inst_count = len(loans) * 3
        first = allocate_numbers(inst_t.key_prefix, inst_count)
        for k in range(inst_count):
            loan = loans[k // 3]
            due = self.base.date() + dt.timedelta(days=30 * (k % 3 + 1) - 45)
            self._write(
                inst_t,
                make_id(inst_t.key_prefix, first + k),
                {
                    "Loan__c": loan,
                    "Due_Date__c": due.isoformat(),
                    "Amount__c": float(rng.randrange(100, 900)),
                    "Paid__c": due < self.base.date() and rng.random() < 0.8,
                },
                number=first + k,
            )
        course_t, enrol_t = self.schema.get("Course__c"), self.schema.get("Enrollment__c")
        courses = self._ids(course_t, 12)
        for i, sf_id in enumerate(courses):
            self._write(
                course_t,
                sf_id,
                {
                    "Name": f"{rng.choice(pools.catch)[:60]}",
                    "Code__c": f"C{i + 101}",
                    "Starts_On__c": (self.base.date() + dt.timedelta(days=14 * i)).isoformat(),
                    "Level__c": rng.choice(["Beginner", "Intermediate", "Advanced"]),
                    "OwnerId": self._user(),
                },
            )
        pairs = set()
        wanted = max(2, self.n // 4)
        while len(pairs) < min(wanted, len(self.ids["Contact"]) * len(courses)):
            pairs.add((rng.choice(self.ids["Contact"]), rng.choice(courses)))
        first = allocate_numbers(enrol_t.key_prefix, len(pairs))
        for k, (contact, course) in enumerate(sorted(pairs)):
            self._write(
                enrol_t,
                make_id(enrol_t.key_prefix, first + k),
                {
                    "Contact__c": contact,
                    "Course__c": course,
                    "Status__c": rng.choice(["Enrolled", "Completed", "Withdrawn"]),
                    "Enrolled_On__c": (
                        self.base.date() - dt.timedelta(days=rng.randrange(1, 200))
                    ).isoformat(),
                },
                number=first + k,
            )

    def steps(self) -> Iterator[tuple[str, Callable[[], None]]]:
        yield "users", self.users
        yield "accounts", self.accounts
        yield "contacts", self.contacts
        yield "leads", self.leads
        yield "opportunities", self.opportunities
        yield "campaigns", self.campaigns
        yield "tasks", self.tasks
        yield "custom objects", self.custom


def connected_app_ensure() -> ConnectedApp:
    app, _ = ConnectedApp.objects.using(DB).get_or_create(
        client_id=DEFAULT_APP["client_id"], defaults=DEFAULT_APP
    )
    return app


def org_reset() -> None:
    """Delete every record and what hangs off them; connected apps stay, grants and tokens go."""
    with transaction.atomic(using=DB):
        for model in (
            QueryCursor,
            BulkJob,
            AuthorizationCode,
            AccessToken,
            Grant,
            OrgUser,
            SchemaChange,
            IdSequence,
        ):
            model.objects.using(DB).all().delete()
        Record.objects.using(DB).all().delete()


def org_is_empty() -> bool:
    return not Record.objects.using(DB).exists()


def org_seed(
    *, contacts: int, seed: int, reset: bool = False, progress: Callable[[str], None] | None = None
) -> SeedReport:
    from ..api import current_schema

    if contacts < 1:
        raise ValueError("contacts must be at least 1")
    started = time.monotonic()
    if reset:
        org_reset()
    elif not org_is_empty():
        raise ValueError("The org already has records: use --reset to replace them.")
    connected_app_ensure()
    seeder = Seeder(contacts=contacts, seed=seed, progress=progress)
    seeder.schema = current_schema()
    for label, step in seeder.steps():
        step_started = time.monotonic()
        step()
        seeder.writer.flush()
        if progress:
            progress(f"{label}: {time.monotonic() - step_started:.1f}s")
    if connections[DB].vendor == "postgresql":
        with connections[DB].cursor() as cursor:
            cursor.execute(f"ANALYZE {Record._meta.db_table}")
    elif connections[DB].vendor == "sqlite":
        with connections[DB].cursor() as cursor:
            cursor.execute("ANALYZE")
    return SeedReport(counts=seeder.writer.counts, seconds=time.monotonic() - started)
