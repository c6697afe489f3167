"""Deletes take their dependants to the recycle bin as Salesforce's do, over every path that deletes
(REST, composite/batch, sandbox_churn, the seed); undelete and purge bring them back or empty them."""

from __future__ import annotations

import pytest

from tests.sandbox.recycle import V, api, goes_along, snapshot, violations, window


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


def test_the_seeded_org_is_consistent_with_its_deletes(org):
    """The seed puts accounts, contacts, leads, opportunities and tasks in the recycle bin: what goes with
    them is there too, at their delete moment. (First in this module: the org is still as seeded.)"""
    seeded = snapshot(org)
    deleted_accounts = [i for i, r in seeded["Account"].items() if r["IsDeleted"]]
    with_contacts = [
        i for i in deleted_accounts if any(c.get("AccountId") == i for c in seeded["Contact"].values())
    ]
    assert with_contacts, "seed 1 has a deleted account with contacts"
    for account in with_contacts:
        moment = seeded["Account"][account]["SystemModstamp"]
        for contact in (c for c in seeded["Contact"].values() if c.get("AccountId") == account):
            assert contact["IsDeleted"] and contact["SystemModstamp"] <= moment
            assert contact["CreatedDate"] <= contact["LastModifiedDate"] <= contact["SystemModstamp"]
    assert violations(seeded) == []


def _richest(snap, sobject: str, accept=lambda record: True) -> str:
    """The live record of `sobject` whose delete takes the most kinds of records along, then the most."""
    candidates = [r for r in snap[sobject].values() if not r["IsDeleted"] and accept(r)]
    return max(
        sorted(candidates, key=lambda r: r["Id"]),
        key=lambda r: (
            len(taken := goes_along(snap, sobject, r["Id"])),
            sum(len(ids) for ids in taken.values()),
        ),
    )["Id"]


def _ids_in(http, org, sobject: str, ids: set[str], *, path: str) -> dict[str, dict]:
    quoted = ", ".join(f"'{i}'" for i in sorted(ids))
    soql = f"SELECT Id, IsDeleted, SystemModstamp FROM {sobject} WHERE Id IN ({quoted})"  # noqa: S608
    response = http.get(f"{org.url}{V}/{path}", params={"q": soql}, timeout=30)
    assert response.status_code == 200, response.text
    return {r["Id"]: r for r in response.json()["records"]}


def _assert_deleted_with(org, http, before, after, sobject: str, root: str, expected: dict[str, set[str]]):
    """`root` and exactly `expected` went to the recycle bin at one moment, as direct deletes do;
    nothing else in the org changed."""
    moment = after[sobject][root]["SystemModstamp"]
    assert after[sobject][root]["IsDeleted"] is True
    assert moment > before[sobject][root]["SystemModstamp"]
    for child, ids in expected.items():
        for sf_id in ids:
            record = after[child][sf_id]
            assert record["IsDeleted"] is True, (child, sf_id)
            assert record["SystemModstamp"] == moment
            # A delete moves SystemModstamp only; every field stays as it was.
            assert {**record, "IsDeleted": False, "SystemModstamp": None} == {
                **before[child][sf_id],
                "SystemModstamp": None,
            }
        # queryAll and IsDeleted queries see them; query does not; /deleted lists them at the moment.
        assert set(_ids_in(http, org, child, ids, path="queryAll")) == ids
        assert all(r["IsDeleted"] for r in _ids_in(http, org, child, ids, path="queryAll").values())
        assert _ids_in(http, org, child, ids, path="query") == {}
        listed = http.get(f"{org.url}{V}/sobjects/{child}/deleted/", params=window(), timeout=30).json()
        dates = {d["id"]: d["deletedDate"] for d in listed["deletedRecords"]}
        assert all(dates.get(sf_id) == moment for sf_id in ids), child
    changed = {
        (obj, sf_id)
        for obj in after
        for sf_id, record in after[obj].items()
        if before[obj].get(sf_id) != record
    }
    assert changed == {(sobject, root)} | {(c, i) for c, ids in expected.items() for i in ids}
    assert violations(after) == []


