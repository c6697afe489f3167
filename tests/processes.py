"""Helpers for tests that run Inflow's own processes (a `qcluster` worker) against the test database.

Such a worker opens the test database from its own process, so on SQLite the test database is a file:
`config/testenv.py` sets `DATABASE_TEST_NAME` for the whole test session.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection as db_connection

from tests.sandbox_org import LOCAL_SANDBOX_ORIGINS


def database_url() -> str:
    """The test database as a DATABASE_URL for a child process."""
    db = db_connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


BASE_DIR = Path(__file__).resolve().parents[1]


def process_env(org=None, **extra: str) -> dict[str, str]:
    """The environment of an Inflow process (qcluster, listen_salesforce) on the test database, talking to
    the sandbox `org` if given; `extra` adds settings (e.g. STREAMING_LEASE_SECONDS="3")."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "1",
        # The worker's Salesforce client talks plain http to the local sandbox org (an explicit allowance).
        "SALESFORCE_LOCAL_ORIGINS": ",".join(LOCAL_SANDBOX_ORIGINS),
        "ENV_FILE": "/nonexistent/.env",
        "Q_WORKERS": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    if org is not None:
        env.update(SALESFORCE_CLIENT_ID=org.client_id, SALESFORCE_CLIENT_SECRET=org.client_secret)
    env.pop("DATABASE_TEST_NAME", None)
    return env


class ManageProcess:
    """A `manage.py` process of Inflow's (qcluster, listen_salesforce) in its own session, so it and the
    processes it forks are signalled together; its output goes to `log_path` (appended across restarts)."""

    def __init__(self, *args: str, log_path: Path, env: dict[str, str]):
        self.args, self.log_path, self.env = args, log_path, env
        self.process: subprocess.Popen | None = None
        self.log = None

    def start(self) -> ManageProcess:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", *self.args],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """`sig` to the whole group (SIGKILL if it outlives `timeout`), then SIGKILL to any orphan left."""
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, sig)
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # workers the master left behind, if any
            except ProcessLookupError:
                pass
        if self.log is not None:
            self.log.close()

    def terminate_group(self) -> float | None:
        """SIGTERM to every process of the group; seconds until all of them are gone (None: never)."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        while time.monotonic() - started < 60:
            self.process.poll()
            if not self.living():
                return time.monotonic() - started
            time.sleep(0.1)
        return None

    def living(self) -> list[str]:
        """The group's processes that still run (zombies waiting for a reaper do not count)."""
        alive = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if int(fields[2]) == self.process.pid and fields[0] != "Z":
                alive.append(f"{entry} {stat[:60]}")
        return alive

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, chars: int = 8000) -> str:
        return self.text()[-chars:]


@contextmanager
def qcluster(*, log_path: Path, org=None, **extra_env: str) -> Iterator[ManageProcess]:
    """A real `manage.py qcluster` (workers, scheduler and monitor) on the test database (the ORM broker
    unless REDIS_URL is set), talking to the sandbox `org` if given; stopped before the test database is
    flushed. Its output goes to `log_path`."""
    cluster = ManageProcess("qcluster", log_path=log_path, env=process_env(org, **extra_env)).start()
    try:
        yield cluster
    finally:
        cluster.stop(timeout=20)


REDIS_URL = "redis://127.0.0.1:6379/5"  # this suite's Redis database (shared server)


class RedisBroker:
    """The django-q Redis broker on REDIS_URL under a cluster name of this test's own, for this process (its
    Conf patched) and for child qcluster processes (`env`). `flush()` is "the broker loses its data"."""

    def __init__(self, monkeypatch, url: str = REDIS_URL):
        import uuid

        from django_q.conf import Conf

        self.url = url
        self.name = f"inflow-test-{uuid.uuid4().hex[:10]}"
        for key, value in {
            "ORM": None,
            "REDIS": url,
            "CLUSTER_NAME": self.name,
            "PREFIX": self.name,
            "SYNC": False,
        }.items():
            monkeypatch.setattr(Conf, key, value)
        self.monkeypatch = monkeypatch

    @property
    def env(self) -> dict[str, str]:
        return {"REDIS_URL": self.url, "Q_NAME": self.name}

    @property
    def connection(self):
        import redis

        return redis.from_url(self.url)

    @property
    def list_key(self) -> str:
        return f"django_q:{self.name}:q"

    def task_ids(self) -> list[str]:
        from django_q.signing import SignedPackage

        return [SignedPackage.loads(p)["id"] for p in self.connection.lrange(self.list_key, 0, -1)]

    def flush(self) -> None:
        self.connection.delete(self.list_key)

    def down(self) -> None:
        """Point this process at a port nothing listens on: enqueueing fails as with Redis down."""
        from django_q.conf import Conf

        self.monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:1/5")

    def up(self) -> None:
        from django_q.conf import Conf

        self.monkeypatch.setattr(Conf, "REDIS", self.url)

    def run_next(self):
        """Pop the next task and run it in this process, as a worker would."""
        import pydoc

        from django_q.signing import SignedPackage

        payload = self.connection.lpop(self.list_key)
        if payload is None:
            return None
        task = SignedPackage.loads(payload)
        return pydoc.locate(task["func"])(*task["args"], **task["kwargs"])

    def close(self) -> None:
        self.flush()
        for key in self.connection.keys(f"django_q:{self.name}:*"):
            self.connection.delete(key)
