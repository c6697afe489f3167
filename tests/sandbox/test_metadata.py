"""Describes match the recorded real org's; composite/batch; records CRUD; operator page and control endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

V = "/services/data/v59.0"
# The real org's recorded field describes, kept with the tests (see the README there).
RECORDED = Path(__file__).resolve().parents[1] / "data" / "recorded_describes"
RECORDED_FIELDS = 57
OBJECT_KEYS = [
    "actionOverrides",
    "activateable",
    "associateEntityType",
    "associateParentEntity",
    "childRelationships",
    "compactLayoutable",
    "createable",
    "custom",
    "customSetting",
    "deepCloneable",
    "defaultImplementation",
    "deletable",
    "deprecatedAndHidden",
    "extendedBy",
    "extendsInterfaces",
    "feedEnabled",
    "fields",
    "hasSubtypes",
    "implementedBy",
    "implementsInterfaces",
    "isInterface",
    "isSubtype",
    "keyPrefix",
    "label",
    "labelPlural",
    "layoutable",
    "listviewable",
    "lookupLayoutable",
    "mergeable",
    "mruEnabled",
    "name",
    "namedLayoutInfos",
    "networkScopeFieldName",
    "queryable",
    "recordTypeInfos",
    "replicateable",
    "retrieveable",
    "searchLayoutable",
    "searchable",
    "sobjectDescribeOption",
    "supportedScopes",
    "triggerable",
    "undeletable",
    "updateable",
    "urls",
]


@pytest.fixture(scope="module")
def token(_sandbox_org_session):
    return _sandbox_org_session.token()["access_token"]


@pytest.fixture
def http(sandbox_org, token):
    session = sandbox_org.session()
    session.headers["Authorization"] = f"Bearer {token}"

    def get(path, **kw):
        response = session.get(f"{sandbox_org.url}{V}{path}", timeout=30, **kw)
        assert response.status_code == 200, response.text
        return response.json()

    get.session = session
    return get


def _recorded(name):
    return json.loads((RECORDED / f"{name}_fields.json").read_text())


@pytest.mark.parametrize("name", ["Account", "Contact", "Lead", "Opportunity", "OpportunityContactRole"])
def test_recorded_fields_are_served_exactly(http, name):
    served = {f["name"]: f for f in http(f"/sobjects/{name}/describe")["fields"]}
    for recorded in _recorded(name)["fields"]:
        if recorded["name"].startswith("ns__"):
            continue
        assert served[recorded["name"]] == recorded
        assert list(served[recorded["name"]]) == list(recorded)


def test_every_object_and_field_has_every_key(http):
    for entry in http("/sobjects")["sobjects"]:
        describe = http(f"/sobjects/{entry['name']}/describe")
        assert list(describe) == OBJECT_KEYS, entry["name"]
        assert describe["urls"]["describe"] == f"{V}/sobjects/{entry['name']}/describe"
        for field in describe["fields"]:
            assert len(field) == RECORDED_FIELDS, (entry["name"], field["name"])
        names = [f["name"] for f in describe["fields"]]
        assert len(names) == len(set(names))
        assert {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"} <= set(names)
        # Users are deactivated, never deleted: User has no IsDeleted, as on Salesforce.
        assert ("IsDeleted" in names) == (entry["name"].removesuffix("ChangeEvent") != "User")


def test_describe_global_lists_only_describable_objects(http):
    body = http("/sobjects")
    assert body["encoding"] == "UTF-8" and body["maxBatchSize"] == 200
    names = [s["name"] for s in body["sobjects"]]
    objects = [
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "OpportunityContactRole",
        "Campaign",
        "CampaignMember",
        "Task",
        "User",
        "Subscription__c",
        "Company_Profile__c",
        "Dossier__c",
        "Loan__c",
        "Instalment__c",
        "Course__c",
        "Enrollment__c",
    ]
    # Then the change event of every object that publishes one (all of them, unless the org says otherwise).
    assert names == objects + [f"{name}ChangeEvent" for name in objects]
    assert all(s["queryable"] for s in body["sobjects"][: len(objects)])
    assert not any(s["queryable"] for s in body["sobjects"][len(objects) :])


def test_contact_has_the_onboarding_fields(http):
    fields = {f["name"]: f for f in http("/sobjects/Contact/describe")["fields"]}
    assert len(fields) > 50
    assert fields["HasOptedOutOfEmail"]["label"] == "Email Opt Out"
    assert fields["SMS_Opt_In__c"]["type"] == "boolean" and fields["SMS_Opt_In__c"]["custom"] is True
    assert [p["value"] for p in fields["Tier__c"]["picklistValues"]] == [
        "Bronze",
        "Silver",
        "Gold",
        "Platinum",
    ]
    assert fields["Interests__c"]["type"] == "multipicklist"
    assert fields["Lifetime_Value__c"]["type"] == "currency" and fields["Lifetime_Value__c"]["scale"] == 2


def test_custom_object_chain_and_links(http):
    instalment = {f["name"]: f for f in http("/sobjects/Instalment__c/describe")["fields"]}
    loan = {f["name"]: f for f in http("/sobjects/Loan__c/describe")["fields"]}
    dossier = {f["name"]: f for f in http("/sobjects/Dossier__c/describe")["fields"]}
    assert instalment["Loan__c"]["referenceTo"] == ["Loan__c"]
    assert loan["Dossier__c"]["referenceTo"] == ["Dossier__c"]
    assert dossier["Contact__c"]["referenceTo"] == ["Contact"]
    company = {f["name"]: f for f in http("/sobjects/Company_Profile__c/describe")["fields"]}
    assert company["Domain__c"]["unique"] is True
    assert not any(f["type"] == "reference" and "Contact" in f["referenceTo"] for f in company.values())
    enrollment = {f["name"]: f for f in http("/sobjects/Enrollment__c/describe")["fields"]}
    assert enrollment["Contact__c"]["referenceTo"] == ["Contact"]
    assert enrollment["Course__c"]["referenceTo"] == ["Course__c"]
    rows = http(
        "/query",
        params={"q": "SELECT Name, Loan__r.Dossier__r.Contact__r.LastName FROM Instalment__c LIMIT 1"},
    )["records"]
    assert rows[0]["Loan__r"]["Dossier__r"]["Contact__r"]["attributes"]["type"] == "Contact"


def test_composite_batch_describes(http, sandbox_org):
    requests_ = [{"method": "GET", "url": f"v59.0/sobjects/{name}/describe"} for name in ("Contact", "Lead")]
    requests_.append({"method": "GET", "url": "/services/data/v61.0/sobjects/Nope__c/describe"})
    requests_.append({"method": "GET", "url": "v59.0/sobjects/Account/describe"})
    response = http.session.post(
        f"{sandbox_org.url}{V}/composite/batch",
        json={"haltOnError": True, "batchRequests": requests_},
        timeout=30,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["hasErrors"] is True
    assert [r["statusCode"] for r in body["results"]] == [200, 200, 404, 412]
    assert body["results"][0]["result"]["name"] == "Contact"
    assert body["results"][3]["result"] == [
        {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}
    ]
    too_many = http.session.post(
        f"{sandbox_org.url}{V}/composite/batch", json={"batchRequests": [requests_[0]] * 26}, timeout=30
    )
    assert too_many.status_code == 400


def test_record_crud(make_sandbox_org):
    org = make_sandbox_org()
    session = org.session()
    session.headers["Authorization"] = f"Bearer {org.token()['access_token']}"
    base = f"{org.url}{V}/sobjects/Contact"
    created = session.post(
        base + "/",
        json={
            "LastName": "Ng",
            "FirstName": "Ada",
            "Email": "ada@example.com",
            "Interests__c": "Yoga;Golf",
            "HasOptedOutOfEmail": True,
        },
        timeout=10,
    )
    assert created.status_code == 201
    new_id = created.json()["id"]
    assert created.json() == {"id": new_id, "success": True, "errors": []}
    record = session.get(f"{base}/{new_id}", timeout=10).json()
    assert (
        record["Name"] == "Ada Ng" and record["HasOptedOutOfEmail"] is True and record["DoNotCall"] is False
    )
    assert record["attributes"] == {"type": "Contact", "url": f"{V}/sobjects/Contact/{new_id}"}
    assert session.patch(f"{base}/{new_id}", json={"Title": "CTO"}, timeout=10).status_code == 204
    only = session.get(f"{base}/{new_id}", params={"fields": "Title,Name"}, timeout=10).json()
    assert only == {"attributes": record["attributes"], "Title": "CTO", "Name": "Ada Ng"}
    assert session.delete(f"{base}/{new_id}", timeout=10).status_code == 204
    gone = session.get(f"{base}/{new_id}", timeout=10)
    assert gone.status_code == 404
    again = session.delete(f"{base}/{new_id}", timeout=10)
    assert again.json() == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]
    deleted = [r for r in org.records("Contact", include_deleted=True) if r["Id"] == new_id]
    assert deleted[0]["IsDeleted"] is True and deleted[0]["Title"] == "CTO"


def test_operator_page_shows_counts_apps_grants_usage_and_faults(sandbox_org):
    sandbox_org.token()
    sandbox_org.faults(latency_ms=1, query_timeout=["Lead"])
    browser = sandbox_org.session()
    # The operator page is behind the org's own log-in.
    browser.get(f"{sandbox_org.url}/login", timeout=10)
    browser.post(
        f"{sandbox_org.url}/login",
        data={
            "username": "demo@inflow.local",
            "password": "inflow-demo",
            "csrfmiddlewaretoken": browser.cookies.get("sbx_csrftoken"),
        },
        timeout=10,
    )
    page = browser.get(f"{sandbox_org.url}/", timeout=10)
    assert page.status_code == 200
    counts = sandbox_org.counts()
    assert f'<td>Contact</td><td class="text-end">{counts["Contact"]}</td>' in page.text
    assert "<code>inflow-local-dev</code>" in page.text
    assert "demo@inflow.local" in page.text
    assert "QUERY_TIMEOUT on: Lead" in page.text
    assert "Latency: 1 ms" in page.text
    used, maximum = sandbox_org.api_usage()
    assert f"{used} / {maximum}" in page.text


def test_gzip_when_asked(sandbox_org, http):
    response = http.session.get(
        f"{sandbox_org.url}{V}/sobjects/Contact/describe", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json()["name"] == "Contact"
    plain = http.session.get(
        f"{sandbox_org.url}{V}/sobjects/Contact/describe", headers={"Accept-Encoding": "identity"}, timeout=10
    )
    assert "Content-Encoding" not in plain.headers
