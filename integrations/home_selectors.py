"""Reads that describe the workspace's data sources on the CDP's pages (registered in apps.py through
`cdp.extensions`): a source's human name, and the home page's sources and "needs attention" list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from cdp.models import Workspace
from integrations.models import Connection, SourceRecord, SyncError, SyncRun

SOURCE_PREFIX = "salesforce:"


def connection_source(connection: Connection) -> str:
    """The source string the sync engine writes on identities and activities of this connection."""
    return f"{SOURCE_PREFIX}{connection.pk}"


def connection_label(connection: Connection) -> str:
    """How a person reads a connection: the org's user, or its host when there is no user name."""
    who = connection.username or connection.display_name or connection.instance_url.split("//")[-1]
    return f"Salesforce ({who})" if who else "Salesforce"


def source_names(*, workspace: Workspace, sources) -> dict[str, str]:
    ids = {}
    for source in sources:
        if source.startswith(SOURCE_PREFIX) and source[len(SOURCE_PREFIX) :].isdigit():
            ids[int(source[len(SOURCE_PREFIX) :])] = source
    names = {source: "Salesforce (a removed connection)" for source in ids.values()}
    for connection in Connection.objects.filter(workspace=workspace, pk__in=list(ids)).only(
        "id", "username", "display_name", "instance_url"
    ):
        names[ids[connection.pk]] = connection_label(connection)
    return names


def source_record_count(*, workspace: Workspace, connection: Connection) -> int:
    """Salesforce records this connection has synced and that still exist there."""
    if connection.workspace_id != workspace.pk:
        return 0
    return SourceRecord.objects.filter(connection=connection, deleted=False).count()


def open_error_count(*, workspace: Workspace, connection: Connection | None = None) -> int:
    errors = SyncError.objects.filter(workspace=workspace, resolved=False)
    if connection is not None:
        errors = errors.filter(connection=connection)
    return errors.count()


@dataclass
class SourceCard:
    connection: Connection
    name: str
    last_run: SyncRun | None
    active_run: SyncRun | None
    next_sync_at: dt.datetime | None
    open_errors: int


@dataclass
class Attention:
    message: str
    level: str  # a Bootstrap colour: warning, danger, info
    url: str
    action: str


def source_cards(*, workspace: Workspace) -> list[SourceCard]:
    connections = list(
        Connection.objects.filter(workspace=workspace)
        .annotate(errors_open=Count("sync_errors", filter=Q(sync_errors__resolved=False)))
        .order_by("created_at")
    )
    cards = []
    for connection in connections:
        runs = SyncRun.objects.filter(workspace=workspace, connection=connection)
        last = runs.exclude(state__in=SyncRun.ACTIVE_STATES).order_by("-queued_at", "-id").first()
        active = runs.filter(state__in=SyncRun.ACTIVE_STATES).first()
        next_at = None
        if connection.status == Connection.Status.CONNECTED and active is None:
            start = last.queued_at if last else timezone.now()
            next_at = max(start + dt.timedelta(minutes=connection.schedule_interval_minutes), timezone.now())
        cards.append(
            SourceCard(
                connection, connection_label(connection), last, active, next_at, connection.errors_open
            )
        )
    return cards


def attention_list(*, workspace: Workspace, cards: list[SourceCard]) -> list[Attention]:
    """What a person should act on: a lost authorization, records that failed, a sync held by its budget."""
    out = []
    for card in cards:
        connection = card.connection
        if connection.status == Connection.Status.NEEDS_REAUTH:
            out.append(
                Attention(
                    f"{card.name} needs reconnecting: syncing is paused until you do.",
                    "danger",
                    reverse("integrations:salesforce_reconnect", args=[connection.pk]),
                    "Reconnect",
                )
            )
        if card.open_errors:
            noun = "record has" if card.open_errors == 1 else "records have"
            out.append(
                Attention(
                    f"{card.open_errors:,} {noun} sync errors in {card.name}.",
                    "warning",
                    reverse("integrations:source_health", args=[connection.pk]),
                    "Review errors",
                )
            )
        last = card.last_run
        if last is not None and last.state == SyncRun.State.PAUSED:
            out.append(
                Attention(
                    f"The last sync of {card.name} paused: {last.state_reason or 'it will go on later'}.",
                    "info",
                    reverse("integrations:source_page", args=[connection.pk, "schedule"]),
                    "Schedule and budget",
                )
            )
    return out


def dashboard_context(*, workspace: Workspace) -> dict:
    cards = source_cards(workspace=workspace)
    return {"source_cards": cards, "attention": attention_list(workspace=workspace, cards=cards)}
