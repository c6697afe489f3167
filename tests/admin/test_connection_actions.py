"""Connection actions run the same services as the pages, and explain refusals instead of failing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import Connection, SyncRun
from tests.admin.conftest import messages_of, run_action
from tests.fixtures import ACCESS_TOKEN, REFRESH_TOKEN

pytestmark = pytest.mark.django_db


def test_sync_now_queues_a_run_and_a_second_click_joins_it(staff_client, connection):
    response = run_action(staff_client, Connection, "sync_now", [connection.pk])

    run = SyncRun.objects.get()
    assert (run.connection, run.state, run.kind) == (connection, "queued", "incremental")
    assert messages_of(response) == [
        f"Sync of {connection.username} ({connection.org_id}): run #{run.pk} queued."
    ]

    response = run_action(staff_client, Connection, "sync_now", [connection.pk])
    assert SyncRun.objects.count() == 1
    assert messages_of(response) == [
        f"{connection.username} ({connection.org_id}) already has run #{run.pk} queued; "
        "joined it instead of starting another."
    ]


@pytest.mark.parametrize("action,kind", [("full_resync", "resync"), ("reconcile", "reconcile")])
def test_full_resync_and_reconcile_queue_runs_of_their_kind(staff_client, connection, action, kind):
    run_action(staff_client, Connection, action, [connection.pk])
    assert list(SyncRun.objects.values_list("kind", "state")) == [(kind, "queued")]


@pytest.mark.parametrize("action", ["sync_now", "full_resync", "reconcile"])
def test_syncing_a_disconnected_connection_explains_and_writes_nothing(
    staff_client, make_connection, workspace, action
):
    gone = make_connection(
        workspace, status=Connection.Status.DISCONNECTED, access_token="", refresh_token=""
    )

    response = run_action(staff_client, Connection, action, [gone.pk])

    assert SyncRun.objects.count() == 0
    [message] = messages_of(response)
    assert "it is disconnected, so Inflow holds no token for that org" in message
    assert message.startswith("Did not ")


def test_syncing_one_that_needs_reauth_names_the_reason(staff_client, make_connection, workspace):
    lost = make_connection(
        workspace,
        status=Connection.Status.NEEDS_REAUTH,
        status_reason="Salesforce refused the refresh token: invalid_grant (expired access/refresh token)",
    )
    response = run_action(staff_client, Connection, "sync_now", [lost.pk])
    assert SyncRun.objects.count() == 0
    assert messages_of(response) == [
        f"Did not sync {lost.username} ({lost.org_id}): it needs reconnecting (Salesforce refused the refresh token: "
        "invalid_grant (expired access/refresh token)). Salesforce no longer accepts its refresh token; only a "
        "workspace owner can reconnect it from Data sources › Salesforce › Manage authorization."
    ]


def test_pause_then_resume(staff_client, connection):
    response = run_action(staff_client, Connection, "pause", [connection.pk])
    connection.refresh_from_db()
    assert connection.status == "paused"
    assert connection.status_reason == "Paused by operator@inflow.example from the admin."
    assert messages_of(response) == [
        f"Paused {connection.username} ({connection.org_id}): scheduled syncs stop until it is resumed."
    ]
    # A paused connection is not synced, and the operator is told why.
    response = run_action(staff_client, Connection, "sync_now", [connection.pk])
    assert SyncRun.objects.count() == 0
    assert "it is paused. Resume it first." in messages_of(response)[0]

    response = run_action(staff_client, Connection, "resume", [connection.pk])
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == ("connected", "")
    assert "Resumed" in messages_of(response)[0]


def test_resuming_one_that_needs_reauth_explains_and_changes_nothing(
    staff_client, make_connection, workspace
):
    lost = make_connection(workspace, status=Connection.Status.NEEDS_REAUTH, status_reason="invalid_grant")
    before = Connection.objects.filter(pk=lost.pk).values().get()

    response = run_action(staff_client, Connection, "resume", [lost.pk])

    assert Connection.objects.filter(pk=lost.pk).values().get() == before
    [message] = messages_of(response)
    assert message.startswith(
        f"Did not resume {lost.username} ({lost.org_id}): it needs reconnecting (invalid_grant)."
    )


def test_pause_and_refresh_refuse_the_wrong_states(staff_client, make_connection, workspace, connection):
    gone = make_connection(
        workspace, status=Connection.Status.DISCONNECTED, access_token="", refresh_token=""
    )
    paused = make_connection(workspace, status=Connection.Status.PAUSED)

    response = run_action(staff_client, Connection, "pause", [gone.pk, paused.pk])
    assert messages_of(response) == [
        f"Did not pause {gone.username} ({gone.org_id}): it is disconnected, so Inflow holds no token for that org. "
        "A workspace owner can connect it again from Data sources › Salesforce › Manage authorization.",
        f"{paused.username} ({paused.org_id}) is already paused.",
    ]
    response = run_action(staff_client, Connection, "resume", [connection.pk])
    assert messages_of(response) == [
        f"{connection.username} ({connection.org_id}) is not paused; it is already syncing."
    ]
    response = run_action(staff_client, Connection, "refresh_token", [gone.pk])
    assert "Did not refresh the token of" in messages_of(response)[0]
    assert Connection.objects.get(pk=gone.pk).status == "disconnected"


def test_tokens_are_never_shown(staff_client, connection):
    connection.refresh_from_db()
    secrets = [
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        connection.access_token_encrypted,
        connection.refresh_token_encrypted,
    ]
    pages = [
        reverse("admin:integrations_connection_changelist"),
        reverse("admin:integrations_connection_change", args=[connection.pk]),
        reverse("admin:integrations_connection_sync_health"),
        reverse("admin:integrations_connection_sync_health_one", args=[connection.pk]),
    ]
    for url in pages:
        html = staff_client.get(url).content.decode()
        for secret in secrets:
            assert secret not in html, url
        assert "token_encrypted" not in html, url


def test_sync_settings_are_saved_through_the_service_and_bad_values_are_refused(staff_client, connection):
    url = reverse("admin:integrations_connection_change", args=[connection.pk])
    form = {
        "merge_strategy": "append",
        "find_strategy": "next_if_empty",
        "merge_converted_leads": "on",
        "modify_system_fields": "on",
        "schedule_interval_minutes": "15",
        "api_budget_percent": "30",
    }
    response = staff_client.post(url, form)
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.merge_strategy, connection.find_strategy, connection.skip_non_existing) == (
        "append",
        "next_if_empty",
        False,
    )
    assert (connection.schedule_interval_minutes, connection.api_budget_percent) == (15, 30)

    response = staff_client.post(url, {**form, "api_budget_percent": "0", "merge_strategy": "overwrite"})
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    connection.refresh_from_db()
    assert (connection.merge_strategy, connection.api_budget_percent) == ("append", 30)
    assert connection.access_token == ACCESS_TOKEN  # the tokens survive a settings save


def test_only_a_disconnected_connection_can_be_deleted(staff_client, make_connection, workspace, connection):
    assert (
        staff_client.get(reverse("admin:integrations_connection_delete", args=[connection.pk])).status_code
        == 403
    )
    gone = make_connection(
        workspace, status=Connection.Status.DISCONNECTED, access_token="", refresh_token=""
    )
    for _ in range(3):
        SyncRun.objects.create(workspace=workspace, connection=gone, kind="incremental", state="succeeded")
    page = staff_client.get(reverse("admin:integrations_connection_delete", args=[gone.pk])).content.decode()
    assert "Sync runs: 3" in page  # a count, not a list of every row
    response = staff_client.post(
        reverse("admin:integrations_connection_delete", args=[gone.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert list(Connection.objects.values_list("pk", flat=True)) == [connection.pk]
    assert SyncRun.objects.count() == 0


def test_disconnect_asks_for_confirmation_first(staff_client, connection):
    response = run_action(staff_client, Connection, "disconnect", [connection.pk], follow=False)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Disconnect Salesforce connections?" in html
    assert connection.username in html
    connection.refresh_from_db()
    assert connection.status == "connected"


def test_the_connection_page_offers_the_actions_its_status_allows(
    staff_client, connection, make_connection, workspace
):
    html = staff_client.get(
        reverse("admin:integrations_connection_change", args=[connection.pk])
    ).content.decode()
    for label in ("Sync now", "Full resync (re-read every record)", "Refresh access token", "Pause syncing"):
        assert f'<button type="submit" class="button">{label}</button>' in html
    assert "Resume syncing</button>" not in html

    paused = make_connection(workspace, status=Connection.Status.PAUSED)
    html = staff_client.get(
        reverse("admin:integrations_connection_change", args=[paused.pk])
    ).content.decode()
    assert "Resume syncing</button>" in html and "Sync now</button>" not in html

    # The button posts the changelist action for this one connection.
    response = staff_client.post(
        reverse("admin:integrations_connection_changelist"),
        {"action": "resume", "_selected_action": str(paused.pk), "index": "0"},
        follow=True,
    )
    assert messages_of(response)[0].startswith("Resumed")
