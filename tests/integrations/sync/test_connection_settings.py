"""The one write path for a connection's settings: every rule in `connection_settings_update`, every refusal
with a message a user can act on and nothing saved, the schedule re-timed after commit. The pages and the
admin reach the same rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_q.models import Schedule

from integrations import sync_settings
from integrations.connection_settings import connection_settings_update
from integrations.models import Connection, FieldSelection

pytestmark = pytest.mark.django_db

STORED = {
    "merge_strategy": "overwrite",
    "find_strategy": "any",
    "skip_non_existing": False,
    "merge_converted_leads": True,
    "modify_system_fields": True,
    "schedule_interval_minutes": 5,
    "api_budget_percent": 50,
    "source_precedence": {},
}


def stored(connection) -> dict:
    row = Connection.objects.get(pk=connection.pk)
    return {name: getattr(row, name) for name in STORED}


def test_settings_are_written_together_and_the_schedule_follows_after_commit(
    plain_connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        connection_settings_update(
            connection=plain_connection,
            merge_strategy="append",
            find_strategy="next_if_empty",
            skip_non_existing=True,
            merge_converted_leads=False,
            schedule_interval_minutes=15,
            api_budget_percent=80,
            source_precedence={"person": ["Lead", "Contact", "Member__c"]},
        )
        assert not Schedule.objects.exists()  # nothing scheduled before the settings are committed
    for callback in callbacks:
        callback()

    assert stored(plain_connection) == {
        **STORED,
        "merge_strategy": "append",
        "find_strategy": "next_if_empty",
        "skip_non_existing": True,
        "merge_converted_leads": False,
        "schedule_interval_minutes": 15,
        "api_budget_percent": 80,
        "source_precedence": {"person": ["Lead", "Contact", "Member__c"]},
    }
    assert plain_connection.merge_label == "Import and merge new records only (existing records only)"
    schedule = Schedule.objects.get(name=f"salesforce-sync-{plain_connection.pk}")
    assert (schedule.func, schedule.minutes, schedule.args) == (
        "integrations.salesforce.tasks.scheduled_sync",
        15,
        f"({plain_connection.pk},)",
    )
    # Saving the same interval again keeps the schedule's timing (it does not postpone the next run).
    with django_capture_on_commit_callbacks(execute=True):
        connection_settings_update(connection=plain_connection, schedule_interval_minutes=15)
    assert Schedule.objects.get(pk=schedule.pk).next_run == schedule.next_run
    assert Schedule.objects.filter(name__startswith="salesforce-").count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"merge_strategy": "ignore", "skip_non_existing": True},
            "skip_non_existing",
            "“Import new records only” with “Existing records only” would import nothing. Choose another option.",
        ),
        (
            {"merge_strategy": "smash"},
            "merge_strategy",
            "'smash' is not a merge strategy. Choose one of: “Import and merge new records only”, "
            "“Import and overwrite any records that exist”, “Import new records only”.",
        ),
        (
            {"schedule_interval_minutes": 7},
            "schedule_interval_minutes",
            "Choose an interval of 1, 5, 15 or 60 minutes.",
        ),
        (
            {"schedule_interval_minutes": True},
            "schedule_interval_minutes",
            "Choose an interval of 1, 5, 15 or 60 minutes.",
        ),
        (
            {"api_budget_percent": 0},
            "api_budget_percent",
            "The API budget is a whole percentage from 1 to 100.",
        ),
        (
            {"api_budget_percent": 101},
            "api_budget_percent",
            "The API budget is a whole percentage from 1 to 100.",
        ),
        (
            {"source_precedence": {"person": ["Contact", "Lead", "Contact"]}},
            "source_precedence",
            "Contact appears more than once in the person order: that would put it both before and after "
            "another object. Name each object once.",
        ),
        (
            {"source_precedence": {"person": ["Account"]}},
            "source_precedence",
            "Account cannot describe a person, so it has no place in its order.",
        ),
        (
            {"source_precedence": {"campaign": ["Lead"]}},
            "source_precedence",
            "'campaign' is not people or organizations (person, organization).",
        ),
        (
            {"access_token_encrypted": "x", "merge_strategy": "append"},
            "__all__",
            "Not a connection setting: access_token_encrypted. The settings are: merge_strategy, find_strategy, "
            "skip_non_existing, merge_converted_leads, modify_system_fields, schedule_interval_minutes, "
            "api_budget_percent, source_precedence, streaming_enabled.",
        ),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message_and_nothing_is_saved(
    plain_connection, django_capture_on_commit_callbacks, changes, field, message
):
    # Valid changes given alongside a bad one are not saved either.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as raised:
        connection_settings_update(connection=plain_connection, **{"modify_system_fields": False, **changes})

    assert raised.value.message_dict == {field: [message]}
    assert stored(plain_connection) == STORED
    assert not Schedule.objects.exists()


def test_existing_only_is_refused_against_the_stored_ignore_strategy(plain_connection):
    connection_settings_update(connection=plain_connection, merge_strategy="ignore")

    with pytest.raises(ValidationError, match="would import nothing"):
        connection_settings_update(connection=plain_connection, skip_non_existing=True)

    assert stored(plain_connection)["skip_non_existing"] is False


def test_two_fields_to_one_target_and_a_rule_on_an_unknown_field_are_refused(plain_connection):
    """The per-object half of a configuration: refused by its services, which lock the connection too."""
    contact = sync_settings.synced_object_ensure(connection=plain_connection, api_name="Contact")
    with pytest.raises(ValidationError, match="FirstName, Title all feed the CDP field"):
        sync_settings.field_selection_save(
            synced_object=contact,
            fields=[
                sync_settings.FieldChoice(name="Title", type="string", target_field="str::first"),
                sync_settings.FieldChoice(name="FirstName", type="string", target_field="str::first"),
            ],
        )
    with pytest.raises(ValidationError, match="no selected field 'Nickname__c'; select it first"):
        sync_settings.field_rule_set(synced_object=contact, sf_field="Nickname__c", mode="fill")
    assert not FieldSelection.objects.filter(synced_object=contact).exists()


def test_the_schedule_page_and_the_admin_go_through_the_same_rules(
    plain_connection, owner_client, admin_client, django_capture_on_commit_callbacks
):
    # A connected connection without its Schedule row (made before schedules followed the lifecycle) says so.
    overview = owner_client.get(reverse("integrations:source_overview", args=[plain_connection.pk]))
    assert (
        "Not scheduled: the schedule is missing; save the Schedule page to create it"
        in overview.content.decode()
    )

    page = reverse("integrations:source_page", args=[plain_connection.pk, "schedule"])
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(page, {"schedule_interval_minutes": "1", "api_budget_percent": "30"})
    assert response.status_code == 302
    assert Schedule.objects.get(name=f"salesforce-sync-{plain_connection.pk}").minutes == 1

    change = reverse("admin:integrations_connection_change", args=[plain_connection.pk])
    data = {
        "merge_strategy": "ignore",
        "find_strategy": "any",
        "skip_non_existing": "on",
        "merge_converted_leads": "on",
        "modify_system_fields": "on",
        "schedule_interval_minutes": "60",
        "api_budget_percent": "30",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change, data, follow=True)
    assert (
        "Settings not saved: “Import new records only” with “Existing records only” would import nothing."
        in (response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”"))
    )
    assert stored(plain_connection)["schedule_interval_minutes"] == 1
    assert Schedule.objects.get(name=f"salesforce-sync-{plain_connection.pk}").minutes == 1
