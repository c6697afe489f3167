"""Live updates end to end: the real sandbox org process streams change events, the real
`manage.py listen_salesforce` process applies them, and the test watches the CDP as a user would.

1,000 changes land each within 2 s of their commit at p95, with no activity twice; killing the listener or
the sandbox mid-stream and restarting loses nothing; a replay id past retention falls back to polling."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest

from cdp.models import Activity, Person
from integrations.models import ChangeStream, SyncRun
from tests.integrations.sync.conftest import connect, run_inline, select_objects
from tests.live_changes import CdpWatcher, api, latency_figures, lone_contacts, make_changes
from tests.processes import ManageProcess, process_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[3]
V = "/services/data/v62.0"
OBJECTS = ("Account", "Contact", "Lead", "Task")
FAST = {
    "STREAMING_LEASE_SECONDS": "3",
    "STREAMING_RETRY_SECONDS": "0.5",
    "STREAMING_SCAN_SECONDS": "0.5",
}
SANDBOX_ENV = {"SANDBOX_COMETD_TIMEOUT_SECONDS": "5", "SANDBOX_COMETD_CLIENT_TIMEOUT_SECONDS": "10"}


def manage_process(org, tmp_path: Path, *args: str, name: str) -> ManageProcess:
    """A `manage.py` process of Inflow's talking to `org`, with the streaming timings above."""
    return ManageProcess(*args, log_path=tmp_path / f"{name}.log", env=process_env(org, **FAST))


@pytest.fixture
def streamed(make_sandbox_org, sf_settings, workspace, tmp_path):
    org = make_sandbox_org(contacts=200, seed=3, env=SANDBOX_ENV)
    connection = connect(workspace, org)
    select_objects(connection, OBJECTS)
    run_inline(connection)  # the backfill
    listener = manage_process(
        org, tmp_path, "listen_salesforce", "--connection", str(connection.pk), name="listener"
    )
    yield org, connection, listener
    listener.stop()


def _missing(workspace, org, changes, seen) -> list:
    """For a failure message: each unseen change, the record's name in Salesforce and in the CDP."""
    from cdp.models import Identity

    names = {r["Id"]: r.get("FirstName") for r in org.records("Contact")}
    out = []
    for n in sorted(set(changes) - set(seen))[:10]:
        identity = Identity.objects.filter(workspace=workspace, external_id=changes[n]).first()
        out.append((n, changes[n], names.get(changes[n]), identity and identity.person.first_name))
    return out


def _live(connection, timeout=60):
    return wait_for(
        lambda: ChangeStream.objects.filter(connection=connection, state=ChangeStream.State.LIVE).exists(),
        timeout,
    )


def test_a_thousand_changes_land_within_two_seconds_at_p95_with_no_activity_twice(streamed, workspace):
    org, connection, listener = streamed
    listener.start()
    assert _live(connection), listener.text()[-3000:]
    sent: dict[int, float] = {}
    changes: dict[int, str] = {}
    watcher = CdpWatcher(workspace, changes)
    watcher.start()
    make_changes(
        org, api(org), 1000, start=0, contacts=lone_contacts(workspace), rate=40, sent=sent, changes=changes
    )
    assert wait_for(lambda: len(watcher.seen) == 1000, 60), (len(watcher.seen), listener.text()[-3000:])
    watcher.stop.set()
    watcher.join()
    figures = latency_figures(watcher.seen, sent)
    print("streaming latency", json.dumps(figures))
    assert figures["p95_s"] < 2.0, figures
    stream = ChangeStream.objects.get(connection=connection)
    assert stream.state == ChangeStream.State.LIVE and stream.replay_id and stream.events_received >= 1000

    # Polling stays the truth and never doubles what the stream applied.
    run = run_inline(connection)
    assert run.state == SyncRun.State.SUCCEEDED, run.state_reason
    created = [changes[n] for n in changes if n % 2 == 0]
    people = Person.objects.filter(workspace=workspace, email__endswith="@stream.example.com")
    assert people.count() == 500
    created_activities = Activity.objects.filter(workspace=workspace, person__in=people)
    assert created_activities.count() == 500  # one "contact created" each, whichever path came first
    assert len(set(created_activities.values_list("source_key", flat=True))) == 500
    assert len(created) == 500


