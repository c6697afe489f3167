"""The sync schedule belongs to the connection's lifecycle: the real OAuth callback (against the sandbox org
process) creates it, pause and needs-reconnecting remove it, resume and reconnect restore it, disconnect
(revoked at the org over HTTP) and delete remove it, a new interval re-times it. The source Overview says
what the django-q2 Schedule row says.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from integrations import services
from integrations.connection_settings import connection_settings_update
from integrations.models import SyncRun
from integrations.salesforce import tasks
from integrations.sync_selectors import sync_schedule_state
from tests.integrations.connection.test_sandbox_org import (  # noqa: F401 - fixtures
    authorize_in_sandbox,
    callback,
    connect,
    org_settings,
    start,
    web,
)

pytestmark = pytest.mark.django_db


def sync_schedule(connection) -> Schedule | None:
    return Schedule.objects.filter(name=f"salesforce-sync-{connection.pk}").first()


def schedule_names() -> set[str]:
    return set(Schedule.objects.filter(name__startswith="salesforce-").values_list("name", flat=True))


def overview_schedule(web, connection) -> str:  # noqa: F811
    html = web.get(reverse("integrations:source_overview", args=[connection.pk])).content.decode()
    start_at = html.index("data-schedule>") + len("data-schedule>")
    text = re.sub(r"<[^>]+>", "", html[start_at : html.index("</dd>", start_at)])
    return text.removesuffix("change").strip().removesuffix("·").strip()


def test_every_lifecycle_transition_creates_or_removes_the_schedule(
    web,  # noqa: F811
    workspace,
    sandbox_org,
    org_settings,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    org_settings(sandbox_org)
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect(web, sandbox_org)

    # Connected through the real callback: scheduled every 5 minutes from now, plus the daily reconcile.
    schedule = sync_schedule(connection)
    assert schedule is not None, "connecting must create the sync schedule"
    assert (schedule.func, schedule.minutes, schedule.args) == (
        "integrations.salesforce.tasks.scheduled_sync",
        5,
        f"({connection.pk},)",
    )
    assert abs(schedule.next_run - timezone.now()) < dt.timedelta(minutes=1)
    assert schedule_names() == {f"salesforce-sync-{connection.pk}", f"salesforce-reconcile-{connection.pk}"}
    # Until the onboarding starts the first sync, a tick syncs nothing (the user is still choosing fields).
    assert tasks.scheduled_sync(connection.pk) == "waiting for the first sync"
    assert not SyncRun.objects.filter(connection=connection).exists()
    assert overview_schedule(web, connection) == "Every 5 minutes, from the first sync"

    SyncRun.objects.create(
        workspace=workspace,
        connection=connection,
        kind="initial",
        state="succeeded",
        finished_at=timezone.now(),
    )
    Schedule.objects.filter(pk=schedule.pk).update(next_run=timezone.now() + dt.timedelta(minutes=4))
    assert overview_schedule(web, connection) == "Every 5 minutes · next run 3\xa0minutes from now"

    # A new interval re-times the schedule from now.
    with django_capture_on_commit_callbacks(execute=True):
        connection_settings_update(connection=connection, schedule_interval_minutes=1)
    schedule = sync_schedule(connection)
    assert schedule.minutes == 1 and schedule.next_run <= timezone.now()
    assert overview_schedule(web, connection) == "Every minute · next run due now"

    # Pause removes both schedules; the Overview says why nothing runs.
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_set_paused(connection=connection, paused=True)
    assert schedule_names() == set()
    assert overview_schedule(web, connection) == ("Not scheduled: syncing is paused; resume it to sync again")
    state = sync_schedule_state(workspace=workspace, connection=connection)
    assert (state.scheduled, state.next_run) == (False, None)

    # Resume restores them, at the interval chosen while it was paused.
    with django_capture_on_commit_callbacks(execute=True):
        connection_settings_update(connection=connection, schedule_interval_minutes=15)
    assert schedule_names() == set()
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_set_paused(connection=connection, paused=False)
    assert sync_schedule(connection).minutes == 15
    assert len(schedule_names()) == 2

    # Salesforce refusing the refresh token removes them; a reconnect through the callback restores them.
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_mark_needs_reauth(connection=connection, reason="expired")
    assert schedule_names() == set()
    assert overview_schedule(web, connection) == (
        "Not scheduled: the connection needs reconnecting to Salesforce"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = callback(
            web, authorize_in_sandbox(sandbox_org, start(web, sandbox_org, reconnect=connection))
        )
    assert response.status_code == 302
    assert sync_schedule(connection).minutes == 15

    # Disconnect (the token revoked at the org over HTTP) removes them; delete leaves none behind.
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_disconnect(connection=connection)
    assert schedule_names() == set()
    assert overview_schedule(web, connection).startswith("Not scheduled: the connection is disconnected")
    Schedule.objects.create(name=f"salesforce-sync-{connection.pk}", func="x", schedule_type=Schedule.MINUTES)
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_delete(connection=connection)
    assert schedule_names() == set()


def test_a_rolled_back_pause_keeps_the_schedule(
    web,  # noqa: F811
    sandbox_org,
    org_settings,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    org_settings(sandbox_org)
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect(web, sandbox_org)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.connection_set_paused(connection=connection, paused=True)
            raise RuntimeError("the caller's transaction fails after the pause")

    connection.refresh_from_db()
    assert connection.status == "connected"
    assert sync_schedule(connection) is not None


def test_sync_schedules_repairs_connected_connections_and_removes_the_rest(
    workspace,
    make_workspace,
    sandbox_org,
    org_settings,  # noqa: F811
):
    from django.core.management import call_command

    from tests.integrations.connection.test_sandbox_org import connect_with_token

    org_settings(sandbox_org)
    connected = connect_with_token(sandbox_org, workspace)
    paused = connect_with_token(sandbox_org, make_workspace(name="Other"))
    services.connection_set_paused(connection=paused, paused=True)  # its on-commit never runs here
    Schedule.objects.all().delete()
    Schedule.objects.create(name=f"salesforce-sync-{paused.pk}", func="x", schedule_type=Schedule.MINUTES)

    call_command("sync_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert schedule_names() == {f"salesforce-sync-{connected.pk}", f"salesforce-reconcile-{connected.pk}"}
