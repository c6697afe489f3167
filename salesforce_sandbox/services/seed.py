"""A deterministic org of any size with realistic, messy data.

The same `seed` gives the same records (Ids, values, relations and timestamps) all day: timestamps are
spread over the 25 days before midnight UTC of the seeding day. Faker fills pools of names, companies and places once (Faker is too slow to call per
field a million times); rows are then drawn from the pools with one seeded `random.Random` and written
with `executemany` in large batches, so a million contacts take minutes, not hours.

Messy on purpose: leads that share emails with contacts, duplicate contacts, missing and invalid emails,
unicode names, very long texts, converted leads, opportunities at every stage with contact roles,
campaign members with every status, open and completed tasks, records sharing one SystemModstamp.

Consistent where a real org must be: a record in the recycle bin took its dependants with it (an
account's contacts and opportunities, a contact's tasks, roles and memberships, ...), at its delete
moment, exactly as a delete through the API does (recycle_bin.py).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connections, transaction

from ..ids import make_id
from ..models import (
    AccessToken,
    AuthorizationCode,
    BulkJob,
    CascadeDelete,
    ConnectedApp,
    Grant,
    IdSequence,
    OrgUser,
    QueryCursor,
    Record,
    SchemaChange,
)
from ..routers import current_org, db
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
from .recycle_bin import cascade_fields, cascade_takes

DEFAULT_APP = {
    "name": "Inflow (local development)",
    "client_id": "inflow-local-dev",
    "client_secret": "inflow-local-dev-secret",
}
CALLBACK_PATH = "/integrations/salesforce/callback/"
DEMO_USER = {
    "username": "demo@inflow.local",
    "password": "inflow-demo",
    "FirstName": "Dana",
    "LastName": "Demo",
    "Email": "demo@inflow.local",
}


def default_callbacks() -> str:
    """The callbacks the local app registers, exactly: SANDBOX_CALLBACK_URLS (comma-separated) if set,
    else Inflow's own on localhost and 127.0.0.1 at WEB_PORT (what `make run` serves)."""
    configured = [
        url.strip() for url in os.environ.get("SANDBOX_CALLBACK_URLS", "").split(",") if url.strip()
    ]
    if configured:
        return "\n".join(configured)
    port = os.environ.get("WEB_PORT", "").strip() or "8000"
    return "\n".join(f"http://{host}:{port}{CALLBACK_PATH}" for host in ("localhost", "127.0.0.1"))


def demo_user() -> dict:
    """The demo user of the current org: usernames are unique across orgs, as on Salesforce."""
    org = current_org()
    if org.number == 1:
        return DEMO_USER
    username = f"demo@{org.name.replace('_', '-')}.inflow.local"
    return {**DEMO_USER, "username": username, "Email": username}


