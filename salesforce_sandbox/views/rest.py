"""REST API views (`/services/data/...`): metadata, records, query, updated/deleted, limits, composite."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs

import orjson
from django.db import transaction
from django.db.models import Count, Min
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .. import query as soql_query
from ..api import api_view
from ..models import BulkJob, Record
from ..routers import db
from ..services import change_events, oauth
from ..services import records as record_services
from ..services.records import RecordError
from ..soql_bridge import SoqlError
from ..wire import error_response, json_response, now, parse_sf_datetime, sf_datetime, versions

UPDATED_WINDOW = dt.timedelta(days=30)
DELETED_WINDOW = dt.timedelta(days=15)
ID_LIMIT = 600_000


@csrf_exempt
@require_GET
def versions_list(request):
    """`GET /services/data/`: no authentication, not counted against the API limit."""
    return json_response(versions())


@api_view("resources")
def resources(request, version):
    base = f"/services/data/v{version}"
    names = [
        "tooling",
        "metadata",
        "eclair",
        "folders",
        "prechatForms",
        "jsonxform",
        "chatter",
        "tabs",
        "appMenu",
        "quickActions",
        "queryAll",
        "commerce",
        "wave",
        "iot",
        "analytics",
        "search",
        "identity",
        "composite",
        "parameterizedSearch",
        "fingerprint",
        "theme",
        "nouns",
        "event",
        "serviceTemplates",
        "recent",
        "connect",
        "licensing",
        "limits",
        "process",
        "async-queries",
        "query",
        "match",
        "emailConnect",
        "compactLayouts",
        "knowledgeManagement",
        "sobjects",
        "actions",
        "support",
    ]
    body = {name: f"{base}/{name}" for name in names}
    body["identity"] = oauth.identity_url(request.sandbox.origin, request.sandbox.token.user)
    return json_response(body)


@api_view("describeGlobal")
def describe_global(request, version):
    ctx = request.sandbox
    body = {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [ctx.schema.describe_global_entry(t, version) for t in ctx.schema]
        + change_event_entries(ctx, version),
    }
    return json_response(body)


def _as_change_event(body: dict, name: str) -> dict:
    """An object's describe (or describeGlobal entry) turned into its `<Object>ChangeEvent`'s."""
    overrides = {
        "name": f"{name}ChangeEvent",
        "label": f"{body['label']} Change Event",
        "labelPlural": f"{body['label']} Change Events",
        "keyPrefix": "1CE",
        "custom": False,
        "customSetting": False,
        "createable": False,
        "updateable": False,
        "deletable": False,
        "undeletable": False,
        "queryable": False,
        "retrieveable": False,
        "replicateable": False,
        "searchable": False,
        "triggerable": True,
        "layoutable": False,
        "mergeable": False,
        "feedEnabled": False,
    }
    body.update({k: v for k, v in overrides.items() if k in body})
    own = re.compile(rf"/sobjects/{re.escape(name)}(?=/|$)")
    body["urls"] = {
        k: own.sub(f"/sobjects/{name}ChangeEvent", v) if isinstance(v, str) else v
        for k, v in body["urls"].items()
    }
    return body


def change_event_entries(ctx, version) -> list[dict]:
    """`<Object>ChangeEvent` for each object this org publishes change events for (not queryable)."""
    return [
        _as_change_event(ctx.schema.describe_global_entry(ctx.schema.get(name), version), name)
        for name in change_events.emitting(ctx.schema, ctx.state)
    ]


def _type_or_404(request, name):
    t = request.sandbox.schema.get(name)
    if t is None:
        raise RecordError("NOT_FOUND", "The requested resource does not exist", status=404)
    return t


@api_view("describe")
def describe(request, version, sobject):
    ctx = request.sandbox
    t = ctx.schema.get(sobject)
    event_of = sobject[: -len("ChangeEvent")] if sobject.endswith("ChangeEvent") else None
    if t is None and event_of and event_of in change_events.emitting(ctx.schema, ctx.state):
        body = ctx.schema.describe(ctx.schema.get(event_of), version, origin=ctx.origin)
        return json_response(_as_change_event(body, event_of))
    if t is None:
        return error_response(404, "NOT_FOUND", "The requested resource does not exist")
    return json_response(ctx.schema.describe(t, version, origin=ctx.origin))


def _json_body(request) -> dict:
    try:
        body = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError as exc:
        raise RecordError(
            "JSON_PARSER_ERROR", f"Unexpected character: was expecting a JSON value ({exc.pos})"
        )
    if not isinstance(body, dict):
        raise RecordError(
            "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from a non-object value"
        )
    return body


@api_view("sobject")
def sobject_root(request, version, sobject):
    ctx = request.sandbox
    t = _type_or_404(request, sobject)
    if request.method == "GET":
        return json_response(
            {"objectDescribe": ctx.schema.describe_global_entry(t, version), "recentItems": []}
        )
    if request.method == "POST":
        record = record_services.record_create(
            schema=ctx.schema, sobject=t.name, values=_json_body(request), user_id=ctx.token.user.user_id
        )
        return json_response({"id": record.sf_id, "success": True, "errors": []}, status=201)
    return _method_not_allowed(request, ["GET", "HEAD", "POST"])


def _method_not_allowed(request, allowed):
    response = error_response(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{request.method}' not allowed. Allowed are {','.join(allowed)}",
    )
    response["Allow"] = ", ".join(allowed)
    return response


def _record_read(ctx, t, sf_id: str, requested: str | None, version: str) -> dict:
    found = record_services.record_get(schema=ctx.schema, sobject=t.name, sf_id=sf_id)
    if found is None:
        raise RecordError("NOT_FOUND", "The requested resource does not exist", status=404)
    names = [n.strip() for n in requested.split(",") if n.strip()] if requested else t.field_names()
    fields = []
    for name in names:
        f = t.field(name)
        if f is None:
            raise RecordError("INVALID_FIELD", f"No such column '{name}' on sobject of type {t.name}")
        fields.append((f["name"],))
    row = {
        "sf_id": found.sf_id,
        "is_deleted": found.is_deleted,
        "created_date": found.created_date,
        "last_modified_date": found.last_modified_date,
        "system_modstamp": found.system_modstamp,
        "data": found.data,
    }
    renderer = soql_query.Renderer(ctx.schema, t, fields, version, set())
    return renderer.render(soql_query.base_record(t, row))


def _record_update(ctx, t, sf_id: str, values: dict) -> None:
    record_services.record_update(
        schema=ctx.schema, sobject=t.name, sf_id=sf_id, values=values, user_id=ctx.token.user.user_id
    )


@api_view("record")
def record(request, version, sobject, sf_id):
    ctx = request.sandbox
    t = _type_or_404(request, sobject)
    if request.method == "GET":
        try:
            return json_response(_record_read(ctx, t, sf_id, request.GET.get("fields"), version))
        except RecordError as exc:
            return error_response(exc.status, exc.error_code, exc.message)
    if request.method == "PATCH":
        _record_update(ctx, t, sf_id, _json_body(request))
        return HttpResponse(status=204)
    if request.method == "DELETE":
        record_services.record_delete(schema=ctx.schema, sobject=t.name, sf_id=sf_id)
        return HttpResponse(status=204)
    return _method_not_allowed(request, ["GET", "HEAD", "PATCH", "DELETE"])


def _query(request, version, *, include_deleted: bool):
    ctx = request.sandbox
    soql = request.GET.get("q")
    if soql is None or not soql.strip():
        raise SoqlError("MALFORMED_QUERY", "A query string has to be specified")
    page = soql_query.run_query(
        schema=ctx.schema,
        soql=soql,
        include_deleted=include_deleted,
        batch_header=request.META.get("HTTP_SFORCE_QUERY_OPTIONS"),
        version=version,
        state=ctx.state,
    )
    return json_response(page.as_json())


@api_view("query")
def query(request, version):
    return _query(request, version, include_deleted=False)


@api_view("queryAll")
def query_all(request, version):
    return _query(request, version, include_deleted=True)


@api_view("queryMore")
def query_more(request, version, locator):
    """`GET .../query/<locator>-<offset>`: a stray `q` parameter (tap-salesforce re-sends it) is ignored."""
    ctx = request.sandbox
    page = soql_query.continue_query(
        schema=ctx.schema, locator_path=locator, version=version, state=ctx.state
    )
    return json_response(page.as_json())


def _window(request, *, max_age: dt.timedelta):
    start_text, end_text = request.GET.get("start"), request.GET.get("end")
    if not start_text or not end_text:
        missing = "start" if not start_text else "end"
        raise RecordError("MISSING_ARGUMENT", f"{missing} parameter is required")
    try:
        start, end = parse_sf_datetime(start_text), parse_sf_datetime(end_text)
    except ValueError:
        raise RecordError(
            "INVALID_REPLICATION_DATE", "Invalid date format: use ISO 8601 (2024-01-31T00:00:00+00:00)"
        )
    moment = now()
    # Minute granularity, as on Salesforce; an end in the future still covers changes made until now.
    start = start.replace(second=0, microsecond=0)
    end = end.replace(second=0, microsecond=0)
    if end < start:
        raise RecordError("INVALID_REPLICATION_DATE", "EndDate must chronologically follow the StartDate")
    if start < moment - max_age:
        raise RecordError(
            "INVALID_REPLICATION_DATE", f"startDate cannot be more than {max_age.days} days ago"
        )
    return start, end


def _covered(end: dt.datetime) -> dt.datetime:
    return min(end, now().replace(second=0, microsecond=0))


@api_view("updated")
def updated(request, version, sobject):
    t = _type_or_404(request, sobject)
    start, end = _window(request, max_age=UPDATED_WINDOW)
    qs = Record.objects.using(db()).filter(
        sobject=t.name, is_deleted__in=[False], system_modstamp__gte=start, system_modstamp__lt=end
    )
    ids = list(qs.order_by("system_modstamp", "sf_id").values_list("sf_id", flat=True)[: ID_LIMIT + 1])
    if len(ids) > ID_LIMIT:
        raise RecordError("EXCEEDED_ID_LIMIT", "record limit reached. narrow the time range")
    return json_response({"ids": ids, "latestDateCovered": sf_datetime(_covered(end))})


@api_view("deleted")
def deleted(request, version, sobject):
    t = _type_or_404(request, sobject)
    start, end = _window(request, max_age=DELETED_WINDOW)
    base = Record.objects.using(db()).filter(sobject=t.name, is_deleted__in=[True])
    rows = list(
        base.filter(deleted_date__gte=start, deleted_date__lt=end)
        .order_by("deleted_date", "sf_id")
        .values_list("sf_id", "deleted_date")[: ID_LIMIT + 1]
    )
    if len(rows) > ID_LIMIT:
        raise RecordError("EXCEEDED_ID_LIMIT", "record limit reached. narrow the time range")
    earliest = base.aggregate(first=Min("deleted_date"))["first"] or start
    earliest = max(earliest, now() - DELETED_WINDOW).replace(second=0, microsecond=0)
    return json_response(
        {
            "deletedRecords": [{"id": sf_id, "deletedDate": sf_datetime(when)} for sf_id, when in rows],
            "earliestDateAvailable": sf_datetime(earliest),
            "latestDateCovered": sf_datetime(_covered(end)),
        }
    )


# The keys a real org's /limits answers (Enterprise Edition defaults), fixed unless computed below.
FIXED_LIMITS = {
    "ActiveScratchOrgs": 3,
    "AnalyticsExternalDataSizeMB": 40960,
    "ConcurrentAsyncGetReportInstances": 200,
    "ConcurrentEinsteinDataInsightsStoryCreation": 5,
    "ConcurrentEinsteinDiscoveryStoryCreation": 2,
    "ConcurrentSyncReportRuns": 20,
    "DailyAnalyticsDataflowJobExecutions": 60,
    "DailyAnalyticsUploadedFilesSizeMB": 51200,
    "DailyFunctionsApiCallLimit": 235000,
    "DailyAsyncApexExecutions": 250000,
    "DailyAsyncApexTests": 500,
    "DailyDeliveredPlatformEvents": 50000,
    "DailyDurableGenericStreamingApiEvents": 10000,
    "DailyDurableStreamingApiEvents": 10000,
    "DailyEinsteinDataInsightsStoryCreation": 1000,
    "DailyEinsteinDiscoveryPredictAPICalls": 50000,
    "DailyEinsteinDiscoveryPredictionsByCDC": 5000000,
    "DailyEinsteinDiscoveryStoryCreation": 100,
    "DailyGenericStreamingApiEvents": 10000,
    "DailyScratchOrgs": 6,
    "DailyStandardVolumePlatformEvents": 10000,
    "DailyStreamingApiEvents": 10000,
    "DailyWorkflowEmails": 1000,
    "DurableStreamingApiConcurrentClients": 20,
    "FileStorageMB": 20,
    "HourlyAsyncReportRuns": 1200,
    "HourlyDashboardRefreshes": 200,
    "HourlyDashboardResults": 5000,
    "HourlyDashboardStatuses": 999999999,
    "HourlyLongTermIdMapping": 100000,
    "HourlyManagedContentPublicRequests": 50000,
    "HourlyODataCallout": 20000,
    "HourlyPublishedPlatformEvents": 50000,
    "HourlyPublishedStandardVolumePlatformEvents": 1000,
    "HourlyShortTermIdMapping": 100000,
    "HourlySyncReportRuns": 500,
    "HourlyTimeBasedWorkflow": 50,
    "MassEmail": 10,
    "MonthlyEinsteinDiscoveryStoryCreation": 500,
    "MonthlyPlatformEventsUsageEntitlement": 0,
    "Package2VersionCreates": 6,
    "Package2VersionCreatesWithoutValidation": 500,
    "PermissionSets": 1500,
    "PrivateConnectOutboundCalloutHourlyLimitMB": 0,
    "PublishCallbackUsageInApex": 5000000,
    "SingleEmail": 15,
    "StreamingApiConcurrentClients": 20,
}


def limits_body(state, used: int) -> dict:
    from ..services.bulk_v1 import DAILY_BATCHES, batches_today

    today = now().replace(hour=0, minute=0, second=0, microsecond=0)
    jobs_today = BulkJob.objects.using(db()).filter(created_date__gte=today).aggregate(n=Count("id"))["n"]
    records = Record.objects.using(db()).filter(purged=False).count()
    storage_mb = 1024
    used_mb = records * 2 // 1024  # Salesforce counts 2 KB per record
    body = {name: {"Max": value, "Remaining": value} for name, value in FIXED_LIMITS.items()}
    body.update(
        DailyApiRequests={"Max": state.api_daily_limit, "Remaining": max(0, state.api_daily_limit - used)},
        DailyBulkApiBatches={"Max": DAILY_BATCHES, "Remaining": max(0, DAILY_BATCHES - batches_today())},
        DailyBulkV2QueryFileStorageMB={"Max": 976562, "Remaining": 976562},
        DailyBulkV2QueryJobs={"Max": 10000, "Remaining": max(0, 10000 - jobs_today)},
        DataStorageMB={"Max": storage_mb, "Remaining": max(0, storage_mb - used_mb)},
    )
    return dict(sorted(body.items()))


@api_view("limits")
def limits(request, version):
    return json_response(limits_body(request.sandbox.state, request.sandbox.api_used))


_SUB_DESCRIBE = re.compile(r"^(?:/services/data/)?v(\d+\.\d+)/sobjects/([A-Za-z0-9_]+)/describe/?$")
_SUB_GLOBAL = re.compile(r"^(?:/services/data/)?v(\d+\.\d+)/sobjects/?$")
_SUB_LIMITS = re.compile(r"^(?:/services/data/)?v(\d+\.\d+)/limits/?$")
_SUB_RECORD = re.compile(
    r"^(?:/services/data/)?v(\d+\.\d+)/sobjects/([A-Za-z0-9_]+)/([A-Za-z0-9]{1,18})/?(?:\?(.*))?$"
)
_SUB_SOBJECT = re.compile(r"^(?:/services/data/)?v(\d+\.\d+)/sobjects/([A-Za-z0-9_]+)/?$")
MAX_SUBREQUESTS = 25


def _not_allowed(method: str):
    return 405, [{"errorCode": "METHOD_NOT_ALLOWED", "message": f"HTTP Method '{method}' not allowed"}]


def _record_subrequest(request, method: str, url: str, rich_input):
    """A records sub-request (GET/PATCH/DELETE a record, POST a new one), run as its own request would."""
    ctx = request.sandbox
    if match := _SUB_RECORD.match(url):
        version, sobject, sf_id, query = match.groups()
        if method not in ("GET", "PATCH", "DELETE"):
            return _not_allowed(method)
        try:
            t = _type_or_404(request, sobject)
            if method == "GET":
                fields = parse_qs(query or "").get("fields")
                return 200, _record_read(ctx, t, sf_id, fields[-1] if fields else None, version)
            if method == "PATCH":
                if not isinstance(rich_input, dict):
                    raise RecordError(
                        "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from a non-object value"
                    )
                _record_update(ctx, t, sf_id, rich_input)
            else:
                record_services.record_delete(schema=ctx.schema, sobject=t.name, sf_id=sf_id)
            return 204, None
        except RecordError as exc:
            return exc.status, [exc.entry()]
    match = _SUB_SOBJECT.match(url)
    if method != "POST":
        return _not_allowed(method)
    try:
        t = _type_or_404(request, match.group(2))
        if not isinstance(rich_input, dict):
            raise RecordError(
                "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from a non-object value"
            )
        created = record_services.record_create(
            schema=ctx.schema, sobject=t.name, values=rich_input, user_id=ctx.token.user.user_id
        )
    except RecordError as exc:
        return exc.status, [exc.entry()]
    return 201, {"id": created.sf_id, "success": True, "errors": []}


def _subrequest(request, method: str, url: str, rich_input=None):
    ctx = request.sandbox
    describe = _SUB_DESCRIBE.match(url)
    if not describe and (_SUB_RECORD.match(url) or (method == "POST" and _SUB_SOBJECT.match(url))):
        return _record_subrequest(request, method, url, rich_input)
    if method != "GET":
        return _not_allowed(method)
    if match := describe:
        t = ctx.schema.get(match.group(2))
        if t is None:
            return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        return 200, ctx.schema.describe(t, match.group(1), origin=ctx.origin)
    if match := _SUB_GLOBAL.match(url):
        return 200, {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [ctx.schema.describe_global_entry(t, match.group(1)) for t in ctx.schema],
        }
    if _SUB_LIMITS.match(url):
        return 200, limits_body(ctx.state, ctx.api_used)
    return 404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


@api_view("compositeBatch")
def composite_batch(request, version):
    if request.method != "POST":
        return _method_not_allowed(request, ["POST"])
    body = _json_body(request)
    subrequests = body.get("batchRequests")
    if not isinstance(subrequests, list) or not subrequests:
        raise RecordError("JSON_PARSER_ERROR", "batchRequests is required")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise RecordError(
            "INVALID_BATCH_REQUEST", f"A batch cannot contain more than {MAX_SUBREQUESTS} requests"
        )
    halt = bool(body.get("haltOnError", False))
    results, has_errors, halted = [], False, False
    for sub in subrequests:
        if halted:
            results.append(
                {
                    "statusCode": 412,
                    "result": [
                        {
                            "errorCode": "BATCH_PROCESSING_HALTED",
                            "message": "Batch processing halted per request",
                        }
                    ],
                }
            )
            continue
        if not isinstance(sub, dict) or not isinstance(sub.get("url"), str):
            status, result = 400, [{"errorCode": "INVALID_BATCH_REQUEST", "message": "url is required"}]
        else:
            status, result = _subrequest(
                request, str(sub.get("method", "GET")).upper(), sub["url"], sub.get("richInput")
            )
        if status >= 400:
            has_errors = True
            halted = halt
        results.append({"statusCode": status, "result": result})
    return json_response({"hasErrors": has_errors, "results": results})


MAX_COLLECTION_RECORDS = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
    "fields": [],
}


def _save_result_error(exc: RecordError) -> dict:
    """A SaveResult's error entry: sObject Collections say `statusCode` where REST errors say `errorCode`."""
    return {"statusCode": exc.error_code, "message": exc.message, "fields": exc.fields or []}


