from __future__ import annotations

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from config.health import cluster_heartbeat, extra_health_checks


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("cdp:dashboard")
    return render(request, "landing.html")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for operators and load balancers."""
    database_ok = True
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not reachable", reported not raised
        database_ok = False
    body = {
        "status": "ok",
        "version": settings.VERSION,
        "time": timezone.now().isoformat(),
        "database": "ok" if database_ok else "unreachable",
        "cluster": cluster_heartbeat(),
    }
    body.update(extra_health_checks())
    if not database_ok or body.get("problems"):
        body["status"] = "degraded" if database_ok else "down"
    return JsonResponse(body, status=200 if database_ok else 503)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
