"""The field picker: what each Salesforce field maps to, the order when two feed one CDP field, and its rule."""

from __future__ import annotations

import pytest

from integrations.models import FieldSelection
from tests.onboarding.test_salesforce_steps import DEFAULT_FIELDS, _fields_post

pytestmark = pytest.mark.django_db

URL = "/onboarding/salesforce-fields/"


def contact_selection(name: str) -> FieldSelection:
    return FieldSelection.objects.get(synced_object__api_name="Contact", sf_field=name, active=True)


def test_each_field_shows_the_cdp_field_it_maps_to_by_name(owner_client, sf_workspace):
    html = owner_client.get(URL).content.decode()

    assert 'name="target__Contact__Email"' in html
    assert '<option value="str::email" selected>Email</option>' in html
    assert '<option value="phn::phone" selected>Phone number</option>' in html
    # A field with no built-in twin maps to its own field, named as a person reads it.
    assert '<option value="bol:scc:sms-opt-in" selected>Its own field: SMS opt-in</option>' in html
    assert 'name="mode__Contact__Email"' in html and "Always take Salesforce&#x27;s value" in html


def test_two_fields_for_one_cdp_field_need_an_order(owner_client, sf_workspace):
    data = _fields_post(DEFAULT_FIELDS)
    data["target__Contact__FirstName"] = "str::last"  # LastName feeds str::last too

    response = owner_client.post(URL, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "FirstName, LastName all feed the CDP field “Last name”" in html
    assert not FieldSelection.objects.filter(synced_object__api_name="Contact").exists()  # nothing saved

    data["order__Contact__LastName"] = "1"
    data["order__Contact__FirstName"] = "2"
    assert owner_client.post(URL, data)["Location"] == "/onboarding/salesforce-permissions/"
    assert (contact_selection("LastName").target_order, contact_selection("FirstName").target_order) == (1, 2)
    assert contact_selection("FirstName").target_field == "str::last"


def test_a_rule_per_field_is_saved_and_a_target_the_picker_did_not_offer_is_refused(
    owner_client, sf_workspace
):
    data = _fields_post(DEFAULT_FIELDS)
    data["mode__Contact__FirstName"] = "fill"
    data["mode__Contact__SMS_Opt_In__c"] = "skip"

    assert owner_client.post(URL, data)["Location"] == "/onboarding/salesforce-permissions/"
    assert contact_selection("FirstName").update_mode == "fill"
    assert contact_selection("SMS_Opt_In__c").update_mode == "skip"

    data["target__Contact__Email"] = "bol::p"  # permissions have their own step
    data["mode__Contact__LastName"] = "sometimes"
    html = owner_client.post(URL, data).content.decode()
    assert "Email cannot feed that CDP field." in html
    assert "LastName: choose one of the offered rules." in html
    assert contact_selection("Email").target_field == "str::email"  # unchanged
