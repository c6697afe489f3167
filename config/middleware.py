"""Response headers every page carries."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

from integrations.salesforce.oauth import SALESFORCE_HOST_SUFFIXES


def content_security_policy() -> str:
    """Scripts, styles, images, fonts and requests from this site only: no inline script or style anywhere
    (templates load static files; a progress bar's width is set by static/js/inflow.js). Forms post here,
    or are redirected on to a Salesforce login host (the connect flow), or to a local sandbox org."""

    form_targets = [f"https://*{suffix}" for suffix in SALESFORCE_HOST_SUFFIXES]
    for origin in settings.SALESFORCE_LOCAL_ORIGINS:
        parts = urlsplit(origin.strip())
        if parts.scheme and parts.hostname:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            form_targets.append(f"{parts.scheme}://{host}:{parts.port or '*'}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self' " + " ".join(form_targets),
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A view with its own, stricter policy (an uploaded file: `default-src 'none'; sandbox`) keeps it.
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        return response


class IdleSessionTimeoutMiddleware:
    """Signs a user out after SESSION_IDLE_SECONDS without a request. The last request's time is kept in
    the session, written at most once a minute (not a session write on every request)."""

    KEY = "last_request_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(self.KEY)
            if last is not None and now - last > settings.SESSION_IDLE_SECONDS:
                logout(request)
                messages.info(request, "You were signed out after a while without activity. Sign in again.")
            elif last is None or now - last >= 60:
                request.session[self.KEY] = now
        return self.get_response(request)