def test_deleting_an_account_takes_its_contacts_opportunities_and_their_dependants(org, http):
    before = snapshot(org)
    account = _richest(before, "Account")
    expected = goes_along(before, "Account", account)
    assert {"Contact", "Opportunity", "OpportunityContactRole", "Task"} <= set(expected)
    # Lookups (Subscription__c, Dossier__c) are not cascades: those records stay as they are.
    response = http.delete(f"{org.url}{V}/sobjects/Account/{account}", timeout=30)
    assert response.status_code == 204, response.text
    _assert_deleted_with(org, http, before, snapshot(org), "Account", account, expected)


def test_deleting_a_contact_takes_its_tasks_roles_memberships_and_enrollments(org, http):
    before = snapshot(org)
    contact = _richest(before, "Contact")
    expected = goes_along(before, "Contact", contact)
    assert {"Task", "OpportunityContactRole", "CampaignMember"} <= set(expected)
    response = http.delete(f"{org.url}{V}/sobjects/Contact/{contact[:15]}", timeout=30)  # 15-char Ids too
    assert response.status_code == 204, response.text
    _assert_deleted_with(org, http, before, snapshot(org), "Contact", contact, expected)


def test_deleting_a_lead_takes_its_tasks_and_memberships(org, http):
    before = snapshot(org)
    lead = _richest(before, "Lead", lambda r: not r.get("IsConverted"))
    expected = goes_along(before, "Lead", lead)
    assert {"Task", "CampaignMember"} <= set(expected)
    assert http.delete(f"{org.url}{V}/sobjects/Lead/{lead}", timeout=30).status_code == 204
    _assert_deleted_with(org, http, before, snapshot(org), "Lead", lead, expected)


