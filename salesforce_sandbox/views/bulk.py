"""Bulk API 2.0 query job views (`/services/data/vNN.N/jobs/query...`)."""

from __future__ import annotations

import orjson
from django.http import HttpResponse, StreamingHttpResponse

from ..api import api_view
from ..models import BulkJob
from ..routers import db
from ..services import bulk as bulk_services
from ..services.bulk import BulkError
from ..wire import error_response, json_response, not_found

MAX_LIST = 1000


def _bulk_error(exc: BulkError):
    return error_response(exc.status, exc.error_code, exc.message)


def _body(request) -> dict | None:
    try:
        body = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


@api_view("bulkJobs")
def jobs(request, version):
    ctx = request.sandbox
    if request.method == "GET":
        records = [
            bulk_services.job_info(job, full=True)
            for job in BulkJob.objects.using(db()).order_by("-created_date")[:MAX_LIST]
        ]
        return json_response({"done": True, "records": records, "nextRecordsUrl": None})
    if request.method != "POST":
        return error_response(
            405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. Allowed are GET,POST"
        )
    body = _body(request)
    if body is None:
        return error_response(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
    try:
        job = bulk_services.job_create(
            schema=ctx.schema, body=body, version=version, user_id=ctx.token.user.user_id, state=ctx.state
        )
    except BulkError as exc:
        return _bulk_error(exc)
    return json_response(bulk_services.job_info(job, full=False))


@api_view("bulkJob")
def job(request, version, job_id):
    ctx = request.sandbox
    found = bulk_services.job_get(job_id)
    if found is None:
        return not_found()
    try:
        if request.method == "GET":
            found = bulk_services.job_advance(schema=ctx.schema, job=found, state=ctx.state)
            return json_response(bulk_services.job_info(found, full=True))
        if request.method == "PATCH":
            body = _body(request)
            if body is None or body.get("state") != "Aborted":
                return error_response(
                    400, "INVALIDJOBSTATE", 'Only {"state": "Aborted"} can be set on a query job'
                )
            return json_response(bulk_services.job_info(bulk_services.job_abort(found), full=True))
        if request.method == "DELETE":
            bulk_services.job_delete(found)
            return HttpResponse(status=204)
    except BulkError as exc:
        return _bulk_error(exc)
    return error_response(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed. Allowed are GET,PATCH,DELETE"
    )


@api_view("bulkResults")
def results(request, version, job_id):
    ctx = request.sandbox
    found = bulk_services.job_get(job_id)
    if found is None:
        return not_found()
    if found.state != BulkJob.State.JOB_COMPLETE:
        current = {
            "UploadComplete": "UPLOAD_COMPLETE",
            "InProgress": "IN_PROGRESS",
            "Failed": "FAILED",
            "Aborted": "ABORTED",
        }.get(found.state, found.state.upper())
        return error_response(
            400,
            "JOB_NOT_COMPLETE",
            "can only download query results of successfully completed "
            f"bulk job with status: JOB_COMPLETE. Current status: {current}",
        )
    if found.api_version != version:
        return error_response(
            409,
            "INVALIDJOB",
            f"The job was created with API version {found.api_version}: "
            "request its results with the same version",
        )
    max_records = request.GET.get("maxRecords")
    if max_records is not None:
        if not max_records.isdigit() or not 0 < int(max_records) <= 100_000_000:
            return error_response(400, "INVALID_MAX_RECORDS", "maxRecords must be a positive integer")
        max_records = int(max_records)
    try:
        count, locator, chunks = bulk_services.results_page(
            schema=ctx.schema,
            job=found,
            locator=request.GET.get("locator") or None,
            max_records=max_records,
            state=ctx.state,
        )
    except BulkError as exc:
        return _bulk_error(exc)
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in chunks), content_type="text/csv; charset=UTF-8"
    )
    response["Sforce-NumberOfRecords"] = str(count)
    response["Sforce-Locator"] = locator
    return response
