"""Selective sync and activity retention against the sandbox org process over real HTTP.

A criteria change archives the records that stopped matching (a person another matching record still
describes stays live) and brings in those that now match; the `COUNT()` preview equals the org's own count;
bad criteria are refused by name; retention prunes what it says and stores only what was chosen.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cdp.models import Activity, Identity, Organization, Person
from integrations import sync_settings
from integrations.models import SourceRecord, SyncedObject, SyncRun
from integrations.sync_settings import FilterChoice
from tests.integrations.sync.conftest import connect, run_inline, select_objects
from tests.integrations.sync.test_sync_sandbox import rest
from tests.sandbox_org import _launch

pytestmark = pytest.mark.django_db


def equals(field, *values):
    return {"field": field, "operator": "equals", "values": list(values)}


def live_people_of(name: str) -> dict[str, Person]:
    """sf id -> the person its identity points at (archived or not)."""
    return {
        i.external_id: i.person
        for i in Identity.objects.filter(object=name, person__isnull=False).select_related("person")
    }


def other_live_sources(person: Person, but: tuple[str, str]) -> list[tuple[str, str]]:
    keys = Identity.objects.filter(person=person).values_list("object", "external_id")
    return [
        (obj, ext)
        for obj, ext in keys
        if (obj, ext) != but
        and SourceRecord.objects.filter(object_name=obj, sf_id=ext, deleted=False).exists()
    ]


@pytest.fixture(scope="module")
def _read_only_org(tmp_path_factory, _sandbox_templates):
    """One org for this module's tests that only read it (starting an org is the costly part)."""
    org = _launch(tmp_path_factory, _sandbox_templates, contacts=80, seed=3, https=False)
    yield org
    org.stop()


def _connected(org, workspace):
    connection = connect(workspace, org)
    select_objects(connection, ("Account", "Contact", "Lead"))
    return org, connection


@pytest.fixture
def filtered_org(_read_only_org, sf_settings, workspace):
    """The shared org, connected to this test's workspace. Tests that change the org's data use
    make_sandbox_org instead."""
    yield _connected(_read_only_org, workspace)
    _read_only_org.reset_faults()


def test_a_criteria_change_archives_what_stopped_matching_and_brings_in_what_now_matches(
    make_sandbox_org, sf_settings, workspace
):
    org, connection = _connected(make_sandbox_org(contacts=80, seed=3), workspace)  # it edits Contacts
    counts = sync_settings.selective_sync_set(
        connection=connection,
        choices=[FilterChoice("Contact", "matching", (equals("LeadSource", "Web"),), "archive")],
    )
    contacts = org.records("Contact")
    web = {c["Id"] for c in contacts if c.get("LeadSource") == "Web"}
    phone = {c["Id"] for c in contacts if c.get("LeadSource") == "Phone Inquiry"}
    assert counts == {"Contact": len(web)} and web and phone

    run = run_inline(connection)
    assert (run.state, run.state_reason) == (SyncRun.State.SUCCEEDED, "")
    synced = set(
        SourceRecord.objects.filter(object_name="Contact", deleted=False).values_list("sf_id", flat=True)
    )
    assert synced == web  # the first sync reads only the matching Contacts
    assert all(p.archived_at is None for i, p in live_people_of("Contact").items() if i in web)

    # The user changes the criteria: Web contacts stop matching, Phone Inquiry ones now match.
    sync_settings.selective_sync_set(
        connection=connection,
        choices=[FilterChoice("Contact", "matching", (equals("LeadSource", "Phone Inquiry"),), "archive")],
    )
    assert SyncedObject.objects.get(connection=connection, api_name="Contact").filter_changed_at is not None
    run = run_inline(connection)
    assert (run.state, run.state_reason) == (SyncRun.State.SUCCEEDED, "")
    assert SyncedObject.objects.get(connection=connection, api_name="Contact").filter_changed_at is None
    people = live_people_of("Contact")
    assert phone <= set(people)
    assert all(people[i].archived_at is None for i in phone)
    archived = set()
    for sf_id in web - phone:
        person = people[sf_id]
        if other_live_sources(person, ("Contact", sf_id)):
            # Source precedence: the person's Lead (or another Contact) still matches, it stays live.
            assert person.archived_at is None, f"person of Contact {sf_id} has a live Lead, yet archived"
        else:
            assert person.archived_at is not None, f"person of Contact {sf_id} stopped matching, still live"
            archived.add(person.pk)
    assert run.archived == len(archived) > 0
    assert (
        set(SourceRecord.objects.filter(object_name="Contact", deleted=False).values_list("sf_id", flat=True))
        == phone
    )

    # Incremental: a matching Contact changes so it stops matching; a non-matching one starts matching.
    leaving = sorted(phone)[0]
    arriving = next(c["Id"] for c in contacts if c.get("LeadSource") == "Other")
    rest(org, "PATCH", f"sobjects/Contact/{leaving}", {"LeadSource": "Partner Referral"})
    rest(org, "PATCH", f"sobjects/Contact/{arriving}", {"LeadSource": "Phone Inquiry"})
    run = run_inline(connection)
    assert (run.state, run.state_reason) == (SyncRun.State.SUCCEEDED, "")
    people = live_people_of("Contact")
    assert people[arriving].archived_at is None
    if not other_live_sources(people[leaving], ("Contact", leaving)):
        assert people[leaving].archived_at is not None
    # A Contact that matches again is restored with its values.
    rest(org, "PATCH", f"sobjects/Contact/{leaving}", {"LeadSource": "Phone Inquiry"})
    run_inline(connection)
    assert live_people_of("Contact")[leaving].archived_at is None