def test_killing_the_listener_or_the_sandbox_mid_stream_loses_nothing(streamed, workspace):
    org, connection, listener = streamed
    listener.start()
    assert _live(connection), listener.text()[-3000:]
    sent: dict[int, float] = {}
    changes: dict[int, str] = {}
    http = api(org)
    contacts = lone_contacts(workspace)
    make_changes(org, http, 60, start=0, contacts=contacts, rate=30, sent=sent, changes=changes)
    listener.stop(signal.SIGKILL)  # mid-stream: no goodbye, the lease is left to expire
    make_changes(org, http, 60, start=60, contacts=contacts, rate=30, sent=sent, changes=changes)
    listener.start()
    make_changes(org, http, 60, start=120, contacts=contacts, rate=30, sent=sent, changes=changes)
    org.restart(kill=True)  # the org's process dies; its data and events stay
    http = api(org)
    make_changes(org, http, 60, start=180, contacts=contacts, rate=30, sent=sent, changes=changes)
    watcher = CdpWatcher(workspace, changes)
    watcher.start()
    try:
        assert wait_for(lambda: len(watcher.seen) == 240, 90), (
            _missing(workspace, org, changes, watcher.seen),
            listener.text()[-4000:],
        )
    finally:
        watcher.stop.set()
        watcher.join()
    stream = ChangeStream.objects.get(connection=connection)
    # Everything came from the stream's replay: the only polling fallback was the first start's.
    assert stream.fallbacks == 1, stream.last_fallback_reason
    assert not SyncRun.objects.filter(connection=connection, state=SyncRun.State.RUNNING).exists()


def test_a_replay_id_past_retention_falls_back_to_polling(streamed, workspace, tmp_path):
    org, connection, listener = streamed
    listener.start()
    assert _live(connection), listener.text()[-3000:]
    http = api(org)
    contacts = lone_contacts(workspace)
    sent: dict[int, float] = {}
    changes: dict[int, str] = {}
    make_changes(org, http, 4, start=0, contacts=contacts, rate=20, sent=sent, changes=changes)
    assert wait_for(
        lambda: Person.objects.filter(workspace=workspace, first_name__startswith="Live").count() == 4, 30
    )
    listener.stop()
    assert ChangeStream.objects.get(connection=connection).state == ChangeStream.State.STOPPED
    # Down for longer than Salesforce keeps events: they are gone when the listener comes back.
    make_changes(org, http, 10, start=4, contacts=contacts, rate=20, sent=sent, changes=changes)
    org.faults(expire_events=True)
    # The run the fallback queues is the worker's: start one, as production runs one.
    SyncRun.objects.filter(connection=connection, state=SyncRun.State.QUEUED).update(
        state=SyncRun.State.SKIPPED, state_reason="test: the first start's fallback had no worker"
    )
    worker = manage_process(org, tmp_path, "qcluster", name="qcluster").start()
    try:
        listener.start()
        assert wait_for(
            lambda: (
                "no longer retains" in ChangeStream.objects.get(connection=connection).last_fallback_reason
            ),
            30,
        ), listener.text()[-3000:]
        watcher = CdpWatcher(workspace, changes)
        watcher.start()
        assert wait_for(lambda: len(watcher.seen) == 14, 90), (worker.text()[-3000:], listener.text()[-3000:])
        watcher.stop.set()
        watcher.join()
        run = SyncRun.objects.filter(connection=connection).order_by("-pk").first()
        assert wait_for(lambda: SyncRun.objects.get(pk=run.pk).state not in SyncRun.ACTIVE_STATES, 60)
        run.refresh_from_db()
        assert run.kind == SyncRun.Kind.INCREMENTAL and run.state == SyncRun.State.SUCCEEDED, run.state_reason
        assert _live(connection, timeout=10)
        # And the stream goes on from the new position.
        make_changes(org, http, 2, start=14, contacts=contacts, rate=20, sent=sent, changes=changes)
        assert wait_for(
            lambda: (
                Person.objects.filter(workspace=workspace, first_name__in=["Live14", "Live15"]).count() == 2
            ),
            30,
        )
    finally:
        worker.stop()


def _event(replay: int, entity: str, kind: str, ids=(), changed=()):
    header = {
        "entityName": entity,
        "changeType": kind,
        "recordIds": list(ids),
        "changedFields": list(changed),
        "commitTimestamp": int(time.time() * 1000),
    }
    return {
        "channel": "/data/ChangeEvents",
        "data": {"payload": {"ChangeEventHeader": header}, "event": {"replayId": replay}},
    }


