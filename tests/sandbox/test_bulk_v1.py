# ruff: noqa: S314 - parsing what the sandbox under test answered
"""Bulk API 1.0 (`/services/async/<version>/...`) against a running sandbox org, in XML and in JSON, as
Salesforce serves it: jobs, batches, batch state, result lists and files, PK chunking, close/abort, errors."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET  # noqa: S405 - the sandbox under test wrote this XML

import pytest

NS = "{http://www.force.com/2009/06/asyncapi/dataload}"
V = "62.0"
JOB_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
    "<operation>{operation}</operation><object>{object}</object>"
    "<concurrencyMode>Parallel</concurrencyMode><contentType>{content}</contentType></jobInfo>"
)


def _xml(text: str) -> dict:
    root = ET.fromstring(text)
    return {child.tag.replace(NS, ""): child.text for child in root}


@pytest.fixture
def bulk(sandbox_org):
    session = sandbox_org.session()
    session.headers["X-SFDC-Session"] = sandbox_org.token()["access_token"]
    session.base = f"{sandbox_org.url}/services/async/{V}/job"
    return session


def _create_xml(bulk, *, object="Contact", operation="query", content="CSV", headers=None):
    answer = bulk.post(
        bulk.base,
        data=JOB_XML.format(operation=operation, object=object, content=content),
        headers={"Content-Type": "application/xml; charset=UTF-8", **(headers or {})},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["Content-Type"].startswith("application/xml")
    return _xml(answer.text)


def _add_batch(bulk, job_id: str, soql: str, content_type="text/csv"):
    answer = bulk.post(
        f"{bulk.base}/{job_id}/batch", data=soql, headers={"Content-Type": content_type}, timeout=10
    )
    assert answer.status_code == 201, answer.text
    return answer


def test_an_xml_csv_query_job_end_to_end(bulk, sandbox_org):
    job = _create_xml(bulk)
    assert (job["operation"], job["object"], job["state"], job["contentType"]) == (
        "query",
        "Contact",
        "Open",
        "CSV",
    )
    assert re.fullmatch(r"750[A-Za-z0-9]{15}", job["id"])
    assert job["apiVersion"] == "62.0" and job["numberBatchesTotal"] == "0"
    batch = _xml(_add_batch(bulk, job["id"], "SELECT Id, Email, LastModifiedDate FROM Contact").text)
    assert batch["jobId"] == job["id"] and batch["state"] == "Queued"
    closed = _xml(
        bulk.post(
            f"{bulk.base}/{job['id']}",
            data='<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>',
            headers={"Content-Type": "application/xml"},
            timeout=10,
        ).text
    )
    assert closed["state"] == "Closed"
    info = _xml(bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}", timeout=10).text)
    assert info["state"] == "Completed"
    live = sandbox_org.counts()["Contact"]
    assert info["numberRecordsProcessed"] == str(live)
    listing = ET.fromstring(bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}/result", timeout=10).text)
    assert listing.tag == f"{NS}result-list"
    (result_id,) = [r.text for r in listing]
    assert re.fullmatch(r"752[A-Za-z0-9]{15}", result_id)
    file = bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}/result/{result_id}", timeout=30)
    assert file.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(file.text)))
    assert list(rows[0]) == ["Id", "Email", "LastModifiedDate"]
    stored = {r["Id"]: r for r in sandbox_org.records("Contact")}
    assert {r["Id"] for r in rows} == set(stored)
    sample = rows[0]
    assert sample["Email"] == (stored[sample["Id"]].get("Email") or "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sample["LastModifiedDate"])
    job_info = _xml(bulk.get(f"{bulk.base}/{job['id']}", timeout=10).text)
    assert (job_info["numberBatchesCompleted"], job_info["numberBatchesTotal"]) == ("1", "1")
    assert job_info["numberRecordsProcessed"] == str(live)
    assert bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}/request", timeout=10).text == (
        "SELECT Id, Email, LastModifiedDate FROM Contact"
    )


def test_a_json_job_answers_json_with_epoch_dates(bulk, sandbox_org):
    bulk.headers["Content-Type"] = "application/json"
    created = bulk.post(
        bulk.base, json={"operation": "queryAll", "object": "Account", "contentType": "JSON"}, timeout=10
    )
    assert created.status_code == 201 and created.json()["state"] == "Open"
    job = created.json()
    assert job["apiVersion"] == 62.0 and job["numberBatchesTotal"] == 0
    batch = bulk.post(
        f"{bulk.base}/{job['id']}/batch",
        data="SELECT Id, Name, CreatedDate, IsDeleted FROM Account",
        timeout=10,
    ).json()
    listing = bulk.get(f"{bulk.base}/{job['id']}/batch", timeout=10).json()
    assert [b["id"] for b in listing["batchInfo"]] == [batch["id"]]
    assert listing["batchInfo"][0]["state"] == "Completed"
    results = bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}/result", timeout=10).json()
    records = bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}/result/{results[0]}", timeout=30).json()
    every = sandbox_org.records("Account", include_deleted=True)
    assert len(records) == len(every) and any(
        r["IsDeleted"] for r in records
    )  # queryAll: the recycle bin too
    first = records[0]
    assert first["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v{V}/sobjects/Account/{first['Id']}",
    }
    assert isinstance(first["CreatedDate"], int) and first["CreatedDate"] > 1_600_000_000_000


def test_pk_chunking_splits_the_batch_and_returns_every_record(bulk, sandbox_org):
    job = _create_xml(bulk, headers={"Sforce-Enable-PKChunking": "chunkSize=60"})
    original = _xml(_add_batch(bulk, job["id"], "SELECT Id, LastName FROM Contact").text)
    listing = ET.fromstring(bulk.get(f"{bulk.base}/{job['id']}/batch", timeout=10).text)
    infos = [{c.tag.replace(NS, ""): c.text for c in b} for b in listing]
    by_id = {i["id"]: i for i in infos}
    assert by_id[original["id"]]["state"] == "NotProcessed"
    chunks = [i for i in infos if i["id"] != original["id"]]
    every = sandbox_org._rows(
        "SELECT COUNT(*) AS n FROM salesforce_sandbox_record WHERE sobject = %s AND purged = %s",
        ("Contact", False),
    )[0]["n"]
    assert len(chunks) == -(-every // 60) >= 2  # chunks of 60 Ids of the object, the recycle bin's included
    seen = []
    for chunk in chunks:
        assert chunk["state"] == "Completed"
        (result_id,) = [
            r.text
            for r in ET.fromstring(
                bulk.get(f"{bulk.base}/{job['id']}/batch/{chunk['id']}/result", timeout=10).text
            )
        ]
        text = bulk.get(f"{bulk.base}/{job['id']}/batch/{chunk['id']}/result/{result_id}", timeout=10).text
        seen += [row["Id"] for row in csv.DictReader(io.StringIO(text))]
    assert sorted(seen) == sorted(r["Id"] for r in sandbox_org.records("Contact"))
    assert len(seen) == len(set(seen))
    # The original batch has no results of its own.
    refused = bulk.get(f"{bulk.base}/{job['id']}/batch/{original['id']}/result", timeout=10)
    assert refused.status_code == 400 and _xml(refused.text)["exceptionCode"] == "InvalidBatch"


def test_batches_count_against_the_daily_limit(bulk, sandbox_org):
    token = bulk.headers["X-SFDC-Session"]
    limits = (
        sandbox_org.session()
        .get(
            f"{sandbox_org.url}/services/data/v{V}/limits/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        .json()
    )
    before = limits["DailyBulkApiBatches"]["Remaining"]
    job = _create_xml(bulk)
    _add_batch(bulk, job["id"], "SELECT Id FROM Lead")
    _add_batch(bulk, job["id"], "SELECT Id FROM Lead LIMIT 3")
    after = (
        sandbox_org.session()
        .get(
            f"{sandbox_org.url}/services/data/v{V}/limits/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        .json()["DailyBulkApiBatches"]
    )
    assert after == {"Max": 15000, "Remaining": before - 2}


def test_abort_leaves_queued_batches_not_processed(bulk, sandbox_org):
    sandbox_org.faults(bulk_job_delay_ms=60_000)
    job = _create_xml(bulk)
    batch = _xml(_add_batch(bulk, job["id"], "SELECT Id FROM Contact").text)
    aborted = bulk.post(f"{bulk.base}/{job['id']}", json={"state": "Aborted"}, timeout=10)
    assert aborted.json()["state"] == "Aborted"
    assert (
        _xml(bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}", timeout=10).text)["state"]
        == "NotProcessed"
    )


# -- bad input: Salesforce's own codes, never a 500 ----------------------------------------------------------


def _error(answer) -> tuple[int, str, str]:
    if answer.headers["Content-Type"].startswith("application/json"):
        body = answer.json()
        return answer.status_code, body["exceptionCode"], body["exceptionMessage"]
    body = _xml(answer.text)
    return answer.status_code, body["exceptionCode"], body["exceptionMessage"]


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        ("<jobInfo><operation>query", "application/xml", "InvalidXML"),
        ("not xml at all", "application/xml", "InvalidXML"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><jobInfo/>', "application/xml", "InvalidXML"),
        ("<other/>", "application/xml", "InvalidJob"),
        ('{"operation": "query", "object": ', "application/json", "ClientInputError"),
        ("[1, 2]", "application/json", "ClientInputError"),
        ('{"object": "Contact"}', "application/json", "InvalidJob"),
        ('{"operation": "merge", "object": "Contact"}', "application/json", "InvalidJob"),
        ('{"operation": "insert", "object": "Contact"}', "application/json", "FeatureNotEnabled"),
        ('{"operation": "query", "object": "Nope__c"}', "application/json", "InvalidEntity"),
        (
            '{"operation": "query", "object": "Contact", "contentType": "PDF"}',
            "application/json",
            "InvalidJob",
        ),
    ],
)
def test_malformed_job_bodies(bulk, body, content_type, code):
    answer = bulk.post(bulk.base, data=body.encode(), headers={"Content-Type": content_type}, timeout=10)
    status, found, message = _error(answer)
    assert (status, found) == (400, code), message
    assert message


def test_unknown_ids_results_too_early_and_closed_jobs(bulk, sandbox_org):
    missing = "750Dw0000000000AAA"
    assert _error(bulk.get(f"{bulk.base}/{missing}", timeout=10))[:2] == (400, "InvalidJob")
    assert _error(bulk.get(f"{bulk.base}/{missing}/batch", timeout=10))[:2] == (400, "InvalidJob")
    job = _create_xml(bulk)
    assert _error(bulk.get(f"{bulk.base}/{job['id']}/batch/751Dw0000000000AAA", timeout=10))[:2] == (
        400,
        "InvalidBatch",
    )
    sandbox_org.faults(bulk_job_delay_ms=60_000)
    batch = _xml(_add_batch(bulk, job["id"], "SELECT Id FROM Contact").text)
    assert _error(bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}/result", timeout=10)) == (
        400,
        "InvalidBatch",
        "Batch not completed",
    )
    bulk.post(f"{bulk.base}/{job['id']}", json={"state": "Closed"}, timeout=10)
    late = bulk.post(
        f"{bulk.base}/{job['id']}/batch",
        data="SELECT Id FROM Contact",
        headers={"Content-Type": "text/csv"},
        timeout=10,
    )
    assert _error(late) == (400, "InvalidJobState", "Closed Job")
    reopen = bulk.post(f"{bulk.base}/{job['id']}", json={"state": "Open"}, timeout=10)
    assert _error(reopen)[:2] == (400, "InvalidJobState")


def test_a_bad_query_fails_the_batch_with_the_soql_error(bulk):
    job = _create_xml(bulk)
    batch = _xml(_add_batch(bulk, job["id"], "SELECT Nope__c FROM Contact").text)
    info = _xml(bulk.get(f"{bulk.base}/{job['id']}/batch/{batch['id']}", timeout=10).text)
    assert info["state"] == "Failed"
    assert info["stateMessage"].startswith("InvalidBatch : Failed to process query: INVALID_FIELD:")


def test_sessions_are_checked(sandbox_org):
    base = f"{sandbox_org.url}/services/async/{V}/job"
    for headers in ({}, {"X-SFDC-Session": "00DDw0000000001!AQbogus"}, {"X-SFDC-Session": "x" * 600}):
        answer = sandbox_org.session().post(
            base,
            data=JOB_XML.format(operation="query", object="Contact", content="CSV"),
            headers={"Content-Type": "application/xml", **headers},
            timeout=10,
        )
        assert _error(answer) == (401, "InvalidSessionId", "Invalid session id")
