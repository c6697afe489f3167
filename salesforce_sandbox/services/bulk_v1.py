"""Bulk API 1.0 query jobs (`/services/async/<version>/...`): jobs, batches, PK chunking, results.

As with Bulk API 2.0 a batch is processed when it is polled once its delay has passed, so small batches
finish at once: the matching rows are fixed then and its one result can be fetched again while the job
exists. With PK chunking the original batch is split into one batch per Id range of `chunkSize` records
of the object and goes `NotProcessed`; each chunk batch is a query of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import orjson
from django.db.models import Q

from .. import query as soql_query
from ..ids import BASE62, checksum
from ..models import AsyncBatch, AsyncJob, Record
from ..routers import db
from ..schema import Schema
from ..soql_bridge import SoqlError
from ..wire import now
from . import org
from .bulk import RENDER_CHUNK, BulkError, _csv_cell

NS = "http://www.force.com/2009/06/asyncapi/dataload"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CONTENT_TYPES = ("CSV", "JSON", "XML")
INGEST = ("insert", "update", "upsert", "delete", "hardDelete")
DAILY_BATCHES = 15_000
PK_DEFAULT, PK_MAX = 100_000, 250_000
# Objects Salesforce PK-chunks (custom objects too).
PK_OBJECTS = {
    "Account",
    "Campaign",
    "CampaignMember",
    "Case",
    "Contact",
    "Lead",
    "Opportunity",
    "Task",
    "User",
}
JOB_FIELDS = ("operation", "object", "concurrencyMode", "contentType", "externalIdFieldName", "state")


class AsyncError(BulkError):
    """A Bulk API 1.0 error: `exceptionCode` and `exceptionMessage` (XML or JSON)."""


def _new_id(prefix: str) -> str:
    body = prefix + "Dw0" + "".join(secrets.choice(BASE62) for _ in range(9))
    return body + checksum(body)


def parse_job_body(body: bytes, *, is_json: bool) -> dict:
    """A jobInfo request body (XML or JSON) as a dict of its known fields; malformed input is refused."""
    if is_json:
        try:
            value = orjson.loads(body or b"")
        except orjson.JSONDecodeError:
            raise AsyncError("ClientInputError", "Failed to parse the JSON job definition")
        if not isinstance(value, dict):
            raise AsyncError("ClientInputError", "The JSON job definition must be an object")
        return {k: value[k] for k in JOB_FIELDS if k in value}
    text = (body or b"").decode("utf-8", "replace")
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise AsyncError("InvalidXML", "DOCTYPE is not allowed")
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DTD is accepted (checked above)
    except ET.ParseError as exc:
        raise AsyncError("InvalidXML", f"Unable to parse the XML job definition: {exc}")
    if root.tag not in (f"{{{NS}}}jobInfo", "jobInfo"):
        raise AsyncError("InvalidJob", "Unable to parse Job: the root element must be jobInfo")
    out = {}
    for child in root:
        name = child.tag.split("}")[-1]
        if name in JOB_FIELDS:
            out[name] = (child.text or "").strip()
    return out


def parse_pk_chunking(header: str | None) -> tuple[int | None, str]:
    """`Sforce-Enable-PKChunking: true | false | chunkSize=N; startRow=Id` → (chunk size or None, start)."""
    if header is None or not header.strip() or header.strip().lower() == "false":
        return None, ""
    size, start = PK_DEFAULT, ""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        key, value = key.strip(), value.strip()
        if key.lower() == "true" and not value:
            continue
        if key == "chunkSize" and value.isdigit() and 0 < int(value) <= PK_MAX:
            size = int(value)
        elif key == "startRow" and re.fullmatch(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?", value):
            start = value
        elif key == "parent" and re.fullmatch(r"[A-Za-z0-9_]{1,40}", value):
            continue
        else:
            raise AsyncError(
                "InvalidJob", f"Invalid value for the Sforce-Enable-PKChunking header: {part[:60]}"
            )
    return size, start


def job_create(
    *, schema: Schema, fields: dict, version: str, user_id: str, pk_chunking: str | None
) -> AsyncJob:
    operation = fields.get("operation")
    if not operation:
        raise AsyncError("InvalidJob", "Unable to parse Job: operation is required")
    if operation in INGEST:
        raise AsyncError("FeatureNotEnabled", "Bulk API ingest is not enabled for this organization")
    if operation not in ("query", "queryAll"):
        raise AsyncError("InvalidJob", f"Invalid operation: {str(operation)[:40]}")
    name = fields.get("object")
    if not name:
        raise AsyncError("InvalidJob", "Unable to parse Job: object is required")
    t = schema.get(str(name))
    if t is None:
        raise AsyncError("InvalidEntity", f"Entity '{str(name)[:60]}' is not supported by the Bulk API.")
    content_type = fields.get("contentType") or "CSV"
    if content_type not in CONTENT_TYPES:
        raise AsyncError("InvalidJob", f"Invalid contentType: {str(content_type)[:20]}")
    mode = fields.get("concurrencyMode") or "Parallel"
    mode = {0: "Parallel", 1: "Serial"}.get(mode, mode) if not isinstance(mode, bool) else mode
    if mode not in ("Parallel", "Serial"):
        raise AsyncError("InvalidJob", f"Invalid concurrencyMode: {str(mode)[:20]}")
    chunk_size, start_row = parse_pk_chunking(pk_chunking)
    if chunk_size and not (t.name in PK_OBJECTS or t.name.endswith("__c")):
        raise AsyncError("InvalidJob", f"Entity '{t.name}' is not supported for PK chunking")
    moment = now()
    return AsyncJob.objects.using(db()).create(
        sf_id=_new_id("750"),
        operation=operation,
        sobject=t.name,
        content_type=content_type,
        concurrency_mode=mode,
        api_version=version,
        created_by_id=user_id,
        created_date=moment,
        system_modstamp=moment,
        pk_chunk_size=chunk_size,
        pk_start_row=start_row,
    )


def job_get(sf_id: str) -> AsyncJob:
    job = AsyncJob.objects.using(db()).filter(sf_id=sf_id[:18]).first() if sf_id else None
    if job is None:
        raise AsyncError("InvalidJob", f"Unable to find object: {sf_id[:18]}")
    return job


def job_state_set(*, job: AsyncJob, state: str | None) -> AsyncJob:
    if state not in ("Closed", "Aborted"):
        raise AsyncError("InvalidJobState", f"Invalid state: {str(state)[:20]}")
    if job.state == state:
        return job
    if job.state != AsyncJob.State.OPEN:
        raise AsyncError("InvalidJobState", f"Invalid state transition from {job.state} to {state}")
    moment = now()
    AsyncJob.objects.using(db()).filter(pk=job.pk).update(state=state, system_modstamp=moment)
    if state == "Aborted":
        job.batches.using(db()).filter(state=AsyncBatch.State.QUEUED).update(
            state=AsyncBatch.State.NOT_PROCESSED, system_modstamp=moment
        )
    return AsyncJob.objects.using(db()).get(pk=job.pk)


def batches_today() -> int:
    start = now().replace(hour=0, minute=0, second=0, microsecond=0)
    return AsyncBatch.objects.using(db()).filter(created_date__gte=start).count()


def batch_create(*, schema: Schema, job: AsyncJob, soql: str, state) -> AsyncBatch:
    if job.state != AsyncJob.State.OPEN:
        raise AsyncError("InvalidJobState", f"{job.state} Job")
    if batches_today() >= DAILY_BATCHES:
        raise AsyncError("ExceededQuota", "ApiBatchItems Limit exceeded.")
    moment = now()
    return AsyncBatch.objects.using(db()).create(
        sf_id=_new_id("751"),
        job=job,
        soql=soql.strip(),
        chunked=bool(job.pk_chunk_size),
        created_date=moment,
        system_modstamp=moment,
        ready_at=moment + dt.timedelta(milliseconds=state.bulk_job_delay_ms),
    )


def batch_get(job: AsyncJob, sf_id: str) -> AsyncBatch:
    batch = job.batches.using(db()).filter(sf_id=sf_id[:18]).first() if sf_id else None
    if batch is None:
        raise AsyncError("InvalidBatch", f"Unable to find object: {sf_id[:18]}")
    return batch


def _fail(batch: AsyncBatch, message: str) -> None:
    AsyncBatch.objects.using(db()).filter(pk=batch.pk).update(
        state=AsyncBatch.State.FAILED, state_message=message[:2000], system_modstamp=now(), row_ids=""
    )


def _validated(schema: Schema, job: AsyncJob, soql: str):
    query = soql_query.parse_and_validate(schema, soql)
    if query.sobject.name != job.sobject:
        raise SoqlError("INVALID_TYPE", f"The query is on {query.sobject.name}, the job on {job.sobject}")
    if query.is_count:
        raise SoqlError("INVALID_FIELD", "Aggregate Relationships not supported in Batch Query")
    return query


def _chunk(schema: Schema, job: AsyncJob, batch: AsyncBatch) -> None:
    """Split the original batch into one batch per Id range of `pk_chunk_size` records; it goes NotProcessed."""
    ids = Record.objects.using(db()).filter(sobject=job.sobject, purged__in=[False])
    if job.pk_start_row:
        ids = ids.filter(sf_id__gte=job.pk_start_row)
    starts = list(ids.order_by("sf_id").values_list("sf_id", flat=True))[:: job.pk_chunk_size]
    starts = starts or [job.pk_start_row]
    moment = now()
    chunks = [
        AsyncBatch(
            sf_id=_new_id("751"),
            job=job,
            soql=batch.soql,
            id_from=start,
            id_to=starts[i + 1] if i + 1 < len(starts) else "",
            created_date=moment,
            system_modstamp=moment,
            ready_at=batch.ready_at,
        )
        for i, start in enumerate(starts)
    ]
    AsyncBatch.objects.using(db()).bulk_create(chunks)
    AsyncBatch.objects.using(db()).filter(pk=batch.pk).update(
        state=AsyncBatch.State.NOT_PROCESSED, system_modstamp=moment
    )


def batch_advance(*, schema: Schema, batch: AsyncBatch, state) -> AsyncBatch:
    """Process a queued batch whose delay has passed (one poll claims it; others see InProgress)."""
    if batch.state not in (AsyncBatch.State.QUEUED, AsyncBatch.State.IN_PROGRESS):
        return batch
    moment = now()
    rows = AsyncBatch.objects.using(db())
    if moment < batch.ready_at:
        rows.filter(pk=batch.pk, state=AsyncBatch.State.QUEUED).update(
            state=AsyncBatch.State.IN_PROGRESS, system_modstamp=moment
        )
        return rows.get(pk=batch.pk)
    claimed = rows.filter(pk=batch.pk, state__in=(batch.state,), row_ids="").update(
        state=AsyncBatch.State.IN_PROGRESS, row_ids="[]", system_modstamp=moment
    )
    if not claimed:
        return rows.get(pk=batch.pk)
    job = batch.job
    started = time.monotonic()
    try:
        query = _validated(schema, job, batch.soql)
        if batch.chunked:
            _chunk(schema, job, batch)
            return rows.get(pk=batch.pk)
        plan = soql_query.make_plan(
            schema, query, include_deleted=job.operation == "queryAll", moment=batch.created_date
        )
        if batch.id_from or batch.id_to:
            bounds = Q(sf_id__gte=batch.id_from) if batch.id_from else Q()
            if batch.id_to:
                bounds &= Q(sf_id__lt=batch.id_to)
            plan = dataclasses.replace(plan, sql_filter=plan.sql_filter & bounds)
        if org.query_times_out(plan.t.name, state):
            raise SoqlError("QUERY_TIMEOUT", "Your query request was running for too long.")
        ids = soql_query.ordered_ids(plan, schema, batch.created_date)
        if query.limit is not None:
            ids = ids[: query.limit]
    except SoqlError as exc:
        _fail(batch, f"InvalidBatch : Failed to process query: {exc.error_code}: {exc.message}")
        return rows.get(pk=batch.pk)
    rows.filter(pk=batch.pk, state=AsyncBatch.State.IN_PROGRESS).update(
        state=AsyncBatch.State.COMPLETED,
        row_ids=orjson.dumps(ids).decode(),
        number_records_processed=len(ids),
        total_processing_time=int((time.monotonic() - started) * 1000),
        result_id=_new_id("752"),
        system_modstamp=now(),
    )
    return rows.get(pk=batch.pk)


def batches_advance(*, schema: Schema, job: AsyncJob, state) -> list[AsyncBatch]:
    """Advance every batch of the job; a PK-chunked original that splits now brings its chunks along."""

    def ordered():
        return list(job.batches.using(db()).order_by("created_date", "id"))

    before = ordered()
    out = [batch_advance(schema=schema, batch=batch, state=state) for batch in before]
    if job.batches.using(db()).count() != len(before):
        out = [batch_advance(schema=schema, batch=batch, state=state) for batch in ordered()]
    return out


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def job_info(job: AsyncJob, batches: list[AsyncBatch]) -> dict:
    """jobInfo, in Salesforce's element order; numbers as numbers (XML writes them as text)."""
    states = [b.state for b in batches]
    return {
        "id": job.sf_id,
        "operation": job.operation,
        "object": job.sobject,
        "createdById": job.created_by_id,
        "createdDate": _iso(job.created_date),
        "systemModstamp": _iso(job.system_modstamp),
        "state": job.state,
        "concurrencyMode": job.concurrency_mode,
        "contentType": job.content_type,
        "numberBatchesQueued": states.count("Queued"),
        "numberBatchesInProgress": states.count("InProgress"),
        "numberBatchesCompleted": states.count("Completed"),
        "numberBatchesFailed": states.count("Failed"),
        "numberBatchesTotal": len(states),
        "numberRecordsProcessed": sum(b.number_records_processed for b in batches),
        "numberRetries": 0,
        "apiVersion": float(job.api_version),
        "numberRecordsFailed": 0,
        "totalProcessingTime": sum(b.total_processing_time for b in batches),
        "apiActiveProcessingTime": sum(b.total_processing_time for b in batches),
        "apexProcessingTime": 0,
    }


