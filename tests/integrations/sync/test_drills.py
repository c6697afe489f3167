"""Reliability drills with real `qcluster` processes on the Redis broker (DB 5) and the sandbox org process:
the broker loses a queued run's task, the database drops the worker's connections, the org is unreachable
for 20 s, the cluster gets SIGTERM, a worker is SIGKILLed. Each ends with the CDP of a clean run.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connection as db_connection

from integrations.models import SyncRun
from integrations.salesforce import tasks
from tests.integrations.sync.conftest import connect, select_objects
from tests.integrations.sync.test_faults_sandbox import OBJECTS, reference, snapshot
from tests.processes import ManageProcess, RedisBroker, process_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def drill(sandbox_org, sf_settings, make_workspace, workspace, monkeypatch, tmp_path, settings):
    expected = reference(sandbox_org, make_workspace, sf_settings)
    broker = RedisBroker(monkeypatch)
    settings.SYNC_QUEUED_GRACE_SECONDS = 0
    connection = connect(workspace, sandbox_org)
    select_objects(connection, OBJECTS)
    clusters: list[ManageProcess] = []

    def cluster(**env) -> ManageProcess:
        """A `manage.py qcluster` with one worker on this test's Redis queue; `env` adds settings."""
        made = ManageProcess(
            "qcluster",
            log_path=tmp_path / f"qcluster-{len(clusters)}.log",
            env={
                **process_env(sandbox_org),
                **broker.env,
                "Q_WORKERS": "1",
                **{k: str(v) for k, v in env.items()},
            },
        )
        clusters.append(made)
        return made.start()

    yield sandbox_org, connection, expected, broker, cluster
    for made in clusters:
        made.stop(signal.SIGKILL)
    broker.close()


def _run(connection) -> SyncRun | None:
    return SyncRun.objects.filter(connection=connection).exclude(state="skipped").order_by("-id").first()


def _fetched(connection) -> int:
    run = _run(connection)
    return run.fetched if run else 0


def _wait_done(connection, timeout=120) -> SyncRun:
    wait_for(lambda: (r := _run(connection)) is not None and r.state not in SyncRun.ACTIVE_STATES, timeout)
    return _run(connection)


def test_broker_loses_a_queued_run_then_the_next_tick_runs_it(drill, workspace):
    org, connection, expected, broker, cluster = drill
    run, created = tasks.sync_request(connection=connection)
    run.refresh_from_db()
    assert created and broker.task_ids() == [run.task_id]
    broker.flush()  # Redis loses its data before any worker ran the task

    tasks.scheduled_sync(connection.pk)  # the next schedule tick
    run.refresh_from_db()
    assert run.reason_code == SyncRun.ReasonCode.TASK_LOST and broker.task_ids() == [run.task_id]
    workers = cluster()

    done = _wait_done(connection)
    assert (done.pk, done.state, done.state_reason) == (run.pk, "succeeded", ""), workers.tail()
    assert snapshot(workspace) == expected


def test_database_connections_killed_mid_run_progress_resumes_within_10_seconds(drill, workspace):
    """PostgreSQL only. The shared server cannot be restarted safely, so the drill terminates every backend
    connection of the test database (the worker's page, its heartbeat, the cluster's) with
    pg_terminate_backend, twice, as a restart would."""
    if db_connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (pg_terminate_backend)")
    org, connection, expected, broker, cluster = drill
    org.faults(short_page_size=40, latency_ms=60)
    workers = cluster()
    tasks.sync_request(connection=connection)
    assert wait_for(lambda: _fetched(connection) >= 80, 120), workers.tail()

    gaps = []
    for _ in range(2):
        with db_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        db_connection.close()
        killed_at, before = time.monotonic(), _fetched(connection)
        assert wait_for(lambda b=before: _fetched(connection) > b, 30), workers.tail()
        gaps.append(time.monotonic() - killed_at)
        time.sleep(1)

    done = _wait_done(connection)
    org.reset_faults()
    assert (done.state, done.state_reason, done.attempts) == ("succeeded", "", 1), workers.tail()
    assert max(gaps) < 10, gaps
    log = workers.log_path.read_text(errors="replace")
    assert "database unavailable" in log and "Database is back" in log, log[-3000:]  # the worker did lose it
    assert snapshot(workspace) == expected
    print("progress after the database connections were killed: " + ", ".join(f"{g:.1f} s" for g in gaps))


def test_org_unreachable_for_20_seconds_mid_backfill_the_run_completes_by_itself(drill, workspace):
    org, connection, expected, broker, cluster = drill
    org.faults(short_page_size=40, latency_ms=30)
    workers = cluster()
    run, _ = tasks.sync_request(connection=connection)
    assert wait_for(lambda: _fetched(connection) >= 80, 120), workers.tail()
    org.faults(unreachable_seconds=20)

    done = _wait_done(connection)
    org.reset_faults()
    assert (done.pk, done.state, done.state_reason) == (run.pk, "succeeded", ""), workers.tail()
    assert done.seconds >= 20  # it rode the outage out
    assert list(SyncRun.objects.filter(connection=connection).values_list("kind", flat=True)) == ["initial"]
    assert snapshot(workspace) == expected


def test_sigterm_to_the_group_exits_within_the_grace_period_and_the_run_resumes_on_restart(drill, workspace):
    org, connection, expected, broker, cluster = drill
    org.faults(short_page_size=40, latency_ms=80)
    workers = cluster(SYNC_SHUTDOWN_GRACE_SECONDS=20)
    run, _ = tasks.sync_request(connection=connection)
    assert wait_for(lambda: _fetched(connection) >= 80, 120), workers.tail()

    took = workers.terminate_group()

    assert took is not None and took < 20, (workers.living(), workers.tail())
    run.refresh_from_db()
    assert (run.state, run.reason_code, run.worker) == ("queued", SyncRun.ReasonCode.SHUTDOWN, ""), (
        workers.tail()
    )
    org.reset_faults()
    restarted = cluster()  # the starting worker enqueues it again at once
    done = _wait_done(connection)
    assert (done.pk, done.state, done.state_reason, done.attempts) == (run.pk, "succeeded", "", 2), (
        restarted.tail()
    )
    assert snapshot(workspace) == expected
    print(f"SIGTERM to the qcluster group: every process gone in {took:.1f} s")


def test_a_sigkilled_worker_run_is_taken_over_within_seconds(drill, workspace):
    org, connection, expected, broker, cluster = drill
    org.faults(short_page_size=40, latency_ms=60)
    workers = cluster()
    run, _ = tasks.sync_request(connection=connection)
    assert wait_for(lambda: _fetched(connection) >= 80, 120), workers.tail()
    run.refresh_from_db()
    dead_pid = int(run.worker.rpartition(":")[2])

    os.kill(dead_pid, signal.SIGKILL)
    killed_at, before = time.monotonic(), _fetched(connection)
    ok = wait_for(
        lambda: (r := _run(connection)).worker != run.worker and r.fetched > before and r.state == "running",
        30,
    )
    if not ok:
        for pid in workers.living():
            os.kill(int(pid.split()[0]), signal.SIGUSR1)
        time.sleep(2)
    assert ok, workers.tail()
    takeover = time.monotonic() - killed_at

    org.reset_faults()
    done = _wait_done(connection)
    assert (done.pk, done.state, done.state_reason, done.attempts) == (run.pk, "succeeded", "", 2)
    assert takeover < 10, takeover
    assert snapshot(workspace) == expected
    print(f"takeover after SIGKILL of the worker: {takeover:.1f} s to the next committed page")