def user_domain() -> str:
    org = current_org()
    return "inflow-sandbox.local" if org.number == 1 else f"{org.name.replace('_', '-')}.inflow-sandbox.local"


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
ADDRESS_KEYS = {
    prefix: tuple(f"{prefix}{part}" for part in ("Street", "City", "State", "PostalCode", "Country"))
    for prefix in ("", "Mailing", "Billing", "Shipping", "Other")
}
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

        # One generator per locale, each seeded on its own: a multi-locale Faker does not replay exactly.
        fake = {}
        for index, locale in enumerate(LOCALES):
            fake[locale] = Faker(locale)
            fake[locale].seed_instance(seed * 1000 + index)
        self.first = [fake[loc].first_name() for loc in LOCALES for _ in range(size // len(LOCALES) + 1)]
        self.last = [fake[loc].last_name() for loc in LOCALES for _ in range(size // len(LOCALES) + 1)]
        en = fake["en_US"]
        self.company = [en.company() for _ in range(size)]
        self.city = [
            (_city(fake[loc]), fake[loc].postcode(), fake[loc].current_country_code())
            for loc in LOCALES
            for _ in range(30)
        ]
        self.street = [en.street_address() for _ in range(size)]
        self.state = [en.state_abbr() for _ in range(60)]
        self.title = [en.job() for _ in range(300)]
        self.domain = [en.domain_word() for _ in range(size)]
        self.sentence = [en.paragraph(nb_sentences=3) for _ in range(200)]
        self.long_text = [" ".join(en.paragraphs(nb=150)) for _ in range(8)]  # ~14,000 characters each
        self.catch = [en.catch_phrase() for _ in range(300)]


ITALIAN_CITIES = [
    "Roma",
    "Milano",
    "Napoli",
    "Torino",
    "Palermo",
    "Genova",
    "Bologna",
    "Firenze",
    "Bari",
    "Catania",
    "Venezia",
    "Verona",
    "Messina",
    "Padova",
    "Trieste",
    "Brescia",
    "Parma",
    "Modena",
]


def _city(fake) -> str:
    # Faker's it_IT city() does not replay under a seed; draw Italian cities from a fixed list instead.
    if fake.locales == ["it_IT"]:
        return fake.random_element(ITALIAN_CITIES)
    return fake.city()


def _sqlite_datetime(value: dt.datetime) -> str:
    return value.replace(tzinfo=None).isoformat(" ")


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum()) or "user"


class Writer:
    """Batched INSERTs of record rows with raw executemany (the ORM is too slow for millions of rows)."""

    def __init__(self):
        self.connection = connections[db()]
        table = Record._meta.db_table
        # The table name comes from the model; every value is a parameter.
        self.sql = (
            f"INSERT INTO {table} (sobject, sf_id, created_date, last_modified_date, system_modstamp, "  # noqa: S608
            "is_deleted, deleted_date, purged, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        )
        self.rows: list[tuple] = []
        if self.connection.vendor == "sqlite":
            # What Django's SQLite adapter writes for an aware UTC datetime, without its per-call checks.
            self.adapt = _sqlite_datetime
        else:
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
        with transaction.atomic(using=db()), self.connection.cursor() as cursor:
            cursor.executemany(self.sql, self.rows)
        self.rows = []


class Seeder:
    def __init__(self, *, contacts: int, seed: int, progress: Callable[[str], None] | None = None):
        self.n = contacts
        self.seed = seed
        self.rng = random.Random(seed)
        self._random = self.rng.random
        self._ascii: dict[str, str] = {}
        self.pools = Pools(seed)
        self.writer = Writer()
        # Midnight UTC: the same seed gives the same records, timestamps included, all day long.
        self.base = wire_now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.progress = progress or (lambda message: None)
        self.ids: dict[str, list[str]] = {}
        self.contact_info: list[tuple[str, str | None, str | None]] = []  # (first, last, email)
        self.schema = None
        self.mass_updates = [
            self.base - dt.timedelta(hours=hours, milliseconds=123) for hours in (2, 30, 75, 170)
        ]
        # Records in the recycle bin: Id -> (delete moment, the record whose delete took it, or itself).
        self.deleted: dict[str, tuple[dt.datetime, str]] = {}
        self.cascade_links: list[tuple[str, str]] = []  # (record taken along, root)
        self._cascade_fields: dict[str, list[str]] | None = None

    # -- helpers ---------------------------------------------------------------------------------------
    # random.Random's choice/randrange cost microseconds each in Python; these draw from random() directly.
    def pick(self, seq):
        return seq[int(self._random() * len(seq))]

    def below(self, n: int) -> int:
        return int(self._random() * n)

    def between(self, low: int, high: int) -> int:
        return low + int(self._random() * (high - low))

    def ascii(self, text: str) -> str:
        cached = self._ascii.get(text)
        if cached is None:
            cached = self._ascii[text] = _ascii(text)
        return cached

    def _ids(self, t, count: int) -> list[str]:
        first = allocate_numbers(t.key_prefix, count)
        return [make_id(t.key_prefix, first + i) for i in range(count)]

    def _times(self) -> tuple[dt.datetime, dt.datetime]:
        created = self.base - dt.timedelta(days=25) + dt.timedelta(seconds=self.between(0, 24 * 86400))
        if self._random() < 0.2:
            created = created.replace(second=0)
        roll = self._random()
        if roll < 0.1:
            # Part of a mass update: several records share one SystemModstamp, as after a data load.
            modified = max(created, self.pick(self.mass_updates))
        elif roll < 0.55:
            modified = created
        else:
            modified = created + dt.timedelta(
                seconds=self.between(1, int((self.base - created).total_seconds()))
            )
        if self._random() < 0.3:
            created = created.replace(microsecond=self.between(0, 1000) * 1000)
        return created, modified

    def _user(self) -> str:
        return self.pick(self.ids["User"])

    def _email(self, first: str, last: str, domain: str) -> str | None:
        roll = self._random()
        if roll < 0.05:
            return None
        if roll < 0.08:
            return self.pick(BAD_EMAILS).format(first=self.ascii(first), last=self.ascii(last))
        email = f"{self.ascii(first)}.{self.ascii(last)}{self.between(1, 9999)}@{domain}"
        if roll < 0.10:
            return f"  {email.upper()} "
        return email

    def _phone(self) -> str | None:
        roll = self._random()
        if roll < 0.2:
            return None
        digits = f"{int(self._random() * 1e10):010d}"
        form = self.below(5)
        if form == 0:
            return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
        if form == 1:
            return f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}"
        if form == 2:
            return f"+44 20 {digits[:4]} {digits[4:8]}"
        if form == 3:
            return f"0{digits[1:]}"
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"

    def _address(self, prefix: str) -> dict:
        if self._random() < 0.15:
            return {}
        city, postcode, country = self.pick(self.pools.city)
        street, city_key, state, postal, country_key = ADDRESS_KEYS[prefix]
        return {
            street: self.pick(self.pools.street),
            city_key: city,
            state: self.pick(self.pools.state) if country == "US" else None,
            postal: postcode,
            country_key: country,
        }

    def _deleted_parent(self, sobject: str, data: dict) -> tuple[dt.datetime, str] | None:
        """The earliest delete among the record's cascade parents, if one of them is in the recycle bin."""
        if self._cascade_fields is None:
            self._cascade_fields = cascade_fields(self.schema)
        found = [
            self.deleted[data[field]]
            for field in self._cascade_fields.get(sobject, ())
            if data.get(field) in self.deleted and cascade_takes(sobject, field, data)
        ]
        return min(found) if found else None

    def _write(self, t, sf_id: str, data: dict, *, number: int | None = None, deleted: bool = False) -> None:
        created, modified = self._times()
        data.setdefault("CreatedById", self._user())
        data.setdefault("LastModifiedById", data["CreatedById"])
        derive(t, data, number=number)
        deleted_at, root = None, sf_id
        if deleted:
            deleted_at = modified + dt.timedelta(seconds=self.between(60, 86400))
            deleted_at = min(deleted_at, self.base)
        parent = self._deleted_parent(t.name, data)
        if parent is not None and (deleted_at is None or parent[0] <= deleted_at):
            # Went to the recycle bin with its parent: it existed until then and changed no later.
            deleted_at, root = parent
            created, modified = min(created, deleted_at), min(modified, deleted_at)
            self.cascade_links.append((sf_id, root))
        if deleted_at is not None:
            self.deleted[sf_id] = (deleted_at, root)
        self.writer.add(t.name, sf_id, created, modified, data, deleted_at)

    # -- objects ---------------------------------------------------------------------------------------
    def users(self) -> None:
        t = self.schema.get("User")
        people = [demo_user()] + [
            {"FirstName": self.pools.first[i * 7], "LastName": self.pools.last[i * 11]} for i in range(1, 6)
        ]
        ids = self._ids(t, len(people))
        self.ids["User"] = ids
        for sf_id, person in zip(ids, people, strict=True):
            first, last = person["FirstName"], person["LastName"]
            username = person.get("username") or f"{self.ascii(first)}.{self.ascii(last)}@{user_domain()}"
            data = {
                "Username": username,
                "FirstName": first,
                "LastName": last,
                "Email": person.get("Email") or username,
                "Alias": self.ascii(first)[:4] + self.ascii(last)[:4],
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
            OrgUser.objects.using(db()).update_or_create(
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
        pools = self.pools
        for i, sf_id in enumerate(ids):
            name = pools.company[i % len(pools.company)] + ("" if i < len(pools.company) else f" {i}")
            domain = f"{pools.domain[i % len(pools.domain)]}{'' if i < len(pools.domain) else i}.example.com"
            self.account_domains.append(domain)
            data = {
                "Name": name,
                "Type": self.pick(ACCOUNT_TYPES),
                "Industry": self.pick(INDUSTRIES),
                "Phone": self._phone(),
                "Website": f"https://www.{domain}",
                "OwnerId": self._user(),
                "NumberOfEmployees": self.pick([None, 5, 12, 50, 120, 800, 5000, 25000]),
                "AnnualRevenue": self.pick([None, 250000.0, 1200000.0, 9500000.0, 48000000.0]),
                "AccountSource": self.pick(LEAD_SOURCES),
                "Rating": self.pick([None, "Hot", "Warm", "Cold"]),
                "Customer_Tier__c": self.pick(TIERS + [None]),
                "Description": self.pick(pools.catch),
                **self._address("Billing"),
            }
            self._write(t, sf_id, data, deleted=self._random() < 0.01)

    def contacts(self) -> None:
        t = self.schema.get("Contact")
        ids = self._ids(t, self.n)
        self.ids["Contact"] = ids
        self.contact_accounts: list[str | None] = []
        rng, pools = self.rng, self.pools  # rng: sample and uniform only
        for i, sf_id in enumerate(ids):
            if i and self._random() < 0.04:  # a duplicate of an earlier contact, same person and email
                first, last, email = self.contact_info[self.below(len(self.contact_info))]
            else:
                first = self.pick(pools.first) if self._random() > 0.03 else None
                last = self.pick(pools.last)
                account_index = self.below(len(self.ids["Account"]))
                email = self._email(
                    first or "x",
                    last,
                    self.account_domains[account_index]
                    if self._random() < 0.6
                    else self.pick(["gmail.com", "yahoo.co.uk", "outlook.com", "proton.me"]),
                )
            self.contact_info.append((first, last, email))
            account = self.pick(self.ids["Account"]) if self._random() < 0.85 else None
            self.contact_accounts.append(account)
            description = None
            roll = self._random()
            if roll < 0.01:
                description = self.pick(pools.long_text)
            elif roll < 0.3:
                description = self.pick(pools.sentence)
            data = {
                "AccountId": account,
                "FirstName": first,
                "LastName": last,
                "Salutation": self.pick(SALUTATIONS) if self._random() < 0.4 else None,
                "Email": email,
                "Phone": self._phone(),
                "MobilePhone": self._phone(),
                "Title": self.pick(pools.title) if self._random() < 0.7 else None,
                "Department": self.pick([None, "Sales", "Marketing", "Finance", "IT", "Operations"]),
                "LeadSource": self.pick(LEAD_SOURCES + [None]),
                "Birthdate": f"{self.between(1945, 2004)}-{self.between(1, 13):02d}-{self.between(1, 29):02d}"
                if self._random() < 0.5
                else None,
                "Description": description,
                "OwnerId": self._user(),
                "HasOptedOutOfEmail": self._random() < 0.1,
                "HasOptedOutOfFax": self._random() < 0.02,
                "DoNotCall": self._random() < 0.05,
                "SMS_Opt_In__c": self._random() < 0.3,
                "et4ae5__HasOptedOutOfMobile__c": self._random() < 0.04,
                "Tier__c": self.pick(TIERS + [None, None]),
                "Interests__c": ";".join(sorted(rng.sample(INTERESTS, self.between(0, 4)))) or None,
                "Lifetime_Value__c": round(rng.uniform(0, 25000), 2) if self._random() < 0.7 else None,
                "Loyalty_Points__c": float(self.between(0, 50000)) if self._random() < 0.5 else None,
                "Discount_Rate__c": self.pick([None, 0.0, 5.0, 12.5, 20.0]),
                "Customer_Since__c": (
                    self.base.date() - dt.timedelta(days=self.between(30, 3650))
                ).isoformat()
                if self._random() < 0.6
                else None,
                "Last_Purchase_At__c": sf_datetime(self.base - dt.timedelta(minutes=self.between(60, 500000)))
                if self._random() < 0.5
                else None,
                "Preferred_Language__c": self.pick(LANGUAGES + [None]),
                "NPS_Score__c": self.between(0, 11) if self._random() < 0.4 else None,
                "External_Ref__c": f"EXT-{self.seed}-{i:08d}" if self._random() < 0.5 else None,
                "Support_Notes__c": self.pick(pools.long_text) if self._random() < 0.005 else None,
                **self._address("Mailing"),
            }
            self._write(t, sf_id, data, deleted=i % 97 == 13)

    def leads(self) -> None:
        t = self.schema.get("Lead")
        count = max(1, self.n // 2)
        ids = self._ids(t, count)
        self.ids["Lead"] = ids
        rng, pools = self.rng, self.pools  # rng: sample and uniform only
        for sf_id in ids:
            converted = self._random() < 0.15
            contact_index = self.below(len(self.ids["Contact"]))
            if converted or self._random() < 0.3:  # shares a person (and email) with a contact
                first, last, email = self.contact_info[contact_index]
            else:
                first, last = self.pick(pools.first), self.pick(pools.last)
                email = self._email(first, last, self.pick(["gmail.com", "hotmail.com", "example.org"]))
            data = {
                "FirstName": first,
                "LastName": last,
                "Email": email,
                "Company": self.pick(pools.company),
                "Title": self.pick(pools.title) if self._random() < 0.6 else None,
                "Phone": self._phone(),
                "LeadSource": self.pick(LEAD_SOURCES),
                "Industry": self.pick(INDUSTRIES + [None]),
                "Rating": self.pick(["Hot", "Warm", "Cold", None]),
                "OwnerId": self._user(),
                "Status": self.pick(LEAD_STATUSES[:2] + [LEAD_STATUSES[3]]),
                "HasOptedOutOfEmail": self._random() < 0.08,
                "DoNotCall": self._random() < 0.04,
                "SMS_Opt_In__c": self._random() < 0.2,
                "Tier__c": self.pick(TIERS + [None]),
                "Interests__c": ";".join(sorted(rng.sample(INTERESTS, self.between(0, 3)))) or None,
                "IsUnreadByOwner": self._random() < 0.3,
                **self._address(""),
            }
            if converted:
                data.update(
                    IsConverted=True,
                    Status="Closed - Converted",
                    ConvertedContactId=self.ids["Contact"][contact_index],
                    ConvertedAccountId=self.contact_accounts[contact_index],
                    ConvertedDate=(self.base.date() - dt.timedelta(days=self.between(1, 20))).isoformat(),
                )
            else:
                data["IsConverted"] = False
            self._write(t, sf_id, data, deleted=self._random() < 0.01)

    def opportunities(self) -> None:
        t = self.schema.get("Opportunity")
        role_t = self.schema.get("OpportunityContactRole")
        count = max(len(STAGES), self.n // 5)
        ids = self._ids(t, count)
        self.ids["Opportunity"] = ids
        roles: list[tuple[str, str, bool]] = []
        for i, sf_id in enumerate(ids):
            stage = STAGES[i % len(STAGES)][0]  # every stage, evenly
            contact_index = self.below(len(self.ids["Contact"]))
            account = self.contact_accounts[contact_index] or self.pick(self.ids["Account"])
            data = {
                "AccountId": account,
                "Name": f"{self.pools.company[i % len(self.pools.company)]} - "
                f"{self.pick(['Renewal', 'Expansion', 'New Business', 'Pilot'])}",
                "StageName": stage,
                "Amount": float(self.between(1, 400) * 250),
                "CloseDate": (self.base.date() + dt.timedelta(days=self.between(-120, 180))).isoformat(),
                "Type": self.pick(["New Customer", "Existing Customer - Upgrade", None]),
                "LeadSource": self.pick(LEAD_SOURCES),
                "OwnerId": self._user(),
                "IsPrivate": False,
                "ContactId": self.ids["Contact"][contact_index],
            }
            self._write(t, sf_id, data, deleted=self._random() < 0.01)
            roles.append((sf_id, self.ids["Contact"][contact_index], True))
            if self._random() < 0.25:
                roles.append((sf_id, self.pick(self.ids["Contact"]), False))
        role_ids = self._ids(role_t, len(roles))
        for sf_id, (opp, contact, primary) in zip(role_ids, roles, strict=True):
            self._write(
                role_t,
                sf_id,
                {"OpportunityId": opp, "ContactId": contact, "IsPrimary": primary, "Role": self.pick(ROLES)},
            )

    def campaigns(self) -> None:
        t = self.schema.get("Campaign")
        member_t = self.schema.get("CampaignMember")
        count = max(3, self.n // 500)
        ids = self._ids(t, count)
        self.ids["Campaign"] = ids
        for i, sf_id in enumerate(ids):
            start = self.base.date() - dt.timedelta(days=self.between(0, 300))
            self._write(
                t,
                sf_id,
                {
                    "Name": f"{self.pick(['Spring', 'Summer', 'Autumn', 'Winter'])} "
                    f"{self.pick(CAMPAIGN_TYPES)} {2024 + i % 3} #{i + 1}",
                    "Type": self.pick(CAMPAIGN_TYPES),
                    "Status": self.pick(CAMPAIGN_STATUSES),
                    "StartDate": start.isoformat(),
                    "EndDate": (start + dt.timedelta(days=self.between(7, 90))).isoformat(),
                    "IsActive": self._random() < 0.6,
                    "OwnerId": self._user(),
                    "BudgetedCost": float(self.between(1, 50) * 1000),
                },
            )
        count = max(2, self.n // 2)
        member_ids = self._ids(member_t, count)
        seen = set()
        for sf_id in member_ids:
            campaign = self.pick(ids)
            if self._random() < 0.6:
                index = self.below(len(self.ids["Contact"]))
                person_id, person = self.ids["Contact"][index], self.contact_info[index]
                link = {"ContactId": person_id}
            else:
                index = self.below(len(self.ids["Lead"]))
                person_id, person = self.ids["Lead"][index], (None, None, None)
                link = {"LeadId": person_id}
            if (campaign, person_id) in seen:
                continue
            seen.add((campaign, person_id))
            first, last, email = person
            data = {
                "CampaignId": campaign,
                **link,
                "Status": self.pick(CAMPAIGN_MEMBER_STATUSES),
                "FirstName": first,
                "LastName": last,
                "Email": email,
            }
            self._write(member_t, sf_id, data)

    def tasks(self) -> None:
        t = self.schema.get("Task")
        count = max(2, self.n // 2)
        ids = self._ids(t, count)
        for sf_id in ids:
            who = self.pick(self.ids["Contact"]) if self._random() < 0.7 else self.pick(self.ids["Lead"])
            what = self.pick(self.ids["Opportunity"]) if self._random() < 0.3 else None
            status = self.pick(TASK_STATUSES)
            data = {
                "WhoId": who,
                "WhatId": what,
                "Subject": self.pick(TASK_SUBJECTS),
                "Status": status,
                "Priority": self.pick(TASK_PRIORITIES),
                "OwnerId": self._user(),
                "ActivityDate": (self.base.date() + dt.timedelta(days=self.between(-30, 30))).isoformat(),
                "Description": self.pick(self.pools.sentence) if self._random() < 0.3 else None,
                "TaskSubtype": self.pick(["Task", "Email", "Call"]),
                "IsArchived": False,
            }
            if status == "Completed":
                data["CompletedDateTime"] = sf_datetime(self.base - dt.timedelta(hours=self.between(1, 500)))
            self._write(t, sf_id, data, deleted=self._random() < 0.01)

    def custom(self) -> None:
        pools = self.pools
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
                    "Industry__c": self.pick(
                        ["Software", "Retail", "Finance", "Healthcare", "Education", "Manufacturing"]
                    ),
                    "Employees__c": self.between(1, 20000),
                    "OwnerId": self._user(),
                    "Annual_Revenue__c": float(self.between(1, 1000) * 10000),
                },
            )
        subs = self.schema.get("Subscription__c")
        for i, sf_id in enumerate(self._ids(subs, max(2, self.n // 4))):
            self._write(
                subs,
                sf_id,
                {
                    "Name": f"SUB-{i + 1:07d}",
                    "Contact__c": self.pick(self.ids["Contact"]),
                    "Plan__c": self.pick(["Free", "Starter", "Pro", "Enterprise"]),
                    "Status__c": self.pick(["Active", "Paused", "Cancelled"]),
                    "Started_On__c": (self.base.date() - dt.timedelta(days=self.between(1, 900))).isoformat(),
                    "OwnerId": self._user(),
                    "Monthly_Amount__c": self.pick([0.0, 9.0, 29.0, 99.0, 499.0]),
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
                    "Contact__c": self.pick(self.ids["Contact"]),
                    "Opened_On__c": (self.base.date() - dt.timedelta(days=self.between(1, 700))).isoformat(),
                    "Status__c": self.pick(["Open", "Under Review", "Closed"]),
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
                    "Principal__c": float(self.between(1, 200) * 1000),
                    "Interest_Rate__c": self.pick([2.5, 3.9, 4.75, 6.1]),
                    "Status__c": self.pick(["Requested", "Active", "Repaid", "Defaulted"]),
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
                    "Amount__c": float(self.between(100, 900)),
                    "Paid__c": due < self.base.date() and self._random() < 0.8,
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
                    "Name": f"{self.pick(pools.catch)[:60]}",
                    "Code__c": f"C{i + 101}",
                    "Starts_On__c": (self.base.date() + dt.timedelta(days=14 * i)).isoformat(),
                    "Level__c": self.pick(["Beginner", "Intermediate", "Advanced"]),
                    "OwnerId": self._user(),
                },
            )
        pairs = set()
        wanted = max(2, self.n // 4)
        while len(pairs) < min(wanted, len(self.ids["Contact"]) * len(courses)):
            pairs.add((self.pick(self.ids["Contact"]), self.pick(courses)))
        first = allocate_numbers(enrol_t.key_prefix, len(pairs))
        for k, (contact, course) in enumerate(sorted(pairs)):
            self._write(
                enrol_t,
                make_id(enrol_t.key_prefix, first + k),
                {
                    "Contact__c": contact,
                    "Course__c": course,
                    "Status__c": self.pick(["Enrolled", "Completed", "Withdrawn"]),
                    "Enrolled_On__c": (
                        self.base.date() - dt.timedelta(days=self.between(1, 200))
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
    app, _ = ConnectedApp.objects.using(db()).get_or_create(
        client_id=DEFAULT_APP["client_id"], defaults={**DEFAULT_APP, "callback_urls": default_callbacks()}
    )
    if ":*/" in app.callback_urls:
        # Registered before callbacks were matched exactly: a wildcard port let any local process take codes.
        app.callback_urls = default_callbacks()
        app.save(using=db(), update_fields=["callback_urls"])
    return app


def org_reset() -> None:
    """Delete every record and what hangs off them; connected apps stay, grants and tokens go."""
    with transaction.atomic(using=db()):
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
            model.objects.using(db()).all().delete()
        CascadeDelete.objects.using(db()).all().delete()
        Record.objects.using(db()).all().delete()


def org_is_empty() -> bool:
    return not Record.objects.using(db()).exists()


@contextmanager
def _indexes_built_after(enabled: bool):
    if not enabled:
        yield
        return
    indexes = Record._meta.indexes
    connection = connections[db()]
    with connection.schema_editor(atomic=False) as editor:
        for index in indexes:
            editor.remove_index(Record, index)
    try:
        yield
    finally:
        with connection.schema_editor(atomic=False) as editor:
            for index in indexes:
                editor.add_index(Record, index)


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
    # Into an empty table, building the secondary indexes once at the end beats updating them per row.
    with _indexes_built_after(contacts >= 20_000):
        for label, step in seeder.steps():
            step_started = time.monotonic()
            step()
            seeder.writer.flush()
            if progress:
                progress(f"{label}: {time.monotonic() - step_started:.1f}s")
        CascadeDelete.objects.using(db()).bulk_create(
            [CascadeDelete(sf_id=sf_id, root_id=root) for sf_id, root in seeder.cascade_links],
            batch_size=1000,
        )
    if connections[db()].vendor == "postgresql":
        with connections[db()].cursor() as cursor:
            cursor.execute(f"ANALYZE {Record._meta.db_table}")
    elif connections[db()].vendor == "sqlite":
        with connections[db()].cursor() as cursor:
            cursor.execute("ANALYZE")
    return SeedReport(counts=seeder.writer.counts, seconds=time.monotonic() - started)
