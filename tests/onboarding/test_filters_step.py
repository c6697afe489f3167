"""The Selective sync step and the source's Selective sync and Data retention pages, through the Django
test client. Salesforce's describe and COUNT() answers come from describe JSON (the onboarding's fixture
org); the engine's side is proven against the sandbox process in tests/integrations/sync/test_filters_sandbox.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import SyncedObject, SyncRun
from tests.onboarding.conftest import _field, describes
from tests.onboarding.test_salesforce_steps import (  # noqa: F401 - fixtures
    at_custom_objects,
    at_identifiers,
    at_merge,
    at_permissions,
)

pytestmark = pytest.mark.django_db


class DescribeOnlyOrg:
    """Answers describe from the fixture org and COUNT() with a fixed number (0 for an impossible email)."""

    queries: list[str] = []

    def __init__(self, *args, **kwargs):
        extra = {
            "Contact": [
                _field("Description", type_="textarea", label="Contact Description") | {"filterable": False},
                _field("Birthdate", type_="date"),
            ],
            "Account": [_field("Industry", type_="picklist", picklist=("Banking", "Retail"))],
        }
        self.describes = {}
        for d in describes():
            d["fields"] += extra.get(d["name"], [])
            for f in d["fields"]:
                if f["name"] == "AccountId":
                    f["relationshipName"] = "Account"
            self.describes[d["name"]] = d

    def describe(self, name):
        return self.describes[name]

    def count(self, soql, **kwargs):
        DescribeOnlyOrg.queries.append(soql)
        return 0 if "nobody@" in soql else 7

    def close(self):
        pass


@pytest.fixture
def org(monkeypatch):
    from integrations.salesforce import client

    DescribeOnlyOrg.queries = []
    monkeypatch.setattr(
        client.SalesforceClient, "for_connection", classmethod(lambda cls, c, **kw: DescribeOnlyOrg())
    )
    return DescribeOnlyOrg


@pytest.fixture
def at_filters(at_merge, org):  # noqa: F811 - the imported fixture
    at_merge.post(
        "/onboarding/salesforce-merge/",
        {"merge_strategy": "overwrite", "record_scope": "all", "find_strategy": "any"},
    )
    return at_merge


def _choice(obj="Contact", mode="matching", *rows, action="archive") -> dict:
    """One object's inputs; every other synced object keeps "Sync all records" (as the page sends it)."""
    data = {}
    for other in SyncedObject.objects.filter(enabled=True).values_list("api_name", flat=True):
        data.update({f"{other}__sync_filter": "all", f"{other}__unmatched_action": "archive"})
    data.update({f"{obj}__sync_filter": mode, f"{obj}__unmatched_action": action})
    for i, (field, operator, values) in enumerate(rows):
        data.update(
            {f"{obj}__field_{i}": field, f"{obj}__operator_{i}": operator, f"{obj}__values_{i}": values}
        )
    return data


def test_the_step_comes_between_merge_and_the_first_sync_with_ortto_choices(at_filters):
    html = at_filters.get("/onboarding/salesforce-filters/").content.decode()

    assert '<h1 class="h3 mb-2">Selective sync</h1>' in html
    for label in ("Sync all records", "Sync records matching criteria", "Sync no records"):
        assert label in html
    assert "Archive it in Inflow" in html and "Keep it in Inflow" in html
    assert 'data-filter-object="Contact"' in html and 'data-filter-object="Lead"' in html
    # The Contact's own fields and its account's (a lookup), never a long text area.
    assert '<option value="Account.Industry">' in html and '<option value="Email">' in html
    assert '<option value="Description">' not in html
    assert "Start the first sync" in html


def test_preview_counts_the_unsaved_choice_and_saves_nothing(at_filters, org, connection):
    data = _choice("Contact", "matching", ("Email_Status__c", "equals", "All Emails, Marketing Only"))
    response = at_filters.post("/onboarding/salesforce-filters/", {**data, "_preview": "1"})

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<tr data-preview-object="Contact">' in html and '<td class="text-end" data-preview-count>7' in html
    )
    assert (
        "SELECT COUNT() FROM Contact WHERE (Email_Status__c IN ('All Emails', 'Marketing Only'))"
        in org.queries
    )
    assert SyncedObject.objects.get(connection=connection, api_name="Contact").sync_filter == "all"
    assert SyncRun.objects.count() == 0


