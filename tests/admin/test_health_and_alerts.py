"""/healthz (its detail, read by staff) flips on needs_reauth and stuck runs; owners are emailed once per lost authorization;
the Sync health pages put connections needing reconnection first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from integrations import alerts, services
from integrations.models import Connection, ConnectionAlert, SyncError, SyncRun

pytestmark = pytest.mark.django_db


def test_healthz_flips_when_a_connection_needs_reauthorization(staff_client, connection):
    body = staff_client.get(reverse("healthz")).json()
    assert (body["status"], body.get("problems")) == ("ok", None)
    assert body["salesforce"]["connections"]["needs_reauth"] == 0

    services.connection_mark_needs_reauth(
        connection=connection, reason="invalid_grant (expired access/refresh token)"
    )

    response = staff_client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200  # the app is up; the body says what is wrong
    assert body["status"] == "degraded"
    assert body["problems"] == ["1 Salesforce connection(s) need reconnecting"]
    assert body["salesforce"]["connections"]["needs_reauth"] == 1


def test_healthz_reports_runs_stuck_past_their_heartbeat(staff_client, connection, settings):
    settings.SYNC_HEARTBEAT_STALE_SECONDS = 300
    now = timezone.now()
    alive = SyncRun.objects.create(
        workspace=connection.workspace,
        connection=connection,
        kind="incremental",
        state="succeeded",
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
    )
    settings.SYNC_QUEUED_STALE_SECONDS = 600
    assert staff_client.get(reverse("healthz")).json()["sync_runs"] == {
        "stuck": 0,
        "queued_too_long": 0,
        "stale_after_seconds": 300,
        "queued_after_seconds": 600,
    }

    stuck = SyncRun.objects.create(
        workspace=connection.workspace,
        connection=connection,
        kind="incremental",
        state="running",
        worker="web-2:4242",
        started_at=now - dt.timedelta(hours=1),
        heartbeat_at=now - dt.timedelta(minutes=6),
    )

    body = staff_client.get(reverse("healthz")).json()
    assert body["status"] == "degraded"
    assert body["sync_runs"]["stuck"] == 1
    assert body["problems"] == [f"1 sync run(s) stuck past their heartbeat: #{stuck.pk}"]
    assert alive.pk != stuck.pk


def test_healthz_and_sync_health_report_runs_queued_too_long(client, staff_client, connection, settings):
    """A queued run no worker claimed (its task lost, the broker down) is reported like a stuck one."""
    settings.SYNC_QUEUED_STALE_SECONDS = 600
    now = timezone.now()
    fresh = SyncRun.objects.create(
        workspace=connection.workspace, connection=connection, kind="incremental", state="queued"
    )
    SyncRun.objects.filter(pk=fresh.pk).update(task_id="abc", enqueued_at=now - dt.timedelta(minutes=2))
    assert staff_client.get(reverse("healthz")).json()["sync_runs"]["queued_too_long"] == 0

    SyncRun.objects.filter(pk=fresh.pk).update(
        enqueued_at=now - dt.timedelta(minutes=11),
        state_reason="waiting: the task queue is unreachable; the run starts when it is back",
    )
    body = staff_client.get(reverse("healthz")).json()
    assert body["status"] == "degraded"
    assert body["sync_runs"]["queued_too_long"] == 1
    assert body["problems"] == [f"1 sync run(s) queued too long without a worker: #{fresh.pk}"]
    page = staff_client.get(reverse("admin:integrations_connection_sync_health"))
    assert f"Run #{fresh.pk}" in page.content.decode()
    assert "not claimed (waiting: the task queue is unreachable" in page.content.decode()


def test_the_owner_is_emailed_once_per_lost_authorization(connection, owner, make_user):
    from cdp.models import Membership

    member = make_user(email="member@acme.example")
    Membership.objects.create(workspace=connection.workspace, user=member, role="member")
    assert alerts.reauth_alerts_send() == 0  # connected: nothing to say

    services.connection_mark_needs_reauth(
        connection=connection, reason="Salesforce refused the refresh token"
    )
    assert alerts.reauth_alerts_send() == 1
    assert alerts.reauth_alerts_send() == 0
    [email] = mail.outbox
    assert email.to == [owner.email]  # owners only, not every member
    assert "Salesforce refused the refresh token" in email.body
    assert f"Reconnect: {reverse('integrations:salesforce_reconnect', args=[connection.pk])}" in email.body
    assert ConnectionAlert.objects.get().recipients == owner.email

    # Reconnected, then lost again: a new status change, a new email.
    Connection.objects.filter(pk=connection.pk).update(status="connected", status_changed_at=timezone.now())
    services.connection_mark_needs_reauth(connection=connection, reason="revoked again")
    assert alerts.reauth_alerts_send() == 1
    assert len(mail.outbox) == 2 and "revoked again" in mail.outbox[1].body


def test_a_mail_server_failure_is_retried_on_the_next_check(connection, owner, monkeypatch):
    services.connection_mark_needs_reauth(connection=connection, reason="invalid_grant")

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(alerts, "send_mail", refuse)
    assert alerts.reauth_alerts_send() == 0
    assert ConnectionAlert.objects.count() == 0  # not recorded as sent
    monkeypatch.undo()
    assert alerts.reauth_alerts_send() == 1
    assert len(mail.outbox) == 1


def test_ops_schedules_creates_the_alert_schedule_once(capsys):
    from django_q.models import Schedule

    call_command("ops_schedules")
    call_command("ops_schedules", "--minutes", "10")
    schedule = Schedule.objects.get(name="inflow-reauth-alerts")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "integrations.alerts.scheduled_reauth_alerts",
        Schedule.MINUTES,
        10,
    )
    assert Schedule.objects.filter(name="inflow-reauth-alerts").count() == 1
    assert "Schedule inflow-reauth-alerts: every 10 min." in capsys.readouterr().out
    with pytest.raises(CommandError, match="--minutes must be between 1 and 1440."):
        call_command("ops_schedules", "--minutes", "0")


def test_sync_health_lists_connections_needing_reauth_first(
    staff_client, make_connection, make_workspace, workspace
):
    healthy = make_connection(workspace, username="healthy@acme.example")
    lost = make_connection(
        make_workspace(name="Zeta"),
        status="needs_reauth",
        username="lost@zeta.example",
        status_reason="invalid_grant",
        api_usage_used=9000,
        api_usage_max=15000,
    )
    SyncRun.objects.create(
        workspace=lost.workspace, connection=lost, kind="incremental", state="succeeded", api_calls=42
    )
    SyncError.objects.create(
        workspace=lost.workspace,
        connection=lost,
        object_name="Lead",
        sf_id="00Q1",
        error_type="unlinked",
        message="Lead 00Q1 has no email",
    )

    html = staff_client.get(reverse("admin:integrations_connection_sync_health")).content.decode()

    assert html.index("lost@zeta.example") < html.index("healthy@acme.example")
    assert "1 connection needs reconnecting" in html
    assert "<strong>9,000</strong> of 15,000 used by the org (60.0%)" in html
    assert "budget 50% = 7,500; Inflow's runs: 42" in html
    assert "<strong>Record could not be linked to a person</strong> — 1 error, 1 record" in html
    assert "Fill it in Salesforce or check the object&#x27;s identifier rule" in html
    assert "<code>Lead</code> 00Q1" in html

    one = staff_client.get(reverse("admin:integrations_connection_sync_health_one", args=[healthy.pk]))
    text = one.content.decode()
    assert "healthy@acme.example" in text and "lost@zeta.example" not in text
    assert "No open errors: every record from Salesforce synced cleanly." in text
    assert "No sync has run yet." in text
    assert (
        staff_client.get(reverse("admin:integrations_connection_sync_health_one", args=[99999])).status_code
        == 404
    )


def test_sync_health_with_no_connection_has_an_empty_state(staff_client):
    html = staff_client.get(reverse("admin:integrations_connection_sync_health")).content.decode()
    assert "No Salesforce connection yet." in html


def test_sync_health_shows_runs_stuck_past_their_heartbeat(staff_client, connection, settings):
    settings.SYNC_HEARTBEAT_STALE_SECONDS = 300
    stuck = SyncRun.objects.create(
        workspace=connection.workspace,
        connection=connection,
        kind="initial",
        state="running",
        worker="worker-3:777",
        started_at=timezone.now(),
        heartbeat_at=timezone.now() - dt.timedelta(minutes=20),
    )

    html = staff_client.get(reverse("admin:integrations_connection_sync_health")).content.decode()

    assert "Runs stuck past their heartbeat" in html
    assert f"Run #{stuck.pk}</a> of {connection.username}" in html
    assert "on worker-3:777" in html
    assert "no heartbeat for more than 300 seconds" in html


def test_sync_health_ignores_every_error_of_one_type_in_one_click(
    staff_client, connection, make_connection, workspace
):
    other = make_connection(workspace)
    for i in range(3):
        SyncError.objects.create(
            workspace=workspace,
            connection=connection,
            object_name="Lead",
            sf_id=f"00Q{i}",
            error_type="unlinked",
            message="no email",
        )
    SyncError.objects.create(
        workspace=workspace,
        connection=connection,
        object_name="Contact",
        sf_id="003X",
        error_type="mapping",
        message="bad email",
    )
    SyncError.objects.create(
        workspace=workspace,
        connection=other,
        object_name="Lead",
        sf_id="00QY",
        error_type="unlinked",
        message="no email",
    )
    page = staff_client.get(reverse("admin:integrations_connection_sync_health_one", args=[connection.pk]))
    html = page.content.decode()
    assert "Ignore all 3" in html
    url = (
        reverse("admin:integrations_syncerror_changelist")
        + f"?resolved__exact=0&error_type__exact=unlinked&connection__id__exact={connection.pk}"
    )
    assert f'action="{url.replace("&", "&amp;")}"' in html

    first = (
        SyncError.objects.filter(connection=connection, error_type="unlinked")
        .order_by("-created_at", "-id")
        .first()
    )
    assert f'name="_selected_action" value="{first.pk}"' in html
    response = staff_client.post(
        url,
        {"action": "ignore_errors", "select_across": "1", "index": "0", "_selected_action": str(first.pk)},
        follow=True,
    )

    assert "Ignored 3 error(s); they no longer count as open." in [
        str(m) for m in response.context["messages"]
    ]
    assert sorted(SyncError.objects.filter(resolved=False).values_list("sf_id", flat=True)) == [
        "003X",
        "00QY",
    ]


def test_every_error_type_has_a_plain_language_fix():
    from integrations.sync_health import FIXES

    assert sorted(FIXES) == sorted(SyncError.Type.values)
