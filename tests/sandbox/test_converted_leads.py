"""Lead conversion looks like Salesforce's, and a converted lead is read-only (CANNOT_UPDATE_CONVERTED_LEAD)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.sandbox.recycle import V, api, snapshot, violations

CONVERTED = [
    {"errorCode": "CANNOT_UPDATE_CONVERTED_LEAD", "message": "cannot reference converted lead", "fields": []}
]


@pytest.fixture(scope="module")
def org(tmp_path_factory, _sandbox_templates):
    from tests.sandbox_org import _launch

    org = _launch(tmp_path_factory, _sandbox_templates, contacts=200, seed=1, https=False)
    yield org
    org.stop()


@pytest.fixture(scope="module")
def http(org):
    return api(org)


@pytest.fixture(autouse=True)
def no_tracebacks(org):
    log = org.workdir / "server.log"
    before = log.read_text().count("Traceback")
    yield
    assert log.read_text().count("Traceback") == before


def _email(value) -> str:
    return str(value or "").strip().lower()


def test_churn_converts_leads_as_salesforce_does(org):
    before = snapshot(org)
    output = org.churn(convert_leads=12, seed=5)
    assert "converted Lead: 12" in output
    after = snapshot(org)
    converted = [
        lead
        for sf_id, lead in after["Lead"].items()
        if lead.get("IsConverted") and not before["Lead"][sf_id].get("IsConverted")
    ]
    assert len(converted) == 12
    today = dt.datetime.now(dt.UTC).date().isoformat()
    into_existing = new_contacts = 0
    for lead in converted:
        old = before["Lead"][lead["Id"]]
        assert not old["IsDeleted"] and not old.get("IsConverted")
        assert lead["Status"] == "Closed - Converted" and lead["ConvertedDate"] == today
        assert (
            lead["SystemModstamp"] > old["SystemModstamp"]
            and lead["LastModifiedDate"] == lead["SystemModstamp"]
        )
        contact = after["Contact"][lead["ConvertedContactId"]]
        assert not contact["IsDeleted"]
        assert lead["ConvertedAccountId"] and contact["AccountId"] == lead["ConvertedAccountId"]
        assert not after["Account"][lead["ConvertedAccountId"]]["IsDeleted"]
        matches = sorted(
            sf_id
            for sf_id, c in before["Contact"].items()
            if not c["IsDeleted"]
            and _email(lead.get("Email"))
            and _email(c.get("Email")) == _email(lead.get("Email"))
        )
        if matches:
            # The existing contact with the lead's email: blank fields filled, nothing overwritten.
            into_existing += 1
            assert lead["ConvertedContactId"] == matches[0]
            old_contact = before["Contact"][matches[0]]
            for name, value in old_contact.items():
                if value is not None and name not in (
                    "LastModifiedDate",
                    "SystemModstamp",
                    "LastModifiedById",
                ):
                    assert contact.get(name) == value, name
            assert contact["SystemModstamp"] == lead["SystemModstamp"]
        else:
            new_contacts += 1
            assert lead["ConvertedContactId"] not in before["Contact"]
            for field in (
                "FirstName",
                "LastName",
                "Email",
                "Phone",
                "Title",
                "LeadSource",
                "HasOptedOutOfEmail",
            ):
                assert contact.get(field) == lead.get(field), field
            assert contact.get("MailingCity") == lead.get("City")
            assert contact["CreatedDate"] == lead["SystemModstamp"]
        # The lead's tasks now belong to the contact; its memberships follow it.
        for task_id, task in before["Task"].items():
            if task.get("WhoId") == lead["Id"] and not task["IsDeleted"]:
                assert after["Task"][task_id]["WhoId"] == contact["Id"]
                assert after["Task"][task_id]["SystemModstamp"] == lead["SystemModstamp"]
        for member_id, member in before["CampaignMember"].items():
            if member.get("LeadId") == lead["Id"] and not member["IsDeleted"]:
                moved = after["CampaignMember"][member_id]
                assert moved["LeadId"] == lead["Id"]
                assert moved["ContactId"] == contact["Id"] or any(
                    m.get("ContactId") == contact["Id"] and m["CampaignId"] == member["CampaignId"]
                    for m in before["CampaignMember"].values()
                )
    assert into_existing and new_contacts, (into_existing, new_contacts)
    assert f"new Contact from Lead: {new_contacts}" in output
    assert len(after["Contact"]) == len(before["Contact"]) + new_contacts
    assert violations(after) == []


def test_patching_a_converted_lead_is_refused_and_changes_nothing(org, http):
    converted = sorted(r["Id"] for r in org.records("Lead") if r.get("IsConverted"))[0]
    before = snapshot(org)
    url = f"{org.url}{V}/sobjects/Lead/{converted}"
    for body in (
        {"Title": "CEO"},
        {"Email": "someone@else.example.com", "Status": "Working - Contacted"},
        {},
    ):
        response = http.patch(url, json=body, timeout=30)
        assert (response.status_code, response.json()) == (400, CONVERTED), body
    # An unknown field is refused for what it is first, as on Salesforce.
    unknown = http.patch(url, json={"Nope__c": 1}, timeout=30)
    assert (unknown.status_code, unknown.json()[0]["errorCode"]) == (400, "INVALID_FIELD")
    batch = http.post(
        f"{org.url}{V}/composite/batch",
        json={
            "batchRequests": [
                {"method": "PATCH", "url": f"v62.0/sobjects/Lead/{converted}", "richInput": {"Title": "CEO"}},
                {"method": "GET", "url": f"v62.0/sobjects/Lead/{converted}?fields=Title,IsConverted"},
            ]
        },
        timeout=30,
    )
    assert batch.status_code == 200
    assert batch.json()["hasErrors"] is True
    [patched, read] = batch.json()["results"]
    assert patched == {"statusCode": 400, "result": CONVERTED}
    assert read["statusCode"] == 200 and read["result"]["IsConverted"] is True
    assert read["result"]["Title"] == before["Lead"][converted].get("Title")
    assert snapshot(org) == before
    # An open lead still takes edits.
    open_lead = sorted(r["Id"] for r in org.records("Lead") if not r.get("IsConverted"))[0]
    assert (
        http.patch(f"{org.url}{V}/sobjects/Lead/{open_lead}", json={"Title": "CEO"}, timeout=30).status_code
        == 204
    )


def test_churn_never_edits_a_converted_lead(org):
    before = {r["Id"]: r for r in org.records("Lead") if r.get("IsConverted")}
    output = org.churn(updates=60, objects="Lead", seed=8)
    assert "updated Lead: 60" in output
    after = {r["Id"]: r for r in org.records("Lead")}
    assert all(after[i] == lead for i, lead in before.items())


def test_deleting_a_converted_lead_is_allowed_and_leaves_the_contacts_memberships(org, http):
    leads = org.records("Lead")
    members = org.records("CampaignMember")
    moved = {m["LeadId"]: m for m in members if m.get("LeadId") and m.get("ContactId")}
    lead = sorted(r["Id"] for r in leads if r.get("IsConverted") and r["Id"] in moved)[0]
    assert http.delete(f"{org.url}{V}/sobjects/Lead/{lead}", timeout=30).status_code == 204
    assert [r for r in org.records("Lead", include_deleted=True) if r["Id"] == lead][0]["IsDeleted"] is True
    kept = {m["Id"]: m for m in org.records("CampaignMember")}
    assert kept[moved[lead]["Id"]] == moved[lead]
    assert violations(snapshot(org)) == []
