"""Bulk API 2.0 query jobs against a running sandbox org."""

from __future__ import annotations

import csv
import io

import pytest

V = "/services/data/v60.0"


@pytest.fixture(scope="module")
def token(_sandbox_org_session):
    return _sandbox_org_session.token()["access_token"]


@pytest.fixture
def http(sandbox_org, token):
    session = sandbox_org.session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = f"{sandbox_org.url}{V}"

    class Http:
        def get(self, path, **kw):
            return session.get(base + path, timeout=30, **kw)

        def post(self, path, **kw):
            return session.post(base + path, timeout=30, **kw)

        def patch(self, path, **kw):
            return session.patch(base + path, timeout=30, **kw)

        def delete(self, path, **kw):
            return session.delete(base + path, timeout=30, **kw)

    return Http()


def _create(http, soql, operation="query"):
    response = http.post("/jobs/query", json={"operation": operation, "query": soql})
    assert response.status_code == 200, response.text
    return response.json()


def test_job_lifecycle_and_csv_pages(sandbox_org, http):
    created = _create(
        http, "SELECT Id, FirstName, LastName, Email, HasOptedOutOfEmail, Account.Name FROM Contact"
    )
    assert list(created) == [
        "id",
        "operation",
        "object",
        "createdById",
        "createdDate",
        "systemModstamp",
        "state",
        "concurrencyMode",
        "contentType",
        "apiVersion",
        "lineEnding",
        "columnDelimiter",
    ]
    assert created["state"] == "UploadComplete"
    assert created["apiVersion"] == 60.0
    assert created["object"] == "Contact"
    assert created["id"].startswith("750")

    not_yet = http.get(f"/jobs/query/{created['id']}/results")
    assert not_yet.status_code == 400
    assert not_yet.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"

    info = http.get(f"/jobs/query/{created['id']}").json()
    stored = sandbox_org.records("Contact")
    assert info["state"] == "JobComplete"  # small jobs finish on the first poll
    assert info["jobType"] == "V2Query"
    assert info["numberRecordsProcessed"] == len(stored)

    accounts = {a["Id"]: a["Name"] for a in sandbox_org.records("Account")}
    rows, locator, pages = [], None, 0
    while True:
        params = {"maxRecords": 70}
        if locator:
            params["locator"] = locator
        page = http.get(f"/jobs/query/{created['id']}/results", params=params)
        assert page.status_code == 200
        assert page.headers["Content-Type"] == "text/csv; charset=UTF-8"
        text = page.text
        assert (
            text.splitlines()[0] == '"Id","FirstName","LastName","Email","HasOptedOutOfEmail","Account.Name"'
        )
        page_rows = list(csv.DictReader(io.StringIO(text)))
        assert int(page.headers["Sforce-NumberOfRecords"]) == len(page_rows)
        rows += page_rows
        pages += 1
        locator = page.headers["Sforce-Locator"]
        if locator == "null":
            break
    assert pages == -(-len(stored) // 70)
    by_id = {r["Id"]: r for r in stored}
    assert sorted(r["Id"] for r in rows) == sorted(by_id)
    for row in rows:
        record = by_id[row["Id"]]
        assert row["Email"] == (record.get("Email") or "")
        assert row["LastName"] == record["LastName"]
        assert row["HasOptedOutOfEmail"] == ("true" if record.get("HasOptedOutOfEmail") else "false")
        assert row["Account.Name"] == (accounts.get(record.get("AccountId")) or "")

    again = http.get(f"/jobs/query/{created['id']}/results", params={"maxRecords": 70, "locator": "NzA"})
    assert again.headers["Sforce-NumberOfRecords"] == "70"  # locators are stable while the job exists

    assert http.delete(f"/jobs/query/{created['id']}").status_code == 204
    assert http.get(f"/jobs/query/{created['id']}").status_code == 404


def test_query_all_includes_deleted_records(sandbox_org, http):
    created = _create(http, "SELECT Id, IsDeleted FROM Contact", operation="queryAll")
    http.get(f"/jobs/query/{created['id']}")
    rows = list(csv.DictReader(io.StringIO(http.get(f"/jobs/query/{created['id']}/results").text)))
    everything = sandbox_org.records("Contact", include_deleted=True)
    assert len(rows) == len(everything)
    assert sum(r["IsDeleted"] == "true" for r in rows) == sum(r["IsDeleted"] for r in everything) > 0


@pytest.mark.parametrize(
    "soql, code, message",
    [
        ("SELECT COUNT() FROM Contact", "API_ERROR", "Aggregate queries are not supported by the Bulk API"),
        (
            "SELECT Id FROM Contact LIMIT 5 OFFSET 5",
            "API_ERROR",
            "OFFSET clause is not supported by the Bulk API",
        ),
        (
            "SELECT Id, MailingAddress FROM Contact",
            "API_ERROR",
            "Selecting compound data not supported in Bulk Query",
        ),
    ],
)
def test_unsupported_queries_fail_at_creation(http, soql, code, message):
    response = http.post("/jobs/query", json={"operation": "query", "query": soql})
    assert response.status_code == 400
    assert response.json() == [{"message": message, "errorCode": code}]


def test_abort_and_list(sandbox_org, http):
    sandbox_org.faults(bulk_job_delay_ms=60_000)
    created = _create(http, "SELECT Id FROM Lead")
    assert http.get(f"/jobs/query/{created['id']}").json()["state"] == "InProgress"
    aborted = http.patch(f"/jobs/query/{created['id']}", json={"state": "Aborted"})
    assert aborted.status_code == 200
    assert aborted.json()["state"] == "Aborted"
    listed = http.get("/jobs/query").json()
    assert listed["done"] is True
    assert created["id"] in [job["id"] for job in listed["records"]]


def test_query_timeout_fault_fails_the_job(sandbox_org, http):
    sandbox_org.faults(query_timeout=["Lead"])
    created = _create(http, "SELECT Id FROM Lead")
    info = http.get(f"/jobs/query/{created['id']}").json()
    assert info["state"] == "Failed"
    assert info["errorMessage"] == "QUERY_TIMEOUT: Your query request was running for too long."
