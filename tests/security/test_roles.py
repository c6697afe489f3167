"""Finding 5: only connect, disconnect and delete checked owner/admin; a plain member could change sync
settings and the schedule, run a sync, retry or ignore errors and edit the workspace's settings. Now
members read; owners and admins change and run; owners manage members (invite by email, set roles)."""

from __future__ import annotations

import html
import re

import pytest
from django.core import mail
from django.urls import reverse

from cdp.models import Membership
from integrations.models import Connection, SyncError, SyncRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_role(client, workspace, make_user):
    def sign_in(role: str):
        user = make_user()
        Membership.objects.create(workspace=workspace, user=user, role=role)
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def open_error(connection):
    return SyncError.objects.create(
        workspace=connection.workspace,
        connection=connection,
        object_name="Contact",
        sf_id="003000000000001AAA",
        error_type=SyncError.Type.MAPPING,
        message="Bad value",
    )


def _writes(connection, error):
    source = f"/sources/salesforce/{connection.pk}"
    return [
        (f"{source}/sync-now/", {}),
        (f"{source}/schedule/", {"schedule_interval_minutes": "60", "api_budget_percent": "10"}),
        (f"{source}/merge/", {"merge_strategy": "overwrite"}),
        (f"{source}/fields/", {}),
        (f"{source}/health/errors/", {"action": "ignore", "ids": [str(error.pk)]}),
        (f"{source}/health/errors/", {"one": f"retry:{error.pk}"}),
        ("/settings/address/", {"address_line1": "1 Main St", "city": "X", "country": "US"}),
        ("/onboarding/business/", {"business_type": "b2c", "crm": "other"}),
        (f"/sources/salesforce/{connection.pk}/disconnect/", {}),
    ]


def test_a_member_is_refused_every_write_and_nothing_changes(as_role, connection, open_error):
    client = as_role("member")
    for url, data in _writes(connection, open_error):
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Only the workspace's owners and admins can change this" in html.unescape(
            response.content.decode()
        )
    connection.refresh_from_db()
    assert connection.schedule_interval_minutes == Connection.ScheduleInterval.EVERY_5_MINUTES
    assert connection.status == Connection.Status.CONNECTED
    assert SyncRun.objects.count() == 0
    open_error.refresh_from_db()
    assert not open_error.resolved


def test_a_member_reads_every_page_without_write_buttons(as_role, connection, open_error):
    client = as_role("member")
    source = f"/sources/salesforce/{connection.pk}"
    overview = client.get(f"{source}/").content.decode()
    assert "Sync now" not in overview
    health = client.get(f"{source}/health/").content.decode()
    assert "Bad value" in health and "Export chosen (CSV)" in health
    assert "Retry" not in health and "Ignore" not in health
    schedule = client.get(f"{source}/schedule/").content.decode()
    assert "Save changes" not in schedule and "Only the workspace's owners and admins" in html.unescape(
        schedule
    )
    manage = client.get(f"/sources/salesforce/{connection.pk}/authorization/").content.decode()
    assert "Disconnect" not in manage and "Reconnect" not in manage
    # Exporting reads: allowed.
    export = client.post(f"{source}/health/errors/", {"action": "export", "ids": [str(open_error.pk)]})
    assert export.status_code == 200 and "Bad value" in export.content.decode()


def test_an_admin_changes_the_schedule_runs_a_sync_and_ignores_an_error(as_role, connection, open_error):
    client = as_role("admin")
    source = f"/sources/salesforce/{connection.pk}"
    assert "Sync now" in client.get(f"{source}/").content.decode()
    response = client.post(
        f"{source}/schedule/", {"schedule_interval_minutes": "60", "api_budget_percent": "10"}
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.schedule_interval_minutes == 60
    assert client.post(f"{source}/sync-now/").status_code == 302
    client.post(f"{source}/health/errors/", {"one": f"ignore:{open_error.pk}"})
    open_error.refresh_from_db()
    assert open_error.resolved
    assert client.get(reverse("cdp:members")).status_code == 403  # members are the owners'


def test_an_owner_invites_someone_new_who_sets_a_password_and_reads(owner_client, workspace, client):
    page = owner_client.get(reverse("cdp:members"))
    assert page.status_code == 200 and "Invite someone" in page.content.decode()
    response = owner_client.post(
        reverse("cdp:members"), {"invite": "1", "email": "New.Person@Acme.example", "role": "member"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(workspace=workspace, user__email="new.person@acme.example")
    assert membership.role == "member"
    [email] = mail.outbox
    assert email.to == ["new.person@acme.example"]
    link = re.search(
        r"Choose your password to start: \S*(/accounts/password/reset/key/\S+)", email.body
    ).group(1)

    owner_client.logout()
    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0] if form.redirect_chain else link
    done = client.post(
        set_url, {"password1": "a-new-long-password-77", "password2": "a-new-long-password-77"}, follow=True
    )
    assert done.status_code == 200
    assert client.login(username="new.person@acme.example", password="a-new-long-password-77")


def test_an_owner_sets_roles_and_keeps_an_owner(owner_client, owner, workspace, make_user):
    other = make_user(email="colleague@acme.example")
    owner_client.post(reverse("cdp:members"), {"invite": "1", "email": other.email, "role": "member"})
    colleague = Membership.objects.get(workspace=workspace, user=other)
    assert "Choose your password" not in mail.outbox[0].body  # an existing account signs in

    owner_client.post(reverse("cdp:members"), {"membership": colleague.pk, "role": "admin"})
    colleague.refresh_from_db()
    assert colleague.role == "admin"

    mine = Membership.objects.get(workspace=workspace, user=owner)
    response = owner_client.post(
        reverse("cdp:members"), {"membership": mine.pk, "role": "member"}, follow=True
    )
    assert "A workspace needs an owner" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == "owner"


def test_roles_of_another_workspace_cannot_be_set(owner_client, make_workspace):
    elsewhere = make_workspace(name="Globex")
    theirs = elsewhere.memberships.get()
    response = owner_client.post(
        reverse("cdp:members"), {"membership": theirs.pk, "role": "member"}, follow=True
    )
    assert "not a member of this workspace" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.role == "owner"
