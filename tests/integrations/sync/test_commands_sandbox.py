"""The operator's commands against the sandbox org: preview, inline sync with progress, status, errors."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cdp.models import Person
from integrations.models import SyncError, SyncRun
from tests.integrations.sync.conftest import connect, select_objects

pytestmark = pytest.mark.django_db


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_preview_counts_without_writing_then_inline_sync_status_and_errors(
    sandbox_org, sf_settings, workspace
):
    connection = connect(workspace, sandbox_org)
    select_objects(connection, ("Account", "Contact", "Lead"))

    out, _ = call("sync_salesforce", "--connection", str(connection.pk), "--preview")

    assert "preview under 'Import and overwrite any records that exist' (nothing written)" in out
    contact_line = next(line for line in out.splitlines() if line.strip().startswith("Contact"))
    read, created = contact_line.split()[1:3]
    assert int(read.replace(",", "")) == sandbox_org.counts()["Contact"]
    assert int(created.replace(",", "")) > 0
    assert (Person.objects.count(), SyncRun.objects.count()) == (0, 0)

    out, err = call("sync_salesforce", "--connection", str(connection.pk), "--inline")

    run = SyncRun.objects.get()
    assert f"run #{run.pk} succeeded" in out and f"created {run.created:,}" in out
    assert "records" in err and "rec/s" in err  # the progress bar
    assert Person.objects.count() > 0

    out, _ = call("sync_status", "--connection", str(connection.pk))
    assert f"latest run #{run.pk} initial succeeded" in out
    assert "Contact" in out and "watermark" in out

    open_errors = SyncError.objects.filter(resolved=False).count()
    assert open_errors > 0  # the seed has bad emails
    out, _ = call("sync_errors", "--connection", str(connection.pk))
    assert f"Connection {connection.pk}: {open_errors} open error(s)" in out
    assert "[mapping] Contact" in out and "fix: " in out
    out, _ = call("sync_errors", "--connection", str(connection.pk), "--ignore")
    assert f"{open_errors} error(s) ignored." in out
    assert SyncError.objects.filter(resolved=False).count() == 0

    with pytest.raises(CommandError, match="Unknown error type 'nope'"):
        call("sync_errors", "--type", "nope")
    with pytest.raises(CommandError, match="Not selected for sync on connection"):
        call("sync_salesforce", "--connection", str(connection.pk), "--object", "Loan__c")


def test_sync_schedules_is_idempotent(plain_connection):
    from django_q.models import Schedule

    call("sync_schedules")
    out, _ = call("sync_schedules")
    assert "1 connection(s) scheduled." in out
    assert sorted(Schedule.objects.values_list("name", "func")) == [
        (f"salesforce-reconcile-{plain_connection.pk}", "integrations.salesforce.tasks.scheduled_reconcile"),
        (f"salesforce-sync-{plain_connection.pk}", "integrations.salesforce.tasks.scheduled_sync"),
    ]
