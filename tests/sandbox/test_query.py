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
