"""The write-back outbox is filled with the change itself, whoever makes it (person page service, admin
action, command), for exactly the linked records whose rule writes back."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cdp.models import Identity, PermissionChange, Person
from cdp.services import person_permission_set
from integrations import sync_settings
from integrations.models import PermissionWriteback, SourceRecord, SyncedObject

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(plain_connection, workspace):
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    lead = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Lead")
    sync_settings.permission_rules_set(
        synced_object=contact, email={**sync_settings.DEFAULT_EMAIL_RULE, "direction": "both"}, sms=None
    )
    now = timezone.now()
    person = Person.objects.create(
        workspace=workspace,
        email="ann@acme.example",
        email_key="ann@acme.example",
        created_at=now,
        updated_at=now,
    )
    source = f"salesforce:{plain_connection.pk}"
    records = {
        ("Contact", "003000000000001AAA"): {"HasOptedOutOfEmail": False},
        ("Lead", "00Q000000000001AAA"): {"HasOptedOutOfEmail": False},  # Lead reads only: not written
    }
    for (obj, sf_id), payload in records.items():
        Identity.objects.create(
            workspace=workspace, source=source, object=obj, external_id=sf_id, person=person
        )
        SourceRecord.objects.create(
            connection=plain_connection,
            object_name=obj,
            sf_id=sf_id,
            system_modstamp=timezone.now(),
            payload=payload,
            hash="x",
        )
    return person, contact, lead


def test_an_inflow_change_queues_one_row_per_record_whose_rule_writes_back(linked, workspace, owner):
    person, _, _ = linked
    person_permission_set(
        workspace=workspace, person_id=person.pk, field_id="bol::p", value=False, actor=owner
    )

    (row,) = PermissionWriteback.objects.all()
    assert (row.object_name, row.sf_id, row.sf_field, row.sf_value, row.state) == (
        "Contact",
        "003000000000001AAA",
        "HasOptedOutOfEmail",
        True,
        "pending",
    )
    assert row.permission_change == PermissionChange.objects.get(person=person)

    person_permission_set(
        workspace=workspace, person_id=person.pk, field_id="bol::p", value=True, actor=owner
    )
    states = list(PermissionWriteback.objects.order_by("id").values_list("state", "sf_value"))
    assert states == [("superseded", True), ("pending", False)]  # the later change replaces the waiting one


def test_a_change_from_a_source_or_to_a_one_way_rule_queues_nothing(linked, workspace, owner):
    person, contact, _ = linked
    sync_settings.permission_rules_set(
        synced_object=contact, email=sync_settings.DEFAULT_EMAIL_RULE, sms=None
    )
    person_permission_set(
        workspace=workspace, person_id=person.pk, field_id="bol::p", value=False, actor=owner
    )
    assert not PermissionWriteback.objects.exists()


def test_a_converted_lead_is_not_written(linked, workspace, owner):
    person, _, lead = linked
    sync_settings.permission_rules_set(
        synced_object=lead, email={**sync_settings.DEFAULT_EMAIL_RULE, "direction": "to_salesforce"}, sms=None
    )
    SourceRecord.objects.filter(object_name="Lead").update(payload={"IsConverted": True})
    person_permission_set(
        workspace=workspace, person_id=person.pk, field_id="bol::p", value=False, actor=owner
    )
    assert list(PermissionWriteback.objects.values_list("object_name", flat=True)) == ["Contact"]


def test_the_admin_action_and_the_command_go_through_the_same_path(linked, workspace, client, make_user):
    person, _, _ = linked
    operator = make_user(email="operator@inflow.example", is_staff=True, is_superuser=True)
    client.force_login(operator)
    response = client.post(
        "/admin/cdp/person/", {"action": "unsubscribe_from_email", "_selected_action": [person.pk]}
    )
    assert response.status_code == 302
    change = PermissionChange.objects.get(person=person)
    assert (change.new_value, change.actor, change.source) == (False, operator, "inflow")
    assert PermissionWriteback.objects.filter(sf_value=True).count() == 1

    call_command(
        "person_permission", "--workspace", workspace.slug, "--email", "ANN@acme.example", "--subscribe"
    )
    person.refresh_from_db()
    assert person.email_permission is True
    assert PermissionWriteback.objects.filter(state="pending").get().sf_value is False
    with pytest.raises(CommandError, match="No live person"):
        call_command(
            "person_permission", "--workspace", workspace.slug, "--email", "nobody@x.example", "--subscribe"
        )


def test_a_direction_that_cannot_be_written_is_refused(plain_connection):
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    with pytest.raises(Exception, match="give both"):
        sync_settings.permission_rules_set(
            synced_object=contact,
            email={"field": "Email_Status__c", "subscribed": "All Emails", "direction": "both"},
            sms=None,
        )
    with pytest.raises(Exception, match="not a sync direction"):
        sync_settings.permission_rules_set(
            synced_object=contact,
            email={**sync_settings.DEFAULT_EMAIL_RULE, "direction": "sideways"},
            sms=None,
        )
    assert SyncedObject.objects.get(pk=contact.pk).email_permission == sync_settings.DEFAULT_EMAIL_RULE
