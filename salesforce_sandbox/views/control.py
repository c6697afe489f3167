"""The operator page at `/`, the local-only control endpoints (`/_sandbox/...`) and the error handlers."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from ..models import ConnectedApp, Grant, Record
from ..routers import current_org, db
from ..services import org
from ..wire import error_response, json_response, not_found


def _is_local(request) -> bool:
    return request.META.get("REMOTE_ADDR", "") in settings.SANDBOX_CONTROL_ADDRESSES


def counts() -> dict[str, dict[str, int]]:
    rows = (
        Record.objects.using(db())
        .filter(purged=False)
        .values("sobject")
        .annotate(
            live=Count("id", filter=Q(is_deleted=False)), deleted=Count("id", filter=Q(is_deleted=True))
        )
        .order_by("sobject")
    )
    return {row["sobject"]: {"live": row["live"], "deleted": row["deleted"]} for row in rows}


def status_body() -> dict:
    current = org.state()
    return {
        "counts": counts(),
        "api_usage": {"used": current.api_usage, "max": current.api_daily_limit},
        "faults": org.faults_describe(current),
        "request_log": org.request_log(),
    }


@csrf_protect
@require_http_methods(["GET", "POST"])
def sign_in(request):
    """The operator page's own log-in (no OAuth request pending): then back to `/`."""
    from .oauth import LoginForm, log_in, login_page

    if request.method == "GET":
        return login_page(request, LoginForm(), action=reverse("sign-in"))
    form = LoginForm(request.POST)
    if not form.is_valid():
        return login_page(request, form, status=400, action=reverse("sign-in"))
    user, _ = log_in(request, form)
    if user is None:
        status = 429 if form.has_error(NON_FIELD_ERRORS, "locked") else 400
        return login_page(request, form, status=status, action=reverse("sign-in"))
    return HttpResponseRedirect(reverse("home"))


@csrf_protect
@require_http_methods(["POST"])
def sign_out(request):
    request.session.flush()
    return HttpResponseRedirect(reverse("sign-in"))


@require_GET
def home(request):
    """The operator page: the org's records, apps, grants and faults, for a user logged in to it."""
    from .oauth import session_user

    user = session_user(request)
    if user is None:
        return HttpResponseRedirect(reverse("sign-in"))
    current = org.state()
    apps = list(ConnectedApp.objects.using(db()).order_by("name"))
    grants = list(
        Grant.objects.using(db())
        .filter(revoked_at__isnull=True)
        .select_related("app", "user")
        .order_by("-created_at")[:50]
    )
    faults = org.faults_describe(current)
    active_faults = [
        (label, value)
        for label, value in (
            (
                "Fail next requests",
                f"{faults['fail_next']} × {faults['fail_status'] or 'dropped connection'}"
                if faults["fail_next"]
                else None,
            ),
            ("Malformed pages", faults["malformed_next"] or None),
            ("Latency", f"{faults['latency_ms']} ms" if faults["latency_ms"] else None),
            ("QUERY_TIMEOUT on", ", ".join(faults["query_timeout"]) or None),
            ("Wrong-typed values for", ", ".join(faults["wrong_type"]) or None),
            ("Short pages", faults["short_page_size"] or None),
            ("Bulk job delay", f"{faults['bulk_job_delay_ms']} ms" if faults["bulk_job_delay_ms"] else None),
        )
        if value
    ]
    context = {
        "counts": counts(),
        "apps": apps,
        "grants": grants,
        "usage": current.api_usage,
        "limit": current.api_daily_limit,
        "active_faults": active_faults,
        "request_log": org.request_log(),
        "origin": f"{request.scheme}://{request.get_host()}",
        "user": user,
        "org_id": current_org().org_id,
        "org_name": current_org().name,
    }
    return render(request, "salesforce_sandbox/home.html", context)


@require_GET
def status(request):
    if not _is_local(request):
        return error_response(403, "FORBIDDEN", "The control endpoints answer local clients only")
    return json_response(status_body())


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def faults(request):
    """GET: the active faults; POST {"fail_next": 2, ...}: set faults; DELETE: clear them. Local clients only."""
    if not _is_local(request):
        return error_response(403, "FORBIDDEN", "The control endpoints answer local clients only")
    if request.method == "GET":
        return json_response(org.faults_describe(org.state()))
    if request.method == "DELETE":
        return json_response(org.faults_describe(org.faults_reset()))
    # A JSON content type cannot be sent cross-origin without a preflight: no browser page can set faults.
    if request.content_type != "application/json":
        return error_response(415, "UNSUPPORTED_MEDIA_TYPE", "Send the faults as application/json")
    try:
        body = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError:
        return error_response(400, "JSON_PARSER_ERROR", "The body is not valid JSON")
    if not isinstance(body, dict):
        return error_response(400, "JSON_PARSER_ERROR", "The body must be a JSON object")
    try:
        current = org.faults_apply(**body)
    except org.FaultError as exc:
        return error_response(400, "INVALID_FAULT", str(exc))
    return json_response(org.faults_describe(current))


def _wants_json(request) -> bool:
    return request.path.startswith(("/services/", "/_sandbox/", "/id/"))


def bad_request(request, exception=None):
    if _wants_json(request):
        return error_response(400, "INVALID_REQUEST", "Bad request")
    return HttpResponse("Bad request", status=400, content_type="text/plain")


def page_not_found(request, exception=None):
    if _wants_json(request):
        return not_found()
    return HttpResponse("Not found", status=404, content_type="text/plain")


def server_error(request):
    if _wants_json(request):
        return error_response(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")
    return HttpResponse("Server error", status=500, content_type="text/plain")
