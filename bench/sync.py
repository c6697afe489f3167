"""Sync benchmark: backfill, incremental and a naive baseline, side by side on the same sandbox org.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench .venv/bin/python bench/sync.py [--contacts N]
        [--seed S] [--skip-baseline] [--objects Contact,Lead]

1. Seeds a sandbox org (`tests/sandbox_org.py` runs it as its own gunicorn process, SQLite file) with N contacts
   and the objects that come with them (accounts, leads, opportunities and roles, campaigns and members, tasks).
2. Backfills Account, Contact, Lead, Campaign, CampaignMember, Opportunity, OpportunityContactRole and Task
   (or only the `--objects` given, e.g. `--objects Contact` to compare with single-object extractors)
   into the app database of DATABASE_URL with `manage.py sync_salesforce --inline` in a worker process, and
   prints records/s, API calls (per object, against ⌈N/2000⌉ + 5) and the worker's peak RSS (psutil, 100 ms).
3. Changes 1,000 contacts through the org's REST API and times the incremental run; then a run with no
   change (API calls per object, against 2) and a full re-read (rows updated, against 0).
4. Live updates: `manage.py listen_salesforce` in its own process, then 1,000 changes made through the org's
   REST API at 40 a second (every other one a new contact, the rest an existing contact's name); prints
   p50 / p95 / max seconds from a change being sent to the CDP showing it.
5. Baseline in the same run on the same org: simple-salesforce `query_all` of the contacts over HTTPS and a
   per-record `update_or_create`; prints both rates and their ratio.

The last line printed is one JSON object for scripts.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OBJECTS = (
    "Account",
    "Contact",
    "Lead",
    "Campaign",
    "CampaignMember",
    "Opportunity",
    "OpportunityContactRole",
    "Task",
)
CHANGES = 1000


def log(message: str) -> None:
    print(message, flush=True)


def setup_django() -> None:
    # Production-like settings: DEBUG off (DEBUG keeps every SQL statement in memory and formats it), so
    # the figures are what a deployed worker does. The sandbox org is plain http on loopback, which the
    # worker reaches without any OAuth call (its token is fresh).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        os.environ.setdefault(name, "0")
    os.environ.setdefault("STATIC_MANIFEST", "0")
    os.environ.setdefault("ENV_FILE", "/nonexistent/.env")
    os.environ.setdefault("ENCRYPTION_KEYS", "q2r0yHkV7b9Q6v2Yk1Hk3u8m2bU2pGz6mW0lq9c5w7E=")
    import django

    django.setup()


def manage(*args: str, env: dict | None = None) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env or os.environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.1)


def run_worker(connection_id: int, *extra: str) -> tuple[object, float]:
    """`sync_salesforce --inline` in its own process; returns (the SyncRun, peak RSS in MB)."""
    from integrations.models import SyncRun

    before = (
        SyncRun.objects.filter(connection_id=connection_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )
    # BENCH_PROFILE=DIR writes a cProfile of each worker run there (for finding where the time goes).
    profile = os.environ.get("BENCH_PROFILE")
    prefix = ["-m", "cProfile", "-o", f"{profile}/worker-{time.time_ns()}.prof"] if profile else []
    prefix += os.environ.get("BENCH_WRAP", "").split()
    worker = subprocess.Popen(
        [
            sys.executable,
            *prefix,
            str(ROOT / "manage.py"),
            "sync_salesforce",
            "--inline",
            "--connection",
            str(connection_id),
            *extra,
        ],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = RssSampler(worker.pid)
    sampler.start()
    out, err = worker.communicate()
    sampler.stop.set()
    if worker.returncode:
        raise SystemExit(f"worker failed:\n{out}\n{err[-4000:]}")
    run = SyncRun.objects.filter(connection_id=connection_id, id__gt=before).order_by("-id").first()
    return run, sampler.peak / 2**20


def change_contacts(org, count: int) -> None:
    token = org.token()
    ids = [r["Id"] for r in org.records("Contact")[:count]]
    session = org.session()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    def patch(index_id):
        index, sf_id = index_id
        response = session.patch(
            f"{org.url}/services/data/v62.0/sobjects/Contact/{sf_id}",
            json={"Title": f"Bench title {index}", "Department": "Benchmarks"},
            headers=headers,
            timeout=30,
        )
        response.raise_for_status()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(patch, enumerate(ids)))


def stream_latency(org, connection, workspace, workdir) -> dict:
    """The listener as its own process; CHANGES changes at 40/s; latency from sending to the CDP showing it."""
    from integrations.models import ChangeStream
    from tests.live_changes import CdpWatcher, api, latency_figures, lone_contacts, make_changes
    from tests.processes import wait_for

    log_file = open(workdir / "listener.log", "wb")  # noqa: SIM115 - closed below
    listener = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "listen_salesforce", "--connection", str(connection.pk)],
        cwd=ROOT,
        env={**os.environ, "STREAMING_SCAN_SECONDS": "0.5"},
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        live = ChangeStream.objects.filter(connection=connection, state=ChangeStream.State.LIVE)
        if not wait_for(live.exists, 120):
            raise SystemExit(
                f"the listener did not go live:\n{(workdir / 'listener.log').read_text()[-3000:]}"
            )
        sent: dict[int, float] = {}
        changes: dict[int, str] = {}
        watcher = CdpWatcher(workspace, changes)
        watcher.start()
        contacts = lone_contacts(workspace, limit=CHANGES)
        make_changes(org, api(org), CHANGES, start=0, contacts=contacts, rate=40, sent=sent, changes=changes)
        wait_for(lambda: len(watcher.seen) == CHANGES, 120)
        watcher.stop.set()
        watcher.join()
        if len(watcher.seen) != CHANGES:
            raise SystemExit(f"only {len(watcher.seen)} of {CHANGES} changes arrived")
        return latency_figures(watcher.seen, sent)
    finally:
        listener.terminate()
        listener.wait(timeout=60)
        log_file.close()


def table_updates(tables: list[str]) -> dict[str, int]:
    """Rows updated so far per table (PostgreSQL statistics); empty elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()") if connection.pg_version >= 150000 else None
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, n_tup_upd FROM pg_stat_user_tables WHERE relname = ANY(%s)", [tables])
        return {name: int(count) for name, count in cursor.fetchall()}


