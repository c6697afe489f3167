"""The reconnect alert as deployed: a real `manage.py qcluster` runs the alert task and the console email
backend (development) prints the owner's email, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection as db_connection

from integrations import services
from integrations.models import ConnectionAlert

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]

# The worker opens the test database too: on SQLite it must be a file (set before the test database exists).
_default_db = django_settings.DATABASES["default"]
if _default_db["ENGINE"].endswith("sqlite3") and not (_default_db.get("TEST") or {}).get("NAME"):
    _default_db.setdefault("TEST", {})["NAME"] = str(
        Path(tempfile.gettempdir()) / f"inflow-admin-proc-{os.getpid()}.sqlite3"
    )


def _database_url() -> str:
    db = db_connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_a_qcluster_worker_sends_the_reconnect_email_once(connection, owner, tmp_path):
    from django_q.models import Success
    from django_q.tasks import async_task

    services.connection_mark_needs_reauth(
        connection=connection, reason="Salesforce refused the refresh token: invalid_grant"
    )
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "1",  # development: the console email backend
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "ENV_FILE": "/nonexistent/.env",
        "Q_WORKERS": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_TEST_NAME", None)
    log_path = tmp_path / "qcluster.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(2):  # two checks, as two schedule ticks would run
            async_task("integrations.alerts.scheduled_reauth_alerts")
        assert _wait_for(lambda: Success.objects.count() == 2), log_path.read_text()[-3000:]
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()
        log.close()

    results = sorted(Success.objects.values_list("result", flat=True))
    assert results == ["0 alert(s) sent", "1 alert(s) sent"]
    output = log_path.read_text()
    assert output.count("Subject: Reconnect Salesforce to Acme on Inflow") == 1, output[-3000:]
    assert f"To: {owner.email}" in output
    assert ConnectionAlert.objects.filter(connection=connection).count() == 1
