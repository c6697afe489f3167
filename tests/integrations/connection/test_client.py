"""Unit tests of the Salesforce client against a mocked transport (responses)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from integrations.models import Connection
from integrations.salesforce.client import (
    SalesforceApiError,
    SalesforceAuthError,
    SalesforceClient,
    SalesforceInvalidField,
    SalesforceInvalidLocator,
    SalesforceInvalidType,
    SalesforceMalformedQuery,
    SalesforceMalformedResponse,
    SalesforceNotConnected,
    SalesforceNotFound,
    SalesforceQueryTimeout,
    SalesforceRateLimited,
    SalesforceServerError,
    SalesforceUnavailable,
    parse_limit_info,
    pick_version,
)
from tests.integrations.connection.conftest import INSTANCE, LOGIN, recorded, token_body

pytestmark = pytest.mark.django_db
V = f"{INSTANCE}/services/data/v62.0"
SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(connection, sleeps):
    return SalesforceClient.for_connection(connection, sleep=sleeps.append)


def page(records, *, total, done, next_url=None):
    body = {"totalSize": total, "done": done, "records": records}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return body


@responses.activate
def test_query_pages_follows_next_records_url_one_page_at_a_time(client):
    first = [{"attributes": {"type": "Contact"}, "Id": f"003{i:015d}"} for i in range(3)]
    second = [{"attributes": {"type": "Contact"}, "Id": "003000000000000009"}]
    responses.get(
        f"{V}/query/",
        match=[
            matchers.query_param_matcher({"q": "SELECT Id FROM Contact"}),
            matchers.header_matcher(
                {"Sforce-Query-Options": "batchSize=200", "Authorization": "Bearer 00D5e!AQ8.access-0"}
            ),
        ],
        json=page(first, total=4, done=False, next_url="/services/data/v62.0/query/01gRO0000016PIAYA2-3"),
    )
    responses.get(
        f"{INSTANCE}/services/data/v62.0/query/01gRO0000016PIAYA2-3",
        match=[matchers.header_matcher({"Sforce-Query-Options": "batchSize=200"})],
        json=page(second, total=4, done=True),
    )

    pages = client.query_pages("SELECT Id FROM Contact", batch_size=50)
    got_first = next(pages)
    assert len(responses.calls) == 1  # the second page is fetched only when asked for
    got_rest = list(pages)

    assert [r["Id"] for r in got_first.records] == [r["Id"] for r in first]
    assert (got_first.total_size, got_first.done, got_first.next_url) == (
        4,
        False,
        "/services/data/v62.0/query/01gRO0000016PIAYA2-3",
    )
    assert [(p.done, p.next_url, len(p.records)) for p in got_rest] == [(True, None, 1)]
    assert dict(client.calls) == {"query": 1, "query_more": 1}


@responses.activate
def test_query_pages_resumes_from_a_next_url_and_query_all_for_deleted(client):
    responses.get(
        f"{INSTANCE}/services/data/v62.0/query/01gXYZ-2000", json=page([{"Id": "x"}], total=2001, done=True)
    )
    responses.get(
        f"{V}/queryAll/",
        match=[matchers.query_param_matcher({"q": "SELECT Id FROM Lead"})],
        json=page([], total=0, done=True),
    )

    resumed = list(client.query_pages("ignored", next_url="/services/data/v62.0/query/01gXYZ-2000"))
    deleted = list(client.query_pages("SELECT Id FROM Lead", include_deleted=True))

    assert [len(p.records) for p in resumed] == [1]
    assert [p.total_size for p in deleted] == [0]
    assert dict(client.calls) == {"query_more": 1, "query_all": 1}


@responses.activate
def test_a_page_that_is_not_done_without_next_url_is_malformed(client):
    responses.get(f"{V}/query/", json={"totalSize": 5, "done": False, "records": []})

    with pytest.raises(SalesforceMalformedResponse, match="no nextRecordsUrl"):
        list(client.query_pages("SELECT Id FROM Contact"))


@pytest.mark.parametrize(
    ("status", "body", "exc", "code", "message"),
    [
        (
            400,
            [{"message": "unexpected token: 'FRM'", "errorCode": "MALFORMED_QUERY"}],
            SalesforceMalformedQuery,
            "MALFORMED_QUERY",
            "unexpected token: 'FRM'",
        ),
        (
            400,
            [{"message": "No such column 'X__c' on entity 'Contact'.", "errorCode": "INVALID_FIELD"}],
            SalesforceInvalidField,
            "INVALID_FIELD",
            "No such column 'X__c' on entity 'Contact'.",
        ),
        (
            400,
            [{"message": "sObject type 'accountx' is not supported.", "errorCode": "INVALID_TYPE"}],
            SalesforceInvalidType,
            "INVALID_TYPE",
            "sObject type 'accountx' is not supported.",
        ),
        (
            400,
            [{"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}],
            SalesforceQueryTimeout,
            "QUERY_TIMEOUT",
            "Your query request was running for too long.",
        ),
        (
            400,
            [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}],
            SalesforceInvalidLocator,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        ),
        (
            403,
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
            SalesforceRateLimited,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        ),
        (
            404,
            [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
            SalesforceNotFound,
            "NOT_FOUND",
            "The requested resource does not exist",
        ),
        (
            403,
            [
                {
                    "message": "API is not enabled for this Organization or Partner",
                    "errorCode": "API_DISABLED_FOR_ORG",
                }
            ],
            SalesforceApiError,
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization or Partner",
        ),
        (404, "<html>gone</html>", SalesforceNotFound, "HTTP_404", "Not Found"),
    ],
)
@responses.activate
def test_error_answers_become_typed_exceptions_and_are_not_retried(
    client, sleeps, status, body, exc, code, message
):
    if isinstance(body, str):
        responses.get(f"{V}/query/", body=body, status=status)
    else:
        responses.get(f"{V}/query/", json=body, status=status)

    with pytest.raises(exc) as raised:
        list(client.query_pages("SELECT Id FROM Contact"))

    assert type(raised.value) is exc
    assert (raised.value.error_code, raised.value.message, raised.value.status) == (code, message, status)
    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_5xx_and_connection_errors_are_retried_with_backoff(client, sleeps):
    responses.get(f"{V}/limits/", status=503, body="busy")
    responses.get(f"{V}/limits/", body=requests.ConnectionError("reset"))
    responses.get(f"{V}/limits/", json={"DailyApiRequests": {"Max": 15000, "Remaining": 14990}})

    limits = client.limits()

    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 14990}
    assert len(responses.calls) == 3
    assert len(sleeps) == 2
    # Full jitter within the exponential cap: attempt 0 <= 0.5 s, attempt 1 <= 1 s.
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0
    # Only answers that reached Salesforce count as API calls.
    assert dict(client.calls) == {"limits": 2}


@responses.activate
def test_429_honours_retry_after(client, sleeps):
    responses.get(f"{V}/limits/", status=429, headers={"Retry-After": "7"}, json=[])
    responses.get(f"{V}/limits/", json={})

    client.limits()

    assert sleeps == [7.0]


@responses.activate
def test_retries_run_out_into_a_typed_error(connection, sleeps):
    client = SalesforceClient.for_connection(connection, sleep=sleeps.append, max_retries=2)
    for _ in range(3):
        responses.get(
            f"{V}/limits/", status=500, json=[{"message": "boom", "errorCode": "UNKNOWN_EXCEPTION"}]
        )
    with pytest.raises(SalesforceServerError) as raised:
        client.limits()
    assert (raised.value.error_code, raised.value.status, len(responses.calls)) == (
        "UNKNOWN_EXCEPTION",
        500,
        3,
    )

    responses.reset()
    for _ in range(3):
        responses.get(f"{V}/limits/", body=requests.ConnectTimeout("slow"))
    with pytest.raises(SalesforceUnavailable, match="no answer after 3 attempts"):
        client.limits()


def test_every_request_carries_a_connect_and_read_timeout(connection):
    seen = []

    class Recording(requests.Session):
        def request(self, method, url, **kwargs):
            seen.append(kwargs.get("timeout"))
            response = requests.Response()
            response.status_code = 200
            response._content = b"{}"
            response.url = url
            return response

    client = SalesforceClient.for_connection(connection, session=Recording())
    client.limits()

    assert seen == [(5.0, 60.0)]


@responses.activate
def test_limit_info_is_parsed_and_stored_on_the_connection(client, connection):
    responses.get(
        f"{V}/limits/",
        json={},
        headers={"Sforce-Limit-Info": "api-usage=18/5000; per-app-api-usage=17/250(appName=inflow)"},
    )

    client.limits()

    connection.refresh_from_db()
    assert (client.api_usage.used, client.api_usage.max) == (18, 5000)
    assert (connection.api_usage_used, connection.api_usage_max, connection.api_usage_percent) == (
        18,
        5000,
        0.4,
    )
    assert connection.api_usage_seen_at is not None


def test_parse_limit_info_forms():
    assert parse_limit_info("api-usage=18/5000") == (parse_limit_info("api-bursts=1/750; api-usage=18/5000"))
    assert parse_limit_info("api-usage=18/5000").max == 5000
    assert parse_limit_info("per-app-api-usage=17/250(appName=x)") is None
    assert parse_limit_info(None) is None


@responses.activate
def test_expired_session_is_refreshed_once_persisted_and_the_call_retried(client, connection, sleeps):
    responses.get(f"{V}/limits/", status=401, json=SESSION_EXPIRED)
    responses.post(
        f"{LOGIN}/services/oauth2/token",
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": "5Aep.refresh-0",
                    "client_id": "test-consumer-key",
                    "client_secret": "test-consumer-secret",
                }
            )
        ],
        json=token_body(access_token="00D5e!AQ8.access-1", refresh_token="5Aep.refresh-rotated"),
    )
    responses.get(
        f"{V}/limits/",
        match=[matchers.header_matcher({"Authorization": "Bearer 00D5e!AQ8.access-1"})],
        json={"DailyApiRequests": {"Max": 5000, "Remaining": 4999}},
    )

    assert client.limits()["DailyApiRequests"]["Remaining"] == 4999

    connection.refresh_from_db()
    assert connection.access_token == "00D5e!AQ8.access-1"
    assert connection.refresh_token == "5Aep.refresh-rotated"
    assert connection.refresh_count == 1
    assert connection.last_refreshed_at is not None
    assert connection.status == Connection.Status.CONNECTED
    assert [c.request.url.split("?")[0] for c in responses.calls] == [
        f"{V}/limits/",
        f"{LOGIN}/services/oauth2/token",
        f"{V}/limits/",
    ]
    assert client.refreshes == 1
    assert sleeps == []


@responses.activate
def test_refresh_without_rotation_keeps_the_refresh_token(client, connection):
    responses.get(f"{V}/limits/", status=401, json=SESSION_EXPIRED)
    responses.post(
        f"{LOGIN}/services/oauth2/token", json=token_body(access_token="new-access", refresh_token=None)
    )
    responses.get(f"{V}/limits/", json={})

    client.limits()

    connection.refresh_from_db()
    assert (connection.access_token, connection.refresh_token) == ("new-access", "5Aep.refresh-0")


@responses.activate
def test_a_refresh_token_salesforce_refuses_moves_the_connection_to_needs_reauth(client, connection):
    responses.get(f"{V}/limits/", status=401, json=SESSION_EXPIRED)
    responses.post(
        f"{LOGIN}/services/oauth2/token",
        status=400,
        json={"error": "invalid_grant", "error_description": "expired access/refresh token"},
    )

    with pytest.raises(SalesforceAuthError) as raised:
        client.limits()

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    assert (
        connection.status_reason
        == "Salesforce refused the refresh token: invalid_grant (expired access/refresh token)"
    )
    assert raised.value.message == connection.status_reason
    assert connection.access_token == "00D5e!AQ8.access-0"  # nothing else changed
    assert len(responses.calls) == 2  # no retry of a refused grant


@responses.activate
def test_a_second_401_after_refresh_is_not_retried_again(client, connection):
    responses.get(f"{V}/limits/", status=401, json=SESSION_EXPIRED)
    responses.post(f"{LOGIN}/services/oauth2/token", json=token_body(access_token="fresh"))
    responses.get(f"{V}/limits/", status=401, json=SESSION_EXPIRED)

    with pytest.raises(SalesforceAuthError, match="freshly refreshed session"):
        client.limits()

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    assert len(responses.calls) == 3


@responses.activate
def test_a_token_endpoint_that_is_down_does_not_mark_needs_reauth(client, connection):
    responses.get(f"{V}/limits/", status=401, json=SESSION_EXPIRED)
    responses.post(f"{LOGIN}/services/oauth2/token", body=requests.ConnectionError("down"))

    with pytest.raises(SalesforceUnavailable):
        client.limits()

    connection.refresh_from_db()
    assert connection.status == Connection.Status.CONNECTED


@responses.activate
def test_a_disconnected_connection_gives_no_client(connection):
    from integrations.services import connection_disconnect

    responses.post(f"{LOGIN}/services/oauth2/revoke", status=200)
    disconnected = connection_disconnect(connection=connection)

    with pytest.raises(SalesforceNotConnected):
        SalesforceClient.for_connection(disconnected)


def test_pick_version_is_the_newest_not_above_the_setting():
    assert pick_version(["31.0", "59.0", "60.0", "66.0"], "62.0") == "60.0"
    assert pick_version(["62.0", "61.0"], "62.0") == "62.0"
    assert pick_version(["63.0"], "62.0") is None


@responses.activate
def test_versions_are_read_without_a_token_and_negotiated(client):
    responses.get(
        f"{INSTANCE}/services/data/",
        json=[
            {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"},
            {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"},
            {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"},
        ],
    )

    assert client.negotiate_version("61.0") == "60.0"
    assert client.api_version == "60.0"
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_describe_is_cached_for_the_run(client):
    responses.get(f"{V}/sobjects/Contact/describe/", json=recorded("describe_Contact"))

    first = client.describe("Contact")
    second = client.describe("Contact")

    assert first is second
    assert first["name"] == "Contact"
    assert dict(client.calls) == {"describe": 1}
    with pytest.raises(ValueError):
        client.describe("../limits")


@responses.activate
def test_count_updated_and_deleted(client):
    responses.get(
        f"{V}/query/",
        match=[matchers.query_param_matcher({"q": "SELECT COUNT() FROM Lead"})],
        json={"totalSize": 3222, "done": True, "records": []},
    )
    responses.get(
        f"{V}/sobjects/Contact/updated/",
        match=[
            matchers.query_param_matcher(
                {"start": "2013-05-06T00:00:00+00:00", "end": "2013-05-10T00:00:00+00:00"}
            )
        ],
        json={"ids": ["a00D0000008pQR5IAM"], "latestDateCovered": "2013-05-08T21:20:00.000+0000"},
    )
    responses.get(
        f"{V}/sobjects/Contact/deleted/",
        json={
            "deletedRecords": [{"id": "a00D0000008pQRAIA2", "deletedDate": "2013-05-07T22:07:19.000+0000"}],
            "earliestDateAvailable": "2013-05-03T15:57:00.000+0000",
            "latestDateCovered": "2013-05-08T21:20:00.000+0000",
        },
    )
    start, end = datetime(2013, 5, 6, tzinfo=UTC), datetime(2013, 5, 10, tzinfo=UTC)

    assert client.count("SELECT COUNT() FROM Lead") == 3222
    updated = client.updated("Contact", start=start, end=end)
    deleted = client.deleted("Contact", start=start, end=end)

    assert updated.ids == ["a00D0000008pQR5IAM"]
    assert updated.latest_date_covered == datetime(2013, 5, 8, 21, 20, tzinfo=UTC)
    assert [(r.id, r.deleted_date) for r in deleted.records] == [
        ("a00D0000008pQRAIA2", datetime(2013, 5, 7, 22, 7, 19, tzinfo=UTC))
    ]
    assert deleted.earliest_date_available == datetime(2013, 5, 3, 15, 57, tzinfo=UTC)


@responses.activate
def test_the_delete_scan_uses_query_all(client):
    responses.get(
        f"{V}/queryAll/",
        match=[
            matchers.query_param_matcher(
                {
                    "q": "SELECT Id, SystemModstamp FROM Contact WHERE IsDeleted = true AND SystemModstamp > "
                    "2024-01-31T17:05:00Z ORDER BY SystemModstamp, Id"
                }
            )
        ],
        json=page([{"Id": "003A", "SystemModstamp": "2024-02-01T00:00:00.000+0000"}], total=1, done=True),
    )

    pages = list(client.query_deleted("Contact", since=datetime(2024, 1, 31, 17, 5, tzinfo=UTC)))

    assert [r["Id"] for r in pages[0].records] == ["003A"]


@responses.activate
def test_a_next_url_on_another_host_is_refused(client):
    with pytest.raises(SalesforceMalformedResponse, match="outside the instance"):
        client.request(
            "GET", "https://evil.example.com/services/data/v62.0/query/01g-1", endpoint="query_more"
        )
    assert len(responses.calls) == 0


CSV_PAGE_1 = (
    '"Id","Name","Email"\n"003A","Ada ""The Countess"" Lovelace","ada@example.com"\n"003B","Line\nBreak",""\n'
)
CSV_PAGE_2 = '"Id","Name","Email"\n"003C","Grace","grace@example.com"\n'


@responses.activate
def test_bulk_query_creates_polls_streams_pages_and_deletes_the_job(client, sleeps):
    job = "7506g00000DhRA2AAN"
    responses.post(
        f"{V}/jobs/query",
        match=[
            matchers.json_params_matcher(
                {
                    "operation": "queryAll",
                    "query": "SELECT Id, Name, Email FROM Contact",
                    "contentType": "CSV",
                    "columnDelimiter": "COMMA",
                    "lineEnding": "LF",
                }
            )
        ],
        json={"id": job, "state": "UploadComplete"},
    )
    responses.get(f"{V}/jobs/query/{job}", json={"id": job, "state": "InProgress"})
    responses.get(f"{V}/jobs/query/{job}", json={"id": job, "state": "JobComplete"})
    responses.get(
        f"{V}/jobs/query/{job}/results",
        match=[matchers.query_param_matcher({"maxRecords": "2"})],
        body=CSV_PAGE_1,
        headers={"Sforce-Locator": "MTAwMDA", "Sforce-NumberOfRecords": "2"},
        content_type="text/csv",
    )
    responses.get(
        f"{V}/jobs/query/{job}/results",
        match=[matchers.query_param_matcher({"maxRecords": "2", "locator": "MTAwMDA"})],
        body=CSV_PAGE_2,
        headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"},
        content_type="text/csv",
    )
    deleted = responses.delete(f"{V}/jobs/query/{job}", status=204)

    pages = list(
        client.bulk_query("SELECT Id, Name, Email FROM Contact", include_deleted=True, max_records=2)
    )

    assert [(p.locator, p.next_locator, p.job_id) for p in pages] == [
        (None, "MTAwMDA", job),
        ("MTAwMDA", None, job),
    ]
    assert pages[0].rows == [
        {"Id": "003A", "Name": 'Ada "The Countess" Lovelace', "Email": "ada@example.com"},
        {"Id": "003B", "Name": "Line\nBreak", "Email": None},
    ]
    assert pages[1].rows == [{"Id": "003C", "Name": "Grace", "Email": "grace@example.com"}]
    assert deleted.call_count == 1
    assert sleeps == [0.5]
    assert dict(client.calls) == {"bulk_create": 1, "bulk_poll": 2, "bulk_results": 2, "bulk_delete": 1}


@responses.activate
def test_bulk_page_with_fewer_rows_than_announced_is_malformed_and_the_job_is_deleted(client):
    job = "7506g00000DhRA2AAN"
    responses.post(f"{V}/jobs/query", json={"id": job, "state": "UploadComplete"})
    responses.get(f"{V}/jobs/query/{job}", json={"id": job, "state": "JobComplete"})
    responses.get(f"{V}/jobs/query/{job}/results", body=CSV_PAGE_2, headers={"Sforce-NumberOfRecords": "5"})
    deleted = responses.delete(f"{V}/jobs/query/{job}", status=204)

    with pytest.raises(SalesforceMalformedResponse, match="Sforce-NumberOfRecords says 5"):
        list(client.bulk_query("SELECT Id FROM Contact"))

    assert deleted.call_count == 1


@responses.activate
def test_a_failed_bulk_job_raises_with_salesforces_message(client):
    job = "7506g00000DhRA2AAN"
    responses.post(f"{V}/jobs/query", json={"id": job, "state": "UploadComplete"})
    responses.get(
        f"{V}/jobs/query/{job}", json={"id": job, "state": "Failed", "errorMessage": "INVALID_FIELD: Foo"}
    )
    responses.delete(f"{V}/jobs/query/{job}", status=204)

    from integrations.salesforce.errors import SalesforceBulkJobFailed

    with pytest.raises(SalesforceBulkJobFailed) as raised:
        list(client.bulk_query("SELECT Foo FROM Contact"))
    assert (raised.value.error_code, raised.value.message) == ("BULK_JOB_FAILED", "INVALID_FIELD: Foo")


def test_repr_and_str_never_show_tokens(connection, client):
    for text in (repr(connection), str(connection), repr(client)):
        assert "access-0" not in text and "refresh-0" not in text
    assert "00D5e!AQ8.access-0" not in connection.access_token_encrypted


@responses.activate
def test_a_connection_already_needing_reauth_does_not_ask_salesforce_again(make_connection, workspace):
    connection = make_connection(
        workspace,
        status=Connection.Status.NEEDS_REAUTH,
        status_reason="Salesforce refused the refresh token: x",
    )
    responses.get(f"{V}/limits/", status=401, json=SESSION_EXPIRED)

    with pytest.raises(SalesforceAuthError) as raised:
        SalesforceClient.for_connection(connection).limits()

    assert raised.value.message == "Salesforce refused the refresh token: x"
    assert [c.request.url.split("?")[0] for c in responses.calls] == [f"{V}/limits/"]  # no token call


@responses.activate
def test_a_next_records_url_pointing_at_itself_stops_the_loop(client):
    loop = "/services/data/v62.0/query/01gLOOP-200"
    responses.get(f"{V}/query/", json=page([{"Id": "a"}], total=3, done=False, next_url=loop))
    responses.get(f"{INSTANCE}{loop}", json=page([{"Id": "b"}], total=3, done=False, next_url=loop))

    with pytest.raises(SalesforceMalformedResponse, match="repeats the page"):
        list(client.query_pages("SELECT Id FROM Contact"))
    assert len(responses.calls) == 2