def test_a_person_whose_contact_stops_matching_but_whose_lead_matches_stays_live(filtered_org, workspace):
    org, connection = filtered_org
    run_inline(connection)
    converted = [
        lead for lead in org.records("Lead") if lead.get("IsConverted") and lead.get("ConvertedContactId")
    ]
    assert converted, "the seeded org converts some leads"
    lead = converted[0]
    contact_id = lead["ConvertedContactId"]
    person = live_people_of("Contact")[contact_id]
    assert live_people_of("Lead")[lead["Id"]].pk == person.pk
    # Only that Contact stops matching (every other Contact still does); every Lead still syncs.
    sync_settings.selective_sync_set(
        connection=connection,
        choices=[
            FilterChoice(
                "Contact", "matching", ({"field": "Id", "operator": "not_equals", "values": [contact_id]},)
            )
        ],
    )
    run_inline(connection)
    person.refresh_from_db()
    assert person.archived_at is None
    assert SourceRecord.objects.get(object_name="Contact", sf_id=contact_id).deleted
    # Now the Lead stops too (sync no Leads): nothing describes the person any more.
    sync_settings.selective_sync_set(connection=connection, choices=[FilterChoice("Lead", "none")])
    run_inline(connection)
    person.refresh_from_db()
    assert person.archived_at is not None


def test_keep_leaves_records_that_stop_matching_in_inflow(filtered_org, workspace):
    org, connection = filtered_org
    run_inline(connection)
    before = Organization.objects.filter(archived_at__isnull=True).count()
    industry = next(a["Industry"] for a in org.records("Account") if a.get("Industry"))
    matching = {a["Id"] for a in org.records("Account") if a.get("Industry") == industry}
    counts = sync_settings.selective_sync_set(
        connection=connection,
        choices=[FilterChoice("Account", "matching", (equals("Industry", industry),), "keep")],
    )
    assert counts == {"Account": len(matching)}
    run = run_inline(connection)
    assert run.archived == 0
    assert Organization.objects.filter(archived_at__isnull=True).count() == before
    # ... and archive does archive them.
    sync_settings.selective_sync_set(
        connection=connection,
        choices=[FilterChoice("Account", "matching", (equals("Industry", industry),), "archive")],
    )
    SyncedObject.objects.filter(api_name="Account").update(filter_changed_at=timezone.now())
    SourceRecord.objects.filter(object_name="Account").update(deleted=False)  # as if never settled
    run_inline(connection)
    live = {
        i.external_id
        for i in Identity.objects.filter(object="Account", organization__archived_at__isnull=True)
    }
    assert live == matching


def test_preview_counts_lookups_and_escaped_values_like_the_org(filtered_org, workspace):
    org, connection = filtered_org
    accounts = {a["Id"]: a for a in org.records("Account")}
    contacts = org.records("Contact")
    industry = next(a["Industry"] for a in accounts.values() if a.get("Industry"))
    expected = sum(
        1
        for c in contacts
        if c.get("AccountId") in accounts
        and accounts[c["AccountId"]].get("Industry") == industry
        and (c.get("LeadSource") in ("Web", "Other"))
    )
    criteria = (
        equals("Account.Industry", industry),
        equals("LeadSource", "Web", "Other"),  # several values: OR
    )
    counts = sync_settings.selective_sync_preview(
        connection=connection, choices=[FilterChoice("Contact", "matching", criteria)]
    )
    assert counts == {"Contact": expected}
    # Quotes, backslashes and LIKE wildcards in user text are values, never SOQL.
    title = {"field": "Title", "operator": "contains", "values": ["O'Brien\\ %_' OR Id != null"]}
    assert sync_settings.selective_sync_preview(
        connection=connection, choices=[FilterChoice("Contact", "matching", (title,))]
    ) == {"Contact": 0}
    starts = {"field": "LastName", "operator": "starts_with", "values": [contacts[0]["LastName"][:3]]}
    want = sum(
        1
        for c in contacts
        if (c.get("LastName") or "").lower().startswith(contacts[0]["LastName"][:3].lower())
    )
    assert sync_settings.selective_sync_preview(
        connection=connection, choices=[FilterChoice("Contact", "matching", (starts,))]
    ) == {"Contact": want}
    assert not SyncedObject.objects.filter(sync_filter="matching").exists()  # a preview stores nothing