@pytest.mark.parametrize(
    "row, message",
    [
        (("Shoe_Size__c", "equals", "42"), "Contact has no field “Shoe_Size__c”"),
        (("Description", "equals", "vip"), "Salesforce cannot filter on “Contact Description”"),
        (("Birthdate", "at_least", "soon"), "“soon” is not a date such as 2026-01-31"),
        (("HasOptedOutOfEmail", "equals", "perhaps"), "“perhaps” is not true or false"),
    ],
)
def test_bad_criteria_are_refused_on_the_page_and_nothing_starts(at_filters, connection, row, message):
    response = at_filters.post("/onboarding/salesforce-filters/", _choice("Contact", "matching", row))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert SyncedObject.objects.get(connection=connection, api_name="Contact").sync_filter == "all"
    assert SyncRun.objects.count() == 0


def test_values_without_a_field_and_matching_without_conditions_are_refused(at_filters):
    response = at_filters.post(
        "/onboarding/salesforce-filters/", _choice("Lead", "matching", ("", "equals", "Web"))
    )
    assert "Choose the field these values are compared with." in response.content.decode()
    response = at_filters.post("/onboarding/salesforce-filters/", _choice("Lead", "matching"))
    assert "add at least one condition, or choose “Sync all records”" in response.content.decode()


def test_saving_stores_structured_criteria_and_starts_the_first_sync_once(at_filters, connection, org):
    data = {
        **_choice(
            "Contact",
            "matching",
            ("Account.Industry", "not_equals", "Banking"),
            ("Email_Status__c", "equals", "All Emails, Marketing Only"),
            action="keep",
        ),
        "Lead__sync_filter": "none",
    }
    first = at_filters.post("/onboarding/salesforce-filters/", data)
    second = at_filters.post("/onboarding/salesforce-filters/", data)

    assert first["Location"] == second["Location"] == "/onboarding/salesforce-congratulations/"
    contact = SyncedObject.objects.get(connection=connection, api_name="Contact")
    assert (contact.sync_filter, contact.unmatched_action) == ("matching", "keep")
    assert contact.filter_criteria == [
        {"field": "Account.Industry", "type": "picklist", "operator": "not_equals", "values": ["Banking"]},
        {
            "field": "Email_Status__c",
            "type": "picklist",
            "operator": "equals",
            "values": ["All Emails", "Marketing Only"],
        },
    ]
    assert contact.filter_changed_at is None  # nothing synced yet: the first sync reads it all anyway
    assert SyncedObject.objects.get(connection=connection, api_name="Lead").sync_filter == "none"
    run = SyncRun.objects.get(connection=connection)
    assert (run.kind, run.state) == ("initial", "queued")


def test_criteria_that_match_nothing_are_saved_with_a_warning(at_filters, connection):
    response = at_filters.post(
        "/onboarding/salesforce-filters/",
        _choice("Lead", "matching", ("Email", "equals", "nobody@nowhere.invalid")),
        follow=True,
    )

    assert "Lead: the criteria match no record in Salesforce right now" in response.content.decode()
    assert SyncedObject.objects.get(connection=connection, api_name="Lead").sync_filter == "matching"


def test_the_settings_page_reuses_the_step_and_marks_a_synced_object_for_a_full_pass(
    owner_client, sf_workspace, connection, at_filters
):
    at_filters.post("/onboarding/salesforce-filters/", _choice("Contact", "all"))
    SyncedObject.objects.filter(connection=connection).update(backfill_completed_at=timezone.now())
    base = f"/sources/salesforce/{connection.pk}/filters/"
    assert "Sync records matching criteria" in owner_client.get(base).content.decode()

    response = owner_client.post(base, _choice("Contact", "matching", ("Email", "starts_with", "ada")))

    assert response["Location"] == base
    contact = SyncedObject.objects.get(connection=connection, api_name="Contact")
    assert contact.filter_criteria == [
        {"field": "Email", "type": "email", "operator": "starts_with", "values": ["ada"]}
    ]
    assert contact.filter_changed_at is not None  # the next run re-reads Contact in full
    assert SyncRun.objects.count() == 1  # saving settings starts no sync


