"""Helpers for tests that run Inflow's own processes (a `qcluster` worker) against the test database.

Such a worker opens the test database from its own process, so on SQLite the test database is a file:
`config/testenv.py` sets `DATABASE_TEST_NAME` for the whole test session.
"""

from __future__ import annotations

import os
import time

from django.db import connection as db_connection


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


def process_env(org, **extra: str) -> dict:
    """The environment of an Inflow process (qcluster, listen_salesforce) working on the test database
    against the sandbox org `org`; `extra` adds settings (e.g. STREAMING_LEASE_SECONDS="3")."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "1",  # plain http to the local sandbox org
        "ENV_FILE": "/nonexistent/.env",
        "SALESFORCE_CLIENT_ID": org.client_id,
        "SALESFORCE_CLIENT_SECRET": org.client_secret,
        "Q_WORKERS": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("DATABASE_TEST_NAME", None)
    return env