@pytest.mark.parametrize(
    "condition, message",
    [
        (equals("Shoe_Size__c", "42"), "Contact has no field “Shoe_Size__c”"),
        (equals("Description", "vip"), "Salesforce cannot filter on “Contact Description”"),
        (
            {"field": "Birthdate", "operator": "at_least", "values": ["last year"]},
            "“last year” is not a date such as 2026-01-31",
        ),
        (
            {"field": "HasOptedOutOfEmail", "operator": "equals", "values": ["maybe"]},
            "“maybe” is not true or false",
        ),
        (
            {"field": "Account.NumberOfEmployees", "operator": "at_least", "values": ["ten"]},
            "“ten” is not a number",
        ),
        ({"field": "LeadSource", "operator": "contains", "values": ["W"]}, "can be compared with"),
        ({"field": "LeadSource", "operator": "equals", "values": [" "]}, "give a value"),
    ],
)
def test_bad_criteria_are_refused_by_name_and_nothing_is_saved(filtered_org, condition, message):
    _org, connection = filtered_org
    with pytest.raises(ValidationError) as error:
        sync_settings.selective_sync_set(
            connection=connection, choices=[FilterChoice("Contact", "matching", (condition,))]
        )
    text = " ".join(error.value.messages)
    assert message in text, text
    assert SyncedObject.objects.get(api_name="Contact").sync_filter == "all"


def test_the_sandbox_refuses_a_filter_on_a_long_text_field_as_salesforce_does(filtered_org):
    org, _connection = filtered_org
    token = org.token()
    response = org.session().get(
        f"{org.url}/services/data/v62.0/query",
        params={"q": "SELECT Id FROM Contact WHERE Description = 'x'"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "can not be filtered" in response.json()[0]["message"]


def test_criteria_that_match_nothing_are_saved_and_counted_zero(filtered_org):
    _org, connection = filtered_org
    counts = sync_settings.selective_sync_set(
        connection=connection,
        choices=[FilterChoice("Lead", "matching", (equals("Email", "nobody@nowhere.invalid"),))],
    )
    assert counts == {"Lead": 0}
    assert SyncedObject.objects.get(api_name="Lead").sync_filter == "matching"


def test_retention_prunes_what_it_says_and_stores_only_the_chosen_kinds(
    make_sandbox_org, sf_settings, workspace
):
    org = make_sandbox_org(contacts=80, seed=3)
    connection = connect(workspace, org)
    select_objects(connection)
    sync_settings.activity_retention_set(
        connection=connection, retention="everything", kinds=list(sync_settings.objects.ACTIVITIES)
    )
    run_inline(connection)
    source = f"salesforce:{connection.pk}"
    everything = list(Activity.objects.filter(source=source).select_related("definition"))
    cutoff = timezone.now() - dt.timedelta(days=10)
    assert any(a.occurred_at < cutoff for a in everything), "the org has older activities"
    kinds = {"act:sft:task-created", "act:sfc:contact-created", "act:sfp:opportunity-created"}
    assert any(a.definition.activity_id not in kinds for a in everything)
    expected_pruned = sum(
        1 for a in everything if a.occurred_at < cutoff or a.definition.activity_id not in kinds
    )

    sync_settings.activity_retention_set(connection=connection, retention="window", days=10, kinds=kinds)
    assert Activity.objects.filter(source=source).count() == len(everything)  # nothing goes until asked
    pruned = sync_settings.activities_prune(connection=connection)

    assert pruned == expected_pruned > 0
    left = list(Activity.objects.filter(source=source).select_related("definition"))
    assert len(left) == len(everything) - pruned
    assert all(a.occurred_at >= cutoff and a.definition.activity_id in kinds for a in left)
    # From now on a new Lead's "lead created" is not stored (not chosen); a new Contact's is.
    rest(org, "POST", "sobjects/Lead", {"LastName": "Kindless", "Company": "Acme", "Email": "k@kind.example"})
    created = rest(org, "POST", "sobjects/Contact", {"LastName": "Kindful", "Email": "kf@kind.example"})
    run_inline(connection)
    new = Activity.objects.filter(source=source).exclude(pk__in=[a.pk for a in left])
    assert [a.definition.activity_id for a in new] == ["act:sfc:contact-created"]
    assert new[0].person_id == Identity.objects.get(object="Contact", external_id=created["id"]).person_id
