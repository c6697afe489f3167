"""Hostile and malformed input gets Salesforce's error responses: never a 500, a traceback or a lost record."""

from __future__ import annotations

import pytest

V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def token(_sandbox_org_session):
    return _sandbox_org_session.token()["access_token"]


@pytest.fixture
def http(sandbox_org, token):
    session = sandbox_org.session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


@pytest.fixture(autouse=True)
def no_tracebacks(sandbox_org):
    log = sandbox_org.workdir / "server.log"
    before = log.read_text().count("Traceback")
    yield
    assert log.read_text().count("Traceback") == before


def _query(sandbox_org, http, soql, path="/query"):
    return http.get(f"{sandbox_org.url}{V}{path}", params={"q": soql}, timeout=30)


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Contact WHERE LastName = 'O",
        "SELECT Id FROM Contact WHERE LastName = 'it\\'s",
        "SELECT Id, FROM Contact",
        "SELECT Id FROM Contact WHERE (LastName = 'a'",
        "DELETE FROM Contact",
        "SELECT Id FROM Contact; DROP TABLE salesforce_sandbox_record",
        "SELECT \x00 FROM Contact",
        "SELECT Id FROM Contact WHERE LastName = 'a' OR",
        "''''''''''",
        "SELECT Id FROM Contact LIMIT -1",
        "SELECT Id FROM Contact LIMIT 99999999999999999999999",
    ],
)
def test_malformed_soql_is_malformed_query(sandbox_org, http, soql):
    response = _query(sandbox_org, http, soql)
    assert response.status_code == 400
    body = response.json()
    assert len(body) == 1
    assert body[0]["errorCode"] == "MALFORMED_QUERY"
    assert body[0]["message"]


def test_injection_in_a_literal_is_just_a_string(sandbox_org, http):
    before = sandbox_org.counts()
    for literal in [
        "x\\' OR Id != null OR LastName = \\'",
        "Robert'); DROP TABLE salesforce_sandbox_record;--",
        "%' OR '1'='1",
        "\\\\' OR 1=1 --",
    ]:
        escaped = literal.replace("\\", "\\\\").replace("'", "\\'")
        soql = f"SELECT Id FROM Contact WHERE LastName = '{escaped}'"  # noqa: S608 - the point of the test
        response = _query(sandbox_org, http, soql)
        assert response.status_code == 200, response.text
        assert response.json() == {"totalSize": 0, "done": True, "records": []}
    assert sandbox_org.counts() == before


def test_100kb_queries(sandbox_org, http):
    names = ", ".join(f"'name{i:06d}'" for i in range(7000))
    big = f"SELECT Id FROM Contact WHERE LastName IN ({names})"  # noqa: S608 - SOQL, not SQL
    assert 90_000 < len(big) <= 100_000
    # Through a GET, Salesforce's 16,384-byte URI limit applies first.
    long_uri = _query(sandbox_org, http, big)
    assert long_uri.status_code == 414
    assert long_uri.json() == [
        {"message": "The request URI is longer than 16,384 bytes", "errorCode": "URI_TOO_LONG"}
    ]
    # A Bulk job carries the query in its body: up to 100,000 characters are fine, one more is not.
    jobs = f"{sandbox_org.url}{V}/jobs/query"
    accepted = http.post(jobs, json={"operation": "query", "query": big}, timeout=60)
    assert accepted.status_code == 200
    assert http.get(f"{jobs}/{accepted.json()['id']}", timeout=60).json()["numberRecordsProcessed"] == 0
    too_big = big + " " * (100_001 - len(big) - len("AND Id != null")) + "AND Id != null"
    assert len(too_big) == 100_001
    refused = http.post(jobs, json={"operation": "query", "query": too_big}, timeout=60)
    assert refused.status_code == 400
    assert refused.json() == [
        {
            "message": "SOQL statements cannot be longer than 100,000 characters.",
            "errorCode": "MALFORMED_QUERY",
        }
    ]