def test_composite_batch_deletes_cascade_and_bad_subrequests_get_salesforce_errors(org, http):
    before = snapshot(org)
    opportunity = _richest(before, "Opportunity")
    expected = goes_along(before, "Opportunity", opportunity)
    assert {"OpportunityContactRole", "Task"} <= set(expected)
    role = sorted(expected["OpportunityContactRole"])[0]
    lead = sorted(i for i, r in before["Lead"].items() if not r["IsDeleted"] and not r.get("IsConverted"))[0]
    body = {
        "batchRequests": [
            {"method": "DELETE", "url": f"v62.0/sobjects/Opportunity/{opportunity}"},
            {"method": "DELETE", "url": f"v62.0/sobjects/Opportunity/{opportunity}"},
            {"method": "DELETE", "url": f"v62.0/sobjects/OpportunityContactRole/{role}"},
            {"method": "DELETE", "url": "v62.0/sobjects/Contact/003000000000000AAA"},
            {"method": "PATCH", "url": f"v62.0/sobjects/Lead/{lead}", "richInput": {"Titel": "CEO"}},
            {"method": "PATCH", "url": f"v62.0/sobjects/Lead/{lead}", "richInput": ["not", "a", "record"]},
            {"method": "GET", "url": f"v62.0/sobjects/Lead/{lead}?fields=Title,Status"},
        ]
    }
    response = http.post(f"{org.url}{V}/composite/batch", json=body, timeout=30)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert response.json()["hasErrors"] is True
    assert [r["statusCode"] for r in results] == [204, 404, 404, 404, 400, 400, 200]
    assert results[0]["result"] is None
    deleted = [{"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]
    assert results[1]["result"] == deleted  # the opportunity itself, deleted a moment ago
    assert results[2]["result"] == deleted  # its contact role went with it
    assert results[3]["result"][0]["errorCode"] == "NOT_FOUND"
    assert results[4]["result"] == [
        {
            "errorCode": "INVALID_FIELD",
            "message": "No such column 'Titel' on sobject of type Lead",
            "fields": [],
        }
    ]
    assert results[5]["result"][0]["errorCode"] == "JSON_PARSER_ERROR"
    assert results[6]["result"]["Status"] == before["Lead"][lead]["Status"]
    _assert_deleted_with(org, http, before, snapshot(org), "Opportunity", opportunity, expected)


def test_bad_deletes_and_patches_get_salesforce_errors_and_change_nothing(org, http):
    before = snapshot(org)
    binned = sorted(i for i, r in before["Contact"].items() if r["IsDeleted"])[0]
    live = sorted(i for i, r in before["Contact"].items() if not r["IsDeleted"])[0]
    base = f"{org.url}{V}/sobjects"
    not_found = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    for url in (
        f"{base}/Contact/003000000000000AAA",
        f"{base}/Contact/not-an-id",
        f"{base}/Contact/{live[:3]}",
    ):
        response = http.delete(url, timeout=30)
        assert (response.status_code, response.json()) == (404, not_found), url
    wrong_object = http.delete(f"{base}/Lead/{live}", timeout=30)  # a Contact's Id under Lead
    assert (wrong_object.status_code, wrong_object.json()) == (404, not_found)
    again = http.delete(f"{base}/Contact/{binned}", timeout=30)
    assert (again.status_code, again.json()) == (
        404,
        [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}],
    )
    unknown_field = http.patch(f"{base}/Contact/{live}", json={"Title": "CEO", "Nope__c": 1}, timeout=30)
    assert (unknown_field.status_code, unknown_field.json()) == (
        400,
        [
            {
                "message": "No such column 'Nope__c' on sobject of type Contact",
                "errorCode": "INVALID_FIELD",
                "fields": [],
            }
        ],
    )
    on_deleted = http.patch(f"{base}/Contact/{binned}", json={"Title": "CEO"}, timeout=30)
    assert (on_deleted.status_code, on_deleted.json()[0]["errorCode"]) == (404, "ENTITY_IS_DELETED")
    garbage = http.patch(f"{base}/Contact/{live}", data=b"{not json", timeout=30)
    assert (garbage.status_code, garbage.json()[0]["errorCode"]) == (400, "JSON_PARSER_ERROR")
    assert snapshot(org) == before


def test_churn_deletes_cascade_and_undelete_and_purge_bring_the_whole_delete_along(org, http):
    before = snapshot(org)
    output = org.churn(deletes=2, objects="Account", seed=21)
    assert "deleted Account: 2" in output
    after = snapshot(org)
    roots = [
        i for i, r in after["Account"].items() if r["IsDeleted"] and not before["Account"][i]["IsDeleted"]
    ]
    assert len(roots) == 2
    expected: dict[str, set[str]] = {}
    for root in roots:
        for child, ids in goes_along(before, "Account", root).items():
            expected.setdefault(child, set()).update(ids)
    assert f"deleted with them Contact: {len(expected['Contact'])}" in output
    newly = {
        obj: {
            i for i, r in after[obj].items() if r["IsDeleted"] and not before[obj].get(i, {}).get("IsDeleted")
        }
        for obj in after
    }
    assert {k: v for k, v in newly.items() if v and k != "Account"} == expected
    assert violations(after) == []

    # Undeleting the accounts brings back everything their deletes took, and only that: a record comes
    # back only with the account whose delete took it, at the undelete moment.
    binned = [i for i, r in after["Account"].items() if r["IsDeleted"]]
    assert f"undeleted: {len(binned)}" in org.churn(undeletes=100, objects="Account", seed=22)
    restored = snapshot(org)
    moment = restored["Account"][roots[0]]["SystemModstamp"]
    assert all(not restored["Account"][i]["IsDeleted"] for i in binned)
    for root in roots:
        for child, ids in goes_along(before, "Account", root).items():
            assert all(
                restored[child][i] == {**after[child][i], "IsDeleted": False, "SystemModstamp": moment}
                for i in ids
            )
    delete_moments = {after["Account"][i]["SystemModstamp"] for i in binned}
    came_back = [
        (obj, i)
        for obj in restored
        for i, r in restored[obj].items()
        if obj != "Account" and not r["IsDeleted"] and after[obj].get(i, {}).get("IsDeleted")
    ]
    assert came_back and all(after[obj][i]["SystemModstamp"] in delete_moments for obj, i in came_back)
    assert violations(restored) == []

    # Purging accounts in the bin empties what their deletes took too: gone from queryAll, still listed
    # by /deleted.
    assert "deleted Account: 2" in org.churn(deletes=2, objects="Account", seed=23)
    again = snapshot(org)
    doomed = [i for i, r in again["Account"].items() if r["IsDeleted"]]
    assert f"purged: {len(doomed)}" in org.churn(purge=100, objects="Account", seed=24)
    remaining = snapshot(org)
    assert not set(doomed) & set(remaining["Account"])
    for account in doomed:
        for child, ids in goes_along(restored, "Account", account).items():
            assert not ids & set(remaining[child]), child
            assert _ids_in(http, org, child, ids, path="queryAll") == {}
            listed = http.get(f"{org.url}{V}/sobjects/{child}/deleted/", params=window(), timeout=30).json()
            assert ids <= {d["id"] for d in listed["deletedRecords"]}
    assert violations(remaining) == []


def test_a_record_taken_along_is_not_in_the_recycle_bin_on_its_own(org, http):
    """Salesforce's recycle bin lists only the deleted record: churn never undeletes a contact whose
    account's delete took it, nor one deleted before its account was (it would have no account)."""
    before = snapshot(org)
    accounts = {}
    for contact in sorted(before["Contact"].values(), key=lambda c: c["Id"]):
        account = before["Account"].get(contact.get("AccountId") or "")
        if not contact["IsDeleted"] and account and not account["IsDeleted"]:
            accounts.setdefault(account["Id"], []).append(contact["Id"])
    account, [alone, *_] = next((a, ids) for a, ids in sorted(accounts.items()) if len(ids) >= 2)
    base = f"{org.url}{V}/sobjects"
    assert http.delete(f"{base}/Contact/{alone}", timeout=30).status_code == 204
    middle = snapshot(org)
    taken = sorted(goes_along(middle, "Account", account)["Contact"])
    assert alone not in taken and taken
    assert http.delete(f"{base}/Account/{account}", timeout=30).status_code == 204
    after = snapshot(org)
    restorable = [
        i
        for i, r in after["Contact"].items()
        if r["IsDeleted"]
        and i not in taken
        and i != alone
        and not after["Account"].get(r.get("AccountId") or "", {}).get("IsDeleted")
    ]
    assert restorable  # contacts the seed deleted on their own, accounts live
    output = org.churn(undeletes=len(after["Contact"]), objects="Contact", seed=32)
    assert f"undeleted: {len(restorable)}" in output
    final = snapshot(org)
    assert all(final["Contact"][i]["IsDeleted"] for i in [*taken, alone])
    assert all(not final["Contact"][i]["IsDeleted"] for i in restorable)
    assert violations(final) == []


def test_undelete_leaves_in_the_bin_what_another_deleted_parent_holds(org, http):
    """A contact role went with its contact; its opportunity was deleted afterwards. Undeleting the contact
    cannot bring back a role of a deleted opportunity: it stays in the bin until the opportunity returns."""
    before = snapshot(org)
    role = next(
        r
        for _, r in sorted(before["OpportunityContactRole"].items())
        if not r["IsDeleted"]
        and not before["Contact"][r["ContactId"]]["IsDeleted"]
        and not before["Opportunity"][r["OpportunityId"]]["IsDeleted"]
    )
    base = f"{org.url}{V}/sobjects"
    assert http.delete(f"{base}/Contact/{role['ContactId']}", timeout=30).status_code == 204
    assert http.delete(f"{base}/Opportunity/{role['OpportunityId']}", timeout=30).status_code == 204

    org.churn(undeletes=1000, objects="Contact", seed=41)
    held = snapshot(org)
    assert held["Contact"][role["ContactId"]]["IsDeleted"] is False
    assert held["OpportunityContactRole"][role["Id"]]["IsDeleted"] is True
    assert violations(held) == []

    org.churn(undeletes=1000, objects="Opportunity", seed=42)
    back = snapshot(org)
    assert back["Opportunity"][role["OpportunityId"]]["IsDeleted"] is False
    assert back["OpportunityContactRole"][role["Id"]]["IsDeleted"] is False
    assert (
        back["OpportunityContactRole"][role["Id"]]["SystemModstamp"]
        == back["Opportunity"][role["OpportunityId"]]["SystemModstamp"]
    )
    assert violations(back) == []
