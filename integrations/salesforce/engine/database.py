"""The database going away under a run (a restart, a dropped connection): forget the broken connection and
wait, bounded, for it to come back, so a run rides out the outage instead of failing."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from integrations.salesforce import shutdown
from integrations.salesforce.engine.knobs import conf

logger = logging.getLogger(__name__)


DB_ERRORS = (OperationalError, InterfaceError)


def drop_connection() -> None:
    """Forget this thread's database connection (after it broke); the next query opens a new one."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail too
        logger.debug("Closing a broken database connection failed", exc_info=True)
    connection.connection = None


def wait_for_database(what: str) -> None:
    """Block until the database answers again (bounded by SYNC_DB_WAIT_SECONDS); re-raises if it does not."""
    deadline = timezone.now() + dt.timedelta(seconds=conf("DB_WAIT_SECONDS", 300))
    while True:
        drop_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            logger.info("Database is back; %s", what)
            return
        except DB_ERRORS:
            if timezone.now() > deadline:
                raise
            shutdown.sleep(0.5)
