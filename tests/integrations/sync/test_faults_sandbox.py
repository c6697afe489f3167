"""Faults injected into the sandbox org mid-run: each run ends with nothing lost and nothing duplicated.

The reference is a clean run's CDP (cached per session); every scenario must end with the same snapshot.
"""

from __future__ import annotations

import pytest

from cdp.models import Activity, Organization, Person
from integrations.models import Connection, SourceRecord, SyncError, SyncRun
from integrations.salesforce import tasks
from integrations.salesforce.engine.runner import run_sync
from tests.integrations.sync.conftest import connect, select_objects

pytestmark = pytest.mark.django_db

OBJECTS = ("Account", "Contact", "Lead", "Campaign", "CampaignMember", "Task")
_reference: dict = {}


def snapshot(workspace) -> dict:
    people = sorted(
        (
            p.email_key or "",
            p.first_name,
            p.last_name,
            p.phone,
            p.city,
            p.email_permission,
            p.organization.name if p.organization else "",
            p.archived_at is None,
            sorted(p.values.items()),
        )
        for p in Person.objects.filter(workspace=workspace).select_related("organization")
    )
    orgs = sorted(
        (o.name, o.website, o.archived_at is None) for o in Organization.objects.filter(workspace=workspace)
    )
    activities = sorted(
        (
            a.definition.activity_id,
            a.occurred_at.isoformat(),
            a.person.email_key or a.person.last_name,
            sorted(a.attributes.items()),
        )
        for a in Activity.objects.filter(workspace=workspace).select_related("definition", "person")
    )
    sources = sorted(
        (s.object_name, s.sf_id, s.hash, s.deleted)
        for s in SourceRecord.objects.filter(connection__workspace=workspace)
    )
    return {"people": people, "organizations": orgs, "activities": activities, "sources": sources}


def stable_people(workspace) -> list:
    """Each person's source records, and the values of the people only one record feeds."""
    from cdp.models import Identity

    idents: dict[int, list] = {}
    for person_id, obj, ext in Identity.objects.filter(workspace=workspace, person__isnull=False).values_list(
        "person_id", "object", "external_id"
    ):
        idents.setdefault(person_id, []).append((obj, ext))
    out = []
    for p in Person.objects.filter(workspace=workspace):
        keys = sorted(idents.get(p.pk, []))
        values = (p.email_key, p.first_name, p.city, sorted(p.values.items())) if len(keys) == 1 else None
        out.append((keys, values))
    return sorted(out, key=repr)


def start(connection, **kwargs):
    run, _ = tasks.sync_request(connection=connection, enqueue=False, respect_budget_pause=False, **kwargs)
    return run


def reference(org, make_workspace, sf_settings):
    if "clean" not in _reference:
        ws = make_workspace(name="Reference")
        connection = connect(ws, org)
        select_objects(connection, OBJECTS)
        run = run_sync(start(connection).pk)
        assert run.state == "succeeded"
        _reference["clean"] = snapshot(ws)
        _reference["stable_people"] = stable_people(ws)
        _reference["api_calls"] = run.api_calls
    return _reference["clean"]


def after_rows(n, action):
    """A progress callback that runs `action` once, as soon as n rows are committed."""
    seen = {"done": False}

    def callback(run):
        if run.fetched >= n and not seen["done"]:
            seen["done"] = True
            action()

    return callback


@pytest.fixture
def setup(sandbox_org, sf_settings, make_workspace, workspace, settings):
    expected = reference(sandbox_org, make_workspace, sf_settings)
    settings.SYNC_BUDGET_RETRY_MINUTES = 0
    connection = connect(workspace, sandbox_org)
    select_objects(connection, OBJECTS)
    return sandbox_org, connection, expected


def finish(connection):
    """Whatever state the faulted run left, the next run completes the sync."""
    run = run_sync(start(connection).pk)
    assert (run.state, run.state_reason) == ("succeeded", "")
    return run


def test_access_token_expiry_mid_run_refreshes_once_and_loses_nothing(setup, workspace):
    org, connection, expected = setup
    run = run_sync(
        start(connection).pk, progress=after_rows(80, lambda: org.faults(expire_access_tokens=True))
    )
    assert (run.state, run.state_reason) == ("succeeded", "")
    connection.refresh_from_db()
    assert connection.refresh_count == 1
    assert snapshot(workspace) == expected


