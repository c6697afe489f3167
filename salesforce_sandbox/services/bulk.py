"""Bulk API 2.0 query jobs: create, process (snapshot the matching rows), page results as CSV.

A job is processed on its first poll once its configured delay has passed (small jobs therefore finish at
once): the ids of the matching rows are fixed then, so results pages are stable and can be fetched again
with the same locator while the job exists.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
import time

import orjson
from django.db.models import Q

from .. import query as soql_query
from ..ids import BASE62, checksum
from ..models import BulkJob, Record
from ..routers import db
from ..schema import Schema
from ..soql_bridge import SoqlError
from ..wire import now, sf_datetime
from . import org

DELIMITERS = {"COMMA": ",", "BACKQUOTE": "`", "CARET": "^", "PIPE": "|", "SEMICOLON": ";", "TAB": "\t"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
DEFAULT_MAX_RECORDS = 100_000
RENDER_CHUNK = 2000


class BulkError(Exception):
    def __init__(self, error_code: str, message: str, status: int = 400):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status


def _job_id() -> str:
    body = "750Dw0" + "".join(secrets.choice(BASE62) for _ in range(9))
    return body + checksum(body)


def _unsupported(schema: Schema, soql: str):
    """Parse and validate, then refuse what Bulk API 2.0 refuses (aggregates, relationship subqueries,
    OFFSET...), with Salesforce's own error, so a client meets the real limits here first."""
    query = soql_query.parse_and_validate(schema, soql)
    t = schema.get(query.sobject.name)
    if query.is_count:
        raise BulkError("API_ERROR", "Aggregate queries are not supported by the Bulk API")
    if query.offset:
        raise BulkError("API_ERROR", "OFFSET clause is not supported by the Bulk API")
    for ref in query.fields:
        owner = t
        for rel in ref.path[:-1]:
            f = owner.relationships.get(rel.lower())
            owner = schema.get(f["referenceTo"][0]) if f else owner
        f = owner.field(ref.path[-1]) if owner else None
        if f is not None and f["type"] in ("address", "location"):
            raise BulkError("API_ERROR", "Selecting compound data not supported in Bulk Query")
    return query


def job_create(*, schema: Schema, body: dict, version: str, user_id: str, state) -> BulkJob:
    operation = body.get("operation")
    if operation not in ("query", "queryAll"):
        raise BulkError("INVALIDJOB", f"Invalid operation: {str(operation)[:40]}. Use query or queryAll")
    soql = body.get("query")
    if not isinstance(soql, str) or not soql.strip():
        raise BulkError("INVALIDJOB", "query is required")
    if body.get("contentType", "CSV") != "CSV":
        raise BulkError("INVALIDJOB", "Invalid contentType: only CSV is supported")
    delimiter = body.get("columnDelimiter", "COMMA")
    if delimiter not in DELIMITERS:
        raise BulkError("INVALIDJOB", f"Invalid columnDelimiter: {str(delimiter)[:20]}")
    line_ending = body.get("lineEnding", "LF")
    if line_ending not in LINE_ENDINGS:
        raise BulkError("INVALIDJOB", f"Invalid lineEnding: {str(line_ending)[:20]}")
    query = _unsupported(schema, soql)
    moment = now()
    return BulkJob.objects.using(db()).create(
        sf_id=_job_id(),
        operation=operation,
        sobject=query.sobject.name,
        soql=soql,
        api_version=version,
        column_delimiter=delimiter,
        line_ending=line_ending,
        created_by_id=user_id,
        created_date=moment,
        system_modstamp=moment,
        ready_at=moment + dt.timedelta(milliseconds=state.bulk_job_delay_ms),
    )


def job_info(job: BulkJob, *, full: bool) -> dict:
    info = {
        "id": job.sf_id,
        "operation": job.operation,
        "object": job.sobject,
        "createdById": job.created_by_id,
        "createdDate": sf_datetime(job.created_date),
        "systemModstamp": sf_datetime(job.system_modstamp),
        "state": job.state,
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": float(job.api_version),
    }
    if full:
        info["jobType"] = "V2Query"
    info["lineEnding"] = job.line_ending
    info["columnDelimiter"] = job.column_delimiter
    if full:
        info.update(
            numberRecordsProcessed=job.number_records_processed,
            retries=0,
            totalProcessingTime=job.total_processing_time,
            isPkChunkingSupported=True,
        )
        if job.state == BulkJob.State.FAILED:
            info["errorMessage"] = job.error_message
    return info


def job_get(sf_id: str) -> BulkJob | None:
    if not sf_id or len(sf_id) > 18:
        return None
    return BulkJob.objects.using(db()).filter(sf_id=sf_id).first()


