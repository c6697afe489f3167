"""Paging rate of the sandbox org: a REST query and a Bulk API 2.0 job over one seeded object.

    python bench/sandbox.py [--records 100000] [--also 1000000] [--db PATH] [--batch-size 2000]

Seeds an org whose Contact object has N records (or uses --db, an already seeded sandbox SQLite file, in
place: it adds a token, locators and a job but changes no record), starts `manage.py runsandbox` on a free port, and reads every record the
way a client does (gzip on, JSON parsed): REST `query` ordered by SystemModstamp, Id and followed through
`nextRecordsUrl`, then a Bulk 2.0 job paged by `maxRecords`. Prints records/s, the first and last REST page
times (keyset paging keeps the last page as cheap as the first), and the sandbox's CPU seconds. With
--also M it repeats on a second tier so the change from N to M shows side by side. The last line is one
JSON object for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
SOQL = (
    "SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, Title, Department, LeadSource, AccountId, "
    "OwnerId, HasOptedOutOfEmail, DoNotCall, SMS_Opt_In__c, Tier__c, Interests__c, Lifetime_Value__c, "
    "Birthdate, MailingCity, MailingCountry, CreatedDate, LastModifiedDate, SystemModstamp, IsDeleted "
    "FROM Contact"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Org:
    def __init__(self, workdir: Path, db: Path | None = None):
        self.workdir = workdir
        self.db = db or workdir / "sandbox.sqlite3"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "salesforce_sandbox.settings",
            "SANDBOX_DATABASE_URL": f"sqlite:///{self.db}",
            "DATABASE_URL": f"sqlite:///{workdir / 'app.db'}",
            "SANDBOX_STATE_DIR": str(workdir / "state"),
            "DEBUG": "1",
            "ENV_FILE": "/nonexistent/.env",
        }
        self.process = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def start(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(self.workdir / "server.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "runsandbox", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(300):
            try:
                if requests.get(f"{self.url}/services/data/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError((self.workdir / "server.log").read_text())

    def cpu_seconds(self) -> float:
        try:
            master = psutil.Process(self.process.pid)
            processes = [master, *master.children(recursive=True)]
            return sum(p.cpu_times().user + p.cpu_times().system for p in processes)
        except psutil.Error:
            return 0.0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


def rest_pass(org: Org, token: str, batch_size: int) -> dict:
    session = requests.Session()
    session.trust_env = False
    session.headers.update(
        {
            "Authorization": f"Bearer {token}",
            "Accept-Encoding": "gzip",
            "Sforce-Query-Options": f"batchSize={batch_size}",
        }
    )
    started = time.perf_counter()
    url = f"{org.url}/services/data/v62.0/query"
    params = {"q": SOQL + " ORDER BY SystemModstamp, Id"}
    records, page_times = 0, []
    while url:
        page_started = time.perf_counter()
        response = session.get(url, params=params, timeout=300)
        response.raise_for_status()
        body = orjson.loads(response.content)
        page_times.append(time.perf_counter() - page_started)
        records += len(body["records"])
        url = org.url + body["nextRecordsUrl"] if not body["done"] else None
        params = None
    elapsed = time.perf_counter() - started
    return {
        "records": records,
        "seconds": elapsed,
        "records_per_s": records / elapsed,
        "pages": len(page_times),
        "first_page_s": page_times[0],
        "last_page_s": page_times[-1],
    }


def bulk_pass(org: Org, token: str, max_records: int) -> dict:
    session = requests.Session()
    session.trust_env = False
    session.headers.update({"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"})
    base = f"{org.url}/services/data/v62.0/jobs/query"
    started = time.perf_counter()
    job = session.post(base, json={"operation": "query", "query": SOQL}, timeout=60).json()
    while True:
        state = session.get(f"{base}/{job['id']}", timeout=600).json()["state"]
        if state in ("JobComplete", "Failed", "Aborted"):
            break
        time.sleep(0.2)
    processed = time.perf_counter() - started
    records, locator, pages = 0, None, 0
    while locator != "null":
        params = {"maxRecords": max_records}
        if locator:
            params["locator"] = locator
        response = session.get(f"{base}/{job['id']}/results", params=params, timeout=600)
        response.raise_for_status()
        records += sum(1 for _ in response.iter_lines()) - 1  # header row; values here carry no newlines
        locator = response.headers["Sforce-Locator"]
        pages += 1
    elapsed = time.perf_counter() - started
    return {
        "records": records,
        "seconds": elapsed,
        "records_per_s": records / elapsed,
        "pages": pages,
        "job_processing_s": processed,
    }


def run_tier(contacts: int, db: Path | None, batch_size: int, max_records: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    org = Org(workdir, db)
    try:
        if db:  # used in place: the bench adds a token, locators and a job, and changes no record
            seed_s = None
        else:
            org.manage("migrate", "--database", "sandbox", "--no-input", "-v", "0")
            started = time.perf_counter()
            org.manage("sandbox_seed", "--contacts", str(contacts), "--seed", "1")
            seed_s = time.perf_counter() - started
        org.start()
        token = json.loads(org.manage("sandbox_token", "--json", "--instance-url", org.url))["access_token"]
        for _ in range(4):  # let every worker load its code and schema before timing
            requests.get(
                f"{org.url}/services/data/v62.0/sobjects/Contact/describe",
                timeout=60,
                headers={"Authorization": f"Bearer {token}"},
            )
        cpu_before = org.cpu_seconds()
        rest = rest_pass(org, token, batch_size)
        cpu_rest = org.cpu_seconds() - cpu_before
        bulk = bulk_pass(org, token, max_records)
        cpu_bulk = org.cpu_seconds() - cpu_before - cpu_rest
        return {
            "contacts": rest["records"],
            "seed_s": seed_s,
            "rest": rest,
            "bulk": bulk,
            "sandbox_cpu_rest_s": cpu_rest,
            "sandbox_cpu_bulk_s": cpu_bulk,
        }
    finally:
        org.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="Contacts to seed (default 100,000).")
    parser.add_argument("--also", type=int, help="A second tier, e.g. 1000000, to compare side by side.")
    parser.add_argument("--db", type=Path, help="Use this seeded sandbox SQLite file for the first tier.")
    parser.add_argument(
        "--also-db", type=Path, help="Use this seeded sandbox SQLite file for the second tier."
    )
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--max-records", type=int, default=50_000)
    args = parser.parse_args()
    tiers = [(args.records, args.db)]
    if args.also:
        tiers.append((args.also, args.also_db))
    results = []
    print(
        f"{'contacts':>10} {'seed s':>8} {'REST rec/s':>11} {'pages':>6} {'1st page s':>11} {'last page s':>12} "
        f"{'Bulk rec/s':>11} {'job s':>7} {'CPU REST':>9} {'CPU Bulk':>9}"
    )
    for contacts, db in tiers:
        result = run_tier(contacts, db, args.batch_size, args.max_records)
        results.append(result)
        rest, bulk = result["rest"], result["bulk"]
        seed = f"{result['seed_s']:.0f}" if result["seed_s"] is not None else "reused"
        print(
            f"{result['contacts']:>10} {seed:>8} {rest['records_per_s']:>11.0f} {rest['pages']:>6} "
            f"{rest['first_page_s']:>11.3f} {rest['last_page_s']:>12.3f} {bulk['records_per_s']:>11.0f} "
            f"{bulk['job_processing_s']:>7.1f} {result['sandbox_cpu_rest_s']:>9.1f} {result['sandbox_cpu_bulk_s']:>9.1f}",
            flush=True,
        )
    if len(results) == 2:
        a, b = results
        print(
            f"REST rate {b['contacts']} vs {a['contacts']}: {b['rest']['records_per_s'] / a['rest']['records_per_s']:.2f}x; "
            f"Bulk: {b['bulk']['records_per_s'] / a['bulk']['records_per_s']:.2f}x"
        )
    first = results[0]
    print(
        json.dumps(
            {
                "records": first["contacts"],
                "rest_records_per_s": round(first["rest"]["records_per_s"]),
                "bulk_records_per_s": round(first["bulk"]["records_per_s"]),
            }
        )
    )


if __name__ == "__main__":
    main()