def test_bad_events_are_skipped_with_a_log_line_and_the_rest_applied(
    make_sandbox_org, sf_settings, workspace, caplog
):
    """One batch holding a good event, malformed ones, an unknown change type, an object and a field the
    connection does not sync, and a gap: the good one lands, the rest are skipped or fall back to polling,
    and the replay id moves past all of them."""
    from integrations.salesforce.client import SalesforceClient
    from integrations.salesforce.listener import ConnectionListener

    org = make_sandbox_org(contacts=30, seed=4)
    connection = connect(workspace, org)
    select_objects(connection, ("Account", "Contact"))
    run_inline(connection)
    contact = org.records("Contact")[0]["Id"]
    http = api(org)
    assert (
        http.patch(f"{org.url}{V}/sobjects/Contact/{contact}", json={"FirstName": "Evented"}).status_code
        == 204
    )
    listener = ConnectionListener(connection.pk, "test", threading.Event())
    listener.connection = connection
    listener.client = SalesforceClient.for_connection(connection)
    ChangeStream.objects.create(connection=connection)
    listener._build_contexts()
    queries_before = listener.client.calls.copy()
    batch = [
        {"channel": "/data/ChangeEvents", "data": "not an event"},
        {"channel": "/data/ChangeEvents", "data": {"payload": {}, "event": {"replayId": 11}}},
        _event(12, "Contact", "MERGE", [contact]),
        _event(13, "Opportunity", "UPDATE", ["006Dw0000000001IAA"], ["StageName"]),
        _event(14, "Contact", "UPDATE", [contact], ["Description", "LastModifiedDate"]),
        _event(15, "Contact", "UPDATE", [contact, "'; DROP"], ["Name.FirstName", "LastModifiedDate"]),
        _event(16, "Account", "GAP_OVERFLOW"),
    ]
    with caplog.at_level("INFO", logger="integrations.salesforce.listener"):
        listener.apply_batch(batch)
    listener.client.close()
    person = Person.objects.get(workspace=workspace, identities__external_id=contact)
    assert person.first_name == "Evented"
    stream = ChangeStream.objects.get(connection=connection)
    assert stream.replay_id == 16 and stream.events_received == 7
    assert stream.fallbacks == 1 and "GAP_OVERFLOW on Account" in stream.last_fallback_reason
    log = caplog.text
    assert log.count("skipped a malformed change event") == 2
    assert "unknown change type 'MERGE'" in log
    # One query for the one record whose synced fields changed; none for the others.
    spent = listener.client.calls - queries_before
    assert sum(spent.values()) == 1, spent
    assert SyncRun.objects.filter(connection=connection, state=SyncRun.State.QUEUED).exists()


def test_gaps_expired_sessions_and_unselected_objects_keep_the_listener_live(streamed, workspace):
    org, connection, listener = streamed
    listener.start()
    assert _live(connection), listener.text()[-3000:]
    http = api(org)
    contacts = lone_contacts(workspace)
    sent: dict[int, float] = {}
    changes: dict[int, str] = {}

    def landed(n):
        return wait_for(
            lambda: Person.objects.filter(workspace=workspace, first_name=f"Live{n}").exists(), 30
        )

    # A gap event names the record but carries no fields: the listener reads it, and asks polling too.
    org.faults(gap_next=1)
    make_changes(org, http, 1, start=1, contacts=contacts, rate=20, sent=sent, changes=changes)
    assert landed(1), listener.text()[-3000:]
    assert wait_for(
        lambda: "GAP_UPDATE" in ChangeStream.objects.get(connection=connection).last_fallback_reason
    )
    # The session expires mid-connect: refreshed, and the stream goes on.
    org.faults(expire_access_tokens=True)
    make_changes(org, api(org), 1, start=3, contacts=contacts, rate=20, sent=sent, changes=changes)
    assert landed(3), listener.text()[-3000:]
    # Its log line follows the refresh the event waited on: wait for it rather than race it.
    assert wait_for(lambda: "refreshed its session" in listener.text(), 10), listener.text()[-3000:]
    # Objects the connection does not sync stream too; they are skipped and the replay id moves on.
    before = ChangeStream.objects.get(connection=connection).replay_id
    opportunity = org.records("Opportunity")[0]["Id"]
    http = api(org)
    assert (
        http.patch(f"{org.url}{V}/sobjects/Opportunity/{opportunity}", json={"Description": "x"}).status_code
        == 204
    )
    assert wait_for(lambda: ChangeStream.objects.get(connection=connection).replay_id > before, 20)
    # Turning Live updates off stops the stream; the setting says why.
    from integrations.connection_settings import connection_settings_update

    connection_settings_update(connection=connection, streaming_enabled=False)
    assert wait_for(
        lambda: ChangeStream.objects.get(connection=connection).state == ChangeStream.State.OFF, 30
    )
    assert "Traceback" not in listener.text()
