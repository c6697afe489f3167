"""Data sources, Manage Salesforce authorization, disconnect, delete, and the reconnect banner."""

from __future__ import annotations

import pytest
import responses
from django.urls import reverse

from integrations.models import Connection
from tests.integrations.connection.conftest import INSTANCE, LOGIN

pytestmark = pytest.mark.django_db
V = f"{INSTANCE}/services/data/v62.0"


def test_sources_empty_state_offers_to_connect(owner_client, sf_settings):
    html = owner_client.get(reverse("integrations:sources")).content.decode()

    assert "No data sources yet" in html
    assert f'href="{reverse("integrations:salesforce_connect")}">Connect Salesforce</a>' in html


def test_sources_lists_connections_of_this_workspace_only(
    owner_client, connection, make_connection, make_workspace
):
    other = make_workspace(name="Other")
    foreign = make_connection(other, org_id="00DOTHERORG0000AAA")
    second = make_connection(
        connection.workspace, org_id="00DSECONDORG000AAA", status=Connection.Status.NEEDS_REAUTH
    )

    html = owner_client.get(reverse("integrations:sources")).content.decode()

    # Each connection of this workspace is listed (named by its org's address, not an internal id).
    for listed in (connection, second):
        assert f'href="{reverse("integrations:salesforce_manage", args=[listed.pk])}"' in html
    assert f'href="{reverse("integrations:salesforce_manage", args=[foreign.pk])}"' not in html
    assert "00DOTHERORG0000AAA" not in html and "00DSECONDORG000AAA" not in html
    assert '<span class="badge text-bg-success">Connected</span>' in html
    assert '<span class="badge text-bg-warning">Needs reconnecting</span>' in html


def test_the_old_integrations_addresses_lead_to_the_data_source_pages(owner_client, connection, sf_settings):
    pk = connection.pk
    moved = {
        "/integrations/": "/sources/",
        "/integrations/salesforce/connect/?login=sandbox": "/sources/salesforce/connect/?login=sandbox",
        f"/integrations/salesforce/{pk}/": f"/sources/salesforce/{pk}/authorization/",
        f"/integrations/salesforce/{pk}/reconnect/": f"/sources/salesforce/{pk}/reconnect/",
        f"/integrations/salesforce/{pk}/disconnect/": f"/sources/salesforce/{pk}/disconnect/",
        f"/integrations/salesforce/{pk}/delete/": f"/sources/salesforce/{pk}/delete/",
    }
    for old, new in moved.items():
        response = owner_client.get(old)
        assert (response.status_code, response["Location"]) == (301, new), old

    html = owner_client.get("/integrations/", follow=True).content.decode()
    assert f'href="/sources/salesforce/{pk}/authorization/"' in html


def test_another_workspaces_connection_is_not_found(owner_client, make_connection, make_workspace):
    foreign = make_connection(make_workspace(name="Other"))

    for name in ("salesforce_manage", "salesforce_disconnect", "salesforce_delete", "salesforce_reconnect"):
        assert owner_client.get(reverse(f"integrations:{name}", args=[foreign.pk])).status_code == 404
    assert (
        owner_client.post(reverse("integrations:salesforce_disconnect", args=[foreign.pk])).status_code == 404
    )
    foreign.refresh_from_db()
    assert foreign.status == "connected"


