"""/healthz fact about sync runs (settings.HEALTH_CHECKS): runs stuck past their heartbeat, and runs
queued too long (SYNC_QUEUED_STALE_SECONDS without a worker claiming them: the task was lost, the broker is
down, or no worker runs).

A running run beats its heartbeat after every page; one whose heartbeat is older than
SYNC_HEARTBEAT_STALE_SECONDS (the same threshold the engine uses to take a dead run over) has lost its
worker, or its worker is wedged. The next "sync now" or schedule tick re-enqueues it, but until then an
operator should know.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from integrations.models import Connection, SyncError, SyncRun
from integrations.sync_selectors import open_errors_by_type

# /healthz names at most this many stuck runs per kind; the sync health page lists them all.
STUCK_RUNS_READ = 50
STUCK_RUN_IDS_NAMED = 10


def stale_after() -> dt.timedelta:
    # Read at use, so a test's override_settings applies.
    return dt.timedelta(seconds=settings.SYNC_HEARTBEAT_STALE_SECONDS)


def queued_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.SYNC_QUEUED_STALE_SECONDS)


def stuck_runs():
    """Running runs past their heartbeat, and queued runs nobody claimed within SYNC_QUEUED_STALE_SECONDS."""
    now = timezone.now()
    cutoff, queued_cutoff = now - stale_after(), now - queued_after()
    running = Q(state=SyncRun.State.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    queued = Q(state=SyncRun.State.QUEUED) & (
        Q(enqueued_at__lt=queued_cutoff) | Q(enqueued_at__isnull=True, queued_at__lt=queued_cutoff)
    )
    return SyncRun.objects.filter(running | queued)


def stuck_sync_runs() -> dict:
    rows = list(stuck_runs().order_by("pk").values_list("pk", "state")[:STUCK_RUNS_READ])
    running = [pk for pk, state in rows if state == SyncRun.State.RUNNING]
    queued = [pk for pk, state in rows if state == SyncRun.State.QUEUED]
    body: dict[str, object] = {
        "sync_runs": {
            "stuck": len(running),
            "queued_too_long": len(queued),
            "stale_after_seconds": int(stale_after().total_seconds()),
            "queued_after_seconds": int(queued_after().total_seconds()),
        }
    }
    problems = []
    if running:
        problems.append(
            f"{len(running)} sync run(s) stuck past their heartbeat: "
            + ", ".join(f"#{i}" for i in running[:STUCK_RUN_IDS_NAMED])
        )
    if queued:
        problems.append(
            f"{len(queued)} sync run(s) queued too long without a worker: "
            + ", ".join(f"#{i}" for i in queued[:STUCK_RUN_IDS_NAMED])
        )
    if problems:
        body["problems"] = problems
    return body


# ------------------------------------------------------------------ reads for the admin's Sync health
# Operator pages span workspaces, so these take connection ids rather than a workspace.

# What a person can do about each type of sync error, in plain words, shown beside the error.
FIXES = {
    "mapping": "A Salesforce value does not fit the CDP field it feeds (text into a number field, say). Map the "
    "Salesforce field to a CDP field of the same type in the object's field selection, then retry.",
    "invalid": "The CDP refused the record because a value is not valid for its field (an email without @, a "
    "phone with no digits). Correct the value in Salesforce: the next sync picks it up, or retry now.",
    "malformed": "Salesforce sent a response Inflow could not read. Nothing was lost or applied twice: the run "
    "re-read from its last saved page. Retry; if it keeps happening, check Salesforce's status page.",
    "field_deleted": "A selected field was deleted in Salesforce, or field-level security hides it from the "
    "integration user. Restore the field or its visibility, or pick a replacement in the field selection; "
    "then ignore these errors.",
    "object_unavailable": "The object no longer exists, or the integration user cannot read it. Give the user "
    "read access (a permission set) or deselect the object.",
    "duplicate": "The same record came twice in one page; the newest copy was applied. Nothing to do: ignore "
    "these unless they keep coming.",
    "unlinked": "The record could not be linked to a person: its identifier (email, contact lookup or parent "
    "chain) is empty or points at a record Inflow has not synced. Fill it in Salesforce or check the object's "
    "identifier rule, then retry.",
    "api": "Salesforce answered with an error (a limit, a timeout, a permission). The next run resumes from its "
    "checkpoint; retry once the cause is gone.",
    "internal": "Inflow itself failed on these records (a bug, not bad data). Nothing was lost: the run went on "
    "with the next page. Retry once Inflow is upgraded, and report the message to the Inflow maintainers.",
    "auth": "Salesforce no longer accepts this connection's authorization. A workspace owner must reconnect it "
    "from Data sources › Salesforce › Manage authorization; syncing resumes where it stopped.",
    "writeback": "Salesforce refused to take a permission change made in Inflow (a validation rule, a deleted "
    "or read-only record); the person's permission in Inflow stays as it was set. Fix the record or the rule in "
    "Salesforce, then retry to write it again.",
}

STATUS_ORDER = {"needs_reauth": 0, "connected": 1, "paused": 2, "disconnected": 3}


def connections_for_health(*, connection_ids: list[int] | None = None):
    """Connections with their open-error count and latest run, needing reconnection first."""
    from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When

    errors = (
        SyncError.objects.filter(connection=OuterRef("pk"), resolved=False)
        .order_by()
        .values("connection")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last = (
        SyncRun.objects.filter(connection=OuterRef("pk"))
        .exclude(state=SyncRun.State.SKIPPED)
        .order_by("-queued_at", "-id")
    )
    qs = Connection.objects.select_related("workspace").defer(
        "access_token_encrypted", "refresh_token_encrypted"
    )
    if connection_ids is not None:
        qs = qs.filter(pk__in=connection_ids)
    return qs.annotate(
        open_errors=Subquery(errors, output_field=IntegerField()),
        last_run_state=Subquery(last.values("state")[:1]),
        last_run_finished=Subquery(last.values("finished_at")[:1]),
        status_rank=Case(
            *[When(status=s, then=Value(rank)) for s, rank in STATUS_ORDER.items()],
            default=Value(9),
            output_field=IntegerField(),
        ),
    ).order_by("status_rank", "workspace__name", "pk")


def error_groups(*, connection_ids: list[int] | None = None, per_type: int = 20) -> list[dict]:
    """Open errors by type, biggest first: count, connections affected, the fix, the newest affected records."""
    open_errors = SyncError.objects.filter(resolved=False)
    if connection_ids is not None:
        open_errors = open_errors.filter(connection_id__in=connection_ids)
    out = []
    for group in open_errors_by_type(open_errors):
        newest = list(
            open_errors.filter(error_type=group["type"])
            .select_related("connection")
            .defer(
                "payload_excerpt", "connection__access_token_encrypted", "connection__refresh_token_encrypted"
            )
            .order_by("-created_at", "-id")[:per_type]
        )
        out.append({**group, "fix": FIXES.get(group["type"], "See each error's message."), "errors": newest})
    return out


def recent_runs(*, connection_ids: list[int] | None = None, limit: int = 30) -> list[SyncRun]:
    """The latest non-skipped runs, oldest first (the chart reads left to right)."""
    qs = (
        SyncRun.objects.exclude(state=SyncRun.State.SKIPPED)
        .select_related("connection")
        .defer("connection__access_token_encrypted", "connection__refresh_token_encrypted")
    )
    if connection_ids is not None:
        qs = qs.filter(connection_id__in=connection_ids)
    return list(reversed(qs.order_by("-queued_at", "-id")[:limit]))


def api_calls_last_24h(*, connection_ids: list[int] | None = None) -> dict[int, int]:
    """API calls Inflow's runs spent per connection over the last 24 hours (by when the run was queued)."""
    from django.db.models import Sum

    since = timezone.now() - dt.timedelta(hours=24)
    qs = SyncRun.objects.filter(queued_at__gte=since)
    if connection_ids is not None:
        qs = qs.filter(connection_id__in=connection_ids)
    return dict(
        qs.order_by().values("connection").annotate(n=Sum("api_calls")).values_list("connection", "n")
    )
