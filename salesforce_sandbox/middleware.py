"""Response compression: gzip at level 1 when the client asks, as Salesforce compresses its responses.

Level 1 keeps compression from becoming the bottleneck when paging large objects: higher levels cost several
times the CPU for a few percent fewer bytes on JSON pages.
"""

from __future__ import annotations

import gzip
import zlib

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse

MIN_SIZE = 200


def _accepts_gzip(request) -> bool:
    header = request.META.get("HTTP_ACCEPT_ENCODING", "")
    return any(part.split(";")[0].strip().lower() == "gzip" for part in header.split(","))


def _stream(chunks):
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    for chunk in chunks:
        data = compressor.compress(chunk)
        if data:
            yield data
    yield compressor.flush()


class GzipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Content-Encoding") or not _accepts_gzip(request):
            return response
        if response.streaming:
            response.streaming_content = _stream(response.streaming_content)
            response.headers.pop("Content-Length", None)
        else:
            if len(response.content) < MIN_SIZE:
                return response
            response.content = gzip.compress(response.content, compresslevel=1, mtime=0)
            response["Content-Length"] = str(len(response.content))
        response["Content-Encoding"] = "gzip"
        vary = response.get("Vary")
        response["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
        return response


MAX_URI = 16_384


class UriLengthMiddleware:
    """Salesforce refuses URIs longer than 16,384 bytes with 414 (gunicorn's own line limit is lifted)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        uri = request.META.get("RAW_URI") or request.get_full_path()
        if len(uri) > MAX_URI:
            from .wire import error_response

            return error_response(414, "URI_TOO_LONG", "The request URI is longer than 16,384 bytes")
        return self.get_response(request)


def _too_large(request) -> HttpResponse:
    from .wire import error_response

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.path.startswith(("/services/", "/_sandbox/", "/id/")):
        return error_response(
            413, "REQUEST_ENTITY_TOO_LARGE", f"The request body is larger than the limit of {limit} bytes"
        )
    return HttpResponse("Request body too large", status=413, content_type="text/plain")


class BodyLimitMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 before anything reads it (never a 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return _too_large(request)
        try:
            return self.get_response(request)
        except RequestDataTooBig:  # a chunked body with no length that grew past the limit
            return _too_large(request)


def _org_from_request(request):
    """The org a request works on (None: the default org), from what it carries."""
    from .api import bearer_token
    from .services import oauth, orgs

    path = request.path_info
    if path.startswith(("/services/data/", "/services/async/", "/services/oauth2/userinfo", "/cometd/")):
        raw = bearer_token(request) or request.GET.get("oauth_token") or request.GET.get("access_token")
        return orgs.by_token(raw or "")
    if path.startswith("/id/") and path.count("/") == 3:
        return orgs.by_org_id(path.split("/")[2])
    if path == "/services/oauth2/token" and request.method == "POST":
        grant_type = request.POST.get("grant_type", "")
        if grant_type == "authorization_code":
            return orgs.by_token(request.POST.get("code", ""), prefix=oauth.CODE_PREFIX)
        if grant_type == "refresh_token":
            return orgs.by_token(request.POST.get("refresh_token", ""), prefix=oauth.REFRESH_PREFIX)
        if grant_type == "password":
            return orgs.for_username(request.POST.get("username", ""))
        return None
    if path == "/services/oauth2/revoke":
        raw = (request.POST.get("token") if request.method == "POST" else request.GET.get("token")) or ""
        return orgs.by_token(raw) or orgs.by_token(raw, prefix=oauth.REFRESH_PREFIX)
    if path.startswith("/services/oauth2/authorize") or path in ("/", "/logout"):
        name = request.session.get("sbx_org")
        return orgs.by_name(name) if isinstance(name, str) else None
    return None


def _iterate_in(org, chunks):
    """Stream a response's body inside its org: the body is produced after the view has returned."""
    from .routers import activate, deactivate

    iterator = iter(chunks)
    while True:
        token = activate(org)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            deactivate(token)
        yield chunk


class OrgMiddleware:
    """Run each request in its org (several orgs share one sandbox process; see services/orgs.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .routers import activate, deactivate
        from .services import orgs

        found = None
        path = request.path_info
        if path.startswith("/_sandbox/"):
            name = request.GET.get("org")
            found = orgs.by_name(name)
            if found is None:
                from .wire import error_response

                return error_response(404, "NOT_FOUND", "No org of that name in this sandbox")
        else:
            found = _org_from_request(request)
        if found is None or found.number == 1:
            return self.get_response(request)
        orgs.connect(found)
        token = activate(found)
        try:
            response = self.get_response(request)
        finally:
            deactivate(token)
        if response.streaming:
            response.streaming_content = _iterate_in(found, response.streaming_content)
        return response