def test_unknown_object_and_field(sandbox_org, http):
    unknown = _query(sandbox_org, http, "SELECT Id FROM Contactx")
    assert unknown.status_code == 400
    assert unknown.json()[0]["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Contactx' is not supported." in unknown.json()[0]["message"]
    field = _query(sandbox_org, http, "SELECT Emali FROM Contact")
    assert field.status_code == 400
    assert field.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Emali' on entity 'Contact'." in field.json()[0]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/services/data/v99.0/limits/",
        "/services/data/v10.0/sobjects",
        "/services/data/vabc/query?q=SELECT+Id+FROM+Contact",
        "/services/data/v62.0/nothing-here",
        "/services/data/v62.0/sobjects/NoSuchObject/describe",
        "/services/data/v62.0/sobjects/Contact/not-an-id",
        "/services/data/v62.0/sobjects/Contact/003000000000000AAA",
    ],
)
def test_unknown_paths_and_versions_are_not_found(sandbox_org, http, path):
    response = http.get(f"{sandbox_org.url}{path}", timeout=10)
    assert response.status_code == 404
    assert response.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic ZGVtbzpkZW1v"},
        {"Authorization": "Bearer " + "A" * 20_000},
        {"Authorization": "OAuth \u00e9\u00e9"},
        {"X-SFDC-Session": "garbage"},
    ],
)
def test_missing_or_malformed_auth(sandbox_org, headers):
    session = sandbox_org.session()
    encoded = {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in headers.items()}
    response = session.get(f"{sandbox_org.url}{V}/sobjects", headers=encoded, timeout=10)
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_oauth_scheme_and_x_sfdc_session_are_accepted(sandbox_org, token):
    for headers in ({"Authorization": f"OAuth {token}"}, {"X-SFDC-Session": token}):
        response = sandbox_org.session().get(f"{sandbox_org.url}{V}/limits", headers=headers, timeout=10)
        assert response.status_code == 200


def test_invalid_locators(sandbox_org, http):
    for locator in ["01gDw0000000000AAA-2000", "01gDw0000000000AAA-0", "01g-1"]:
        response = http.get(f"{sandbox_org.url}{V}/query/{locator}", timeout=10)
        assert response.status_code == 400
        assert response.json() == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"grant_type": "refresh_token"}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"grant_type=authorization_code&code=" + b"A" * 50_000, "application/x-www-form-urlencoded"),
    ],
)
def test_garbage_to_the_token_endpoint(sandbox_org, body, content_type):
    response = sandbox_org.session().post(
        f"{sandbox_org.url}/services/oauth2/token",
        data=body,
        headers={"Content-Type": content_type},
        timeout=10,
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error", "error_description"}


def test_garbage_authorize_requests_show_error_pages(sandbox_org):
    session = sandbox_org.session()
    for params in (
        {},
        {"client_id": "x" * 5000},
        {"client_id": "inflow-local-dev", "redirect_uri": "javascript:x"},
        {"client_id": "inflow-local-dev", "redirect_uri": "http://localhost:notaport/x"},
    ):
        response = session.get(
            f"{sandbox_org.url}/services/oauth2/authorize", params=params, timeout=10, allow_redirects=False
        )
        assert response.status_code == 400
        assert "OAuth Error" in response.text


def test_bad_record_writes_write_nothing(sandbox_org, http):
    before = sandbox_org.counts()
    url = f"{sandbox_org.url}{V}/sobjects/Contact/"
    cases = [
        (b"{not json", "JSON_PARSER_ERROR"),
        (b'{"LastName": "Ok", "NoSuchField__c": 1}', "INVALID_FIELD"),
        (b'{"LastName": "Ok", "HasOptedOutOfEmail": "yes"}', "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        (b'{"LastName": "' + b"x" * 100 + b'"}', "STRING_TOO_LONG"),
        (b'{"FirstName": "No last name"}', "REQUIRED_FIELD_MISSING"),
        (b'{"LastName": "Ok", "Id": "003Dw0000000001IAA"}', "INVALID_FIELD_FOR_INSERT_UPDATE"),
        (b"[1, 2, 3]", "JSON_PARSER_ERROR"),
    ]
    for body, code in cases:
        response = http.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
        assert response.status_code == 400, (body, response.text)
        assert response.json()[0]["errorCode"] == code
    assert sandbox_org.counts() == before
