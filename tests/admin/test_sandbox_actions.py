"""Admin actions that talk to Salesforce, against the real sandbox org over HTTP (nothing mocked)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from cdp.models import Person
from integrations import alerts
from integrations.models import Connection, SyncError, SyncRun
from integrations.salesforce import oauth, tasks
from integrations.salesforce.errors import SalesforceOAuthError
from tests.admin.conftest import messages_of, run_action
from tests.integrations.sync.conftest import connect, select_objects

pytestmark = pytest.mark.django_db


def test_sync_now_runs_on_the_worker_and_the_admin_shows_the_run(
    staff_client, workspace, sandbox_org, sf_settings
):
    connection = connect(workspace, sandbox_org)
    select_objects(connection, ("Account", "Contact"))

    response = run_action(staff_client, Connection, "sync_now", [connection.pk])
    run = SyncRun.objects.get()
    assert messages_of(response) == [
        f"Sync of demo@inflow.local ({connection.org_id}): run #{run.pk} queued."
    ]

    tasks.run_sync_task(run.pk)  # what the qcluster worker does with the queued task

    run.refresh_from_db()
    # queryAll reads deleted rows too (they archive what they had created).
    expected = sum(len(sandbox_org.records(name, include_deleted=True)) for name in ("Account", "Contact"))
    assert (run.state, run.kind) == ("succeeded", "initial")
    assert run.fetched == expected
    assert Person.objects.filter(workspace=workspace).count() > 0
    html = staff_client.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert f"{run.fetched:,}".replace(",", "") in html.replace(",", "")
    assert "Succeeded" in html and "100%" in html
    health = staff_client.get(reverse("admin:integrations_connection_sync_health_one", args=[connection.pk]))
    text = health.content.decode()
    assert "<svg" in text and f"run {run.pk} (initial sync, succeeded): {run.fetched} records" in text
    # The seeded org has contacts with malformed emails: one group, its fix, each affected record.
    bad = sorted(r["Id"] for r in sandbox_org.records("Contact") if r.get("Email") and _bad_email(r["Email"]))
    assert len(bad) >= 2
    assert f"<strong>Value could not be mapped</strong> — {len(bad)} errors, {len(bad)} records" in text
    assert "Map the Salesforce field to a CDP field of the same type" in text
    for sf_id in bad:
        assert f"<code>Contact</code> {sf_id}" in text


def _bad_email(email: str) -> bool:
    """The CDP's own email check (cdp.fields), which the merge applies."""
    from cdp.fields import FieldValueError, convert_email

    try:
        convert_email(email)
    except FieldValueError:
        return True
    return False


def test_refresh_token_refreshes_at_the_org(staff_client, workspace, sandbox_org, sf_settings):
    connection = connect(workspace, sandbox_org)
    old = connection.access_token

    response = run_action(staff_client, Connection, "refresh_token", [connection.pk])

    connection.refresh_from_db()
    assert connection.refresh_count == 1 and connection.last_refreshed_at is not None
    assert connection.access_token != old
    [message] = messages_of(response)
    assert message.startswith(f"Refreshed the access token of demo@inflow.local ({connection.org_id}) at ")


def test_a_refused_refresh_marks_needs_reauth_and_the_owner_is_emailed_once(
    staff_client, workspace, owner, make_sandbox_org, sf_settings
):
    org = make_sandbox_org()
    connection = connect(workspace, org)
    org.faults(revoke_refresh_tokens=True)

    response = run_action(staff_client, Connection, "refresh_token", [connection.pk])

    connection.refresh_from_db()
    assert connection.status == "needs_reauth"
    assert messages_of(response) == [
        f"Salesforce refused the refresh token of demo@inflow.local ({connection.org_id}) (Salesforce refused the "
        "refresh token: invalid_grant (expired access/refresh token)); the connection now needs reconnecting and "
        "its owners will be emailed."
    ]
    assert alerts.reauth_alerts_send() == 1
    assert alerts.reauth_alerts_send() == 0
    [email] = mail.outbox
    assert email.to == [owner.email]
    assert email.subject == "Reconnect Salesforce to Acme on Inflow"
    assert "invalid_grant (expired access/refresh token)" in email.body
    assert reverse("integrations:salesforce_reconnect", args=[connection.pk]) in email.body
    # Resuming it is refused, with the reason, and changes nothing.
    response = run_action(staff_client, Connection, "resume", [connection.pk])
    assert "it needs reconnecting" in messages_of(response)[0]
    assert Connection.objects.get(pk=connection.pk).status == "needs_reauth"