def _activities(sf_workspace, connection):
    """Three stored activities: a task 5 days old, a task 50 days old, a lead created yesterday."""
    from cdp.models import Activity, ActivityDefinition, Person

    now = timezone.now()
    person = Person.objects.create(
        workspace=sf_workspace, email="a@example.com", created_at=now, updated_at=now
    )
    kinds = {}
    for activity_id in ("act:sft:task-created", "act:sfl:lead-created"):
        kinds[activity_id] = ActivityDefinition.objects.create(
            workspace=sf_workspace, activity_id=activity_id, name=activity_id
        )
    for i, (activity_id, days) in enumerate(
        [("act:sft:task-created", 5), ("act:sft:task-created", 50), ("act:sfl:lead-created", 1)]
    ):
        Activity.objects.create(
            workspace=sf_workspace,
            definition=kinds[activity_id],
            person=person,
            occurred_at=now - dt.timedelta(days=days),
            source=f"salesforce:{connection.pk}",
            source_key=f"k{i}",
        )


def test_retention_page_saves_the_window_and_kinds_and_prunes_with_a_count(
    owner_client, sf_workspace, connection
):
    from cdp.models import Activity

    _activities(sf_workspace, connection)
    base = f"/sources/salesforce/{connection.pk}/retention/"
    html = owner_client.get(base).content.decode()
    assert (
        "Keep the last 90 days of activity data" in html and "<strong data-stored-outside>0</strong>" in html
    )

    refused = owner_client.post(
        base, {"activity_retention": "window", "activity_kinds": ["act:sft:task-created"]}
    )
    assert "Give the time frame in days." in refused.content.decode()
    refused = owner_client.post(base, {"activity_retention": "everything"})
    assert "Choose at least one kind of activity to store." in refused.content.decode()

    saved = owner_client.post(
        base,
        {
            "activity_retention": "window",
            "activity_retention_days": "30",
            "activity_kinds": ["act:sft:task-created"],
        },
    )
    assert saved["Location"] == base
    connection.refresh_from_db()
    assert (connection.activity_retention, connection.activity_retention_days, connection.activity_kinds) == (
        "window",
        30,
        ["act:sft:task-created"],
    )
    assert Activity.objects.count() == 3  # nothing goes until the user asks
    assert "<strong data-stored-outside>2</strong>" in owner_client.get(base).content.decode()

    pruned = owner_client.post(base, {"_prune": "1"}, follow=True)

    assert "Deleted 2 stored activities the retention setting does not keep." in pruned.content.decode()
    assert list(Activity.objects.values_list("source_key", flat=True)) == ["k0"]


def test_prune_command_counts_first_then_deletes_outside_the_setting(sf_workspace, connection):
    from io import StringIO

    from django.core.management import call_command

    from cdp.models import Activity
    from integrations import sync_settings

    _activities(sf_workspace, connection)
    sync_settings.activity_retention_set(
        connection=connection,
        retention="window",
        days=10,
        kinds=["act:sft:task-created", "act:sfl:lead-created"],
    )
    out = StringIO()
    call_command("prune_activities", "--connection", str(connection.pk), "--dry-run", stdout=out)
    assert "1 of 3 activities are outside the retention setting (nothing deleted" in out.getvalue()
    assert Activity.objects.count() == 3
    call_command("prune_activities", "--connection", str(connection.pk), stdout=out)
    assert "deleted 1 of 3 activities" in out.getvalue()
    assert sorted(Activity.objects.values_list("source_key", flat=True)) == ["k0", "k2"]


def test_another_workspace_cannot_open_the_new_pages(
    client, make_user, make_workspace, connection, catalogue
):
    intruder = make_user()
    make_workspace(name="Intruder Inc", owner=intruder)
    client.force_login(intruder)
    for page in ("filters", "retention"):
        assert client.get(f"/sources/salesforce/{connection.pk}/{page}/").status_code == 404
        assert client.post(f"/sources/salesforce/{connection.pk}/{page}/", {"_prune": "1"}).status_code == 404
