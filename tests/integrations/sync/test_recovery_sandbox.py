"""Runs no task will run are found and enqueued again, exactly once, on the real Redis broker (DB 5): a run
whose task id the broker never had, two ticks racing to re-enqueue one run, a broker that is down when the
run is requested. One run executes, the user is told why it waits, nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.utils import timezone

from integrations.models import SourceRecord, SyncRun
from integrations.salesforce import tasks
from tests.integrations.sync.conftest import connect, select_objects
from tests.processes import RedisBroker

pytestmark = pytest.mark.django_db(transaction=True)  # enqueueing happens on commit


@pytest.fixture
def broker(monkeypatch):
    redis_broker = RedisBroker(monkeypatch)
    yield redis_broker
    redis_broker.close()


@pytest.fixture
def connection(sandbox_org, sf_settings, workspace):
    connection = connect(workspace, sandbox_org)
    select_objects(connection, ("Account", "Contact"))
    return connection


def _age(run: SyncRun, seconds: int) -> None:
    SyncRun.objects.filter(pk=run.pk).update(enqueued_at=timezone.now() - dt.timedelta(seconds=seconds))
    run.refresh_from_db()


def test_a_queued_run_records_its_task_and_a_second_request_joins_it(broker, connection):
    run, created = tasks.sync_request(connection=connection)
    run.refresh_from_db()
    assert created and run.task_id and run.enqueued_at is not None
    assert broker.task_ids() == [run.task_id]

    joined, created_again = tasks.sync_request(connection=connection)  # the task is there: nothing to do
    assert (joined.pk, created_again) == (run.pk, False)
    assert broker.task_ids() == [run.task_id]


def test_a_run_pointing_at_a_task_the_broker_never_had_is_enqueued_again_by_the_next_tick(
    broker, connection, sandbox_org
):
    run, _ = tasks.sync_request(connection=connection, enqueue=False)
    SyncRun.objects.filter(pk=run.pk).update(task_id="never-had-this-task")
    _age(run, 60)

    assert tasks.scheduled_sync(connection.pk).startswith(f"run {run.pk} queued")

    run.refresh_from_db()
    assert run.task_id not in ("", "never-had-this-task")
    assert run.reason_code == SyncRun.ReasonCode.TASK_LOST
    assert broker.task_ids() == [run.task_id]
    assert broker.run_next().startswith("succeeded")
    run.refresh_from_db()
    assert (run.state, run.reason_code, run.state_reason) == ("succeeded", "", "")
    every = sum(len(sandbox_org.records(n, include_deleted=True)) for n in ("Account", "Contact"))
    assert run.fetched == every == SourceRecord.objects.filter(connection=connection).count()


def test_two_ticks_racing_to_re_enqueue_one_run_enqueue_it_once(broker, connection):
    run, _ = tasks.sync_request(connection=connection)
    run.refresh_from_db()
    broker.flush()  # the broker lost its data
    _age(run, 60)
    first, second = SyncRun.objects.get(pk=run.pk), SyncRun.objects.get(pk=run.pk)  # both ticks read it

    assert [tasks.recover_run(first), tasks.recover_run(second)] == [True, False]

    run.refresh_from_db()
    assert broker.task_ids() == [run.task_id]
    assert tasks.recover_run(run) is False  # its task is in the broker now


def test_a_task_just_enqueued_is_not_presumed_lost(broker, connection):
    run, _ = tasks.sync_request(connection=connection)
    broker.flush()  # e.g. a live cluster has just pulled it
    run.refresh_from_db()
    assert tasks.recover_run(run) is False  # within SYNC_QUEUED_GRACE_SECONDS: it may be about to run
    assert broker.task_ids() == []


def test_a_broker_down_when_the_run_is_requested_keeps_the_run_and_says_why(broker, connection, sandbox_org):
    from integrations import services

    broker.down()
    run, created = tasks.sync_request(connection=connection)
    run.refresh_from_db()
    assert created and run.state == "queued" and run.task_id == ""
    assert run.reason_code == SyncRun.ReasonCode.BROKER_UNAVAILABLE
    message, created_again = services.connection_sync_now(connection=connection)
    assert not created_again
    assert (
        message
        == "The sync is queued, waiting: the task queue is unreachable; the run starts when it is back."
    )

    broker.up()
    tasks.scheduled_sync(connection.pk)
    tasks.scheduled_sync(connection.pk)  # a second tick finds the task in the broker: nothing more
    run.refresh_from_db()
    assert broker.task_ids() == [run.task_id]
    assert broker.run_next().startswith("succeeded")
    assert SyncRun.objects.filter(connection=connection).exclude(state="skipped").count() == 1
    run.refresh_from_db()
    assert run.state == "succeeded" and run.fetched > 0


def test_a_running_run_whose_worker_is_gone_is_taken_over_at_once(broker, connection):
    run, _ = tasks.sync_request(connection=connection, enqueue=False)
    # As a SIGKILLed worker on this host leaves it: claimed, heartbeat fresh, pid gone.
    SyncRun.objects.filter(pk=run.pk).update(
        state="running", worker=f"{socket.gethostname()}:999999", heartbeat_at=timezone.now()
    )

    assert tasks.recover_runs(reason="a worker started") == 1
    assert tasks.recover_runs(reason="a second worker started") == 0  # once
    assert broker.run_next().startswith("succeeded")
    run.refresh_from_db()
    assert (run.state, run.attempts) == ("succeeded", 1)


def test_a_reconcile_requested_mid_backfill_continues_the_backfill(connection):
    run, created = tasks.sync_request(connection=connection, kind=SyncRun.Kind.RECONCILE, enqueue=False)
    assert created and run.kind == SyncRun.Kind.INITIAL
