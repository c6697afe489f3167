"""sandbox_churn changes the org the way a busy org changes, and the REST API shows it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def org(tmp_path_factory, _sandbox_templates):
    from tests.sandbox_org import _launch

    org = _launch(tmp_path_factory, _sandbox_templates, contacts=200, seed=1, https=False)
    yield org
    org.stop()


@pytest.fixture(scope="module")
def http(org):
    session = org.session()
    session.headers["Authorization"] = f"Bearer {org.token()['access_token']}"

    def get(path, **kw):
        response = session.get(f"{org.url}{V}{path}", timeout=30, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    return get


def _window():
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    return {"start": (end - dt.timedelta(minutes=10)).isoformat(), "end": end.isoformat()}


def test_updates_share_one_modstamp_and_show_in_updated(org, http):
    before = {r["Id"]: r for r in org.records("Contact")}
    output = org.churn(updates=10, objects="Contact", seed=7)
    assert "updated Contact: 10" in output
    after = {r["Id"]: r for r in org.records("Contact")}
    changed = [i for i in after if after[i]["SystemModstamp"] != before[i]["SystemModstamp"]]
    assert len(changed) == 10
    assert len({after[i]["SystemModstamp"] for i in changed}) == 1
    updated = http("/sobjects/Contact/updated/", params=_window())
    assert sorted(updated["ids"]) == sorted(changed)
    newest = http(
        "/query", params={"q": "SELECT Id FROM Contact ORDER BY SystemModstamp DESC, Id DESC LIMIT 10"}
    )
    assert sorted(r["Id"] for r in newest["records"]) == sorted(changed)


def test_deletes_undeletes_and_purges(org, http):
    live_before = org.counts()["Contact"]
    assert "deleted Contact: 4" in org.churn(deletes=4, objects="Contact", seed=8)
    assert org.counts()["Contact"] == live_before - 4
    deleted = http("/sobjects/Contact/deleted/", params=_window())
    recent = {d["id"] for d in deleted["deletedRecords"]}
    assert len(recent) == 4
    all_rows = http("/queryAll", params={"q": "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true"})
    assert recent <= {r["Id"] for r in all_rows["records"]}
    org.churn(purge=2, objects="Contact", seed=9)
    after_purge = http("/queryAll", params={"q": "SELECT Id FROM Contact WHERE IsDeleted = true"})
    assert after_purge["totalSize"] == all_rows["totalSize"] - 2
    # Purged records still appear in /deleted, as on Salesforce.
    assert {d["id"] for d in http("/sobjects/Contact/deleted/", params=_window())["deletedRecords"]} == recent
    org.churn(undeletes=1, objects="Contact", seed=10)
    assert org.counts()["Contact"] == live_before - 4 + 1


def test_convert_leads_into_contacts_with_their_email(org, http):
    contacts_before = org.counts()["Contact"]
    output = org.churn(convert_leads=3, seed=11)
    assert "converted Lead: 3" in output
    new = sum(int(line.rsplit(": ", 1)[1]) for line in output.splitlines() if "new Contact from Lead" in line)
    assert org.counts()["Contact"] == contacts_before + new
    converted = http(
        "/query",
        params={
            "q": "SELECT Id, ConvertedContactId, Email FROM Lead WHERE IsConverted = true ORDER BY SystemModstamp DESC "
            "LIMIT 3"
        },
    )
    contacts = {r["Id"]: r for r in org.records("Contact")}
    for lead in converted["records"]:
        assert (contacts[lead["ConvertedContactId"]].get("Email") or "").strip().lower() == (
            lead["Email"] or ""
        ).strip().lower()


def test_advance_opportunities_and_complete_tasks(org, http):
    assert "advanced Opportunity: 5" in org.churn(advance_opportunities=5, seed=12)
    assert "completed Task: 5" in org.churn(complete_tasks=5, seed=13)
    closed = http(
        "/query", params={"q": "SELECT StageName, IsClosed, IsWon FROM Opportunity WHERE IsClosed = true"}
    )
    assert all(r["StageName"] in ("Closed Won", "Closed Lost") for r in closed["records"])
    assert all(r["IsWon"] == (r["StageName"] == "Closed Won") for r in closed["records"])
    tasks = http("/query", params={"q": "SELECT Status, IsClosed FROM Task WHERE IsClosed = true"})
    assert tasks["totalSize"] > 0 and all(r["Status"] == "Completed" for r in tasks["records"])


def test_schema_change_adds_then_removes_a_field(org, http):
    assert "added Contact.Favourite_Colour__c" in org.churn(schema_change=True)
    names = [f["name"] for f in http("/sobjects/Contact/describe")["fields"]]
    assert names[-1] == "Favourite_Colour__c"
    assert (
        http("/query", params={"q": "SELECT Favourite_Colour__c FROM Contact LIMIT 1"})["records"][0][
            "Favourite_Colour__c"
        ]
        is None
    )
    assert "removed Contact.Favourite_Colour__c" in org.churn(schema_change=True)
    assert "Favourite_Colour__c" not in [f["name"] for f in http("/sobjects/Contact/describe")["fields"]]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"objects": "Contact,Nope__c"}, "Unknown object(s) for --objects: Nope__c"),
        ({"deletes": -3}, "--deletes must be 0 or more (got -3)"),
    ],
)
def test_bad_churn_arguments_are_refused_and_change_nothing(org, args, message):
    before = [org.records(name, include_deleted=True) for name in ("Contact", "Lead")]
    with pytest.raises(RuntimeError, match=re.escape(message)):
        org.churn(updates=5, seed=1, **args)
    assert [org.records(name, include_deleted=True) for name in ("Contact", "Lead")] == before
