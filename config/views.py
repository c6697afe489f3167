from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from config.health import cluster_heartbeat, extra_health_checks


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("cdp:dashboard")
    return render(request, "landing.html")


def _may_read_health_detail(request: HttpRequest) -> bool:
    """Staff signed in, or `Authorization: Bearer <HEALTHZ_TOKEN>` (a monitor's token) when one is set."""
    if request.user.is_authenticated and request.user.is_active and request.user.is_staff:
        return True
    token = settings.HEALTHZ_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for operators and load balancers. Anyone reads the status (and the code:
    503 when the database is down); the detail, which counts every workspace's connections and runs,
    only staff or a monitor holding HEALTHZ_TOKEN."""
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
    if not _may_read_health_detail(request):
        body = {"status": body["status"]}
    response = JsonResponse(body, status=200 if database_ok else 503)
    response["Cache-Control"] = "no-store"
    return response


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's sign-in page, replaced: staff sign in through allauth's page, whose failed attempts are
    limited (ACCOUNT_RATE_LIMITS, counted in the shared cache), instead of Django's unlimited admin form.
    A POST here checks no password."""
    target = url_has_allowed_host_and_scheme(
        request.GET.get("next", ""), allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    next_url = request.GET["next"] if target else reverse("admin:index")
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(next_url)
        raise PermissionDenied("This account has no access to the operator console.")
    return redirect_to_login(next_url, login_url=reverse("account_login"))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)


# Uploads that are public by design (a brand logo goes into every email); each is stored under a random name.
PUBLIC_MEDIA_PREFIXES = ("brand-logos/",)
PUBLIC_MEDIA_TYPES = {
    ".png": "image/png",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


def media(request, path: str):
    """Serve a public upload from MEDIA_ROOT, in development and production alike. Anything else stored
    there (a private file) is a 404 here: never public by its address."""
    from pathlib import Path

    from django.conf import settings
    from django.http import FileResponse, Http404

    root = Path(settings.MEDIA_ROOT).resolve()
    target = (root / path).resolve()
    suffix = target.suffix.lower()
    if (
        not path.startswith(PUBLIC_MEDIA_PREFIXES)
        or root not in target.parents
        or suffix not in PUBLIC_MEDIA_TYPES
        or not target.is_file()
    ):
        raise Http404("No such file.")
    response = FileResponse(target.open("rb"), content_type=PUBLIC_MEDIA_TYPES[suffix])
    response["Cache-Control"] = "public, max-age=86400"
    # An image, never a page: a file that somehow holds markup cannot run as this site.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