@responses.activate
def test_manage_page_shows_the_authorization_health_and_guidance(owner_client, connection):
    responses.get(
        f"{V}/limits/",
        json={"DailyApiRequests": {"Max": 15000, "Remaining": 14250}},
        headers={"Sforce-Limit-Info": "api-usage=750/15000"},
    )

    html = owner_client.get(reverse("integrations:salesforce_manage", args=[connection.pk])).content.decode()

    assert "Manage Salesforce authorization" in html
    assert "<code>00D5e000000AbCdEAF</code>" in html
    assert "admin@acme.example" in html and INSTANCE in html and LOGIN in html
    assert html.count('<span class="badge text-bg-light border me-1">') == 3  # refresh_token api id
    assert "<strong>Working.</strong> Salesforce answered: the authorization works." in html
    assert '<p class="mb-1" id="api-usage">750 of 15,000 (5.0%)</p>' in html
    assert "Refresh token is valid until revoked" in html
    assert "Setup → Apps → Connected Apps → Connected Apps OAuth Usage" in html
    assert "Relax IP restrictions" in html
    assert "at most five authorizations per user" in html
    assert f'href="/sources/salesforce/{connection.pk}/reconnect/">Reconnect</a>' in html
    assert f'href="/sources/salesforce/{connection.pk}/disconnect/">Disconnect</a>' in html
    connection.refresh_from_db()
    assert (connection.api_usage_used, connection.api_usage_max) == (750, 15000)


