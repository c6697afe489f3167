"""Identifier rules against the sandbox org: lookups, reference id, parent chains, junctions, unique identifier,
and an Organization-like object synced as an organization."""

from __future__ import annotations

import pytest

from cdp.models import CustomObjectRecord, Identity
from integrations import sync_settings
from integrations.models import SyncedObject
from tests.integrations.sync.conftest import connect, run_inline, select_objects

pytestmark = pytest.mark.django_db

CUSTOM_FIELDS = {
    "Subscription__c": ("Name", "Plan__c", "Monthly_Amount__c", "Contact__c"),
    "Company_Profile__c": ("Name", "Domain__c", "Employees__c"),
    "Dossier__c": ("Name", "Status__c", "Contact__c"),
    "Loan__c": ("Name", "Principal__c", "Dossier__c"),
    "Instalment__c": ("Name", "Amount__c", "Paid__c", "Loan__c"),
    "Course__c": ("Name", "Code__c"),
    "Enrollment__c": ("Name", "Status__c", "Contact__c", "Course__c"),
}


def linked_people(obj, sf_id):
    record = CustomObjectRecord.objects.get(custom_object__object_name=obj, external_id=sf_id)
    return set(record.people.values_list("pk", flat=True))


def person(sf_id):
    return Identity.objects.get(object="Contact", external_id=sf_id).person_id


def test_every_identifier_rule_links_records_to_the_right_people(sandbox_org, sf_settings, workspace):
    connection = connect(workspace, sandbox_org)
    objects = select_objects(connection, ("Account", "Contact", *CUSTOM_FIELDS), extra_fields=CUSTOM_FIELDS)
    sync_settings.synced_object_becomes_set(
        synced_object=objects["Company_Profile__c"], becomes="organization"
    )
    sync_settings.identifier_rule_set(
        synced_object=objects["Dossier__c"], kind="reference_id", config={"field": "Contact__c"}
    )
    sync_settings.identifier_rule_set(
        synced_object=objects["Loan__c"],
        kind="parent",
        config={"field": "Dossier__c", "parent_object": "Dossier__c"},
    )
    sync_settings.identifier_rule_set(
        synced_object=objects["Instalment__c"],
        kind="parent",
        config={"field": "Loan__c", "parent_object": "Loan__c"},
    )
    sync_settings.identifier_rule_set(
        synced_object=objects["Course__c"],
        kind="junction",
        config={"junction_object": "Enrollment__c", "ref_field": "Course__c", "person_field": "Contact__c"},
    )

    run = run_inline(connection)

    assert (run.state, run.state_reason) == ("succeeded", "")
    counts = sandbox_org.counts()
    for name in ("Subscription__c", "Dossier__c", "Loan__c", "Instalment__c", "Course__c", "Enrollment__c"):
        assert CustomObjectRecord.objects.filter(custom_object__object_name=name).count() == counts[name], (
            name
        )
    live = {c["Id"] for c in sandbox_org.records("Contact")}
    # A lookup to Contact links on its own.
    for sub in sandbox_org.records("Subscription__c"):
        expected = {person(sub["Contact__c"])} if sub["Contact__c"] in live else set()
        assert linked_people("Subscription__c", sub["Id"]) == expected
        record = CustomObjectRecord.objects.get(external_id=sub["Id"])
        assert record.values["str:soc:plan"] == sub["Plan__c"]
    # Reference id, and the chain instalment -> loan -> dossier -> contact.
    dossiers = {d["Id"]: d for d in sandbox_org.records("Dossier__c")}
    loans = {ln["Id"]: ln for ln in sandbox_org.records("Loan__c")}
    for inst in sandbox_org.records("Instalment__c"):
        contact = dossiers[loans[inst["Loan__c"]]["Dossier__c"]]["Contact__c"]
        assert linked_people("Instalment__c", inst["Id"]) == ({person(contact)} if contact in live else set())
    # Junction: a course reaches every enrolled person.
    enrolments = sandbox_org.records("Enrollment__c")
    for course in sandbox_org.records("Course__c"):
        expected = {
            person(e["Contact__c"])
            for e in enrolments
            if e["Course__c"] == course["Id"] and e["Contact__c"] in live
        }
        assert linked_people("Course__c", course["Id"]) == expected
    # The Organization-like object became organizations, its fields in the "osc" namespace.
    for profile in sandbox_org.records("Company_Profile__c"):
        org = Identity.objects.get(object="Company_Profile__c", external_id=profile["Id"]).organization
        assert org.name.lower() == profile["Name"].lower()
        assert org.values["str:osc:domain"] == profile["Domain__c"]


def test_unique_identifier_finds_or_creates_the_person(sandbox_org, sf_settings, workspace):
    connection = connect(workspace, sandbox_org)
    objects = select_objects(connection, ("Company_Profile__c",), extra_fields=CUSTOM_FIELDS)
    sync_settings.identifier_rule_set(
        synced_object=objects["Company_Profile__c"],
        kind="unique_identifier",
        config={"field": "Domain__c", "cdp_field": "str::ei"},
    )

    run_inline(connection)

    for profile in sandbox_org.records("Company_Profile__c"):
        [person_id] = linked_people("Company_Profile__c", profile["Id"])
        assert (
            Identity.objects.get(person_id=person_id, object="Company_Profile__c.person").external_id
            == profile["Id"]
        )
        from cdp.models import Person

        assert Person.objects.get(pk=person_id).external_id == profile["Domain__c"]
    assert (
        SyncedObject.objects.get(api_name="Company_Profile__c").records_synced
        == sandbox_org.counts()["Company_Profile__c"]
    )