def test_disconnect_after_confirmation_revokes_the_token_at_the_org(
    staff_client, workspace, sandbox_org, sf_settings, django_capture_on_commit_callbacks
):
    connection = connect(workspace, sandbox_org)
    tasks.schedule_ensure(connection_id=connection.pk)
    refresh_token = connection.refresh_token

    # The disconnect service removes the schedules once its transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff_client, Connection, "disconnect", [connection.pk], confirm="yes")

    connection.refresh_from_db()
    assert (connection.status, connection.refresh_token_encrypted, connection.access_token_encrypted) == (
        "disconnected",
        "",
        "",
    )
    assert messages_of(response) == [
        f"Disconnected demo@inflow.local ({connection.org_id}): the token was revoked at Salesforce; "
        "synced data and settings are kept."
    ]
    with pytest.raises(SalesforceOAuthError) as raised:
        oauth.refresh(login_url=sandbox_org.url, refresh_token=refresh_token)
    assert raised.value.error == "invalid_grant"
    from django_q.models import Schedule

    assert not Schedule.objects.filter(name__contains=f"-{connection.pk}").exists()
    # A second disconnect explains that there is nothing to do.
    response = run_action(staff_client, Connection, "disconnect", [connection.pk], confirm="yes")
    assert "it is disconnected" in messages_of(response)[0]


def test_retry_rereads_the_records_and_resolves_errors_that_now_sync(
    staff_client, workspace, sandbox_org, sf_settings
):
    connection = connect(workspace, sandbox_org)
    select_objects(connection, ("Account", "Contact"))
    contacts = sandbox_org.records("Contact")
    contact = next(r for r in contacts if r.get("Email") and not _bad_email(r["Email"]))
    broken = next(r for r in contacts if r.get("Email") and _bad_email(r["Email"]))
    error = SyncError.objects.create(
        workspace=workspace,
        connection=connection,
        object_name="Contact",
        sf_id=contact["Id"],
        error_type=SyncError.Type.INVALID,
        message="Email is not valid",
        retryable=True,
    )
    still = SyncError.objects.create(
        workspace=workspace,
        connection=connection,
        object_name="Contact",
        sf_id=broken["Id"],
        error_type=SyncError.Type.MAPPING,
        message="Email is not valid",
        retryable=True,
    )
    stuck = SyncError.objects.create(
        workspace=workspace,
        connection=connection,
        object_name="Contact",
        sf_id="",
        error_type=SyncError.Type.FIELD_DELETED,
        message="Contact.Gone__c no longer exists",
        retryable=False,
    )

    response = run_action(staff_client, SyncError, "retry_errors", [error.pk, still.pk, stuck.pk])

    assert messages_of(response) == [
        "Re-read 2 record(s) from Salesforce; 1 error(s) resolved.",
        "1 error(s) cannot be retried (no record to re-read, or the fix is in Salesforce or in the field "
        "selection); they stay open until ignored.",
    ]
    error.refresh_from_db()
    stuck.refresh_from_db()
    still.refresh_from_db()
    assert (error.resolved, still.resolved, stuck.resolved) == (True, False, False)
    assert Person.objects.filter(workspace=workspace, identities__external_id=contact["Id"]).count() == 1
