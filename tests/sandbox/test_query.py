"""REST query, queryAll and locators against a running sandbox org, over real HTTP."""

import pytest

V = "/services/data/v59.0"


@pytest.fixture(scope="module")
def token(_sandbox_org_session):
    return _sandbox_org_session.token()["access_token"]


@pytest.fixture
def session(sandbox_org, token):
    session = sandbox_org.session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


@pytest.fixture
def api(sandbox_org, session):
    def call(path, **kw):
        return session.get(f"{sandbox_org.url}{V}{path}", timeout=30, **kw)

    return call


def test_query_pages_through_every_live_contact_in_modstamp_order(sandbox_org, api, session):
    stored = sandbox_org.records("Contact")
    expected = sorted(stored, key=lambda r: (r["SystemModstamp"], r["Id"]))
    response = api(
        "/query",
        params={"q": "SELECT Id, LastName, Email FROM Contact ORDER BY SystemModstamp, Id"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")
    page = response.json()
    seen = list(page["records"])
    pages = 1
    while not page["done"]:
        assert page["totalSize"] == len(expected)
        assert page["nextRecordsUrl"].startswith(f"{V}/query/01g")
        # tap-salesforce re-sends `q` on the locator URL: it must be ignored.
        page = session.get(
            sandbox_org.url + page["nextRecordsUrl"], params={"q": "ignored"}, timeout=30
        ).json()
        seen += page["records"]
        pages += 1
    assert "nextRecordsUrl" not in page
    assert page["totalSize"] == len(expected)
    assert [r["Id"] for r in seen] == [r["Id"] for r in expected]
    assert [r["Email"] for r in seen] == [r.get("Email") for r in expected]
    assert seen[0]["attributes"] == {"type": "Contact", "url": f"{V}/sobjects/Contact/{expected[0]['Id']}"}
    assert pages == 1 + (len(expected) - 1) // 200


def test_malformed_query_gets_salesforce_error(api):
    response = api("/query", params={"q": "SELECT Id FRM Contact"})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "\nSELECT Id FRM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FRM'",
            "errorCode": "MALFORMED_QUERY",
        }
    ]


def test_unknown_token_is_invalid_session(sandbox_org):
    response = sandbox_org.session().get(
        f"{sandbox_org.url}{V}/limits/", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def _window(records):
    stamps = sorted(r["SystemModstamp"] for r in records)
    return stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]


def _literal(stamp: str, style: str) -> str:
    # 2026-11-05T10:00:00.123+0000 -> the literal forms clients send (WIRE §3.4)
    base, millis = stamp[:19], stamp[20:23]
    return {"airbyte": f"{base}.{millis}+00:00", "tap": f"{base}.{millis}000Z"}[style]


def test_airbyte_window_without_order(sandbox_org, api):
    stored = sandbox_org.records("Contact")
    low, high = _window(stored)
    soql = (
        f"SELECT Id FROM Contact WHERE SystemModstamp >= {_literal(low, 'airbyte')} "  # noqa: S608 - SOQL, not SQL
        f"AND SystemModstamp < {_literal(high, 'airbyte')}"
    )
    page = api("/queryAll", params={"q": soql}).json()
    everything = sandbox_org.records("Contact", include_deleted=True)
    expected = sorted(r["Id"] for r in everything if low <= r["SystemModstamp"] < high)
    assert page["done"] is True
    assert sorted(r["Id"] for r in page["records"]) == expected


def test_tap_incremental_query_with_microseconds(sandbox_org, api):
    stored = sandbox_org.records("Contact", include_deleted=True)
    low, _ = _window(stored)
    soql = f"SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp >= {_literal(low, 'tap')} ORDER BY SystemModstamp ASC"  # noqa: S608 - SOQL, not SQL
    page = api("/queryAll/", params={"q": soql}).json()
    expected = sorted(
        (r for r in stored if r["SystemModstamp"] >= low), key=lambda r: (r["SystemModstamp"], r["Id"])
    )
    assert [r["Id"] for r in page["records"]] == [r["Id"] for r in expected]


def test_count_id_filters_and_parent_fields(sandbox_org, api):
    stored = sandbox_org.records("Contact")
    assert api("/query", params={"q": "SELECT COUNT() FROM Contact"}).json() == {
        "totalSize": len(stored),
        "done": True,
        "records": [],
    }
    ids = [r["Id"] for r in stored[:3]]
    quoted = ", ".join(f"'{i[:15]}'" for i in ids)  # 15-character Ids match too
    found = api("/query", params={"q": f"SELECT Id FROM Contact WHERE Id IN ({quoted})"}).json()  # noqa: S608 - SOQL, not SQL
    assert sorted(r["Id"] for r in found["records"]) == sorted(ids)
    with_parent = api(
        "/query",
        params={"q": f"SELECT Id, Account.Name, Account.Owner.Name FROM Contact WHERE Id = '{ids[0]}'"},  # noqa: S608 - SOQL, not SQL
    ).json()["records"][0]
    accounts = {a["Id"]: a for a in sandbox_org.records("Account")}
    account = accounts.get(stored[0].get("AccountId"))
    if account is None:
        assert with_parent["Account"] is None
    else:
        assert with_parent["Account"]["Name"] == account["Name"]
        assert with_parent["Account"]["Owner"]["attributes"]["type"] == "User"


def test_filter_on_a_json_field_and_order_by_it(sandbox_org, api):
    stored = [r for r in sandbox_org.records("Contact") if r.get("Tier__c") == "Gold"]
    page = api(
        "/query",
        params={
            "q": "SELECT Id, LastName FROM Contact WHERE Tier__c = 'Gold' ORDER BY LastName DESC NULLS LAST, Id"
        },
    ).json()
    assert page["totalSize"] == len(stored) > 0
    expected = sorted(stored, key=lambda r: r["Id"])
    # Salesforce orders text case-insensitively.
    expected = sorted(expected, key=lambda r: r["LastName"].casefold(), reverse=True)
    assert [r["LastName"] for r in page["records"]] == [r["LastName"] for r in expected]
