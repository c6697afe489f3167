"""Response headers every page carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def content_security_policy() -> str:
    """Scripts, styles, images, fonts and requests from this site only: no inline script or style anywhere
    (templates load static files; a progress bar's width is set by static/js/inflow.js). Forms post here,
    or are redirected on to a Salesforce login host (the connect flow), or to a local sandbox org."""
    from integrations.salesforce.oauth import SALESFORCE_HOST_SUFFIXES

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
