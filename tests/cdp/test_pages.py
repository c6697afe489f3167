"""The customer data pages: what a member sees, empty states, filters, paging, and workspace isolation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from cdp.merge import (
    ActivityEvent,
    CustomObjectRow,
    IdentityKey,
    OrganizationRow,
    PersonRow,
    activity_definition_ensure,
    archive_records,
    custom_object_ensure,
    custom_object_records_upsert,
    field_definition_ensure,
    merge_organizations,
    merge_people,
    record_activities,
)
from cdp.models import Activity, CustomObjectRecord, Person
from cdp.services import person_permission_set

pytestmark = pytest.mark.django_db

SRC = "salesforce:7"
ACCOUNT = IdentityKey(SRC, "Account", "001ACME")
ADA = IdentityKey(SRC, "Contact", "003ADA")
WHEN = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def data(workspace, owner):
    field_definition_ensure(workspace=workspace, field_id="str:sfc:title", name="Title")
    field_definition_ensure(
        workspace=workspace, field_id="cur:cm:ltv", name="Lifetime value", display_type="currency"
    )
    [org] = merge_organizations(
        workspace=workspace,
        source=SRC,
        rows=[
            OrganizationRow(
                ACCOUNT, {"str:o:name": "Acme Rockets", "str:o:industry": "Aerospace", "int:o:employees": 120}
            )
        ],
    )
    results = merge_people(
        workspace=workspace,
        source=SRC,
        rows=[
            PersonRow(
                ADA,
                {
                    "str::first": "Ada",
                    "str::last": "Lovelace",
                    "str::email": "Ada@Acme.example",
                    "geo::city": "London",
                    "str:sfc:title": "Analyst",
                    "cur:cm:ltv": 1234.5,
                    "dtz::b": "1815-12-10",
                },
                organization_key=ACCOUNT,
            ),
            PersonRow(
                None,
                {
                    "str::first": "Grace",
                    "str::last": "Hopper",
                    "str::email": "grace@navy.example",
                    "bol::p": False,
                },
            ),
        ],
    )
    ada, grace = (Person.objects.get(pk=r.record_id) for r in results)
    activity_definition_ensure(
        workspace=workspace,
        activity_id="act:sfp:opportunity-won",
        name="Opportunity won",
        attributes=[{"id": "str:sfp:name", "name": "Opportunity"}],
    )
    record_activities(
        workspace=workspace,
        events=[
            ActivityEvent(
                "act:sfp:opportunity-won",
                "opp-1-won",
                WHEN,
                person_key=ADA,
                attributes={"str:sfp:name": "Rocket fuel"},
                organization_key=ACCOUNT,
                source=SRC,
            ),
            ActivityEvent(
                "act:sfp:opportunity-won", "opp-1-won", WHEN, person_key=ADA
            ),  # the same event again
        ],
    )
    person_permission_set(workspace=workspace, person_id=ada.pk, field_id="bol::sp", value=True, actor=owner)
    subscription = custom_object_ensure(
        workspace=workspace,
        source=SRC,
        object_name="Subscription__c",
        name="Subscriptions",
        fields=[{"id": "str:soc:plan", "name": "Plan"}],
    )
    custom_object_records_upsert(
        workspace=workspace,
        custom_object=subscription,
        rows=[
            CustomObjectRow(
                "a0X1",
                {"str:soc:plan": "Enterprise"},
                name="SUB-0001",
                person_keys=(ADA,),
                organization_keys=(ACCOUNT,),
            ),
        ],
    )
    return {"ada": ada, "grace": grace, "org_id": org.record_id, "subscription": subscription}


def text(response) -> str:
    """The page's visible text, whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_people_page_lists_people_with_their_organization_and_permission(owner_client, data):
    page = text(owner_client.get(reverse("cdp:people")))
    assert "Grace Hopper grace@navy.example — Unsubscribed" in page
    assert "Ada Lovelace Ada@Acme.example Acme Rockets Subscribed" in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"q": "ada@"}, "Ada Lovelace", "Grace Hopper"),
        ({"q": "hop"}, "Grace Hopper", "Ada Lovelace"),
        ({"q": "Ada Love"}, "Ada Lovelace", "Grace Hopper"),
        ({"source": SRC}, "Ada Lovelace", "Grace Hopper"),  # Grace came with no source record
        ({"permission": "unsubscribed"}, "Grace Hopper", "Ada Lovelace"),
        ({"permission": "sms"}, "Ada Lovelace", "Grace Hopper"),
    ],
)
def test_people_filters(owner_client, data, query, shown, hidden):
    page = text(owner_client.get(reverse("cdp:people"), query))
    assert shown in page
    assert hidden not in page


