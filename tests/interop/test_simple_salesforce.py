"""simple-salesforce, unchanged, against the sandbox org over HTTPS: what a stock client sees."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from simple_salesforce import Salesforce

from tests.sandbox_org import _launch

CONTACT_SOQL = (
    "SELECT Id, FirstName, LastName, Email, HasOptedOutOfEmail, Tier__c, Interests__c, Lifetime_Value__c, "
    "Birthdate, SystemModstamp, IsDeleted FROM Contact ORDER BY SystemModstamp, Id"
)
CONTACT_FIELDS = [
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "HasOptedOutOfEmail",
    "Tier__c",
    "Interests__c",
    "Lifetime_Value__c",
    "Birthdate",
    "SystemModstamp",
    "IsDeleted",
]


@pytest.fixture(scope="module")
def org(tmp_path_factory, _sandbox_templates):
    org = _launch(tmp_path_factory, _sandbox_templates, contacts=2100, seed=3, https=True)
    yield org
    org.stop()


@pytest.fixture(scope="module")
def sf(org):
    token = org.token()
    session = org.session()  # trust_env=False and verify=<the sandbox's certificate>
    return Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], session=session, version="59.0"
    )


def _expected(record: dict) -> dict:
    return {
        name: record.get(name, False if name in ("HasOptedOutOfEmail", "IsDeleted") else None)
        for name in CONTACT_FIELDS
    }


def _strip(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "attributes"}


def test_certificate_is_served_for_localhost(org):
    assert org.url.startswith("https://localhost:")
    assert org.cert_path.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_describe_global_and_contact(sf):
    names = [s["name"] for s in sf.describe()["sobjects"]]
    assert {
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "OpportunityContactRole",
        "Campaign",
        "CampaignMember",
        "Task",
        "User",
        "Dossier__c",
        "Loan__c",
        "Instalment__c",
    } <= set(names)
    contact = sf.Contact.describe()
    assert contact["name"] == "Contact" and contact["keyPrefix"] == "003"
    fields = {f["name"]: f for f in contact["fields"]}
    assert len(fields) > 50
    assert fields["HasOptedOutOfEmail"]["type"] == "boolean"
    assert fields["Interests__c"]["type"] == "multipicklist"
    assert fields["Lifetime_Value__c"]["type"] == "currency"
    assert all(len(f) == 57 for f in contact["fields"])


def test_query_all_pages_over_2000_records_equal_the_seeded_data(org, sf):
    result = sf.query_all(CONTACT_SOQL)
    stored = sorted(org.records("Contact"), key=lambda r: (r["SystemModstamp"], r["Id"]))
    assert len(stored) > 2000
    assert result["totalSize"] == len(stored)
    assert [_strip(r) for r in result["records"]] == [_expected(r) for r in stored]
    assert org.request_log()["queryMore"] >= 1


def test_query_all_include_deleted(org, sf):
    result = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)
    everything = org.records("Contact", include_deleted=True)
    assert result["totalSize"] == len(everything)
    assert sorted(r["Id"] for r in result["records"] if r["IsDeleted"]) == sorted(
        r["Id"] for r in everything if r["IsDeleted"]
    )


def test_updated_and_deleted(org, sf):
    end = dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=14)
    updated = sf.Contact.updated(start, end)
    expected = [
        r["Id"]
        for r in org.records("Contact")
        if start.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        <= r["SystemModstamp"]
        < end.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    ]
    assert sorted(updated["ids"]) == sorted(expected)
    assert updated["latestDateCovered"] == end.replace(second=0, microsecond=0).strftime(
        "%Y-%m-%dT%H:%M:00.000+0000"
    )
    deleted = sf.Contact.deleted(start, end)
    deleted_ids = {r["Id"] for r in org.records("Contact", include_deleted=True) if r["IsDeleted"]}
    assert {d["id"] for d in deleted["deletedRecords"]} <= deleted_ids
    assert all(d["deletedDate"].endswith("+0000") for d in deleted["deletedRecords"])


def test_bulk2_query_csv_pages(org, sf):
    pages = list(
        sf.bulk2.Contact.query("SELECT Id, LastName, Email FROM Contact", max_records=1000, wait=0.2)
    )
    stored = {r["Id"]: r for r in org.records("Contact")}
    assert len(pages) == -(-len(stored) // 1000)
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(rows) == len(stored)
    for row in rows:
        assert row["LastName"] == stored[row["Id"]]["LastName"]
        assert row["Email"] == (stored[row["Id"]].get("Email") or "")


def test_limits_and_api_usage(org, sf):
    limits = sf.limits()
    used, maximum = org.api_usage()
    assert limits["DailyApiRequests"]["Max"] == maximum == 15000
    assert limits["DailyApiRequests"]["Remaining"] == maximum - used
    sf.query("SELECT Id FROM Account LIMIT 1")
    usage = sf.api_usage["api-usage"]
    assert (usage.used, usage.total) == (used + 1, 15000)


def test_bulk1_query_all_through_the_bulk_handler(org, sf):
    # simple-salesforce's Bulk API 1.0 handler: JSON job, batch, close, poll, result list, result file.
    records = sf.bulk.Contact.query_all(
        "SELECT Id, FirstName, LastName, Email, HasOptedOutOfEmail, IsDeleted FROM Contact", wait=0.2
    )
    stored = {r["Id"]: r for r in org.records("Contact", include_deleted=True)}
    assert len(records) == len(stored) > 2000
    assert {r["Id"] for r in records} == set(stored)
    for record in records:
        expected = stored[record["Id"]]
        assert record["attributes"]["type"] == "Contact"
        assert (record["LastName"], record["Email"], record["IsDeleted"]) == (
            expected["LastName"],
            expected.get("Email"),
            expected["IsDeleted"],
        )
    assert any(r["IsDeleted"] for r in records)


def test_bulk1_query_returns_live_records_with_epoch_dates(org, sf):
    records = sf.bulk.Account.query("SELECT Id, Name, CreatedDate FROM Account", wait=0.2)
    stored = {r["Id"]: r for r in org.records("Account")}
    assert {r["Id"] for r in records} == set(stored)
    sample = records[0]
    created = stored[sample["Id"]]["CreatedDate"]  # 2024-01-31T17:05:00.000+0000
    moment = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert sample["CreatedDate"] == int(moment.timestamp() * 1000)


def test_limits_carry_a_real_orgs_keys(sf):
    limits = sf.limits()
    for key in (
        "DailyBulkApiBatches",
        "DailyStreamingApiEvents",
        "DailyDeliveredPlatformEvents",
        "HourlyPublishedPlatformEvents",
        "DailyDurableStreamingApiEvents",
        "PermissionSets",
    ):
        assert set(limits[key]) == {"Max", "Remaining"}
        assert isinstance(limits[key]["Max"], int) and isinstance(limits[key]["Remaining"], int)
    assert len(limits) >= 50
