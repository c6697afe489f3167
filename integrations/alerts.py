"""Email a workspace's owners when one of its Salesforce connections needs reconnecting.

The status is changed by the connection code (`integrations.services`) inside its own transactions,
so instead of a hook there, a periodic check (a django-q2 Schedule made by `manage.py ops_schedules`)
finds connections in `needs_reauth` that have not been alerted for their current status change and
alerts them. `ConnectionAlert`'s unique constraint makes the check idempotent: two workers running it at
once send one email, and a connection that is reconnected and later loses its token again is alerted again.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.urls import reverse

from cdp.models import Membership
from integrations.models import Connection, ConnectionAlert

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger(__name__)

ALERT_SCHEDULE_NAME = "inflow-reauth-alerts"


class _AlertKey(TypedDict):
    # The status change an alert is for: when the connection entered `needs_reauth` (its creation if never
    # changed), so a connection that loses its token again later is alerted again.
    alert_key: dt.datetime


def connections_to_alert():
    """Connections in `needs_reauth` with no alert for their current status change."""
    already = ConnectionAlert.objects.filter(
        connection=OuterRef("pk"),
        kind=ConnectionAlert.Kind.NEEDS_REAUTH,
        status_changed_at=OuterRef("alert_key"),
    )
    return (
        Connection.objects.filter(status=Connection.Status.NEEDS_REAUTH)
        .annotate(alert_key=Coalesce("status_changed_at", "created_at"))
        .exclude(Exists(already))
        .select_related("workspace")
        .order_by("pk")
    )


def _owner_emails(connection: Connection) -> list[str]:
    return sorted(
        {
            email
            for email in Membership.objects.filter(
                workspace_id=connection.workspace_id, role=Membership.Role.OWNER
            ).values_list("user__email", flat=True)
            if email
        }
    )


def _message(connection: Connection) -> tuple[str, str]:
    link = getattr(settings, "SITE_URL", "").rstrip("/") + reverse(
        "integrations:salesforce_reconnect", args=[connection.pk]
    )
    # A header is one line: any line break or control character in the name becomes a space.
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in connection.workspace.name).split())
    subject = f"Reconnect Salesforce to {name} on Inflow"
    body = (
        f"Hello,\n\n"
        f"Inflow can no longer sync from the Salesforce org {connection.org_id} "
        f"(signed in as {connection.username}) into the workspace {connection.workspace.name}.\n\n"
        f"Why: {connection.status_reason or 'Salesforce refused the stored authorization.'}\n\n"
        "This happens when the authorization is revoked in Salesforce, the refresh token expires under the "
        "connected app's policy, or the user connected Inflow more than five times (Salesforce keeps five "
        "authorizations per user and app). No data is lost: syncing resumes where it stopped once you reconnect.\n\n"
        f"Reconnect: {link}\n\n"
        "— Inflow\n"
    )
    return subject, body


def reauth_alerts_send() -> int:
    """Send the pending alerts; returns how many emails went out. One connection's failure, whatever it
    is, is logged and leaves its alert pending for the next check; every other connection is still
    alerted."""
    sent = 0
    for connection in connections_to_alert():
        try:
            sent += _alert(connection)
        except Exception:
            logger.exception(
                "Could not alert the owners of connection %s; the next check retries", connection.pk
            )
    return sent


def _alert(connection: WithAnnotations[Connection, _AlertKey]) -> int:
    """Claim and send one connection's alert: 1 when an email went out."""
    recipients = _owner_emails(connection)
    try:
        with transaction.atomic():
            alert = ConnectionAlert.objects.create(
                connection=connection,
                kind=ConnectionAlert.Kind.NEEDS_REAUTH,
                status_changed_at=connection.alert_key,
                recipients=", ".join(recipients),
            )
    except IntegrityError:
        return 0  # another worker claimed this alert first
    if not recipients:
        logger.warning("Connection %s needs reconnecting but its workspace has no owner email", connection.pk)
        return 0
    try:
        subject, body = _message(connection)
        send_mail(subject, body, None, recipients, fail_silently=False)
    except OSError as exc:
        # Forget the claim so the next check tries again; the mail server is a transient problem.
        alert.delete()
        logger.warning("Could not send the reconnect alert for connection %s: %s", connection.pk, exc)
        return 0
    except Exception:
        alert.delete()
        raise
    logger.info("Sent the reconnect alert for connection %s to %d owner(s)", connection.pk, len(recipients))
    return 1


def scheduled_reauth_alerts() -> str:
    """django-q2 entry point of the `inflow-reauth-alerts` schedule."""
    return f"{reauth_alerts_send()} alert(s) sent"


def alert_schedule_ensure(*, minutes: int = 5) -> None:
    """Create or update the periodic check (idempotent)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=ALERT_SCHEDULE_NAME,
        defaults={
            "func": "integrations.alerts.scheduled_reauth_alerts",
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
