"""Salesforce REST + Bulk API 2.0 client, one per connection (and per sync run).

    client = SalesforceClient.for_connection(connection)
    for page in client.query_pages("SELECT Id, Email FROM Contact", batch_size=2000):
        ...                                  # page.records, page.next_url (resume point)
    client.calls                             # Counter: endpoint -> requests that reached Salesforce

An expired session (401 INVALID_SESSION_ID) is refreshed once through the client's token store (for a
connection: under a row lock on the Connection) and the call retried once; a refresh token Salesforce refuses
(`invalid_grant`) moves the connection to `needs_reauth` and raises SalesforceAuthError. Call the client outside database transactions.
Wire formats: Salesforce's REST API (query/queryMore, sObject describe, limits) and Bulk API 2.0.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson
import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from integrations.models import Connection
from integrations.salesforce.base import BaseApiClient
from integrations.salesforce.errors import (  # noqa: F401 - re-exported: the contract names them here
    ERROR_CODE_CLASSES,
    SalesforceApiError,
    SalesforceAuthError,
    SalesforceBulkJobFailed,
    SalesforceError,
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
    SalesforceSessionExpired,
    SalesforceUnavailable,
)

logger = logging.getLogger(__name__)

# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm
VERSIONS_PATH = "/services/data/"
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_describeGlobal.htm
DESCRIBE_GLOBAL = "sobjects/"
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
DESCRIBE = "sobjects/{name}/describe/"
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
QUERY = "query/"
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm
QUERY_ALL = "queryAll/"
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
LIMITS = "limits/"
COMPOSITE_SOBJECTS = "composite/sobjects"
MAX_COLLECTION_RECORDS = 200  # records per composite/sobjects call
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getupdated.htm
UPDATED = "sobjects/{name}/updated/"
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getdeleted.htm
DELETED = "sobjects/{name}/deleted/"
# https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_create_job.htm
BULK_QUERY_JOBS = "jobs/query"
BULK_QUERY_JOB = "jobs/query/{job_id}"
# https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm
BULK_QUERY_RESULTS = "jobs/query/{job_id}/results"

LIMIT_INFO_RE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
ID_RE = re.compile(r"^[A-Za-z0-9]{15,18}$")
# Salesforce's documented range for Sforce-Query-Options batchSize.
MIN_BATCH, MAX_BATCH = 200, 2000
USAGE_FLUSH_SECONDS = 60.0
BULK_SPOOL_BYTES = 8 * 1024 * 1024

# Long text areas exceed the csv module's default 128 KiB field limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class QueryPage:
    records: list[dict[str, Any]]
    total_size: int
    done: bool
    # The nextRecordsUrl to fetch the following page (pass it back as `next_url` to resume); None when done.
    next_url: str | None


@dataclass(frozen=True)
class BulkPage:
    rows: list[dict[str, str | None]]
    # The locator this page was fetched with (None for the first page): re-fetching it repeats the page.
    locator: str | None
    job_id: str
    # Where the next page starts, None on the last page.
    next_locator: str | None = None


@dataclass(frozen=True)
class ApiUsage:
    used: int
    max: int


@dataclass(frozen=True)
class UpdatedResult:
    ids: list[str]
    latest_date_covered: datetime | None


@dataclass(frozen=True)
class DeletedRecord:
    id: str
    deleted_date: datetime | None


@dataclass(frozen=True)
class DeletedResult:
    records: list[DeletedRecord]
    earliest_date_available: datetime | None
    latest_date_covered: datetime | None


def parse_limit_info(value: str | None) -> ApiUsage | None:
    """`Sforce-Limit-Info: api-usage=18/5000[; per-app-api-usage=17/250(appName=x)]` -> ApiUsage(18, 5000)."""
    if not value:
        return None
    match = LIMIT_INFO_RE.search(value)
    if not match:
        return None
    return ApiUsage(used=int(match.group(1)), max=int(match.group(2)))


def parse_sf_datetime(value: Any) -> datetime | None:
    """Salesforce's `2024-01-31T17:05:00.000+0000` (or `...Z`) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_sf_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def pick_version(available: list[str], ceiling: str) -> str | None:
    """The newest version the org offers that is not newer than the one Inflow is built for."""
    allowed = [v for v in available if _version_key(v) <= _version_key(ceiling)]
    return max(allowed, key=_version_key) if allowed else None