def test_people_filter_by_organization_and_no_match_state(owner_client, data):
    page = text(owner_client.get(reverse("cdp:people"), {"organization": data["org_id"]}))
    assert "People at Acme Rockets" in page
    assert "Ada Lovelace" in page and "Grace Hopper" not in page

    none = text(owner_client.get(reverse("cdp:people"), {"q": "zzz"}))
    assert "No people match these filters" in none


def test_people_pages_by_keyset_without_counting(owner_client, workspace, django_assert_max_num_queries):
    merge_people(
        workspace=workspace,
        source=SRC,
        rows=[
            PersonRow(None, {"str::email": f"p{i:03d}@example.com", "str::first": f"P{i:03d}"})
            for i in range(55)
        ],
    )
    with django_assert_max_num_queries(12) as captured:
        first = owner_client.get(reverse("cdp:people"))
    # Paging is by keyset; the one COUNT is the page's total, the figure the home page shows too.
    assert sum("COUNT(" in q["sql"].upper() for q in captured.captured_queries) == 1
    assert "55 in this workspace" in text(first)
    first_page = text(first)
    assert "P054" in first_page and "P005" in first_page and "P004" not in first_page
    next_after = first.context["page"].next_after
    assert next_after == Person.objects.get(email_key="p005@example.com").pk

    second = text(owner_client.get(reverse("cdp:people"), {"after": next_after}))
    assert "P004" in second and "P000" in second and "P005" not in second
    assert "Older »" not in second


def test_person_page_shows_fields_grouped_identities_timeline_and_permissions(owner_client, data, owner):
    page = text(owner_client.get(reverse("cdp:person", args=[data["ada"].pk])))
    assert "Built-in fields" in page
    assert "Birthday 10 Dec 1815" in page
    assert "City London" in page
    # Money in its currency, attributes by name, the source by name: never an internal id.
    assert "Custom fields Lifetime value $1,234.50" in page
    assert "Salesforce contact Title Analyst" in page
    assert "Identities Contact in Salesforce" in page
    assert SRC not in page and "003ADA" not in page
    assert "Organization Acme Rockets" in page
    assert "Opportunity won" in page
    assert "Opportunity: Rocket fuel" in page  # the name the field catalogue gives str:sfp:name
    assert "str:" not in page
    assert f"SMS unsubscribed → subscribed by {owner.email} in Inflow" in page
    assert Activity.objects.count() == 1


def test_person_timeline_says_when_and_why_it_was_archived_and_restored(owner_client, data):
    ada_page = reverse("cdp:person", args=[data["ada"].pk])
    archive_records(workspace=data["ada"].workspace, keys=[ADA])
    page = text(owner_client.get(ada_page))
    assert "Archived" in page and "The Contact in Salesforce (a removed connection) was deleted." in page
    assert "Restored" not in page

    # The Contact comes back from Salesforce's recycle bin: the same person is live again and says why.
    [back] = merge_people(
        workspace=data["ada"].workspace, source=SRC, rows=[PersonRow(ADA, {"str::email": "ada@acme.example"})]
    )
    assert back.record_id == data["ada"].pk
    page = text(owner_client.get(ada_page))
    assert "Restored" in page and "The Contact in Salesforce (a removed connection) is live again." in page
    assert page.index("Restored") < page.index("Archived")  # newest first
    # A second archive of an already archived person writes no second entry.
    archive_records(workspace=data["ada"].workspace, keys=[ADA])
    archive_records(workspace=data["ada"].workspace, keys=[ADA])
    assert text(owner_client.get(ada_page)).count("was deleted") == 2


