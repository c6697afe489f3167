"""The chosen plan's limits hold in the services (interval, custom objects, connections), so the pages, the
admin and commands meet the same limit with the same words and a hint how to lift it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from integrations import sync_settings
from integrations.connection_settings import connection_settings_update
from integrations.models import Connection
from onboarding.models import WorkspaceProfile
from onboarding.services import profile_update

pytestmark = pytest.mark.django_db

FREE_INTERVAL = (
    "The Free plan syncs at most every 15 minutes. Choose Premium in Settings › Plan to lift this limit."
)


@pytest.fixture
def connection(workspace):
    return Connection.objects.create(
        workspace=workspace,
        org_id="00D5e000000AbCdEAF",
        sf_user_id="0055e000001XyZwAAC",
        username="admin@acme.example",
        instance_url="https://acme.my.salesforce.com",
        login_url="https://login.salesforce.com",
        api_version="62.0",
        connected_at=timezone.now(),
        schedule_interval_minutes=60,
    )


def interval(connection) -> int:
    return Connection.objects.get(pk=connection.pk).schedule_interval_minutes


def test_without_a_plan_nothing_is_limited(connection):
    connection_settings_update(connection=connection, schedule_interval_minutes=1)
    assert interval(connection) == 1
    assert sync_settings.synced_object_ensure(connection=connection, api_name="Loan__c").enabled


def test_free_plan_refuses_a_shorter_interval_and_custom_objects_and_saves_nothing(workspace, connection):
    profile_update(workspace=workspace, data={"plan": "free"})
    with pytest.raises(ValidationError) as refused:
        connection_settings_update(connection=connection, schedule_interval_minutes=5)
    assert refused.value.message_dict == {"schedule_interval_minutes": [FREE_INTERVAL]}
    assert interval(connection) == 60
    connection_settings_update(connection=connection, schedule_interval_minutes=15)
    assert interval(connection) == 15

    with pytest.raises(ValidationError) as refused:
        sync_settings.synced_object_ensure(connection=connection, api_name="Loan__c", label="Loan")
    assert "The Free plan does not include custom objects (Loan)." in refused.value.messages[0]
    assert not connection.synced_objects.filter(api_name="Loan__c").exists()
    assert sync_settings.synced_object_ensure(connection=connection, api_name="Contact").enabled


def test_premium_trial_allows_every_minute_until_it_ends(workspace, connection):
    profile_update(workspace=workspace, data={"plan": "premium_trial"})
    connection_settings_update(connection=connection, schedule_interval_minutes=1)
    assert interval(connection) == 1
    WorkspaceProfile.objects.filter(workspace=workspace).update(
        trial_ends_at=timezone.now() - dt.timedelta(days=1)
    )
    with pytest.raises(ValidationError) as refused:
        connection_settings_update(connection=connection, schedule_interval_minutes=5)
    assert (
        "The Free (your Premium trial has ended) plan syncs at most every 15 minutes."
        in refused.value.messages[0]
    )


def test_choosing_free_moves_faster_schedules_to_its_interval_and_refuses_while_custom_objects_sync(
    workspace, connection
):
    connection_settings_update(connection=connection, schedule_interval_minutes=5)
    sync_settings.synced_object_ensure(connection=connection, api_name="Loan__c", label="Loan")
    with pytest.raises(ValidationError) as refused:
        profile_update(workspace=workspace, data={"plan": "free"})
    assert refused.value.message_dict["plan"] == [
        "The Free plan does not fit yet: it does not include custom objects and Loan is synced; "
        "turn them off under Data sources first."
    ]
    assert not WorkspaceProfile.objects.filter(workspace=workspace, plan="free").exists()

    sync_settings.synced_object_disable(synced_object=connection.synced_objects.get(api_name="Loan__c"))
    profile_update(workspace=workspace, data={"plan": "free"})
    assert interval(connection) == 15


def test_free_plan_allows_one_connection_and_the_connect_page_says_so(
    workspace, connection, owner_client, settings
):
    settings.SALESFORCE_CLIENT_ID = "plan-test-client"
    settings.SALESFORCE_CLIENT_SECRET = "plan-test-secret"
    profile_update(workspace=workspace, data={"plan": "free"})
    response = owner_client.post(
        reverse("integrations:salesforce_connect"), {"login_kind": "production", "my_domain_url": ""}
    )
    assert response.status_code == 200  # not sent to Salesforce
    assert "The Free plan includes 1 Salesforce connection. Choose Premium in Settings › Plan" in (
        response.content.decode().replace("&rsaquo;", "›")
    )
    # A disconnected connection does not count.
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.DISCONNECTED)
    response = owner_client.post(
        reverse("integrations:salesforce_connect"), {"login_kind": "production", "my_domain_url": ""}
    )
    assert response.status_code == 302, response.content.decode()


def test_the_schedule_page_shows_the_limit_next_to_the_interval(workspace, connection, owner_client):
    profile_update(workspace=workspace, data={"plan": "free"})
    page = reverse("integrations:source_page", args=[connection.pk, "schedule"])
    response = owner_client.post(page, {"schedule_interval_minutes": "1", "api_budget_percent": "30"})
    assert response.status_code == 200
    assert "The Free plan syncs at most every 15 minutes." in response.content.decode()
    assert interval(connection) == 60


def test_the_admin_meets_the_same_limit(workspace, connection, admin_client):
    profile_update(workspace=workspace, data={"plan": "free"})
    change = reverse("admin:integrations_connection_change", args=[connection.pk])
    data = {
        "merge_strategy": "overwrite",
        "find_strategy": "any",
        "merge_converted_leads": "on",
        "modify_system_fields": "on",
        "schedule_interval_minutes": "1",
        "api_budget_percent": "30",
    }
    response = admin_client.post(change, data, follow=True)
    assert "Settings not saved: The Free plan syncs at most every 15 minutes." in response.content.decode()
    assert interval(connection) == 60
