"""Changes made in a sandbox org and watched arriving in the CDP: the live-updates tests and bench/sync.py."""

from __future__ import annotations

import statistics
import threading
import time

from django.db import connections

from cdp.models import Person

V = "/services/data/v62.0"


class CdpWatcher(threading.Thread):
    """Reads the CDP every 50 ms and notes when each `Live<n>` first name first appears: a change counts
    as applied when the CDP shows it, or a later change of the same record."""

    def __init__(self, workspace, changes: dict[int, str]):
        super().__init__(daemon=True)
        self.workspace = workspace
        self.changes = changes  # change number -> record id (several changes may touch one record)
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                now = time.time()
                names = Person.objects.filter(
                    workspace=self.workspace, first_name__startswith="Live"
                ).values_list("first_name", flat=True)
                by_record: dict[str, list[int]] = {}
                for m, record in list(self.changes.items()):
                    by_record.setdefault(record, []).append(m)
                for name in names:
                    if not name[4:].isdigit():
                        continue  # someone else's name that happens to start with "Live"
                    n = int(name[4:])
                    for m in by_record.get(self.changes.get(n), ()):
                        if m <= n and m not in self.seen:
                            self.seen[m] = now
                time.sleep(0.05)
        finally:
            connections.close_all()


def api(org):
    http = org.session()
    http.headers["Authorization"] = f"Bearer {org.token()['access_token']}"
    return http


def make_changes(
    org, http, count: int, *, start: int, contacts: list[str], rate: float, sent: dict, changes: dict
):
    """`count` changes at about `rate` per second: every other one a new contact, the rest an existing
    contact's first name. `sent[n]` is when change n was sent (before its commit)."""
    for k in range(count):
        n = start + k
        began = time.time()
        if n % 2 == 0:
            response = http.post(
                f"{org.url}{V}/sobjects/Contact",
                json={
                    "FirstName": f"Live{n}",
                    "LastName": "Streamed",
                    "Email": f"live{n}@stream.example.com",
                },
            )
            assert response.status_code == 201, response.text
            changes[n] = response.json()["id"]
        else:
            record = contacts[n % len(contacts)]
            response = http.patch(f"{org.url}{V}/sobjects/Contact/{record}", json={"FirstName": f"Live{n}"})
            assert response.status_code == 204, response.text
            changes[n] = record
        sent[n] = began
        time.sleep(max(0.0, 1 / rate - (time.time() - began)))


def lone_contacts(workspace, limit: int = 150) -> list[str]:
    """Synced contacts that are each the only contact of their person (two contacts of one person
    show the newer change, which would hide the older one from the watcher)."""
    from django.db.models import Count

    from cdp.models import Identity
    from integrations.models import SourceRecord

    contacts = Identity.objects.filter(workspace=workspace, object="Contact", person__isnull=False)
    live = SourceRecord.objects.filter(
        connection__workspace=workspace, object_name="Contact", deleted=False
    ).values("sf_id")
    alone = contacts.values("person").annotate(n=Count("id")).filter(n=1).values_list("person", flat=True)
    chosen = contacts.filter(person__in=alone, external_id__in=live)
    return sorted(chosen.values_list("external_id", flat=True))[:limit]


def latency_figures(seen: dict[int, float], sent: dict[int, float]) -> dict:
    """p50 / p95 / max seconds from each change's sending (before its commit) to the CDP showing it."""
    latencies = sorted(seen[n] - sent[n] for n in sent if n in seen)
    return {
        "changes": len(latencies),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 3),
        "max_s": round(latencies[-1], 3),
    }
