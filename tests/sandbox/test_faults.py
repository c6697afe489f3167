"""Faults on demand: each one, set over the local endpoint, takes effect on the next request."""

from __future__ import annotations

import pytest
import requests

V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def token(_sandbox_org_session):
    return _sandbox_org_session.token()["access_token"]


@pytest.fixture
def get(sandbox_org, token):
    session = sandbox_org.session()
    session.headers["Authorization"] = f"Bearer {token}"

    def call(path, **kw):
        url = path if path.startswith("http") else f"{sandbox_org.url}{V}{path}"
        return session.get(url, timeout=30, **kw)

    return call


def test_fail_next_requests_with_503_then_recover(sandbox_org, get):
    sandbox_org.faults(fail_next=2, fail_status=503)
    for _ in range(2):
        response = get("/limits/")
        assert response.status_code == 503
        assert response.json() == [
            {
                "message": "Server temporarily unavailable. Please try again later.",
                "errorCode": "SERVER_UNAVAILABLE",
            }
        ]
    assert get("/limits/").status_code == 200


def test_fail_with_500_and_dropped_connection(sandbox_org, get):
    sandbox_org.faults(fail_next=1, fail_status=500)
    response = get("/limits/")
    assert response.status_code == 500
    assert response.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    sandbox_org.faults(fail_next=1, fail_status=0)
    with pytest.raises(requests.ConnectionError):
        get("/limits/")
    assert get("/limits/").status_code == 200


def test_daily_limit_counts_down_and_refuses(sandbox_org, get):
    sandbox_org.faults(api_limit=5, api_usage=3)
    first = get("/limits/")
    assert first.headers["Sforce-Limit-Info"] == "api-usage=4/5"
    assert first.json()["DailyApiRequests"] == {"Max": 5, "Remaining": 1}
    assert get("/limits/").headers["Sforce-Limit-Info"] == "api-usage=5/5"
    refused = get("/limits/")
    assert refused.status_code == 403
    assert refused.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert sandbox_org.api_usage() == (5, 5)


def test_versions_list_is_free_and_has_no_limit_header(sandbox_org, get):
    before = sandbox_org.api_usage()
    response = sandbox_org.session().get(f"{sandbox_org.url}/services/data/", timeout=10)
    assert response.status_code == 200
    assert "Sforce-Limit-Info" not in response.headers
    assert {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"} in response.json()
    assert sandbox_org.api_usage() == before


def test_query_timeout_for_one_object(sandbox_org, get):
    sandbox_org.faults(query_timeout=["Contact"])
    response = get("/query", params={"q": "SELECT Id FROM Contact"})
    assert response.status_code == 400
    assert response.json() == [
        {"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}
    ]
    assert get("/query", params={"q": "SELECT Id FROM Lead LIMIT 1"}).status_code == 200


def test_expired_locators(sandbox_org, get):
    sandbox_org.faults(short_page_size=50)
    first = get("/query", params={"q": "SELECT Id FROM Contact"})
    next_url = first.json()["nextRecordsUrl"]
    sandbox_org.faults(expire_locators=True)
    response = get(sandbox_org.url + next_url)
    assert response.status_code == 400
    assert response.json() == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


def test_malformed_page(sandbox_org, get):
    sandbox_org.faults(malformed_next=1)
    broken = get("/query", params={"q": "SELECT Id, Name FROM Account"})
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    assert get("/query", params={"q": "SELECT Id, Name FROM Account"}).json()["done"] is True


def test_wrong_typed_values(sandbox_org, get):
    sandbox_org.faults(wrong_type=["Contact.HasOptedOutOfEmail", "Contact.LastName"])
    record = get(
        "/query", params={"q": "SELECT HasOptedOutOfEmail, LastName, Email FROM Contact LIMIT 1"}
    ).json()["records"][0]
    assert record["HasOptedOutOfEmail"] == "yes"
    assert record["LastName"] == 12345
    assert record["Email"] is None or isinstance(record["Email"], str)


def test_latency(sandbox_org, get):
    sandbox_org.faults(latency_ms=300)
    response = get("/limits/")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3


def test_short_pages(sandbox_org, get):
    sandbox_org.faults(short_page_size=50)
    page = get("/query", params={"q": "SELECT Id FROM Contact"}).json()
    assert len(page["records"]) == 50
    assert page["totalSize"] > 50
    assert page["nextRecordsUrl"].endswith("-50")


def test_faults_endpoint_refuses_bad_input(sandbox_org):
    session = sandbox_org.session()
    bad = session.post(f"{sandbox_org.url}/_sandbox/faults", json={"fail_next": -1}, timeout=10)
    assert bad.status_code == 400
    assert bad.json() == [
        {"message": "fail_next must be a non-negative integer", "errorCode": "INVALID_FAULT"}
    ]
    unknown = session.post(f"{sandbox_org.url}/_sandbox/faults", json={"explode": True}, timeout=10)
    assert unknown.json() == [{"message": "unknown fault 'explode'", "errorCode": "INVALID_FAULT"}]
    form = session.post(f"{sandbox_org.url}/_sandbox/faults", data={"fail_next": "3"}, timeout=10)
    assert form.status_code == 415
    assert sandbox_org.status()["faults"]["fail_next"] == 0


def test_faults_command(make_sandbox_org):
    org = make_sandbox_org()
    output = org.manage(
        "sandbox_faults", "--fail-next", "1", "--fail-status", "500", "--query-timeout", "Lead"
    ).stdout
    assert '"fail_next": 1' in output and '"query_timeout": [\n    "Lead"\n  ]' in output
    token = org.token()["access_token"]
    response = org.session().get(
        f"{org.url}{V}/limits/", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 500
    org.manage("sandbox_faults", "--reset")
    assert org.status()["faults"]["query_timeout"] == []