def test_organization_page_says_when_and_why_it_was_archived(owner_client, data):
    archive_records(workspace=data["ada"].workspace, keys=[ACCOUNT])
    page = text(owner_client.get(reverse("cdp:organization", args=[data["org_id"]])))
    assert "Acme Rockets Archived" in page
    assert (
        "Archive history Archived" in page
        and "The Account in Salesforce (a removed connection) was deleted." in page
    )


def test_organization_page_lists_its_people(owner_client, data):
    page = text(owner_client.get(reverse("cdp:organization", args=[data["org_id"]])))
    assert "Industry Aerospace" in page
    assert "Employees 120" in page
    assert "Ada Lovelace Ada@Acme.example" in page
    assert "Grace" not in page
    listing = text(owner_client.get(reverse("cdp:organizations")))
    assert "Acme Rockets Aerospace — 120" in listing


def test_activities_feed_filters_by_type_and_time(owner_client, data):
    feed = text(owner_client.get(reverse("cdp:activities")))
    assert "Opportunity won · Ada Lovelace at Acme Rockets" in feed
    assert "20 Nov 2026 09:30" in feed

    later = text(owner_client.get(reverse("cdp:activities"), {"since": "2026-11-21"}))
    assert "No activities match" in later
    same_day = text(
        owner_client.get(
            reverse("cdp:activities"),
            {"since": "2026-11-20", "until": "2026-11-20", "type": "act:sfp:opportunity-won"},
        )
    )
    assert "Opportunity won · Ada Lovelace" in same_day
    backwards = owner_client.get(reverse("cdp:activities"), {"since": "2026-11-20", "until": "2026-11-01"})
    assert "The end date is before the start date." in text(backwards)


def test_custom_objects_and_their_records(owner_client, data):
    listing = text(owner_client.get(reverse("cdp:custom_objects")))
    assert "Subscriptions Salesforce (a removed connection) Subscription__c 1" in listing
    records = text(owner_client.get(reverse("cdp:custom_object_records", args=[data["subscription"].pk])))
    assert "SUB-0001 Enterprise Ada Lovelace Acme Rockets" in records
    assert CustomObjectRecord.objects.get().people.get() == data["ada"]


def test_field_catalogue_lists_builtin_custom_and_source_fields(owner_client, data):
    page = text(owner_client.get(reverse("cdp:fields")))
    assert "Email str::email Email Yes" in page
    assert "Birthday dtz::b Date Yes" in page
    assert "Created c Date and time Read-only" in page
    assert "Person · Salesforce contact" in page and "Title str:sfc:title Text Yes" in page
    assert "Organization · Built-in fields" in page and "Name str:o:name Text Yes" in page


def test_dashboard_counts_when_the_workspace_has_data(owner_client, data):
    response = owner_client.get(reverse("cdp:dashboard"))
    counts = response.context["counts"]
    assert (counts.people, counts.organizations, counts.activities_30d) == (2, 1, 1)
    assert "People 2 Organizations 1 Activities in the last 30 days 1" in text(response)


def test_empty_workspace_pages_explain_what_will_appear(owner_client):
    expectations = {
        "cdp:people": "No people yet",
        "cdp:organizations": "No organizations yet",
        "cdp:activities": "No activities yet",
        "cdp:custom_objects": "No custom objects yet",
        "cdp:dashboard": "Connect Salesforce to bring in your customers",
    }
    for name, message in expectations.items():
        response = owner_client.get(reverse(name))
        assert response.status_code == 200
        assert message in text(response), name


def test_another_workspace_gets_404_on_every_object_url(client, make_user, make_workspace, data):
    stranger = make_user()
    make_workspace(name="Elsewhere", owner=stranger)
    client.force_login(stranger)
    urls = [
        reverse("cdp:person", args=[data["ada"].pk]),
        reverse("cdp:organization", args=[data["org_id"]]),
        reverse("cdp:custom_object_records", args=[data["subscription"].pk]),
        reverse("cdp:people") + f"?organization={data['org_id']}",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for name in ("cdp:people", "cdp:activities", "cdp:organizations", "cdp:custom_objects"):
        page = text(client.get(reverse(name)))
        assert "Ada" not in page and "Acme" not in page and "Subscriptions" not in page


def test_pages_need_login(client, data):
    response = client.get(reverse("cdp:person", args=[data["ada"].pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
