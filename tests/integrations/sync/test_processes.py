"""Real processes: a `manage.py qcluster` worker runs the sync, and a worker SIGKILLed at random points during
a backfill, several times, still ends with the same CDP as a clean run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from integrations.models import SyncRun
from integrations.salesforce import tasks
from integrations.salesforce.engine.runner import run_sync
from tests.integrations.sync.conftest import connect, select_objects
from tests.integrations.sync.test_faults_sandbox import OBJECTS, snapshot
from tests.processes import process_env, qcluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[3]


def test_a_qcluster_worker_runs_the_queued_sync(sandbox_org, sf_settings, workspace, tmp_path):
    connection = connect(workspace, sandbox_org)
    select_objects(connection, ("Account", "Contact"))
    with qcluster(log_path=tmp_path / "qcluster.log", org=sandbox_org):
        run, created = tasks.sync_request(connection=connection)  # enqueued on commit (autocommit here)
        joined, created_again = tasks.sync_request(connection=connection)
        assert (created, created_again, joined.pk) == (True, False, run.pk)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.state not in SyncRun.ACTIVE_STATES:
                break
            time.sleep(0.5)
    assert (run.state, run.state_reason) == ("succeeded", ""), (tmp_path / "qcluster.log").read_text()[-3000:]
    assert run.worker and run.worker.split(":")[-1] != str(os.getpid())
    assert run.created > 0 and run.fetched == sum(e["done"] for e in run.progress.values())


def test_sigkill_at_random_points_then_resume_equals_a_clean_run(
    sandbox_org, sf_settings, make_workspace, tmp_path
):
    clean_ws = make_workspace(name="Clean")
    clean = connect(clean_ws, sandbox_org)
    select_objects(clean, OBJECTS)
    assert run_sync(tasks.sync_request(connection=clean, enqueue=False)[0].pk).state == "succeeded"
    expected = snapshot(clean_ws)

    drill_ws = make_workspace(name="Drill")
    drill = connect(drill_ws, sandbox_org)
    select_objects(drill, OBJECTS)
    # Smaller, slower pages: more places to die between, and time to do it in.
    sandbox_org.faults(short_page_size=50, latency_ms=80)
    command = [sys.executable, "manage.py", "sync_salesforce", "--inline", "--connection", str(drill.pk)]
    rng = random.Random(20261127)
    kills, seen = 0, 0
    for attempt in range(4):
        with open(tmp_path / f"attempt-{attempt}.log", "wb") as log:
            worker = subprocess.Popen(
                command, cwd=BASE_DIR, env=process_env(sandbox_org), stdout=log, stderr=subprocess.STDOUT
            )
            # Wait for this attempt to commit pages of its own, then kill it at a random moment after.
            deadline = time.monotonic() + 60
            while worker.poll() is None and time.monotonic() < deadline:
                fetched = sum(SyncRun.objects.filter(connection=drill).values_list("fetched", flat=True))
                if fetched > seen:
                    break
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.6))
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)
                kills += 1
            worker.wait()
            seen = sum(SyncRun.objects.filter(connection=drill).values_list("fetched", flat=True))
    logs = "\n".join((tmp_path / f"attempt-{i}.log").read_text()[-1500:] for i in range(4))
    assert kills >= 2, f"the drill must interrupt the backfill:\n{logs}"
    run = SyncRun.objects.filter(connection=drill).order_by("-id").first()
    if run.state == "running":
        assert run.worker  # the dead worker's checkpoint is what the next run resumes from
    final = subprocess.run(
        command, cwd=BASE_DIR, env=process_env(sandbox_org), capture_output=True, text=True, timeout=300
    )
    assert final.returncode == 0, final.stderr[-3000:]

    runs = list(SyncRun.objects.filter(connection=drill).order_by("id"))
    assert runs[-1].state == "succeeded", (runs[-1].state_reason, final.stdout)
    assert any(r.attempts > 1 for r in runs), "a killed run is taken over, not restarted"
    assert snapshot(drill_ws) == expected