@api_view("compositeSObjects")
def composite_sobjects(request, version):
    """`PATCH /composite/sobjects`: update up to 200 records; one SaveResult per record, in request order.

    With `allOrNone` a single failure rolls every write of the request back and each record that did not
    fail itself says ALL_OR_NONE_OPERATION_ROLLED_BACK.
    """
    if request.method != "PATCH":
        return _method_not_allowed(request, ["PATCH"])
    ctx = request.sandbox
    body = _json_body(request)
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise RecordError("JSON_PARSER_ERROR", "records is required", [])
    if len(records) > MAX_COLLECTION_RECORDS:
        raise RecordError(
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_COLLECTION_RECORDS} records into this call",
            [],
        )
    all_or_none = body.get("allOrNone", False) is True
    results: list[dict] = []
    with transaction.atomic(using=db()):
        for raw in records:
            sf_id = raw.get("id") if isinstance(raw, dict) else None
            result: dict = {"id": sf_id} if isinstance(sf_id, str) else {}
            try:
                if not isinstance(raw, dict):
                    raise RecordError("JSON_PARSER_ERROR", "Each record must be a JSON object", [])
                sobject = (
                    (raw.get("attributes") or {}).get("type")
                    if isinstance(raw.get("attributes"), dict)
                    else None
                )
                if not sobject:
                    raise RecordError("INVALID_TYPE", "sObject type is required in attributes", [])
                t = ctx.schema.get(sobject)
                if t is None:
                    raise RecordError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.", [])
                if not isinstance(sf_id, str) or not sf_id:
                    raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
                values = {k: v for k, v in raw.items() if k not in ("attributes", "id", "Id")}
                with transaction.atomic(using=db()):
                    _record_update(ctx, t, sf_id, values)
                results.append({**result, "success": True, "errors": []})
            except RecordError as exc:
                results.append({**result, "success": False, "errors": [_save_result_error(exc)]})
        if all_or_none and any(not r["success"] for r in results):
            transaction.set_rollback(True, using=db())
            results = [
                r if not r["success"] else {**r, "success": False, "errors": [ROLLED_BACK]} for r in results
            ]
    return json_response(results)