@dataclass(frozen=True)
class RefreshedSession:
    access_token: str
    instance_url: str  # Salesforce may move an org to another instance; a refresh says where it is now


class TokenStore(Protocol):
    """Where a connection's tokens and API usage are kept. The client asks it for a fresh session when
    Salesforce says the session expired, reports the API usage Salesforce announces, and tells it when
    Salesforce refuses even a fresh session."""

    def refreshed_session(self, *, stale_access_token: str | None) -> RefreshedSession: ...

    def api_usage_save(self, *, used: int, limit: int) -> None: ...

    def needs_reauth_save(self, *, reason: str) -> None: ...


# How `for_connection` gets a connection's token store. The integrations app registers the database-backed
# one (`services.ConnectionTokenStore`) when it starts: those services build clients, so the client does
# not import them.
_token_store_for: Callable[[Connection], TokenStore] | None = None


def token_store_factory_register(factory: Callable[[Connection], TokenStore]) -> None:
    global _token_store_for
    _token_store_for = factory


class SalesforceClient(BaseApiClient):
    def __init__(
        self,
        *,
        instance_url: str,
        access_token: str,
        api_version: str | None = None,
        connection: Connection | None = None,
        token_store: TokenStore | None = None,
        **kwargs,
    ) -> None:
        super().__init__(base_url=instance_url, **kwargs)
        parts = urlsplit(instance_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._access_token = access_token
        self.api_version = api_version or settings.SALESFORCE_API_VERSION
        self.connection = connection
        # Without a store (a client made from a token just granted) an expired session is not refreshed.
        self.token_store = token_store
        self.api_usage: ApiUsage | None = None
        self.refreshes = 0
        self._usage_flushed_at: float | None = None
        self._describe_cache: dict[str, dict] = {}

    def __repr__(self) -> str:
        return f"<SalesforceClient {self._origin} v{self.api_version} connection={getattr(self.connection, 'pk', None)}>"

    @classmethod
    def for_connection(cls, connection: Connection, **kwargs) -> SalesforceClient:
        if _token_store_for is None:
            raise RuntimeError("No token store is registered: the integrations app has not started.")
        if connection.status == Connection.Status.DISCONNECTED or not connection.refresh_token_encrypted:
            raise SalesforceNotConnected(
                "NOT_CONNECTED", "This Salesforce connection is disconnected: reconnect it to use it.", None
            )
        return cls(
            instance_url=connection.instance_url,
            access_token=connection.access_token,
            api_version=connection.api_version or None,
            connection=connection,
            token_store=_token_store_for(connection),
            **kwargs,
        )

    # --- Base hooks -------------------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access_token}"}

    def build_url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            # Never send the bearer token to a host other than the org's instance.
            if f"{parts.scheme}://{parts.netloc}" != self._origin:
                raise SalesforceMalformedResponse(
                    f"Refusing to follow a URL outside the instance: {parts.netloc}"
                )
            return path
        return super().build_url(path)

    def on_response(self, response: requests.Response) -> None:
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage is None:
            return
        self.api_usage = usage
        now = time.monotonic()
        if self._usage_flushed_at is None or now - self._usage_flushed_at >= USAGE_FLUSH_SECONDS:
            self.flush_usage()

    def flush_usage(self) -> None:
        """Stores the last seen `Sforce-Limit-Info` usage on the Connection (throttled; also on close)."""
        if self.token_store is None or self.api_usage is None:
            return
        self.token_store.api_usage_save(used=self.api_usage.used, limit=self.api_usage.max)
        self._usage_flushed_at = time.monotonic()

    def close(self) -> None:
        try:
            self.flush_usage()
        finally:
            super().close()

    def raise_for_response(self, response: requests.Response) -> None:
        status = response.status_code
        code, message = "", ""
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, list) and body and isinstance(body[0], dict):
            code = str(body[0].get("errorCode") or "")
            message = str(body[0].get("message") or "")
        elif isinstance(body, dict):
            code = str(body.get("errorCode") or body.get("error") or "")
            message = str(body.get("message") or body.get("error_description") or "")
        if not code:
            code = f"HTTP_{status}"
            message = message or (response.reason or "")
        if status == 401:
            raise SalesforceSessionExpired(code, message or "Session expired or invalid", status)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise SalesforceRateLimited(code, message, status, float(retry_after) if retry_after else None)
        cls = ERROR_CODE_CLASSES.get(code)
        if cls is None:
            if status == 404:
                cls = SalesforceNotFound
            elif status >= 500:
                cls = SalesforceServerError
            else:
                cls = SalesforceApiError
        raise cls(code, message, status)

    @sensitive_variables()
    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return super().request(method, path, **kwargs)
        except SalesforceSessionExpired as expired:
            if self.token_store is None or not kwargs.get("authenticated", True):
                raise
            stale = self._access_token
            self._refresh(stale)
            try:
                return super().request(method, path, **kwargs)
            except SalesforceSessionExpired:
                reason = f"Salesforce rejected a freshly refreshed session: {expired.message}"
                self.token_store.needs_reauth_save(reason=reason)
                raise SalesforceAuthError(expired.error_code, reason, expired.status) from None

    @sensitive_variables()
    def _refresh(self, stale_access_token: str | None) -> None:
        assert self.token_store is not None  # request() refreshes only a client that has a store
        session = self.token_store.refreshed_session(stale_access_token=stale_access_token)
        self._access_token = session.access_token
        self.refreshes += 1
        instance = session.instance_url
        if instance and instance.rstrip("/") != self._origin:
            # Salesforce moved the org (instance refresh): follow it.
            self.base_url = instance.rstrip("/") + "/"
            parts = urlsplit(instance)
            self._origin = f"{parts.scheme}://{parts.netloc}"

    # --- Helpers ----------------------------------------------------------------------------------
    def data_path(self, suffix: str) -> str:
        return f"/services/data/v{self.api_version}/{suffix}"

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise SalesforceMalformedResponse(
                f"Expected JSON from {urlsplit(response.url).path}, got {response.headers.get('Content-Type', '?')}"
            ) from None

    @staticmethod
    def _object_name(name: str) -> str:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ValueError(f"Not a Salesforce object name: {name!r}")
        return name

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    # --- Metadata ---------------------------------------------------------------------------------
    def versions(self) -> list[str]:
        response = self.request("GET", VERSIONS_PATH, endpoint="versions", authenticated=False)
        body = self._json(response)
        if not isinstance(body, list) or not all(isinstance(v, dict) and "version" in v for v in body):
            raise SalesforceMalformedResponse("The versions list is not a list of {version: ...} objects.")
        return [str(v["version"]) for v in body]

    def negotiate_version(self, ceiling: str | None = None) -> str:
        """Switches the client to the newest version the org supports up to `ceiling` (the setting)."""
        ceiling = ceiling or settings.SALESFORCE_API_VERSION
        chosen = pick_version(self.versions(), ceiling)
        if chosen is None:
            raise SalesforceApiError(
                "UNSUPPORTED_API_VERSION", f"The org offers no REST API version at or below {ceiling}.", None
            )
        self.api_version = chosen
        return chosen

    def describe_global(self) -> dict:
        body = self._json(self.request("GET", self.data_path(DESCRIBE_GLOBAL), endpoint="describe_global"))
        if not isinstance(body, dict) or not isinstance(body.get("sobjects"), list):
            raise SalesforceMalformedResponse("describeGlobal has no sobjects list.")
        return body

    def describe(self, name: str) -> dict:
        """One object's describe, cached for the life of this client (one sync run)."""
        name = self._object_name(name)
        if name not in self._describe_cache:
            body = self._json(
                self.request("GET", self.data_path(DESCRIBE.format(name=name)), endpoint="describe")
            )
            if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
                raise SalesforceMalformedResponse(f"The describe of {name} has no fields list.")
            self._describe_cache[name] = body
        return self._describe_cache[name]

    def limits(self) -> dict:
        body = self._json(self.request("GET", self.data_path(LIMITS), endpoint="limits"))
        if not isinstance(body, dict):
            raise SalesforceMalformedResponse("limits is not an object.")
        return body

    # --- Writes -----------------------------------------------------------------------------------
    def update_records(
        self, records: list[dict[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """`PATCH composite/sobjects`: up to 200 `{"attributes": {"type"}, "id", field: value}` records in one
        call; returns one SaveResult (`{"id", "success", "errors": [{"statusCode", "message", "fields"}]}`) per
        record, in order. A record Salesforce refuses is a result, not an exception."""
        if not 0 < len(records) <= MAX_COLLECTION_RECORDS:
            raise ValueError(f"update_records takes 1 to {MAX_COLLECTION_RECORDS} records")
        body = {"allOrNone": all_or_none, "records": records}
        response = self.request(
            "PATCH", self.data_path(COMPOSITE_SOBJECTS), json=body, endpoint="composite_sobjects"
        )
        results = self._json(response)
        if (
            not isinstance(results, list)
            or len(results) != len(records)
            or not all(isinstance(r, dict) and isinstance(r.get("success"), bool) for r in results)
        ):
            raise SalesforceMalformedResponse("composite/sobjects did not answer one SaveResult per record.")
        return results

    # --- Queries ----------------------------------------------------------------------------------
    def query_pages(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        batch_size: int = 2000,
        next_url: str | None = None,
    ) -> Iterator[QueryPage]:
        """Yields one page at a time, following nextRecordsUrl; pass a page's `next_url` back to resume."""
        headers = {"Sforce-Query-Options": f"batchSize={max(MIN_BATCH, min(MAX_BATCH, int(batch_size)))}"}
        if next_url:
            if not next_url.startswith("/services/data/"):
                raise ValueError("next_url must be a nextRecordsUrl returned by Salesforce.")
            url, params, endpoint = next_url, None, "query_more"
        else:
            url = self.data_path(QUERY_ALL if include_deleted else QUERY)
            params, endpoint = {"q": soql}, "query_all" if include_deleted else "query"
        while True:
            body = self._json(self.request("GET", url, params=params, headers=headers, endpoint=endpoint))
            page = self._query_page(body)
            yield page
            if page.done or page.next_url is None:
                return
            if page.next_url == url:
                # A locator that points at itself would loop forever.
                raise SalesforceMalformedResponse("nextRecordsUrl repeats the page just fetched.")
            url, params, endpoint = page.next_url, None, "query_more"

    @staticmethod
    def _query_page(body: Any) -> QueryPage:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("records"), list)
            or not isinstance(body.get("done"), bool)
            or not isinstance(body.get("totalSize"), int)
        ):
            raise SalesforceMalformedResponse("A query answer lacks records, done or totalSize.")
        done = body["done"]
        next_url = body.get("nextRecordsUrl") if not done else None
        if not done and not (isinstance(next_url, str) and next_url.startswith("/services/data/")):
            raise SalesforceMalformedResponse("A query page says it is not done but has no nextRecordsUrl.")
        return QueryPage(records=body["records"], total_size=body["totalSize"], done=done, next_url=next_url)

    def query_all_records(self, soql: str, **kwargs) -> Iterator[dict[str, Any]]:
        """Records one by one, still fetched page by page."""
        for page in self.query_pages(soql, **kwargs):
            yield from page.records

    def count(self, soql: str, *, include_deleted: bool = False) -> int:
        """totalSize of a query, e.g. `SELECT COUNT() FROM Contact`."""
        url = self.data_path(QUERY_ALL if include_deleted else QUERY)
        body = self._json(self.request("GET", url, params={"q": soql}, endpoint="count"))
        if not isinstance(body, dict) or not isinstance(body.get("totalSize"), int):
            raise SalesforceMalformedResponse("A count answer lacks totalSize.")
        return body["totalSize"]

    def query_deleted(
        self, object_name: str, *, since: datetime, batch_size: int = 2000, next_url: str | None = None
    ) -> Iterator[QueryPage]:
        """queryAll-based delete scan: Id and SystemModstamp of rows deleted after `since`."""
        name = self._object_name(object_name)
        soql = (
            f"SELECT Id, SystemModstamp FROM {name} WHERE IsDeleted = true "  # noqa: S608 - SOQL; name validated
            f"AND SystemModstamp > {since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} ORDER BY SystemModstamp, Id"
        )
        return self.query_pages(soql, include_deleted=True, batch_size=batch_size, next_url=next_url)

    def updated(self, object_name: str, *, start: datetime, end: datetime) -> UpdatedResult:
        name = self._object_name(object_name)
        body = self._json(
            self.request(
                "GET",
                self.data_path(UPDATED.format(name=name)),
                params={"start": format_sf_datetime(start), "end": format_sf_datetime(end)},
                endpoint="updated",
            )
        )
        if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
            raise SalesforceMalformedResponse("updated has no ids list.")
        return UpdatedResult(
            ids=[str(i) for i in body["ids"]],
            latest_date_covered=parse_sf_datetime(body.get("latestDateCovered")),
        )

    def deleted(self, object_name: str, *, start: datetime, end: datetime) -> DeletedResult:
        name = self._object_name(object_name)
        body = self._json(
            self.request(
                "GET",
                self.data_path(DELETED.format(name=name)),
                params={"start": format_sf_datetime(start), "end": format_sf_datetime(end)},
                endpoint="deleted",
            )
        )
        if not isinstance(body, dict) or not isinstance(body.get("deletedRecords"), list):
            raise SalesforceMalformedResponse("deleted has no deletedRecords list.")
        return DeletedResult(
            records=[
                DeletedRecord(id=str(r.get("id")), deleted_date=parse_sf_datetime(r.get("deletedDate")))
                for r in body["deletedRecords"]
                if isinstance(r, dict) and r.get("id")
            ],
            earliest_date_available=parse_sf_datetime(body.get("earliestDateAvailable")),
            latest_date_covered=parse_sf_datetime(body.get("latestDateCovered")),
        )

    # --- Bulk API 2.0 -------------------------------------------------------------------------------
    def bulk_query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        max_records: int = 10000,
        job_id: str | None = None,
        locator: str | None = None,
        poll_timeout: float = 3600.0,
        delete_on_close: bool = True,
    ) -> Iterator[BulkPage]:
        """Creates (or resumes) a query job, waits for it, and yields its CSV result pages one at a time.

        Each page is spooled to a temporary file (in memory up to 8 MiB, then on disk) and parsed from
        there, so memory holds at most one page of rows. Empty CSV cells are None (Bulk CSV cannot tell
        null from empty). The job is deleted after the last page; if the caller stops early it is deleted
        too unless `delete_on_close=False` (to resume later with `job_id` + `locator`).
        """
        if job_id is None:
            body = self._json(
                self.request(
                    "POST",
                    self.data_path(BULK_QUERY_JOBS),
                    json={
                        "operation": "queryAll" if include_deleted else "query",
                        "query": soql,
                        "contentType": "CSV",
                        "columnDelimiter": "COMMA",
                        "lineEnding": "LF",
                    },
                    endpoint="bulk_create",
                )
            )
            if not isinstance(body, dict) or not body.get("id"):
                raise SalesforceMalformedResponse("The Bulk API did not return a job id.")
            job_id = str(body["id"])
        elif not ID_RE.match(job_id):
            raise ValueError(f"Not a Bulk API job id: {job_id!r}")
        completed = False
        try:
            self._bulk_wait(job_id, poll_timeout)
            current = locator
            while True:
                params: dict[str, Any] = {"maxRecords": int(max_records)}
                if current:
                    params["locator"] = current
                response = self.request(
                    "GET",
                    self.data_path(BULK_QUERY_RESULTS.format(job_id=job_id)),
                    params=params,
                    headers={"Accept": "text/csv"},
                    stream=True,
                    endpoint="bulk_results",
                )
                next_locator = response.headers.get("Sforce-Locator")
                if next_locator in (None, "", "null"):
                    next_locator = None
                expected = response.headers.get("Sforce-NumberOfRecords")
                rows = self._read_csv(response)
                if expected is not None and expected.isdigit() and int(expected) != len(rows):
                    raise SalesforceMalformedResponse(
                        f"Bulk result page has {len(rows)} rows but Sforce-NumberOfRecords says {expected}."
                    )
                yield BulkPage(rows=rows, locator=current, job_id=job_id, next_locator=next_locator)
                if next_locator is None:
                    completed = True
                    return
                current = next_locator
        finally:
            if completed or delete_on_close:
                self._bulk_delete(job_id)

    def _bulk_wait(self, job_id: str, poll_timeout: float) -> dict:
        deadline = time.monotonic() + poll_timeout
        delay = 0.5
        while True:
            info = self._json(
                self.request(
                    "GET", self.data_path(BULK_QUERY_JOB.format(job_id=job_id)), endpoint="bulk_poll"
                )
            )
            state = info.get("state") if isinstance(info, dict) else None
            if state == "JobComplete":
                return info
            if state in ("Failed", "Aborted"):
                raise SalesforceBulkJobFailed(
                    "BULK_JOB_" + state.upper(),
                    str(info.get("errorMessage") or f"The query job {state.lower()}."),
                    None,
                )
            if state not in ("UploadComplete", "InProgress", "Open"):
                raise SalesforceMalformedResponse(f"Unknown Bulk API job state: {state!r}")
            if time.monotonic() + delay > deadline:
                self._bulk_abort(job_id)
                raise SalesforceBulkJobFailed(
                    "BULK_JOB_TIMEOUT", f"The query job did not finish within {int(poll_timeout)} s.", None
                )
            self._sleep(delay)
            delay = min(10.0, delay * 2)

    def _bulk_abort(self, job_id: str) -> None:
        try:
            self.request(
                "PATCH",
                self.data_path(BULK_QUERY_JOB.format(job_id=job_id)),
                json={"state": "Aborted"},
                endpoint="bulk_abort",
            ).close()
        except SalesforceError as exc:
            logger.warning("Could not abort Bulk API job %s: %s", job_id, exc)

    def _bulk_delete(self, job_id: str) -> None:
        try:
            self.request(
                "DELETE", self.data_path(BULK_QUERY_JOB.format(job_id=job_id)), endpoint="bulk_delete"
            ).close()
        except SalesforceError as exc:
            # Salesforce deletes finished jobs itself after 7 days; a failed cleanup loses nothing.
            logger.warning("Could not delete Bulk API job %s: %s", job_id, exc)

    @staticmethod
    def _read_csv(response: requests.Response) -> list[dict[str, str | None]]:
        with tempfile.SpooledTemporaryFile(max_size=BULK_SPOOL_BYTES, mode="w+b") as spool:
            try:
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    spool.write(chunk)
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise SalesforceUnavailable(
                    f"The Bulk result download broke off ({type(exc).__name__})."
                ) from None
            finally:
                response.close()
            spool.seek(0)
            text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
            try:
                reader = csv.reader(text)
                header = next(reader, None)
                if header is None:
                    return []
                rows = []
                for line in reader:
                    if len(line) != len(header):
                        raise SalesforceMalformedResponse("A Bulk result row does not match the header.")
                    rows.append(
                        {
                            column: (value if value != "" else None)
                            for column, value in zip(header, line, strict=True)
                        }
                    )
                return rows
            except (csv.Error, UnicodeDecodeError) as exc:
                raise SalesforceMalformedResponse(f"The Bulk result is not valid CSV: {exc}") from None
            finally:
                text.detach()
