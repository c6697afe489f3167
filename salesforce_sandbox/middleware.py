"""Response compression: gzip at level 1 when the client asks, as Salesforce compresses its responses.

Level 1 keeps compression from becoming the bottleneck when paging large objects (PERFORMANCE.md §2.2).
"""

from __future__ import annotations

import gzip
import zlib

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
