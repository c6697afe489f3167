"""Finding 8: a describe field whose name is not an API name (here one that reads like SOQL) failed the
whole sync with "unexpected ValueError". Now that one field is skipped with a SyncError; everything else
syncs. (Engine over the mocked transport: the sandbox org cannot describe such a field.)"""

from __future__ import annotations

import pytest

from cdp.models import Person
from integrations.models import FieldSelection, SyncError
from integrations.salesforce import catalog
from tests.integrations.sync.test_engine_unit import CONTACT_FIELDS, org, run  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

HOSTILE = "Evil__c FROM User WHERE Id != null --"


def test_a_hostile_field_name_is_skipped_with_an_error_and_the_rest_syncs(org, plain_connection):  # noqa: F811
    from integrations import sync_settings
    from integrations.models import SyncedObject

    org.fields["Contact"] = [*CONTACT_FIELDS, HOSTILE]
    contact = SyncedObject.objects.get(api_name="Contact")
    sync_settings.field_selection_save(
        synced_object=contact,
        fields=[{"name": n, "type": "string"} for n in ("FirstName", "LastName", "LeadSource", HOSTILE)],
    )

    finished = run(plain_connection)

    assert finished.state == "succeeded", finished.state_reason
    assert Person.objects.filter(workspace=plain_connection.workspace).count() == 5
    [error] = SyncError.objects.filter(connection=plain_connection)
    assert error.error_type == SyncError.Type.MALFORMED
    assert "not a valid API name" in error.message and "Evil__c" in error.message
    selection = FieldSelection.objects.get(synced_object=contact, sf_field=HOSTILE)
    assert (selection.active, selection.inactive_reason) == (False, "Not a valid Salesforce API name")
    assert not any(HOSTILE in call for call in org.calls)  # never put in a query

    second = run(plain_connection)
    assert second.state == "succeeded"
    assert SyncError.objects.filter(connection=plain_connection).count() == 1  # reported once


def test_the_catalogue_never_offers_a_hostile_field_name():
    describe = {
        "name": "Contact",
        "fields": [
            {"name": "Email", "type": "email", "updateable": True},
            {"name": HOSTILE, "type": "string", "custom": True, "updateable": True},
        ],
    }
    names = [f.name for f in catalog.catalog_object(describe).fields]
    assert "Email" in names and HOSTILE not in names
