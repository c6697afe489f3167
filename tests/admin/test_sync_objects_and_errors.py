"""Synced objects with their field selection (the 50 limit, through the service), and sync errors:
filters, ignore, CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from integrations import sync_settings
from integrations.models import FieldSelection, SyncError
from tests.admin.conftest import messages_of, run_action

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(connection):
    obj = sync_settings.synced_object_ensure(connection=connection, api_name="Contact", label="Contact")
    sync_settings.field_selection_save(
        synced_object=obj,
        fields=[{"name": "Email", "type": "email"}, {"name": "LastName", "type": "string"}],
    )
    return obj


def inline_form(obj, rows: list[dict]) -> dict:
    """The change form as the browser posts it: the existing rows first, then the new ones."""
    existing = list(FieldSelection.objects.filter(synced_object=obj).order_by("pk"))
    prefix = "fields"
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(existing)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        if i < len(existing):
            data[f"{prefix}-{i}-id"] = str(existing[i].pk)
        data[f"{prefix}-{i}-synced_object"] = str(obj.pk)
        for key, value in row.items():
            if value is True:
                data[f"{prefix}-{i}-{key}"] = "on"
            elif value is not False:
                data[f"{prefix}-{i}-{key}"] = value
    return data


def row(name, sf_type="string", target="", active=True):
    return {"sf_field": name, "label": name, "sf_type": sf_type, "target_field": target, "active": active}


def test_the_changelist_shows_active_fields_against_the_limit(staff_client, contact):
    html = staff_client.get(reverse("admin:integrations_syncedobject_changelist")).content.decode()
    assert "2 / 50" in html


def test_adding_fields_in_the_inline_saves_through_the_service(staff_client, contact):
    email, last = FieldSelection.objects.filter(synced_object=contact).order_by("pk")
    rows = [
        row("Email", "email", email.target_field),
        row("LastName", "string", last.target_field, active=False),
        row("Phone", "phone"),
    ]

    response = staff_client.post(
        reverse("admin:integrations_syncedobject_change", args=[contact.pk]),
        inline_form(contact, rows),
        follow=True,
    )

    assert "Contact: 2 field(s) selected for sync." in messages_of(response)
    active = dict(FieldSelection.objects.filter(synced_object=contact).values_list("sf_field", "active"))
    assert active == {"Email": True, "LastName": False, "Phone": True}
    # The service filled in the default CDP field of the new one and the reason of the deselected one.
    assert FieldSelection.objects.get(synced_object=contact, sf_field="Phone").target_field == "phn::phone"
    assert (
        FieldSelection.objects.get(synced_object=contact, sf_field="LastName").inactive_reason == "Deselected"
    )


def test_the_fifty_field_limit_is_enforced_in_the_inline_and_nothing_is_written(staff_client, contact):
    before = list(FieldSelection.objects.filter(synced_object=contact).values())
    email, last = FieldSelection.objects.filter(synced_object=contact).order_by("pk")
    rows = [row("Email", "email", email.target_field), row("LastName", "string", last.target_field)]
    rows += [row(f"Extra_{i:02d}__c") for i in range(1, 50)]  # 51 active in all

    response = staff_client.post(
        reverse("admin:integrations_syncedobject_change", args=[contact.pk]), inline_form(contact, rows)
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "Contact has 51 fields selected, but at most 50 fields per object can sync. Deselect 1 to continue."
        in html
    )
    assert list(FieldSelection.objects.filter(synced_object=contact).values()) == before

    rows[-1]["active"] = False  # exactly 50 active: accepted
    response = staff_client.post(
        reverse("admin:integrations_syncedobject_change", args=[contact.pk]),
        inline_form(contact, rows),
        follow=True,
    )
    assert "Contact: 50 field(s) selected for sync." in messages_of(response)
    assert FieldSelection.objects.filter(synced_object=contact, active=True).count() == 50


@pytest.fixture
def errors(workspace, connection, make_connection, make_workspace):
    other_ws = make_workspace(name="Globex")
    other = make_connection(other_ws)
    made = [
        SyncError.objects.create(
            workspace=workspace,
            connection=connection,
            object_name="Contact",
            sf_id="003A1",
            error_type="mapping",
            message="'a@@b' is not an email address",
            fix="Fix the email.",
        ),
        SyncError.objects.create(
            workspace=workspace,
            connection=connection,
            object_name="Lead",
            sf_id="00QA1",
            error_type="unlinked",
            message='=HYPERLINK("http://evil")',
        ),
        SyncError.objects.create(
            workspace=workspace,
            connection=connection,
            object_name="Contact",
            sf_id="003A2",
            error_type="mapping",
            message="'x@' is not an email address",
            resolved=True,
        ),
        SyncError.objects.create(
            workspace=other_ws,
            connection=other,
            object_name="Contact",
            sf_id="003B1",
            error_type="api",
            message="QUERY_TIMEOUT",
        ),
    ]
    return made


def test_errors_filter_by_type_and_object(staff_client, errors):
    url = reverse("admin:integrations_syncerror_changelist")
    html = staff_client.get(url + "?error_type__exact=mapping").content.decode()
    assert "003A1" in html and "003A2" in html and "00QA1" not in html and "003B1" not in html
    html = staff_client.get(url + "?object_name=Lead").content.decode()
    assert "00QA1" in html and "003A1" not in html


def test_ignore_resolves_open_errors_only(staff_client, errors):
    response = run_action(staff_client, SyncError, "ignore_errors", [e.pk for e in errors[:3]])

    assert messages_of(response) == ["Ignored 2 error(s); they no longer count as open."]
    assert dict(SyncError.objects.values_list("sf_id", "resolved")) == {
        "003A1": True,
        "00QA1": True,
        "003A2": True,
        "003B1": False,
    }


def test_retry_on_a_connection_that_needs_reauth_explains_and_leaves_errors_open(
    staff_client, errors, connection
):
    connection.status, connection.status_reason = "needs_reauth", "invalid_grant"
    connection.save()

    response = run_action(staff_client, SyncError, "retry_errors", [errors[0].pk])

    assert messages_of(response) == [
        f"Did not retry errors of {connection.username} ({connection.org_id}): it needs reconnecting (invalid_grant). "
        "Salesforce no longer accepts its refresh token; only a workspace owner can reconnect it from "
        "Data sources › Salesforce › Manage authorization."
    ]
    assert SyncError.objects.get(pk=errors[0].pk).resolved is False


def test_export_csv_has_exactly_the_selected_rows(staff_client, errors, connection):
    response = run_action(
        staff_client, SyncError, "export_csv", [errors[0].pk, errors[1].pk, errors[3].pk], follow=False
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="sync-errors-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["salesforce_id"], r["type"], r["object"], r["workspace"]) for r in rows] == [
        ("003A1", "mapping", "Contact", "acme"),
        ("00QA1", "unlinked", "Lead", "acme"),
        ("003B1", "api", "Contact", "globex"),
    ]
    assert rows[0]["message"] == "'a@@b' is not an email address"
    assert rows[0]["fix"] == "Fix the email."
    assert rows[0]["org_id"] == connection.org_id
    assert rows[1]["message"] == '\'=HYPERLINK("http://evil")'  # never a live spreadsheet formula
    assert (rows[0]["retryable"], rows[0]["resolved"]) == ("True", "False")


def test_export_of_every_matching_error_across_pages(staff_client, errors):
    url = reverse("admin:integrations_syncerror_changelist") + "?error_type__exact=mapping"
    response = staff_client.post(
        url,
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": [str(errors[0].pk)]},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(r["salesforce_id"] for r in rows) == ["003A1", "003A2"]


def test_resync_of_selected_objects_queues_one_run_per_connection(
    staff_client, contact, make_connection, workspace
):
    from integrations.models import SyncedObject, SyncRun

    lead = sync_settings.synced_object_ensure(connection=contact.connection, api_name="Lead", label="Lead")
    lost = make_connection(workspace, status="needs_reauth", status_reason="invalid_grant")
    lost_contact = sync_settings.synced_object_ensure(connection=lost, api_name="Contact", label="Contact")

    response = run_action(
        staff_client, SyncedObject, "resync_objects", [contact.pk, lead.pk, lost_contact.pk]
    )

    run = SyncRun.objects.get()
    assert (run.connection_id, run.kind, run.only_objects) == (
        contact.connection_id,
        "resync",
        ["Contact", "Lead"],
    )
    assert messages_of(response) == [
        f"Resync of Contact, Lead on {contact.connection.username} ({contact.connection.org_id}): run #{run.pk} queued.",
        f"Did not start a full resync of {lost.username} ({lost.org_id}): it needs reconnecting (invalid_grant). "
        "Salesforce no longer accepts its refresh token; only a workspace owner can reconnect it from "
        "Data sources › Salesforce › Manage authorization.",
    ]


def test_retrying_more_errors_than_the_admin_limit_points_to_the_command(staff_client, errors, monkeypatch):
    from integrations import admin as integrations_admin

    monkeypatch.setattr(integrations_admin, "ADMIN_RETRY_LIMIT", 1)
    response = run_action(staff_client, SyncError, "retry_errors", [errors[0].pk, errors[1].pk])
    assert messages_of(response) == [
        "Did not retry: 2 open errors are selected and the admin retries at most 1 at once. Narrow the selection "
        "(filter by connection or type), or run `manage.py sync_errors --retry --connection <id>` in a terminal."
    ]
    assert SyncError.objects.filter(resolved=True).count() == 1  # only the fixture's already-resolved one
