"""Source precedence in the merge engine: which record of a source may set which value, under every strategy.

A Contact row has precedence 0 and a Lead row 1 (what the Salesforce sync sends); rows without a precedence
behave as any other writer. Each case is applied in both orders where the rule says the order must not matter.
"""

from __future__ import annotations

import pytest

from cdp.merge import (
    FieldMode,
    IdentityKey,
    MergeStrategy,
    OrganizationRow,
    PersonRow,
    merge_organizations,
    merge_people,
)
from cdp.models import Identity, Organization, PermissionChange, Person

pytestmark = pytest.mark.django_db

SRC = "salesforce:1"
EMAIL = "ana@example.com"


def key(obj: str, n: int) -> IdentityKey:
    return IdentityKey(SRC, obj, f"{obj[:3]}{n}")


def contact_row(**fields) -> PersonRow:
    return PersonRow(key("Contact", 1), {"str::email": EMAIL, **fields}, precedence=0)


def lead_row(**fields) -> PersonRow:
    return PersonRow(key("Lead", 1), {"str::email": EMAIL, **fields}, precedence=1)


def merge(workspace, rows, **kw):
    return merge_people(workspace=workspace, rows=rows, source=SRC, **kw)


def the_person(workspace) -> Person:
    return Person.objects.get(workspace=workspace, email_key=EMAIL)


@pytest.mark.parametrize("strategy", list(MergeStrategy))
@pytest.mark.parametrize("contact_first", [True, False])
def test_the_contact_wins_over_the_lead_in_either_order_under_every_strategy(
    workspace, strategy, contact_first
):
    contact = contact_row(**{"str::first": "Ana", "phn::phone": None, "geo::city": "Oslo"})
    lead = lead_row(**{"str::first": "Anna", "phn::phone": "+4712345678", "geo::city": "Bergen"})
    for row in (contact, lead) if contact_first else (lead, contact):
        merge(workspace, [row], strategy=strategy)

    person = the_person(workspace)
    # The Contact's values win; its empty phone is filled from the Lead and never cleared by the Contact.
    assert (person.first_name, person.city, person.phone) == ("Ana", "Oslo", "+4712345678")
    assert person.field_sources == {SRC: {"str::email": 0, "str::first": 0, "geo::city": 0, "phn::phone": 1}}
    # Every strategy records both records' identities, so later changes and deletes find the person.
    assert set(Identity.objects.filter(person=person).values_list("object", flat=True)) == {"Contact", "Lead"}


@pytest.mark.parametrize("strategy", list(MergeStrategy))
def test_a_lower_record_never_overwrites_or_clears_what_a_higher_one_wrote(workspace, strategy):
    merge(workspace, [contact_row(**{"str::first": "Ana", "geo::city": "Oslo"})], strategy=strategy)
    merge(workspace, [lead_row(**{"str::first": "Anna", "geo::city": None})], strategy=strategy)
    merge(workspace, [lead_row(**{"str::first": None, "geo::city": "Bergen"})], strategy=strategy)

    person = the_person(workspace)
    assert (person.first_name, person.city) == ("Ana", "Oslo")


def test_strategy_still_governs_a_records_own_updates(workspace):
    merge(workspace, [contact_row(**{"geo::city": "Oslo"})])
    merge(workspace, [contact_row(**{"geo::city": "Bergen"})], strategy=MergeStrategy.APPEND_ONLY)
    assert the_person(workspace).city == "Oslo"  # append-only never changes a filled value
    merge(workspace, [contact_row(**{"geo::city": "Bergen"})], strategy=MergeStrategy.IGNORE)
    assert the_person(workspace).city == "Oslo"  # ignore leaves the existing person untouched
    merge(workspace, [contact_row(**{"geo::city": None})], strategy=MergeStrategy.OVERWRITE)
    person = the_person(workspace)
    assert person.city == "" and "geo::city" not in person.field_sources[SRC]  # cleared: held by nobody


def test_values_from_other_writers_follow_the_strategy(workspace):
    merge_people(
        workspace=workspace, rows=[PersonRow(None, {"str::email": EMAIL, "geo::city": "Paris"})], source="csv"
    )

    merge(workspace, [lead_row(**{"geo::city": "Bergen"})], strategy=MergeStrategy.APPEND_ONLY)
    assert the_person(workspace).city == "Paris"
    merge(workspace, [lead_row(**{"geo::city": "Bergen"})], strategy=MergeStrategy.OVERWRITE)
    person = the_person(workspace)
    assert person.city == "Bergen" and person.field_sources == {SRC: {"str::email": 1, "geo::city": 1}}


def test_field_modes_override_the_strategy_for_their_fields(workspace):
    merge(workspace, [contact_row(**{"geo::city": "Oslo", "str::first": "Ana"})])

    merge(
        workspace,
        [contact_row(**{"geo::city": "Bergen", "str::first": "Anna"})],
        strategy=MergeStrategy.IGNORE,
        field_modes={"geo::city": FieldMode.OVERWRITE},
    )
    person = the_person(workspace)
    assert (person.city, person.first_name) == ("Bergen", "Ana")

    merge(
        workspace,
        [contact_row(**{"geo::city": "Trondheim", "str::last": "Silva"})],
        field_modes={"geo::city": FieldMode.FILL, "str::last": FieldMode.FILL},
    )
    person = the_person(workspace)
    assert (person.city, person.last_name) == ("Bergen", "Silva")


