"""Benchmark: Inflow's set-based merge against a naive per-row ORM `update_or_create` loop, same run.

    .venv/bin/python bench/merge.py [--rows 100000] [--batch 2000] [--baseline-rows 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench .venv/bin/python bench/merge.py

Three phases per method, each in pages of `--batch` rows, one transaction per page (as a sync commits a
page): `insert` (all people new), `unchanged` (the same rows again: a re-sync) and `update` (every row
changed). The naive loop runs at ~500 rows/s, so it runs on the first `--baseline-rows` rows (the
per-row rate does not depend on the table size at this scale; PERFORMANCE.md §2.1 measured it at 20k),
its share after each Inflow page so that both see the same load on a shared machine.
Without DATABASE_URL it uses a throwaway SQLite file. The last line is one JSON object for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]
LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Lee"]
CITIES = ["Sydney", "Oslo", "Lisbon", "Nairobi", "Lima", "Osaka", "Toronto", "Berlin"]
TIERS = ["gold", "silver", "bronze"]
SOURCE = "salesforce:bench"


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        handle = tempfile.NamedTemporaryFile(prefix="inflow-bench-", suffix=".sqlite3", delete=False)
        os.environ["DATABASE_URL"] = f"sqlite:///{handle.name}"
    # Test-only secrets and DEBUG off (DEBUG on would keep every query in memory).
    import config.testenv  # noqa: F401

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    # Every app: deleting the benchmark workspaces cascades into tables other apps hang off Workspace.
    call_command("migrate", verbosity=0)


def make_rows(n: int, *, variant: int):
    from cdp.merge import IdentityKey, PersonRow

    rng = random.Random(variant)  # noqa: S311 - synthetic data
    rows = []
    for i in range(n):
        rows.append(
            PersonRow(
                IdentityKey(SOURCE, "Contact", f"003B{i:011d}"),
                {
                    "str::first": rng.choice(FIRST),
                    "str::last": rng.choice(LAST),
                    "str::email": f"person{i}@example.com",
                    "phn::phone": f"+1415{i:07d}",
                    "geo::city": rng.choice(CITIES),
                    "geo::country": "Australia" if variant == 0 else "Norway",
                    "str::postal": f"{rng.randrange(1000, 9999)}",
                    "bol::p": True,
                    "str:cm:tier": rng.choice(TIERS),
                    "int:cm:score": rng.randrange(0, 100) + variant,
                },
            )
        )
    return rows


def run_inflow(workspace, rows) -> float:
    from cdp.merge import merge_people

    started = time.perf_counter()
    results = merge_people(workspace=workspace, rows=rows, source=SOURCE)
    elapsed = time.perf_counter() - started
    bad = [r for r in results if r.status == "invalid"]
    if bad:
        raise SystemExit(f"invalid rows in the benchmark data: {bad[:3]}")
    return elapsed


def run_baseline(workspace, rows) -> float:
    """What a straightforward implementation does: one update_or_create per person and per identity."""
    from django.db import transaction
    from django.utils import timezone

    from cdp.models import Identity, Person

    columns = {
        "str::first": "first_name",
        "str::last": "last_name",
        "phn::phone": "phone",
        "geo::city": "city",
        "geo::country": "country",
        "str::postal": "postal",
        "bol::p": "email_permission",
    }
    started = time.perf_counter()
    if rows:
        with transaction.atomic():
            for row in rows:
                now = timezone.now()
                fields = row.fields
                defaults = {column: fields[fid] for fid, column in columns.items()}
                defaults["email"] = fields["str::email"]
                defaults["values"] = {
                    "str:cm:tier": fields["str:cm:tier"],
                    "int:cm:score": fields["int:cm:score"],
                }
                defaults["updated_at"] = now
                person, _ = Person.objects.update_or_create(
                    workspace=workspace,
                    email_key=fields["str::email"].lower(),
                    defaults=defaults,
                    create_defaults={**defaults, "created_at": now, "first_seen": now},
                )
                Identity.objects.update_or_create(
                    workspace=workspace,
                    source=row.key.source,
                    object=row.key.object,
                    external_id=row.key.external_id,
                    defaults={"person": person},
                )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--baseline-rows", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark workspaces afterwards")
    args = parser.parse_args()
    setup_django()

    from django.db import connection

    from cdp.merge import field_definition_ensure
    from cdp.models import Workspace

    stamp = f"{time.time():.0f}"
    inflow_ws = Workspace.objects.create(name="Bench inflow", slug=f"bench-inflow-{stamp}")
    baseline_ws = Workspace.objects.create(name="Bench baseline", slug=f"bench-baseline-{stamp}")
    for workspace in (inflow_ws, baseline_ws):
        field_definition_ensure(workspace=workspace, field_id="str:cm:tier", name="Tier")
        field_definition_ensure(workspace=workspace, field_id="int:cm:score", name="Score")

    first = make_rows(args.rows, variant=0)
    changed = make_rows(args.rows, variant=1)
    baseline_n = min(args.baseline_rows, args.rows)
    phases = [("insert", first), ("unchanged", first), ("update", changed)]

    print(
        f"database: {connection.vendor} · rows: {args.rows:,} · batch: {args.batch:,} · "
        f"baseline rows: {baseline_n:,}"
    )
    print(f"{'phase':<10} {'inflow rows/s':>14} {'baseline rows/s':>16} {'ratio':>7}")
    inflow_total = baseline_total = 0.0
    try:
        for name, rows in phases:
            # Interleaved page by page (an inflow page, then the baseline's share of rows in its own
            # transaction), so both see the same machine load: this box is shared and 2-core.
            pages = -(-len(rows) // args.batch)
            chunk = -(-baseline_n // pages)
            inflow_s = baseline_s = 0.0
            for page in range(pages):
                inflow_s += run_inflow(inflow_ws, rows[page * args.batch : (page + 1) * args.batch])
                baseline_s += run_baseline(baseline_ws, rows[:baseline_n][page * chunk : (page + 1) * chunk])
            inflow_total += inflow_s
            baseline_total += baseline_s
            inflow_rate, baseline_rate = len(rows) / inflow_s, baseline_n / baseline_s
            print(
                f"{name:<10} {inflow_rate:>14,.0f} {baseline_rate:>16,.0f} {inflow_rate / baseline_rate:>6.1f}×"
            )
        inflow_rate = len(phases) * args.rows / inflow_total
        baseline_rate = len(phases) * baseline_n / baseline_total
        print(
            f"{'all':<10} {inflow_rate:>14,.0f} {baseline_rate:>16,.0f} {inflow_rate / baseline_rate:>6.1f}×"
        )
    finally:
        if not args.keep:
            Workspace.objects.filter(pk__in=[inflow_ws.pk, baseline_ws.pk]).delete()
    print(
        json.dumps(
            {
                "rows": args.rows,
                "database": connection.vendor,
                "inflow_rows_per_s": round(inflow_rate, 1),
                "baseline_rows_per_s": round(baseline_rate, 1),
                "ratio": round(inflow_rate / baseline_rate, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
