"""Bulk API 1.0 (`/services/async/<version>/job...`): XML or JSON, as the client speaks it.

Authentication is the `X-SFDC-Session` header (a Bearer header works too). Errors are Bulk API 1.0's
own `<error><exceptionCode/><exceptionMessage/></error>` (or its JSON form), never a REST error array.
"""

from __future__ import annotations

import logging
import time
from functools import wraps

import orjson
from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from ..api import ApiContext, bearer_token, current_schema, request_origin
from ..models import AsyncJob
from ..services import bulk_v1, oauth, org
from ..services.bulk_v1 import AsyncError
from ..soql_bridge import SoqlError
from ..wire import is_supported_version

logger = logging.getLogger(__name__)
STATUS = {"InvalidSessionId": 401, "InvalidUrl": 404, "MethodNotAllowed": 405, "ExceededQuota": 403}


def _speaks_json(request, job: AsyncJob | None = None) -> bool:
    if "json" in (request.content_type or "").lower():
        return True
    return job is not None and job.content_type == "JSON" and "xml" not in (request.content_type or "")


def _respond(request, payload: dict | list, *, root: str = "", job: AsyncJob | None = None, status=200):
    if _speaks_json(request, job):
        return HttpResponse(orjson.dumps(payload), status=status, content_type="application/json")
    if root == "result-list":
        text = bulk_v1.result_ids_xml(payload)
    elif root == "batchInfoList":
        text = bulk_v1.xml_list(root, "batchInfo", payload["batchInfo"])
    else:
        text = bulk_v1.xml_document(root, payload)
    return HttpResponse(text, status=status, content_type="application/xml")


def _error(request, code: str, message: str, job: AsyncJob | None = None):
    as_json = _speaks_json(request, job)
    return HttpResponse(
        bulk_v1.error_body(code, message, as_json=as_json),
        status=STATUS.get(code, 400),
        content_type="application/json" if as_json else "application/xml",
    )


def async_view(kind: str):
    """Faults, session, API usage and Bulk API 1.0 error bodies around each view."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, version, **kwargs):
            try:
                org.request_count(kind)
                current = org.state()
                if current.latency_ms:
                    time.sleep(min(current.latency_ms, 60_000) / 1000)
                failure = 0 if org.unreachable(current) else org.take_failure(current)
                if failure is not None:
                    return _error(request, "ServerUnavailable", "Server temporarily unavailable")
                if not is_supported_version(version):
                    return _error(request, "InvalidUrl", "The requested resource does not exist")
                raw = bearer_token(request)
                token = oauth.access_token_user(raw, current) if raw else None
                if token is None:
                    return _error(request, "InvalidSessionId", "Invalid session id")
                allowed, used, limit = org.api_usage_consume(current)
                if not allowed:
                    return _error(request, "ExceededQuota", "TotalRequests Limit exceeded.")
                request.sandbox = ApiContext(
                    token, current, version, request_origin(request), current_schema(), used
                )
                response = view(request, *args, version=version, **kwargs)
                response["Sforce-Limit-Info"] = f"api-usage={used}/{limit}"
                return response
            except AsyncError as exc:
                return _error(request, exc.error_code, exc.message)
            except SoqlError as exc:
                return _error(
                    request, "InvalidBatch", f"Failed to process query: {exc.error_code}: {exc.message}"
                )
            except Exception:
                logger.exception("sandbox error on %s", kind)
                return _error(request, "ClientInputError", "An unexpected error occurred.")

        return wrapper

    return decorator


def _not_allowed(request, allowed: str):
    return _error(
        request, "MethodNotAllowed", f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"
    )


@async_view("asyncJobCreate")
def jobs(request, version):
    if request.method != "POST":
        return _not_allowed(request, "POST")
    ctx = request.sandbox
    body = request.body
    is_json = "json" in (request.content_type or "").lower() or body.lstrip()[:1] == b"{"
    fields = bulk_v1.parse_job_body(body, is_json=is_json)
    job = bulk_v1.job_create(
        schema=ctx.schema,
        fields=fields,
        version=version,
        user_id=ctx.token.user.user_id,
        pk_chunking=request.headers.get("Sforce-Enable-PKChunking"),
    )
    return _respond(request, bulk_v1.job_info(job, []), root="jobInfo", job=job, status=201)


@async_view("asyncJob")
def job(request, version, job_id):
    ctx = request.sandbox
    found = bulk_v1.job_get(job_id)
    if request.method == "POST":
        body = request.body
        is_json = "json" in (request.content_type or "").lower() or body.lstrip()[:1] == b"{"
        fields = bulk_v1.parse_job_body(body, is_json=is_json)
        found = bulk_v1.job_state_set(job=found, state=fields.get("state"))
    elif request.method != "GET":
        return _not_allowed(request, "GET,POST")
    batches = bulk_v1.batches_advance(schema=ctx.schema, job=found, state=ctx.state)
    return _respond(request, bulk_v1.job_info(found, batches), root="jobInfo", job=found)


@async_view("asyncBatches")
def batches(request, version, job_id):
    ctx = request.sandbox
    found = bulk_v1.job_get(job_id)
    if request.method == "POST":
        soql = request.body.decode("utf-8", "replace")
        if not soql.strip():
            raise AsyncError("InvalidBatch", "Failed to process query: the batch is empty")
        batch = bulk_v1.batch_create(schema=ctx.schema, job=found, soql=soql, state=ctx.state)
        return _respond(request, bulk_v1.batch_info(batch, found), root="batchInfo", job=found, status=201)
    if request.method != "GET":
        return _not_allowed(request, "GET,POST")
    infos = [
        bulk_v1.batch_info(b, found)
        for b in bulk_v1.batches_advance(schema=ctx.schema, job=found, state=ctx.state)
    ]
    return _respond(request, {"batchInfo": infos}, root="batchInfoList", job=found)


@async_view("asyncBatch")
def batch(request, version, job_id, batch_id):
    if request.method != "GET":
        return _not_allowed(request, "GET")
    ctx = request.sandbox
    found = bulk_v1.job_get(job_id)
    current = bulk_v1.batch_get(found, batch_id)
    current = bulk_v1.batch_advance(schema=ctx.schema, batch=current, state=ctx.state)
    return _respond(request, bulk_v1.batch_info(current, found), root="batchInfo", job=found)


@async_view("asyncBatchRequest")
def batch_request(request, version, job_id, batch_id):
    found = bulk_v1.job_get(job_id)
    current = bulk_v1.batch_get(found, batch_id)
    return HttpResponse(current.soql, content_type="text/plain; charset=UTF-8")


def _completed(request, job_id: str, batch_id: str):
    ctx = request.sandbox
    found = bulk_v1.job_get(job_id)
    current = bulk_v1.batch_advance(
        schema=ctx.schema, batch=bulk_v1.batch_get(found, batch_id), state=ctx.state
    )
    if current.state != "Completed":
        raise AsyncError("InvalidBatch", "Batch not completed")
    return found, current


@async_view("asyncResults")
def results(request, version, job_id, batch_id):
    found, current = _completed(request, job_id, batch_id)
    return _respond(request, [current.result_id], root="result-list", job=found)


@async_view("asyncResult")
def result(request, version, job_id, batch_id, result_id):
    found, current = _completed(request, job_id, batch_id)
    if result_id != current.result_id:
        raise AsyncError("InvalidBatch", f"Unable to find object: {result_id[:18]}")
    content_type, chunks = bulk_v1.result_chunks(
        schema=request.sandbox.schema, job=found, batch=current, state=request.sandbox.state
    )
    return StreamingHttpResponse((chunk.encode() for chunk in chunks), content_type=content_type)