def test_revoked_refresh_token_stops_the_run_and_a_reconnect_resumes_it(setup, workspace):
    org, connection, expected = setup
    revoke = lambda: org.faults(expire_access_tokens=True, revoke_refresh_tokens=True)  # noqa: E731
    run = run_sync(start(connection).pk, progress=after_rows(80, revoke))

    assert run.state == "failed" and run.state_reason.startswith("needs reconnecting")
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    assert SyncError.objects.filter(run=run, error_type="auth").count() == 1
    skipped = start(connection)
    assert skipped.state == "skipped" and "needs reconnecting" in skipped.state_reason.lower()

    token = org.token()  # the user reconnects
    connection.set_tokens(access_token=token["access_token"], refresh_token=token["refresh_token"])
    connection.status, connection.status_reason = Connection.Status.CONNECTED, ""
    connection.save()
    finish(connection)
    assert snapshot(workspace) == expected


def test_api_limit_reached_pauses_and_resumes_from_the_checkpoint(setup, workspace):
    org, connection, expected = setup
    connection.api_budget_percent = 100  # so it is Salesforce's own REQUEST_LIMIT_EXCEEDED that stops the run
    connection.save()
    used, _ = org.api_usage()
    org.faults(api_limit=used + 12)  # the org's daily limit runs out mid-run

    run = run_sync(start(connection).pk)

    assert run.state == "paused" and run.state_reason.startswith("paused: API budget")
    assert Person.objects.filter(workspace=workspace).exists()
    org.faults(api_limit=1_000_000)
    finish(connection)
    assert snapshot(workspace) == expected


def test_503s_are_retried(setup, workspace):
    org, connection, expected = setup
    run = run_sync(
        start(connection).pk, progress=after_rows(60, lambda: org.faults(fail_next=2, fail_status=503))
    )
    assert (run.state, run.state_reason) == ("succeeded", "")
    assert snapshot(workspace) == expected


def test_an_outage_longer_than_the_retry_window_pauses_and_the_run_after_the_pause_resumes(
    setup, workspace, settings
):
    org, connection, expected = setup
    settings.SYNC_OUTAGE_RETRY_SECONDS = 1
    settings.SYNC_OUTAGE_PAUSE_SECONDS = 600
    run = run_sync(start(connection).pk, progress=after_rows(60, lambda: org.faults(unreachable_seconds=8)))

    assert (run.state, run.reason_code) == ("paused", SyncRun.ReasonCode.SALESFORCE_UNREACHABLE)
    assert run.resume_after is not None and "resumes from the last saved page" in run.state_reason
    # Ticks before the pause ends wait (and say so); no reconcile interleaves with the unfinished backfill.
    waiting, created = tasks.sync_request(connection=connection, enqueue=False)
    assert (waiting.state, waiting.reason_code, created) == ("skipped", "salesforce_unreachable", False)
    assert f"after run #{run.pk} paused" in waiting.state_reason
    SyncRun.objects.filter(pk=run.pk).update(resume_after=run.finished_at)  # the pause is over
    org.reset_faults()
    reconcile, _ = tasks.sync_request(connection=connection, kind=SyncRun.Kind.RECONCILE, enqueue=False)
    assert reconcile.kind == SyncRun.Kind.INITIAL
    resumed = run_sync(reconcile.pk)
    assert (resumed.state, resumed.reason_code) == ("succeeded", "")
    assert snapshot(workspace) == expected


def test_query_timeout_that_persists_pauses_at_the_checkpoint_and_the_next_run_resumes(
    setup, workspace, settings
):
    org, connection, expected = setup
    settings.SYNC_QUERY_TIMEOUT_WAIT_SECONDS = 3
    org.faults(query_timeout=["Task"])

    run = run_sync(start(connection).pk)

    # The run never moves past data it did not read: it pauses at Task's checkpoint and says so.
    assert (run.state, run.reason_code) == ("paused", SyncRun.ReasonCode.QUERY_TIMEOUT)
    assert "timed out reading Task" in run.state_reason
    task = connection.synced_objects.get(api_name="Task")
    assert task.backfill_completed_at is None and task.watermark_modstamp is None
    assert (
        SyncError.objects.filter(run=run, object_name="Task", message__contains="QUERY_TIMEOUT").count() == 1
    )
    org.reset_faults()
    finish(connection)
    assert snapshot(workspace) == expected