@responses.activate
def test_manage_page_reports_a_failing_live_check(owner_client, connection):
    responses.get(
        f"{V}/limits/",
        status=401,
        json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    responses.post(
        f"{LOGIN}/services/oauth2/token",
        status=400,
        json={"error": "invalid_grant", "error_description": "expired access/refresh token"},
    )

    html = owner_client.get(reverse("integrations:salesforce_manage", args=[connection.pk])).content.decode()

    assert "<strong>Not working.</strong>" in html
    assert "Salesforce refused the refresh token: invalid_grant (expired access/refresh token)" in html
    connection.refresh_from_db()
    assert connection.status == "needs_reauth"


def test_needs_reauth_puts_a_banner_with_reconnect_on_every_page(owner_client, make_connection, workspace):
    connection = make_connection(
        workspace,
        status=Connection.Status.NEEDS_REAUTH,
        status_reason="Salesforce refused the refresh token: invalid_grant (expired access/refresh token)",
    )

    for url in (reverse("cdp:dashboard"), reverse("integrations:sources")):
        html = owner_client.get(url).content.decode()
        assert (
            "Salesforce (admin@acme.example) needs to be reconnected: Salesforce refused the refresh token: "
            "invalid_grant (expired access/refresh token) Syncing from this org is paused until you reconnect."
        ) in html
        assert f'href="/sources/salesforce/{connection.pk}/reconnect/">Reconnect</a>' in html


def test_no_banner_when_everything_is_connected(owner_client, connection):
    assert "needs to be reconnected" not in owner_client.get(reverse("cdp:dashboard")).content.decode()


@responses.activate
def test_disconnect_revokes_at_salesforce_and_keeps_settings(owner_client, connection):
    revoke = responses.post(f"{LOGIN}/services/oauth2/revoke", status=200)
    Connection.objects.filter(pk=connection.pk).update(schedule_interval_minutes=15)

    confirm = owner_client.get(
        reverse("integrations:salesforce_disconnect", args=[connection.pk])
    ).content.decode()
    response = owner_client.post(
        reverse("integrations:salesforce_disconnect", args=[connection.pk]), follow=True
    )

    assert "Disconnect admin@acme.example?" in confirm
    html = response.content.decode()
    assert "Disconnected admin@acme.example. The authorization was revoked at Salesforce" in html
    assert revoke.calls[0].request.body == "token=5Aep.refresh-0"
    connection.refresh_from_db()
    assert connection.status == "disconnected"
    assert (connection.access_token_encrypted, connection.refresh_token_encrypted) == ("", "")
    assert connection.schedule_interval_minutes == 15
    assert len(responses.calls) == 1  # no live check on a disconnected connection


@responses.activate
def test_disconnect_when_salesforce_refuses_leaves_the_connection(owner_client, connection):
    responses.post(
        f"{LOGIN}/services/oauth2/revoke",
        status=400,
        json={"error": "unsupported_token_type", "error_description": "Token type not supported"},
    )
    responses.get(f"{V}/limits/", json={})

    response = owner_client.post(
        reverse("integrations:salesforce_disconnect", args=[connection.pk]), follow=True
    )

    assert (
        "Salesforce could not revoke the authorization (Token type not supported)"
        in response.content.decode()
    )
    connection.refresh_from_db()
    assert connection.status == "connected" and connection.refresh_token == "5Aep.refresh-0"


def test_delete_requires_disconnect_first(owner_client, connection):
    html = owner_client.get(reverse("integrations:salesforce_delete", args=[connection.pk])).content.decode()
    response = owner_client.post(
        reverse("integrations:salesforce_delete", args=[connection.pk]), {"confirm": connection.org_id}
    )

    assert "Disconnect this connection first" in html
    assert "Disconnect this Salesforce connection before deleting it." in response.content.decode()
    assert Connection.objects.filter(pk=connection.pk).exists()


def test_delete_names_what_is_removed_and_needs_the_org_id(owner_client, make_connection, workspace):
    from integrations.models import FieldSelection, SyncedObject

    connection = make_connection(
        workspace, status=Connection.Status.DISCONNECTED, access_token="", refresh_token=""
    )
    synced = SyncedObject.objects.create(
        workspace=workspace, connection=connection, api_name="Contact", label="Contact"
    )
    FieldSelection.objects.create(synced_object=synced, sf_field="Email")
    FieldSelection.objects.create(synced_object=synced, sf_field="FirstName")
    url = reverse("integrations:salesforce_delete", args=[connection.pk])

    html = owner_client.get(url).content.decode()
    wrong = owner_client.post(url, {"confirm": "00DWRONG"})
    right = owner_client.post(url, {"confirm": connection.org_id}, follow=True)

    assert "the connection to org <code>00D5e000000AbCdEAF</code>" in html
    assert "<li>1 synced objects</li>" in html and "<li>2 field selections</li>" in html
    assert "That is not this connection&#x27;s org id; nothing was deleted." in wrong.content.decode()
    assert (
        "Deleted the Salesforce connection admin@acme.example (00D5e000000AbCdEAF)." in right.content.decode()
    )
    assert not Connection.objects.filter(pk=connection.pk).exists()
    assert not SyncedObject.objects.filter(pk=synced.pk).exists()


def test_healthz_reports_connections_by_status(client, make_connection, workspace, settings):
    make_connection(workspace, status=Connection.Status.NEEDS_REAUTH)
    settings.HEALTHZ_TOKEN = "monitor-token"  # noqa: S105 - a test token

    body = client.get(reverse("healthz"), HTTP_AUTHORIZATION="Bearer monitor-token").json()

    assert body["salesforce"]["connections"] == {
        "connected": 0,
        "needs_reauth": 1,
        "paused": 0,
        "disconnected": 0,
    }
    assert "1 Salesforce connection(s) need reconnecting" in body["problems"]


def test_manage_page_of_a_connection_needing_reauth_asks_to_reconnect(
    owner_client, make_connection, workspace
):
    connection = make_connection(
        workspace,
        status=Connection.Status.NEEDS_REAUTH,
        status_reason="Salesforce refused the refresh token: invalid_grant",
    )

    html = owner_client.get(reverse("integrations:salesforce_manage", args=[connection.pk])).content.decode()

    assert "<strong>Needs reconnecting.</strong> Salesforce refused the refresh token: invalid_grant" in html
    assert "Salesforce refused Inflow's refresh token: reconnect to restore access." in html


def test_sources_shows_why_a_connection_is_not_connected(owner_client, make_connection, workspace):
    make_connection(
        workspace,
        status=Connection.Status.NEEDS_REAUTH,
        status_reason="Salesforce refused the refresh token: invalid_grant (expired access/refresh token)",
    )

    html = owner_client.get(reverse("integrations:sources")).content.decode()

    assert (
        '<div class="small text-body-secondary">Salesforce refused the refresh token: invalid_grant '
        "(expired access/refresh token)</div>"
    ) in html
