"""/healthz fact about sync runs (settings.HEALTH_CHECKS): runs stuck past their heartbeat.

A running run beats its heartbeat after every page; one whose heartbeat is older than
SYNC_HEARTBEAT_STALE_SECONDS (the same threshold the engine uses to take a dead run over) has lost its
worker, or its worker is wedged. The next "sync now" or schedule tick re-enqueues it, but until then an
operator should know.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from integrations.models import SyncRun


def stale_after() -> dt.timedelta:
    from integrations.salesforce.sync import conf

    return dt.timedelta(seconds=conf("HEARTBEAT_STALE_SECONDS", 300))


def stuck_runs():
    cutoff = timezone.now() - stale_after()
    return SyncRun.objects.filter(state=SyncRun.State.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def stuck_sync_runs() -> dict:
    ids = list(stuck_runs().order_by("pk").values_list("pk", flat=True)[:50])
    body = {"sync_runs": {"stuck": len(ids), "stale_after_seconds": int(stale_after().total_seconds())}}
    if ids:
        body["problems"] = [
            f"{len(ids)} sync run(s) stuck past their heartbeat: " + ", ".join(f"#{i}" for i in ids[:10])
        ]
    return body