def baseline(org_https, workspace, limit: int) -> tuple[int, float]:
    """simple-salesforce query_all + per-record update_or_create: the naive way."""
    from django.utils import timezone
    from simple_salesforce import Salesforce

    from cdp.models import Person

    token = org_https.token()
    session = org_https.session()
    sf = Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], session=session, version="62.0"
    )
    started = time.monotonic()
    soql = f"SELECT Id, FirstName, LastName, Email, Phone, Title FROM Contact LIMIT {int(limit)}"  # noqa: S608
    records = sf.query_all(soql)["records"]
    now = timezone.now()
    for rec in records:
        Person.objects.update_or_create(
            workspace=workspace,
            external_id=rec["Id"],
            defaults={
                "first_name": rec.get("FirstName") or "",
                "last_name": rec.get("LastName") or "",
                "email": (rec.get("Email") or "")[:254],
                "phone": (rec.get("Phone") or "")[:20],
                "created_at": now,
                "updated_at": now,
            },
        )
    return len(records), time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--baseline-limit",
        type=int,
        default=20_000,
        help="Records the (slow) baseline copies; its rate is what is compared.",
    )
    parser.add_argument(
        "--objects",
        type=lambda text: tuple(name.strip() for name in text.split(",") if name.strip()),
        default=OBJECTS,
        help="Comma-separated objects to sync (default: all of them); `Contact` alone compares like for like "
        "with single-object extractors.",
    )
    args = parser.parse_args()
    if unknown := set(args.objects) - set(OBJECTS):
        parser.error(f"--objects: not benchmarked: {', '.join(sorted(unknown))}")

    workdir = Path(tempfile.mkdtemp(prefix="inflow-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'app.sqlite3'}")
    os.environ["SANDBOX_DATABASE_URL"] = f"sqlite:///{workdir / 'sandbox.sqlite3'}"
    os.environ.setdefault("SYNC_HEARTBEAT_STALE_SECONDS", "300")
    setup_django()
    from django.db import connection as db

    from tests.sandbox_org import SandboxOrg

    database = db.vendor
    log(f"database: {database} ({db.settings_dict['NAME']}); workdir {workdir}")
    manage("migrate", "--no-input", "-v", "0")

    org = SandboxOrg(workdir)
    t = time.monotonic()
    org.manage("migrate", "--database", "sandbox", "--no-input", "-v", "0")
    org.manage("sandbox_seed", "--contacts", str(args.contacts), "--seed", str(args.seed), timeout=7200)
    counts = org.counts()
    log(
        f"seeded {sum(counts.values()):,} records ({args.contacts:,} contacts) in {time.monotonic() - t:.0f}s: {counts}"
    )
    org.start()
    try:
        result = bench(org, args, counts, database, workdir)
    finally:
        org.stop()
    log(json.dumps(result))
    shutil.rmtree(workdir, ignore_errors=True)


def bench(org, args, counts, database, workdir) -> dict:
    from django.contrib.auth import get_user_model

    from cdp.services import workspace_create
    from integrations.models import SyncedObject
    from tests.integrations.sync.conftest import connect, select_objects
    from tests.sandbox_org import SandboxOrg

    os.environ["SALESFORCE_CLIENT_ID"], os.environ["SALESFORCE_CLIENT_SECRET"] = (
        org.client_id,
        org.client_secret,
    )
    from django.conf import settings

    settings.SALESFORCE_CLIENT_ID, settings.SALESFORCE_CLIENT_SECRET = org.client_id, org.client_secret
    stamp = int(time.time())
    user = get_user_model().objects.create_user(
        username=f"bench{stamp}", email=f"bench{stamp}@example.com", password="x"
    )
    workspace = workspace_create(owner=user, name=f"Bench {stamp}")
    connection = connect(workspace, org)
    select_objects(connection, args.objects)

    log(f"backfill of {', '.join(args.objects)} ...")
    run, peak_rss = run_worker(connection.pk)
    assert run.state == "succeeded", run.state_reason
    seconds = run.seconds or 1e-9
    rate = run.fetched / seconds
    log(
        f"backfill: {run.fetched:,} records in {seconds:.1f}s = {rate:,.0f} records/s; created {run.created:,}, "
        f"merged {run.merged:,}, activities {run.activities_recorded:,}, failed {run.failed:,}; "
        f"API calls {run.api_calls:,}; worker peak RSS {peak_rss:.0f} MB"
    )
    for name, entry in run.progress.items():
        total = entry.get("total") or entry.get("done") or 0
        budget = math.ceil(total / 2000) + 5
        log(
            f"  {name:<24} {entry.get('done', 0):>8,} records  {entry.get('api_calls', 0):>4} API calls "
            f"(REST bound ⌈N/2000⌉+5 = {budget})"
        )

    log(f"changing {CHANGES:,} contacts through the REST API ...")
    change_contacts(org, CHANGES)
    incremental, _ = run_worker(connection.pk)
    log(
        f"incremental: {incremental.fetched:,} records, merged {incremental.merged:,}, "
        f"{incremental.seconds:.2f}s, API calls {incremental.api_calls}"
    )

    quiet, _ = run_worker(connection.pk)
    per_object = {n: e.get("api_calls", 0) for n, e in quiet.progress.items()}
    log(
        f"no-change incremental: API calls {quiet.api_calls} ({per_object}), created {quiet.created}, merged {quiet.merged}"
    )

    tables = ["cdp_person", "cdp_organization", "cdp_activity", "integrations_sourcerecord", "cdp_identity"]
    before = table_updates(tables)
    resync, _ = run_worker(connection.pk, "--full")
    time.sleep(0.6)
    after = table_updates(tables)
    per_table = {
        name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)
    }
    # Row-update counters come from pg_stat_user_tables; SQLite keeps none, so the figure is null there.
    updated = sum(per_table.values()) if after else None
    updated_text = f"{updated} {per_table or ''}" if updated is not None else "not measured on SQLite"
    log(
        f"full re-read of unchanged data: {resync.fetched:,} records in {resync.seconds:.1f}s, created "
        f"{resync.created}, merged {resync.merged}, rows updated {updated_text}"
    )

    log(f"live updates: {CHANGES:,} changes streamed to a listener process ...")
    streaming = stream_latency(org, connection, workspace, workdir)
    log(
        f"live updates: {streaming['changes']:,} changes in the CDP p50 {streaming['p50_s']:.2f}s, "
        f"p95 {streaming['p95_s']:.2f}s, max {streaming['max_s']:.2f}s after they were sent"
    )

    baseline_rate = None
    ratio = None
    if not args.skip_baseline:
        https = SandboxOrg(workdir, https=True)
        https.start()
        try:
            ws_b = workspace_create(owner=user, name=f"Baseline {stamp}")
            n, secs = baseline(https, ws_b, args.baseline_limit)
        finally:
            https.stop()
        baseline_rate = n / secs
        ratio = rate / baseline_rate
        log(
            f"baseline (simple-salesforce query_all + update_or_create): {n:,} records in {secs:.1f}s = "
            f"{baseline_rate:,.0f} records/s; engine/baseline = {ratio:.1f}x"
        )

    SyncedObject.objects.filter(connection=connection).count()
    return {
        "contacts": args.contacts,
        "database": database,
        "backfill_records_per_s": round(rate, 1),
        "backfill_records": run.fetched,
        "api_calls": run.api_calls,
        "peak_rss_mb": round(peak_rss, 1),
        "incremental_changes": CHANGES,
        "incremental_seconds": round(incremental.seconds, 2),
        "no_change_api_calls_per_object": max(per_object.values()) if per_object else 0,
        "resync_rows_updated": updated,
        "streaming_p50_s": streaming["p50_s"],
        "streaming_p95_s": streaming["p95_s"],
        "streaming_max_s": streaming["max_s"],
        "baseline_records_per_s": round(baseline_rate, 1) if baseline_rate else None,
        "ratio": round(ratio, 1) if ratio else None,
    }


if __name__ == "__main__":
    main()
