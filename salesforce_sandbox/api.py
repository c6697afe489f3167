"""The REST API's request pipeline: faults, authentication, API usage, request counting, error envelopes.

Every `/services/data/vNN.N/...` view is wrapped by `api_view`, so each one answers with Salesforce's
error arrays (never a traceback) and carries `Sforce-Limit-Info`.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .models import AccessToken, OrgState, SchemaChange
from .routers import db
from .schema import Schema, build_schema
from .services import oauth, org
from .services.records import RecordError
from .soql_bridge import SoqlError
from .wire import error_response, is_supported_version, not_found

logger = logging.getLogger(__name__)


@dataclass
class ApiContext:
    token: AccessToken
    state: OrgState
    version: str
    origin: str
    schema: Schema
    api_used: int = 0  # calls counted today, this one included


def request_origin(request) -> str:
    """The org's instance URL is wherever the client reached it (scheme, host and port)."""
    try:
        return f"{request.scheme}://{request.get_host()}"
    except Exception:  # DisallowedHost: fall back to the configured origin
        return settings.SANDBOX_ORIGIN


def current_schema() -> Schema:
    changes = tuple(
        SchemaChange.objects.using(db()).order_by("id").values_list("sobject", "action", "payload")
    )
    return build_schema(changes)


def bearer_token(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip()
        return None
    session = request.META.get("HTTP_X_SFDC_SESSION", "")
    return session.strip() or None


def drop_connection(request) -> HttpResponse:
    """Close the client's socket without a response (the "dropped connection" fault)."""
    sock = request.META.get("gunicorn.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    return HttpResponse(status=500)


def fault_response(status: int) -> HttpResponse:
    if status == 503:
        return error_response(
            503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later."
        )
    return error_response(
        500,
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1234567890-12345 (-1234567890)",
    )


def malformed(response: HttpResponse) -> HttpResponse:
    """The "malformed page" fault: the body cut short, headers as usual."""
    if not response.streaming:
        body = response.content
        response.content = body[: max(1, len(body) // 2)]
        response["Content-Length"] = str(len(response.content))
    return response


def api_view(kind: str, *, versioned: bool = True):
    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            version = kwargs.get("version")
            used = limit = None
            try:
                org.request_count(kind)
                current = org.state()
                if current.latency_ms:
                    time.sleep(min(current.latency_ms, 60_000) / 1000)
                failure = 0 if org.unreachable(current) else org.take_failure(current)
                if failure == 0:
                    return drop_connection(request)
                if failure is not None:
                    response = fault_response(failure)
                elif versioned and not is_supported_version(version or ""):
                    response = not_found()
                else:
                    raw = bearer_token(request)
                    token = oauth.access_token_user(raw, current) if raw else None
                    if token is None:
                        response = error_response(401, "INVALID_SESSION_ID", "Session expired or invalid")
                    else:
                        allowed, used, limit = org.api_usage_consume(current)
                        if not allowed:
                            response = error_response(
                                403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                            )
                        else:
                            request.sandbox = ApiContext(
                                token, current, version or "", request_origin(request), current_schema(), used
                            )
                            response = view(request, *args, **kwargs)
                            if org.take_malformed(current):
                                response = malformed(response)
                if used is None:
                    used, limit = current.api_usage, current.api_daily_limit
            except SoqlError as exc:
                response = error_response(400, exc.error_code, exc.message)
            except RecordError as exc:
                response = error_response(exc.status, exc.error_code, exc.message, exc.fields)
            except RequestDataTooBig:
                raise  # BodyLimitMiddleware answers 413
            except OperationalError:
                logger.exception("sandbox database error on %s", kind)
                response = fault_response(503)
            except Exception:
                logger.exception("sandbox error on %s", kind)
                response = fault_response(500)
            if used is not None:
                response["Sforce-Limit-Info"] = f"api-usage={used}/{limit}"
            return response

        return wrapper

    return decorator