def test_ignore_still_applies_an_unsubscribe_and_records_the_identity(workspace):
    merge_people(workspace=workspace, rows=[PersonRow(None, {"str::email": EMAIL})], source="csv")

    [result] = merge(workspace, [lead_row(**{"bol::p": False})], strategy=MergeStrategy.IGNORE)

    person = the_person(workspace)
    assert result.status == "merged" and person.email_permission is False
    assert PermissionChange.objects.filter(person=person, new_value=False).count() == 1
    assert Identity.objects.get(object="Lead").person_id == person.pk
    # ... but never a re-subscribe.
    merge(workspace, [lead_row(**{"bol::p": True})], strategy=MergeStrategy.IGNORE)
    assert the_person(workspace).email_permission is False


def test_ignore_records_the_identity_of_a_person_it_leaves_untouched(workspace):
    merge_people(
        workspace=workspace, rows=[PersonRow(None, {"str::email": EMAIL, "geo::city": "Paris"})], source="csv"
    )

    [result] = merge(workspace, [contact_row(**{"geo::city": "Oslo"})], strategy=MergeStrategy.IGNORE)

    assert result.status == "ignored" and the_person(workspace).city == "Paris"
    assert Identity.objects.get(object="Contact").person_id == result.record_id


def test_a_live_record_restores_an_archived_person_under_every_strategy(workspace):
    merge(workspace, [contact_row()])
    Person.objects.update(archived_at="2026-01-01T00:00:00Z")

    merge(workspace, [lead_row()], strategy=MergeStrategy.IGNORE)

    assert the_person(workspace).archived_at is None


def test_the_organization_link_follows_precedence(workspace):
    merge_organizations(
        workspace=workspace,
        rows=[
            OrganizationRow(key("Account", 1), {"str:o:name": "Acme"}, precedence=0),
            OrganizationRow(key("LeadCompany", 1), {"str:o:name": "Globex"}, precedence=1),
        ],
        source=SRC,
        distinct_records=True,
    )
    acme = Organization.objects.get(name="Acme")
    contact = PersonRow(key("Contact", 1), {"str::email": EMAIL}, key("Account", 1), precedence=0)
    lead = PersonRow(key("Lead", 1), {"str::email": EMAIL}, key("LeadCompany", 1), precedence=1)

    merge(workspace, [lead, contact])
    merge(workspace, [lead])

    assert the_person(workspace).organization_id == acme.pk


def test_two_accounts_with_one_name_stay_two_organizations(workspace):
    rows = [
        OrganizationRow(key("Account", 1), {"str:o:name": "Acme", "str:o:industry": "Retail"}, precedence=0),
        OrganizationRow(key("Account", 2), {"str:o:name": "ACME", "str:o:industry": "Energy"}, precedence=0),
    ]

    results = merge_organizations(workspace=workspace, rows=rows, source=SRC, distinct_records=True)

    assert [r.status for r in results] == ["created", "created"]
    assert sorted(Organization.objects.values_list("industry", flat=True)) == ["Energy", "Retail"]
    # A lead's company joins by name only when exactly one organization has it; here nothing is created.
    [company] = merge_organizations(
        workspace=workspace,
        rows=[OrganizationRow(key("LeadCompany", 9), {"str:o:name": "acme"}, precedence=1)],
        source=SRC,
        distinct_records=True,
        create_ambiguous=False,
    )
    assert company.status == "ignored" and "2 organizations" in company.reason
    assert Organization.objects.count() == 2


def test_a_lead_company_joins_the_one_account_of_its_name_and_only_fills_blanks(workspace):
    merge_organizations(
        workspace=workspace,
        rows=[
            OrganizationRow(key("Account", 1), {"str:o:name": "Acme", "str:o:website": None}, precedence=0)
        ],
        source=SRC,
        distinct_records=True,
    )
    [company] = merge_organizations(
        workspace=workspace,
        rows=[
            OrganizationRow(
                key("LeadCompany", 1),
                {"str:o:name": "ACME", "str:o:website": "https://acme.example", "str:o:industry": None},
                precedence=1,
            )
        ],
        source=SRC,
        distinct_records=True,
        create_ambiguous=False,
    )
    acme = Organization.objects.get()
    assert company.status == "merged" and company.record_id == acme.pk
    assert (acme.name, acme.website) == ("Acme", "https://acme.example")


def test_an_account_adopts_the_organization_a_lead_company_created(workspace):
    merge_organizations(
        workspace=workspace,
        rows=[
            OrganizationRow(
                key("LeadCompany", 1), {"str:o:name": "Acme", "str:o:industry": "Retail"}, precedence=1
            )
        ],
        source=SRC,
        distinct_records=True,
        create_ambiguous=False,
    )
    merge_organizations(
        workspace=workspace,
        rows=[
            OrganizationRow(
                key("Account", 1), {"str:o:name": "Acme", "str:o:industry": "Energy"}, precedence=0
            )
        ],
        source=SRC,
        distinct_records=True,
    )
    acme = Organization.objects.get()
    assert acme.industry == "Energy"
    assert set(Identity.objects.values_list("object", flat=True)) == {"LeadCompany", "Account"}


def test_a_bad_precedence_makes_the_row_invalid(workspace):
    [result] = merge(workspace, [PersonRow(None, {"str::email": EMAIL}, precedence=-1)])
    assert result.status == "invalid" and "precedence" in result.reason
    assert not Person.objects.exists()