@pytest.mark.parametrize("path", ["rest", "bulk"])
def test_a_query_timeout_burst_mid_backfill_is_ridden_out_and_loses_nothing(setup, workspace, settings, path):
    """The org answers QUERY_TIMEOUT to every query for 20 s in the middle of the Contact backfill: the
    same run waits it out and completes, and the CDP equals a clean run's."""
    org, connection, expected = setup
    if path == "bulk":
        settings.SYNC_BULK_THRESHOLD = 50
        settings.SYNC_BULK_MAX_RECORDS = 70
    org.faults(short_page_size=40)  # several pages per object: the burst starts mid-object
    burst = lambda: org.faults(query_timeout_seconds=20)  # noqa: E731

    run = run_sync(start(connection).pk, progress=after_rows(60, burst))

    assert (run.state, run.reason_code, run.state_reason) == ("succeeded", "", "")
    assert run.seconds >= 15, "the burst was met and waited out"
    if path == "bulk":
        assert {k: v for k, v in snapshot(workspace).items() if k != "people"} == {
            k: v for k, v in expected.items() if k != "people"
        }
        assert stable_people(workspace) == _reference["stable_people"]
    else:
        assert snapshot(workspace) == expected


def test_expired_locator_requeries_from_the_checkpoint(setup, workspace):
    org, connection, expected = setup
    org.faults(short_page_size=40)  # several pages per object, so a locator is live mid-object (40 accounts)
    run = run_sync(start(connection).pk, progress=after_rows(80, lambda: org.faults(expire_locators=True)))
    assert (run.state, run.state_reason) == ("succeeded", "")
    assert (
        SyncError.objects.filter(run=run, message__contains="re-reading from the last saved page").count()
        == 1
    )
    assert snapshot(workspace) == expected


def test_malformed_page_is_reported_and_reread(setup, workspace):
    org, connection, expected = setup
    run = run_sync(start(connection).pk, progress=after_rows(60, lambda: org.faults(malformed_next=1)))
    assert (run.state, run.state_reason) == ("succeeded", "")
    assert SyncError.objects.filter(run=run, error_type="malformed").count() == 1
    assert snapshot(workspace) == expected
    assert SyncRun.objects.filter(connection=connection).count() == 1


class Crash(BaseException):
    """Stands in for the worker dying: nothing after it runs, nothing is cleaned up."""


def test_bulk_backfill_resumes_its_job_after_a_crash_and_equals_the_rest_sync(setup, workspace, settings):
    org, connection, expected = setup
    settings.SYNC_BULK_THRESHOLD = 50  # every object above 50 rows goes through Bulk API 2.0
    settings.SYNC_BULK_MAX_RECORDS = 70  # several result pages per job, so the locator matters
    settings.SYNC_HEARTBEAT_STALE_SECONDS = 0
    before = org.request_log()

    def crash():
        raise Crash()

    run = start(connection)
    with pytest.raises(Crash):
        run_sync(run.pk, progress=after_rows(150, crash))
    run.refresh_from_db()
    assert run.state == "running"  # as a SIGKILLed worker leaves it
    contact = connection.synced_objects.get(api_name="Contact")
    checkpoint = contact.checkpoint or connection.synced_objects.get(api_name="Account").checkpoint
    assert checkpoint.get("job_id")

    joined, created = tasks.sync_request(connection=connection, enqueue=False)
    assert (joined.pk, created) == (run.pk, False)
    resumed = run_sync(run.pk)

    assert (resumed.state, resumed.state_reason, resumed.attempts) == ("succeeded", "", 2)
    got = snapshot(workspace)
    # Bulk rows arrive unordered across result pages, so when several records merge into one person the
    # last one applied may differ from REST's modstamp order; everything else is identical.
    assert {k: v for k, v in got.items() if k != "people"} == {
        k: v for k, v in expected.items() if k != "people"
    }
    assert stable_people(workspace) == _reference["stable_people"]
    log = org.request_log()
    created_jobs = log.get("bulkJobs", 0) - before.get("bulkJobs", 0)
    assert all(not o.checkpoint for o in connection.synced_objects.all())
    # One job per object above the threshold: the resumed run reused the crashed run's job.
    big = [n for n, c in org.counts().items() if n in OBJECTS and c > 50]
    assert created_jobs == len(big), log
