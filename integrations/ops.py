"""Operator services the admin console needs and the other modules did not have yet.

Each one wraps the existing service or engine entry point (`tasks.sync_request`, `engine.retry.retry_errors`,
`services.connection_*`) and adds only what an operator acting on many rows across workspaces needs:
a refusal in plain words when a connection is in the wrong state, so nothing is written and the
operator learns why. The admin (integrations/admin.py), the commands and the Sync health page call
these; the other pages of a workspace call `integrations.services` and the settings services.
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.models import Connection, SyncError, SyncRun
from integrations.salesforce.engine.retry import retry_errors
from integrations.salesforce.errors import SalesforceError
from integrations.salesforce.tasks import sync_request

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

logger = logging.getLogger(__name__)

# Where a workspace member goes to fix a connection; spelled once so every message agrees.
MANAGE_PATH = "Data sources › Salesforce › Manage authorization"
# What an operator's sync request would have done, for the message saying why it did not.
SYNC_KIND_DOING: dict[str, str] = {
    SyncRun.Kind.RESYNC: "start a full resync of",
    SyncRun.Kind.RECONCILE: "reconcile",
}


def connection_state_problem(connection: Connection, *, doing: str) -> str:
    """Why `doing` cannot happen on this connection now, or "" when it can (it is connected)."""
    status = connection.status
    name = f"{connection.username or 'Salesforce'} ({connection.org_id})"
    if status == Connection.Status.CONNECTED:
        return ""
    if status == Connection.Status.DISCONNECTED:
        return (
            f"Did not {doing} {name}: it is disconnected, so Inflow holds no token for that org. "
            f"A workspace owner can connect it again from {MANAGE_PATH}."
        )
    if status == Connection.Status.NEEDS_REAUTH:
        reason = f" ({connection.status_reason})" if connection.status_reason else ""
        return (
            f"Did not {doing} {name}: it needs reconnecting{reason}. Salesforce no longer accepts its "
            f"refresh token; only a workspace owner can reconnect it from {MANAGE_PATH}."
        )
    return f"Did not {doing} {name}: it is paused. Resume it first."


def connection_sync_start(
    *, connection: Connection, kind: str | None = None, only_objects: list[str] | tuple[str, ...] = ()
) -> tuple[SyncRun, bool]:
    """ "Sync now" / "Full resync" / "Reconcile" for an operator: `tasks.sync_request`, refused up front
    (nothing written) when the connection is not connected. Returns (run, created); created is False
    when the connection's active run was joined."""

    connection.refresh_from_db()
    doing = SYNC_KIND_DOING.get(kind or "", "sync")
    problem = connection_state_problem(connection, doing=doing)
    if problem:
        raise ValidationError(problem, code="wrong_state")
    with transaction.atomic():
        run, created = sync_request(connection=connection, kind=kind, only_objects=only_objects)
    if run.state == SyncRun.State.SKIPPED:
        # The engine recorded the skip (e.g. waiting for the API budget window); say why.
        raise ValidationError(
            f"Did not {doing} {connection.username} ({connection.org_id}): "
            f"{run.state_reason.removeprefix('skipped: ')}.",
            code="skipped",
        )
    return run, created


# ------------------------------------------------------------------------------------------ errors


def sync_errors_ignore(*, errors: Iterable[SyncError]) -> int:
    """Resolve errors without retrying (django-heroku-connect's "ignore"); already resolved ones stay as they are."""
    ids = (
        list(errors.values_list("pk", flat=True))
        if hasattr(errors, "values_list")
        else [e.pk for e in errors]
    )
    return SyncError.objects.filter(pk__in=ids, resolved=False).update(
        resolved=True, resolved_at=timezone.now()
    )


@dataclass
class RetryOutcome:
    retried: int = 0  # records re-read from Salesforce
    resolved: int = 0  # errors that synced this time
    not_retryable: int = 0  # errors with no record to re-read, or marked not retryable
    refused: list[str] = field(default_factory=list)  # one sentence per connection that could not retry


def sync_errors_retry(*, errors: Iterable[SyncError]) -> RetryOutcome:
    """Re-read the records behind `errors` from Salesforce now (`retry_errors`), per connection.

    Errors that cannot be retried (no Salesforce id, or `retryable=False` such as a deleted field) are
    counted and left open; a connection that is not connected, or that Salesforce refuses, is reported
    in `refused` and its errors stay open.
    """

    outcome = RetryOutcome()
    by_connection: dict[int, list[SyncError]] = defaultdict(list)
    connections: dict[int, Connection] = {}
    for error in errors:
        if error.resolved:
            continue
        if not error.retryable or not error.sf_id:
            outcome.not_retryable += 1
            continue
        by_connection[error.connection_id].append(error)
    for connection in Connection.objects.filter(pk__in=list(by_connection)).order_by("pk"):
        connections[connection.pk] = connection
    for connection_id, batch in sorted(by_connection.items()):
        connection = connections[connection_id]
        problem = connection_state_problem(connection, doing="retry errors of")
        if problem:
            outcome.refused.append(problem)
            continue
        try:
            result = retry_errors(connection, batch)
        except SalesforceError as exc:
            logger.warning(
                "Retrying sync errors of connection %s failed: %s", connection.pk, type(exc).__name__
            )
            outcome.refused.append(
                f"Could not retry errors of {connection.username} ({connection.org_id}): Salesforce answered "
                f"{exc}. The errors stay open; try again later."
            )
            continue
        outcome.retried += result["retried"]
        outcome.resolved += result["resolved"]
    return outcome


CSV_COLUMNS = (
    ("id", "id"),
    ("workspace", "workspace__slug"),
    ("connection_id", "connection_id"),
    ("org_id", "connection__org_id"),
    ("run_id", "run_id"),
    ("object", "object_name"),
    ("salesforce_id", "sf_id"),
    ("type", "error_type"),
    ("message", "message"),
    ("fix", "fix"),
    ("retryable", "retryable"),
    ("resolved", "resolved"),
    ("created_at", "created_at"),
)


def sync_errors_write_csv(*, errors, out: SupportsWrite[str]) -> int:
    """Write `errors` (a queryset) as CSV in one query, streaming; returns the number of rows written."""
    writer = csv.writer(out)
    writer.writerow([name for name, _ in CSV_COLUMNS])
    rows = 0
    for values in (
        errors.order_by("created_at", "id")
        .values_list(*(path for _, path in CSV_COLUMNS))
        .iterator(chunk_size=2000)
    ):
        writer.writerow([_cell(v) for v in values])
        rows += 1
    return rows


def _cell(value) -> object:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A Salesforce value is untrusted: keep a spreadsheet from reading it as a formula.
        return "'" + value
    return value
