"""Writes as Salesforce answers them: PATCH a record, PATCH /composite/sobjects (200 per call, allOrNone,
per-record SaveResults), field-level errors and validation rules; a write moves SystemModstamp and shows up
in the next incremental read. Person Accounts (`sandbox_seed --person-accounts`) change Account's describe."""

from __future__ import annotations

import pytest

V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def org(tmp_path_factory, _sandbox_templates):
    from tests.sandbox_org import _launch

    org = _launch(tmp_path_factory, _sandbox_templates, contacts=200, seed=3, https=False)
    yield org
    org.stop()


@pytest.fixture(scope="module")
def api(org):
    session = org.session()
    session.headers["Authorization"] = f"Bearer {org.token()['access_token']}"

    def call(method, path, **kw):
        return session.request(method, f"{org.url}{V}{path}", timeout=30, **kw)

    return call


def _contacts(org, n, *, opted_out=False):
    return [c for c in org.records("Contact") if bool(c.get("HasOptedOutOfEmail")) is opted_out][:n]


def test_single_patch_moves_systemmodstamp_and_shows_in_the_next_incremental_read(org, api):
    contact = _contacts(org, 1)[0]
    before = contact["SystemModstamp"]
    response = api("PATCH", f"/sobjects/Contact/{contact['Id']}", json={"HasOptedOutOfEmail": True})
    assert response.status_code == 204 and response.content == b""
    after = next(c for c in org.records("Contact") if c["Id"] == contact["Id"])
    assert after["HasOptedOutOfEmail"] is True and after["SystemModstamp"] > before
    soql = (
        f"SELECT Id, HasOptedOutOfEmail FROM Contact WHERE SystemModstamp > {before} ORDER BY SystemModstamp"  # noqa: S608
    )
    rows = api("GET", "/queryAll", params={"q": soql}).json()["records"]
    assert contact["Id"] in [r["Id"] for r in rows]


def test_composite_sobjects_answers_one_save_result_per_record_in_order(org, api):
    first, second = _contacts(org, 2)
    deleted = org.records("Contact")[-1]
    assert api("DELETE", f"/sobjects/Contact/{deleted['Id']}").status_code == 204
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Contact"}, "id": first["Id"], "HasOptedOutOfEmail": True},
            {"attributes": {"type": "Contact"}, "id": deleted["Id"], "HasOptedOutOfEmail": True},
            {"attributes": {"type": "Contact"}, "id": second["Id"], "IsDeleted": True},
            {"attributes": {"type": "Contact"}, "id": second["Id"], "AccountId": first["Id"]},
        ],
    }
    response = api("PATCH", "/composite/sobjects", json=body)
    assert response.status_code == 200, response.text
    results = response.json()
    assert results[0] == {"id": first["Id"], "success": True, "errors": []}
    assert results[1]["success"] is False
    assert results[1]["errors"] == [
        {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}
    ]
    assert results[2]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert results[2]["errors"][0]["fields"] == ["IsDeleted"]
    assert results[3]["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert results[3]["errors"][0]["fields"] == ["AccountId"]
    stored = {c["Id"]: c for c in org.records("Contact")}
    assert stored[first["Id"]]["HasOptedOutOfEmail"] is True  # allOrNone false: the good one stays


def test_all_or_none_rolls_every_write_back(org, api):
    good = _contacts(org, 1)[0]
    body = {
        "allOrNone": True,
        "records": [
            {"attributes": {"type": "Contact"}, "id": good["Id"], "HasOptedOutOfEmail": True},
            {"attributes": {"type": "Contact"}, "id": good["Id"], "Email": 42},
        ],
    }
    results = api("PATCH", "/composite/sobjects", json=body).json()
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    stored = next(c for c in org.records("Contact") if c["Id"] == good["Id"])
    assert not stored.get("HasOptedOutOfEmail") and stored["SystemModstamp"] == good["SystemModstamp"]


def test_more_than_200_records_is_refused(org, api):
    ids = [c["Id"] for c in org.records("Contact")]
    records = [{"attributes": {"type": "Contact"}, "id": ids[i % len(ids)], "Title": "x"} for i in range(201)]
    response = api("PATCH", "/composite/sobjects", json={"records": records[:201]})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_a_validation_rule_refuses_the_save_with_its_message(org, api):
    org.churn(validation_rule="Lead.HasOptedOutOfEmail=true", rule_message="Opt-outs are managed by Legal.")
    lead = next(lead for lead in org.records("Lead") if not lead.get("IsConverted"))
    body = {"records": [{"attributes": {"type": "Lead"}, "id": lead["Id"], "HasOptedOutOfEmail": True}]}
    result = api("PATCH", "/composite/sobjects", json=body).json()[0]
    assert result["success"] is False
    assert result["errors"] == [
        {
            "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Opt-outs are managed by Legal.",
            "fields": ["HasOptedOutOfEmail"],
        }
    ]
    single = api("PATCH", f"/sobjects/Lead/{lead['Id']}", json={"HasOptedOutOfEmail": True})
    assert single.status_code == 400 and single.json()[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"


def test_person_accounts_add_the_person_fields_to_accounts_describe(org, api):
    names = {f["name"] for f in api("GET", "/sobjects/Account/describe").json()["fields"]}
    assert "IsPersonAccount" not in names
    org.manage("sandbox_seed", "--if-empty", "--person-accounts", "4", "--seed", "3")
    fields = {f["name"]: f for f in api("GET", "/sobjects/Account/describe").json()["fields"]}
    for name in (
        "IsPersonAccount",
        "PersonEmail",
        "PersonMobilePhone",
        "FirstName",
        "LastName",
        "PersonHasOptedOutOfEmail",
        "Loyalty_Number__pc",
    ):
        assert name in fields
    assert fields["IsPersonAccount"]["updateable"] is False
    soql = "SELECT Id, Name, FirstName, LastName, PersonEmail FROM Account WHERE IsPersonAccount = true"
    rows = api("GET", "/query", params={"q": soql}).json()["records"]
    assert len(rows) == 4
    assert all(r["Name"] == f"{r['FirstName']} {r['LastName']}" and "@" in r["PersonEmail"] for r in rows)
    # Permissions of a person account are written on the Account.
    target = rows[0]["Id"]
    body = {"records": [{"attributes": {"type": "Account"}, "id": target, "PersonHasOptedOutOfEmail": True}]}
    assert api("PATCH", "/composite/sobjects", json=body).json()[0]["success"] is True