def job_advance(*, schema: Schema, job: BulkJob, state) -> BulkJob:
    """Move a queued job on: after its delay, claim it and snapshot the matching rows."""
    pending = (BulkJob.State.UPLOAD_COMPLETE, BulkJob.State.IN_PROGRESS)
    if job.state not in pending:
        return job
    moment = now()
    if moment < job.ready_at:
        BulkJob.objects.using(db()).filter(pk=job.pk, state=BulkJob.State.UPLOAD_COMPLETE).update(
            state=BulkJob.State.IN_PROGRESS, system_modstamp=moment
        )
        return BulkJob.objects.using(db()).get(pk=job.pk)
    # One poll claims the processing; a concurrent poll sees InProgress until it is done.
    claimed = (
        BulkJob.objects.using(db())
        .filter(pk=job.pk, state__in=pending, number_records_processed=0)
        .filter(Q(row_ids=""))
        .update(state=BulkJob.State.IN_PROGRESS, row_ids="[]", system_modstamp=moment)
    )
    if not claimed:
        return BulkJob.objects.using(db()).get(pk=job.pk)
    started = time.monotonic()
    try:
        query = soql_query.parse_and_validate(schema, job.soql)
        plan = soql_query.make_plan(
            schema, query, include_deleted=job.operation == "queryAll", moment=job.created_date
        )
        if org.query_times_out(plan.t.name, state):
            raise SoqlError("QUERY_TIMEOUT", "Your query request was running for too long.")
        ids = soql_query.ordered_ids(plan, schema, job.created_date)
        if query.limit is not None:
            ids = ids[: query.limit]
    except SoqlError as exc:
        BulkJob.objects.using(db()).filter(pk=job.pk).update(
            state=BulkJob.State.FAILED,
            error_message=f"{exc.error_code}: {exc.message}",
            system_modstamp=now(),
            row_ids="",
        )
        return BulkJob.objects.using(db()).get(pk=job.pk)
    BulkJob.objects.using(db()).filter(pk=job.pk, state=BulkJob.State.IN_PROGRESS).update(
        state=BulkJob.State.JOB_COMPLETE,
        row_ids=orjson.dumps(ids).decode(),
        number_records_processed=len(ids),
        total_processing_time=int((time.monotonic() - started) * 1000),
        system_modstamp=now(),
    )
    return BulkJob.objects.using(db()).get(pk=job.pk)


def job_abort(job: BulkJob) -> BulkJob:
    updated = (
        BulkJob.objects.using(db())
        .filter(pk=job.pk, state__in=(BulkJob.State.UPLOAD_COMPLETE, BulkJob.State.IN_PROGRESS))
        .update(state=BulkJob.State.ABORTED, system_modstamp=now())
    )
    if not updated:
        raise BulkError("INVALIDJOBSTATE", f"Job in state {job.state} cannot be aborted")
    return BulkJob.objects.using(db()).get(pk=job.pk)


def job_delete(job: BulkJob) -> None:
    if job.state in (BulkJob.State.UPLOAD_COMPLETE, BulkJob.State.IN_PROGRESS):
        raise BulkError("INVALIDJOBSTATE", "The job must be aborted or complete before it can be deleted")
    BulkJob.objects.using(db()).filter(pk=job.pk).delete()


def encode_locator(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    try:
        text = base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BulkError("INVALID_LOCATOR", "Invalid locator")
    if not text.isdigit() or len(text) > 12:
        raise BulkError("INVALID_LOCATOR", "Invalid locator")
    return int(text)


def _csv_cell(value) -> str:
    if value is None:
        return '""'
    if value is True:
        return '"true"'
    if value is False:
        return '"false"'
    if isinstance(value, str):
        if len(value) == 28 and value[10] == "T" and value.endswith("+0000"):
            value = value[:23] + "Z"  # Bulk CSV writes datetimes as 2019-06-12T17:52:44.000Z
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, dict | list):
        return '"' + orjson.dumps(value).decode().replace('"', '""') + '"'
    return f'"{value}"'


def results_page(*, schema: Schema, job: BulkJob, locator: str | None, max_records: int | None, state):
    """(number of records, next locator or "null", iterator of CSV text chunks)."""
    ids = orjson.loads(job.row_ids or "[]")
    offset = decode_locator(locator) if locator else 0
    if offset > len(ids):
        raise BulkError("INVALID_LOCATOR", "Invalid locator")
    size = max_records if max_records else DEFAULT_MAX_RECORDS
    page_ids = ids[offset : offset + size]
    next_offset = offset + len(page_ids)
    next_locator = encode_locator(next_offset) if next_offset < len(ids) else "null"
    query = soql_query.parse_and_validate(schema, job.soql)
    t = schema.get(query.sobject.name)
    paths = [f.path for f in query.fields]
    delimiter = DELIMITERS[job.column_delimiter]
    newline = LINE_ENDINGS[job.line_ending]
    wrong = set(org.json_list(state.wrong_type_fields))
    renderer = soql_query.Renderer(schema, t, paths, job.api_version, wrong)
    rel_paths = {tuple(p[:-1]) for p in paths if len(p) > 1}

    def chunks():
        yield delimiter.join(_csv_cell(".".join(p)) for p in paths) + newline
        for start in range(0, len(page_ids), RENDER_CHUNK):
            chunk = page_ids[start : start + RENDER_CHUNK]
            rows = {
                row["id"]: row
                for row in Record.objects.using(db()).filter(id__in=chunk).values(*soql_query.ROW_COLUMNS)
            }
            records = [soql_query.base_record(t, rows[i]) for i in chunk if i in rows]
            if rel_paths:
                soql_query.attach_parents(schema, t, records, rel_paths)
            lines = []
            for record in records:
                cells = []
                for path in paths:
                    source, owner = record, t
                    for rel in path[:-1]:
                        source = source.get(rel) if source else None
                        owner = schema.get(source["__type"]) if source else None
                    cells.append(_csv_cell(renderer.value(owner, source, path[-1]) if source else None))
                lines.append(delimiter.join(cells))
            if lines:
                yield newline.join(lines) + newline

    return len(page_ids), next_locator, chunks()
