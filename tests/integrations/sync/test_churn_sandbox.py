"""`sandbox_churn` changes the org the way a busy org changes; an incremental run applies exactly that."""

from __future__ import annotations

import pytest

from cdp.models import Activity, Identity
from integrations.models import FieldSelection, SyncError
from tests.integrations.sync.conftest import connect, run_inline, select_objects

pytestmark = pytest.mark.django_db

OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "OpportunityContactRole", "Task")


def count(activity_id):
    return Activity.objects.filter(definition__activity_id=activity_id).count()


def person(obj, sf_id):
    return Identity.objects.get(object=obj, external_id=sf_id).person


def test_conversions_stage_changes_and_completed_tasks_become_activities_once(
    make_sandbox_org, sf_settings, workspace
):
    org = make_sandbox_org(contacts=150, seed=11)
    connection = connect(workspace, org)
    select_objects(connection, OBJECTS)
    run_inline(connection)
    leads_before = {r["Id"]: r for r in org.records("Lead")}
    opps_before = {r["Id"]: r for r in org.records("Opportunity")}
    tasks_before = {r["Id"]: r for r in org.records("Task")}
    before = {
        a: count(a)
        for a in ("act:sfl:lead-converted", "act:sfp:opportunity-stage-changed", "act:sft:task-completed")
    }

    org.churn(convert_leads=3, advance_opportunities=4, complete_tasks=5, seed=3)
    run = run_inline(connection)
    again = run_inline(connection)

    assert (run.state, run.state_reason) == ("succeeded", "")
    converted = [
        r
        for r in org.records("Lead")
        if r.get("IsConverted") and not leads_before[r["Id"]].get("IsConverted")
    ]
    assert len(converted) == 3
    for lead in converted:  # the lead's person follows ConvertedContactId into the new contact's person
        assert person("Lead", lead["Id"]) == person("Contact", lead["ConvertedContactId"])
    assert count("act:sfl:lead-converted") == before["act:sfl:lead-converted"] + 3

    live_contacts = {c["Id"] for c in org.records("Contact")}
    roles = org.records("OpportunityContactRole")
    advanced = [o for o in org.records("Opportunity") if o["StageName"] != opps_before[o["Id"]]["StageName"]]
    assert len(advanced) == 4
    expected_changes = sum(
        1
        for o in advanced
        for r in roles
        if r["OpportunityId"] == o["Id"] and r["ContactId"] in live_contacts
    )
    assert (
        count("act:sfp:opportunity-stage-changed")
        == before["act:sfp:opportunity-stage-changed"] + expected_changes
    )

    people = live_contacts | {lead["Id"] for lead in org.records("Lead")}
    completed = [
        t for t in org.records("Task") if t.get("IsClosed") and not tasks_before[t["Id"]].get("IsClosed")
    ]
    assert len(completed) == 5
    assert count("act:sft:task-completed") == before["act:sft:task-completed"] + sum(
        1 for t in completed if t.get("WhoId") in people
    )
    assert (again.created, again.merged, again.activities_recorded) == (0, 0, 0)


def test_a_selected_field_deleted_in_salesforce_is_deactivated_and_the_run_goes_on(
    make_sandbox_org, sf_settings, workspace
):
    org = make_sandbox_org(contacts=40, seed=12)
    org.churn(schema_change=True)  # adds Favourite_Colour__c to Contact
    connection = connect(workspace, org)
    select_objects(connection, ("Contact",), extra_fields={"Contact": ("Favourite_Colour__c",)})
    assert FieldSelection.objects.get(sf_field="Favourite_Colour__c").active
    run_inline(connection)

    org.churn(schema_change=True, updates=5, seed=4)  # removes it again, and edits a few records
    run = run_inline(connection)

    assert (run.state, run.state_reason) == ("succeeded", "")
    selection = FieldSelection.objects.get(sf_field="Favourite_Colour__c")
    assert (selection.active, selection.inactive_reason) == (
        False,
        "Deleted in Salesforce (or hidden from the integration user)",
    )
    [warning] = SyncError.objects.filter(run=run, error_type="field_deleted")
    assert warning.message == (
        "Contact.Favourite_Colour__c no longer exists in Salesforce; it was deselected and the sync went on."
    )
    assert run.merged >= 1
