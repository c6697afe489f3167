"""Configuration services: field selection limit, permission and identifier rules, merge settings, schedule."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from integrations import sync_settings
from integrations.models import FieldSelection, SyncedObject

pytestmark = pytest.mark.django_db


def fields(n, start=0):
    return [
        sync_settings.FieldChoice(name=f"Field_{i}__c", type="string", label=f"Field {i}")
        for i in range(start, start + n)
    ]


def test_saving_fifty_fields_works_and_targets_default_to_the_object_namespace(plain_connection):
    contact = sync_settings.synced_object_ensure(
        connection=plain_connection, api_name="Contact", label="Contact"
    )

    saved = sync_settings.field_selection_save(synced_object=contact, fields=fields(50))

    assert len(saved) == 50
    assert (
        FieldSelection.objects.get(synced_object=contact, sf_field="Field_7__c").target_field
        == "str:scc:field-7"
    )
    assert contact.becomes == "person"
    assert contact.email_permission == {
        "field": "HasOptedOutOfEmail",
        "subscribed": False,
        "unsubscribed": True,
    }


def test_the_51st_field_is_refused_with_a_clear_error_and_nothing_changes(plain_connection):
    contact = sync_settings.synced_object_ensure(
        connection=plain_connection, api_name="Contact", label="Contact"
    )
    sync_settings.field_selection_save(synced_object=contact, fields=fields(10))

    with pytest.raises(ValidationError) as error:
        sync_settings.field_selection_save(synced_object=contact, fields=fields(51))

    assert error.value.message_dict["fields"] == [
        "Contact has 51 fields selected, but at most 50 fields per object can sync. Deselect 1 to continue."
    ]
    assert sorted(
        FieldSelection.objects.filter(synced_object=contact, active=True).values_list("sf_field", flat=True)
    ) == sorted(f"Field_{i}__c" for i in range(10))
    assert FieldSelection.objects.filter(synced_object=contact).count() == 10


def test_resaving_deselects_fields_left_out(plain_connection):
    lead = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Lead")
    sync_settings.field_selection_save(synced_object=lead, fields=fields(3))
    sync_settings.field_selection_save(synced_object=lead, fields=fields(2, start=1))
    rows = dict(FieldSelection.objects.filter(synced_object=lead).values_list("sf_field", "active"))
    assert rows == {"Field_0__c": False, "Field_1__c": True, "Field_2__c": True}


def test_catalogue_entries_with_cdp_field_are_accepted(plain_connection):
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    entry = {"name": "Email", "type": "email", "label": "Email", "cdp_field": "str::email"}
    [saved] = sync_settings.field_selection_save(synced_object=contact, fields=[entry])
    assert (saved.sf_field, saved.target_field, saved.sf_type) == ("Email", "str::email", "email")


def test_bad_target_is_refused(plain_connection):
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    with pytest.raises(ValidationError):
        sync_settings.field_selection_save(
            synced_object=contact,
            fields=[{"name": "Email", "type": "email", "target_field": "Email Address"}],
        )
    assert not FieldSelection.objects.exists()


def test_permission_rules(plain_connection):
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    sync_settings.permission_rules_set(
        synced_object=contact,
        email={"field": "Email_Status__c", "subscribed": "All Emails", "unsubscribed": "None"},
        sms={"field": "et4ae5__HasOptedOutOfMobile__c", "unsubscribed": True},
    )
    contact.refresh_from_db()
    assert contact.email_permission == {
        "field": "Email_Status__c",
        "subscribed": "All Emails",
        "unsubscribed": "None",
    }
    assert contact.sms_permission == {"field": "et4ae5__HasOptedOutOfMobile__c", "unsubscribed": True}

    with pytest.raises(ValidationError) as error:
        sync_settings.permission_rules_set(
            synced_object=contact, email={"field": "X", "subscribed": 1, "unsubscribed": 1}, sms=None
        )
    assert error.value.message_dict["email"] == ["The subscribed and unsubscribed values must differ."]
    contact.refresh_from_db()
    assert contact.email_permission["field"] == "Email_Status__c"


def test_identifier_rules_including_a_parent_chain_and_loops(plain_connection):
    dossier = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Dossier__c")
    loan = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Loan__c")
    instalment = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Instalment__c")
    sync_settings.identifier_rule_set(
        synced_object=dossier, kind="reference_id", config={"field": "Contact__c"}
    )
    sync_settings.identifier_rule_set(
        synced_object=loan, kind="parent", config={"field": "Dossier__c", "parent_object": "Dossier__c"}
    )
    sync_settings.identifier_rule_set(
        synced_object=instalment, kind="parent", config={"field": "Loan__c", "parent_object": "Loan__c"}
    )
    assert SyncedObject.objects.get(api_name="Instalment__c").identifier_config == {
        "field": "Loan__c",
        "parent_object": "Loan__c",
    }

    with pytest.raises(ValidationError) as error:
        sync_settings.identifier_rule_set(
            synced_object=dossier,
            kind="parent",
            config={"field": "Instalment__c", "parent_object": "Instalment__c"},
        )
    assert "loops back" in error.value.message_dict["identifier_config"][0]
    assert SyncedObject.objects.get(api_name="Dossier__c").identifier_kind == "reference_id"

    with pytest.raises(ValidationError) as error:
        sync_settings.identifier_rule_set(
            synced_object=loan, kind="junction", config={"junction_object": "X__c"}
        )
    assert error.value.message_dict["identifier_config"] == [
        "Relationship via junction object (many-to-many) needs: ref_field, person_field."
    ]


def test_organization_like_object_synced_as_organization_or_contact(plain_connection):
    org = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Organisation__c")
    assert org.becomes == "custom_object"
    sync_settings.synced_object_becomes_set(synced_object=org, becomes="organization")
    assert SyncedObject.objects.get(pk=org.pk).becomes == "organization"
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    with pytest.raises(ValidationError):
        sync_settings.synced_object_becomes_set(synced_object=contact, becomes="organization")


# ------------------------------------------------------------------ one target per value, rules, precedence


def test_phone_and_mobile_phone_feed_the_phone_in_the_stated_order(plain_connection):
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")

    sync_settings.field_selection_save(
        synced_object=contact,
        fields=[
            sync_settings.FieldChoice(name="MobilePhone", type="phone", target_field="phn::phone"),
            sync_settings.FieldChoice(name="Phone", type="phone", target_field="phn::phone"),
        ],
    )

    orders = dict(
        FieldSelection.objects.filter(synced_object=contact).values_list("sf_field", "target_order")
    )
    assert orders == {"Phone": 1, "MobilePhone": 2}


def test_two_fields_for_one_cdp_field_without_an_order_are_refused_and_nothing_is_saved(plain_connection):
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    two = [
        sync_settings.FieldChoice(name="Title", type="string", target_field="str::first"),
        sync_settings.FieldChoice(name="FirstName", type="string", target_field="str::first"),
    ]

    with pytest.raises(ValidationError, match="FirstName, Title all feed the CDP field"):
        sync_settings.field_selection_save(synced_object=contact, fields=two)
    assert not FieldSelection.objects.filter(synced_object=contact).exists()

    same_order = [sync_settings.FieldChoice(**{**c.__dict__, "target_order": 1}) for c in two]
    with pytest.raises(ValidationError, match="different order"):
        sync_settings.field_selection_save(synced_object=contact, fields=same_order)

    ordered = [sync_settings.FieldChoice(**{**c.__dict__, "target_order": i}) for i, c in enumerate(two, 1)]
    sync_settings.field_selection_save(synced_object=contact, fields=ordered)
    assert FieldSelection.objects.get(synced_object=contact, sf_field="FirstName").target_order == 2


def test_a_field_rule_needs_a_selected_field_and_a_known_rule(plain_connection):
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    sync_settings.field_selection_save(
        synced_object=contact, fields=[sync_settings.FieldChoice(name="Title", type="string")]
    )

    with pytest.raises(ValidationError, match="no selected field 'Nickname__c'"):
        sync_settings.field_rule_set(synced_object=contact, sf_field="Nickname__c", mode="fill")
    with pytest.raises(ValidationError, match="is not a field rule"):
        sync_settings.field_rule_set(synced_object=contact, sf_field="Title", mode="sometimes")
    assert FieldSelection.objects.get(synced_object=contact, sf_field="Title").update_mode == ""

    sync_settings.field_rule_set(synced_object=contact, sf_field="Title", mode="fill")
    assert FieldSelection.objects.get(synced_object=contact, sf_field="Title").update_mode == "fill"


def test_selecting_opportunity_and_campaign_brings_their_junctions(plain_connection):
    sync_settings.synced_object_ensure(connection=plain_connection, api_name="Opportunity")
    sync_settings.synced_object_ensure(connection=plain_connection, api_name="Campaign")

    names = set(
        SyncedObject.objects.filter(connection=plain_connection, enabled=True).values_list(
            "api_name", flat=True
        )
    )
    assert names == {"Opportunity", "OpportunityContactRole", "Campaign", "CampaignMember"}
