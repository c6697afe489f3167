"""Person Accounts (`sandbox_seed --person-accounts N`): an org with the feature on, and some person accounts.

Turning the feature on adds to Account's describe what a real org's carries: `IsPersonAccount`,
`PersonContactId`, the person's name fields (`FirstName`, `LastName`, `Salutation`), the `Person…` fields
and the person's custom fields (`__pc`). A person account's `Name` is its person's name. The hidden Contact
Salesforce keeps behind each person account is not created here (Inflow reads the person from the Account).
"""

from __future__ import annotations

import random

import orjson

from ..ids import make_id
from ..models import Record, SchemaChange
from ..routers import db
from ..schema import build_schema
from ..schema.fields import build_field
from ..wire import now as wire_now
from .records import allocate_numbers, derive, dumps

PERSON_FIELDS = (
    build_field("boolean_system", "IsPersonAccount", "Is Person Account", createable=False, updateable=False),
    build_field(
        "reference",
        "PersonContactId",
        "Person Contact ID",
        referenceTo=["Contact"],
        relationshipName="PersonContact",
        createable=False,
        updateable=False,
        nillable=True,
        defaultedOnCreate=False,
    ),
    build_field("string", "FirstName", "First Name", length=40),
    build_field("string", "LastName", "Last Name", length=80),
    build_field("string", "Salutation", "Salutation", length=40),
    build_field("email", "PersonEmail", "Email"),
    build_field("phone", "PersonMobilePhone", "Mobile"),
    build_field("phone", "PersonHomePhone", "Home Phone"),
    build_field("string", "PersonTitle", "Title", length=80),
    build_field("string", "PersonMailingCity", "Mailing City", length=40),
    build_field("string", "PersonMailingState", "Mailing State/Province", length=80),
    build_field("string", "PersonMailingPostalCode", "Mailing Zip/Postal Code", length=20),
    build_field("string", "PersonMailingCountry", "Mailing Country", length=80),
    build_field("date", "PersonBirthdate", "Birthdate"),
    build_field("boolean", "PersonHasOptedOutOfEmail", "Email Opt Out", defaultValue=False),
    build_field("boolean", "PersonDoNotCall", "Do Not Call", defaultValue=False),
    build_field("string", "Loyalty_Number__pc", "Loyalty Number", length=20, custom=True),
)

_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Radia", "Donald")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie", "Perlman")


def _schema_changes() -> tuple:
    return tuple(SchemaChange.objects.using(db()).order_by("id").values_list("sobject", "action", "payload"))


def person_accounts_enabled() -> bool:
    account = build_schema(_schema_changes()).get("Account")
    return account is not None and account.field("IsPersonAccount") is not None


def person_accounts_enable() -> bool:
    """Adds the person fields to Account's describe (once); returns whether it changed anything."""
    if person_accounts_enabled():
        return False
    SchemaChange.objects.using(db()).bulk_create(
        [
            SchemaChange(sobject="Account", action=SchemaChange.Action.ADD, payload=orjson.dumps(f).decode())
            for f in PERSON_FIELDS
        ]
    )
    return True


def person_accounts_create(*, count: int, seed: int = 1, user_id: str = "") -> list[str]:
    """Turns the feature on and adds `count` person accounts; returns their ids."""
    person_accounts_enable()
    t = build_schema(_schema_changes()).get("Account")
    owner = user_id or (
        Record.objects.using(db())
        .filter(sobject="User")
        .order_by("sf_id")
        .values_list("sf_id", flat=True)
        .first()
        or ""
    )
    rng = random.Random(seed)
    first_number = allocate_numbers(t.key_prefix, count)
    moment = wire_now()
    rows = []
    for i in range(count):
        first, last = rng.choice(_FIRST), f"{rng.choice(_LAST)}-{seed}-{i}"
        data = {
            "IsPersonAccount": True,
            "FirstName": first,
            "LastName": last,
            "PersonEmail": f"{first.lower()}.{last.lower()}@person.example",
            "PersonMobilePhone": f"+1 415 555 {1000 + i:04d}",
            "PersonMailingCity": rng.choice(("Lisbon", "Oslo", "Austin")),
            "PersonHasOptedOutOfEmail": i % 4 == 3,
            "Loyalty_Number__pc": f"L-{seed}-{i:05d}",
            "Type": "Customer",
        }
        if owner:
            data["OwnerId"] = data["CreatedById"] = data["LastModifiedById"] = owner
        derive(t, data)
        rows.append(
            Record(
                sobject="Account",
                sf_id=make_id(t.key_prefix, first_number + i),
                created_date=moment,
                last_modified_date=moment,
                system_modstamp=moment,
                data=dumps(data),
            )
        )
    Record.objects.using(db()).bulk_create(rows)
    return [r.sf_id for r in rows]