def batch_info(batch: AsyncBatch, job: AsyncJob) -> dict:
    info = {"id": batch.sf_id, "jobId": job.sf_id, "state": batch.state}
    if batch.state_message:
        info["stateMessage"] = batch.state_message
    info.update(
        createdDate=_iso(batch.created_date),
        systemModstamp=_iso(batch.system_modstamp),
        numberRecordsProcessed=batch.number_records_processed,
        numberRecordsFailed=0,
        totalProcessingTime=batch.total_processing_time,
        apiActiveProcessingTime=batch.total_processing_time,
        apexProcessingTime=0,
    )
    return info


def _xml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and not isinstance(value, bool):
        return f"{value:.1f}"
    return escape(str(value))


def xml_document(root: str, info: dict) -> str:
    body = "".join(f"<{k}>{_xml_value(v)}</{k}>" for k, v in info.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{NS}">{body}</{root}>'


def xml_list(root: str, item: str, infos: list[dict]) -> str:
    items = "".join(
        "<{0}>{1}</{0}>".format(item, "".join(f"<{k}>{_xml_value(v)}</{k}>" for k, v in i.items()))
        for i in infos
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{NS}">{items}</{root}>'


def result_ids_xml(ids: list[str]) -> str:
    items = "".join(f"<result>{i}</result>" for i in ids)
    return f'<?xml version="1.0" encoding="UTF-8"?><result-list xmlns="{NS}">{items}</result-list>'


def error_body(code: str, message: str, *, as_json: bool) -> str:
    if as_json:
        return orjson.dumps({"exceptionCode": code, "exceptionMessage": message}).decode()
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><error xmlns="{NS}">'
        f"<exceptionCode>{escape(code)}</exceptionCode><exceptionMessage>{escape(message)}</exceptionMessage></error>"
    )


def _epoch_ms(value, ftype: str):
    """Bulk API 1.0 JSON results carry dates and datetimes as milliseconds since the epoch."""
    if not isinstance(value, str) or not value:
        return value
    try:
        if ftype == "date":
            moment = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        else:
            moment = dt.datetime.strptime(value[:23] + "+0000", "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return value
    return int(moment.timestamp() * 1000)


def _json_ready(schema: Schema, record: dict) -> dict:
    t = schema.get(record.get("attributes", {}).get("type", ""))
    out = {}
    for key, value in record.items():
        if isinstance(value, dict) and key != "attributes" and "attributes" in value:
            out[key] = _json_ready(schema, value)
            continue
        f = t.field(key) if t is not None and key != "attributes" else None
        out[key] = (
            _epoch_ms(value, f["type"]) if f is not None and f["type"] in ("date", "datetime") else value
        )
    return out


def _xml_record(schema: Schema, record: dict, tag: str = "records") -> str:
    parts = [f"<type>{escape(record['attributes']['type'])}</type>"]
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            parts.append(_xml_record(schema, value, key))
        elif value is None:
            parts.append(f'<{key} xsi:nil="true"/>')
        elif isinstance(value, dict | list):
            parts.append(f"<{key}>{escape(orjson.dumps(value).decode())}</{key}>")
        else:
            parts.append(f"<{key}>{_xml_value(value)}</{key}>")
    return f'<{tag} xsi:type="sObject">{"".join(parts)}</{tag}>'


def result_chunks(*, schema: Schema, job: AsyncJob, batch: AsyncBatch, state):
    """The result file of a completed batch, in the job's content type, as an iterator of text chunks."""
    ids = orjson.loads(batch.row_ids or "[]")
    query = soql_query.parse_and_validate(schema, batch.soql)
    plan = soql_query.make_plan(
        schema, query, include_deleted=job.operation == "queryAll", moment=batch.created_date
    )
    paths = [f.path for f in query.fields]
    t = plan.t
    wrong = set(org.json_list(state.wrong_type_fields))
    renderer = soql_query.Renderer(schema, t, paths, job.api_version, wrong)
    rel_paths = {tuple(p[:-1]) for p in paths if len(p) > 1}

    def records():
        for start in range(0, len(ids), RENDER_CHUNK):
            chunk = ids[start : start + RENDER_CHUNK]
            rows = {
                row["id"]: row
                for row in Record.objects.using(db()).filter(id__in=chunk).values(*soql_query.ROW_COLUMNS)
            }
            found = [soql_query.base_record(t, rows[i]) for i in chunk if i in rows]
            if rel_paths:
                soql_query.attach_parents(schema, t, found, rel_paths)
            yield found

    if job.content_type == "JSON":

        def json_chunks():
            first = True
            yield "["
            for found in records():
                for record in found:
                    yield ("" if first else ",") + orjson.dumps(
                        _json_ready(schema, renderer.render(record))
                    ).decode()
                    first = False
            yield "]"

        return "application/json", json_chunks()
    if job.content_type == "XML":

        def xml_chunks():
            yield f'<?xml version="1.0" encoding="UTF-8"?><queryResult xmlns="{NS}" xmlns:xsi="{XSI}">'
            for found in records():
                yield "".join(_xml_record(schema, renderer.render(record)) for record in found)
            yield "</queryResult>"

        return "application/xml", xml_chunks()

    def csv_chunks():
        yield ",".join(_csv_cell(".".join(p)) for p in paths) + "\n"
        for found in records():
            lines = []
            for record in found:
                cells = []
                for path in paths:
                    source, owner = record, t
                    for rel in path[:-1]:
                        source = source.get(rel) if source else None
                        owner = schema.get(source["__type"]) if source else None
                    cells.append(_csv_cell(renderer.value(owner, source, path[-1]) if source else None))
                lines.append(",".join(cells))
            if lines:
                yield "\n".join(lines) + "\n"

    return "text/csv; charset=UTF-8", csv_chunks()
