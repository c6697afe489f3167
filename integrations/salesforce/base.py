"""A small HTTP client base in the style of Sentry's BaseApiClient.

It owns the one `requests.Session`, the mandatory (connect, read) timeout, URL building, retries with
exponential backoff and full jitter on connection errors / 5xx / 429 only, and per-endpoint call
counting. Vendors subclass it and turn error responses into typed exceptions (`raise_for_response`).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urljoin

import requests
from django.views.decorators.debug import sensitive_variables

from integrations.salesforce.errors import SalesforceUnavailable

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})

# While a person waits for a page, a call to the vendor gets a short timeout and no retries: an unreachable
# org makes the page say so at once instead of holding the request through a backoff (set by
# `integrations.middleware.PageTimeCallsMiddleware`; background work keeps the patient defaults).
PAGE_TIME_TIMEOUT: tuple[float, float] = (3.05, 15.0)
_page_time: ContextVar[bool] = ContextVar("salesforce_page_time", default=False)


@contextmanager
def page_time_calls() -> Iterator[None]:
    token = _page_time.set(True)
    try:
        yield
    finally:
        _page_time.reset(token)


class BaseApiClient:
    # (connect, read) seconds: no request ever waits without a bound.
    timeout: tuple[float, float] = (5.0, 60.0)
    max_retries: int = 4
    # Background calls keep retrying until this many seconds have passed since the first failure (at least
    # max_retries times), so a short outage of the vendor is ridden out rather than failing the work.
    retry_window: float = 0.0
    backoff_base: float = 0.5
    backoff_cap: float = 10.0
    user_agent: str = "Inflow/0.1 (+https://github.com/inflow)"

    def __init__(
        self,
        *,
        base_url: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] | None = None,
        max_retries: int | None = None,
        retry_window: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", self.user_agent)
        if retry_window is not None:
            self.retry_window = retry_window
        if _page_time.get():
            self.timeout, self.max_retries, self.retry_window = PAGE_TIME_TIMEOUT, 0, 0.0
        if timeout is not None:
            self.timeout = timeout
        if max_retries is not None:
            self.max_retries = max_retries
        self._sleep = sleep
        # endpoint label -> requests that reached the server (what the vendor counts against limits).
        self.calls: Counter[str] = Counter()

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- Hooks -------------------------------------------------------------------------------------
    def auth_headers(self) -> Mapping[str, str]:
        return {}

    def on_response(self, response: requests.Response) -> None:
        """Called for every HTTP answer received (limit headers, accounting)."""

    def raise_for_response(self, response: requests.Response) -> None:
        """Turns a non-2xx answer into a typed exception."""
        response.raise_for_status()

    # --- Plumbing ---------------------------------------------------------------------------------
    def build_url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url, path)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.backoff_cap, max(0.0, retry_after))
        # "Equal jitter": spreads the retries of many workers hitting the same outage, and never retries
        # at once, so the retries of one call span a real stretch of time (retry_window).
        delay = min(self.backoff_cap, self.backoff_base * (2**attempt))
        return random.uniform(delay / 2, delay)

    def _may_retry(self, attempt: int, first_failure: float) -> bool:
        """Retry while under max_retries, or while the outage is younger than retry_window."""
        return attempt < self.max_retries or time.monotonic() - first_failure < self.retry_window

    @sensitive_variables()
    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        authenticated: bool = True,
    ) -> requests.Response:
        """One logical call: retried on network errors, 429 and 5xx; any other answer is returned or raised."""
        url = self.build_url(path)
        attempt = 0
        first_failure = 0.0
        while True:
            merged = dict(headers or {})
            if authenticated:
                merged.update(self.auth_headers())
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=merged,
                    timeout=self.timeout,
                    stream=stream,
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                first_failure = first_failure or time.monotonic()
                if not self._may_retry(attempt, first_failure):
                    raise SalesforceUnavailable(
                        f"{method} {endpoint}: no answer after {attempt + 1} attempts ({type(exc).__name__})"
                    ) from None
                delay = self.backoff(attempt)
                logger.warning("%s %s: %s, retrying in %.1fs", method, endpoint, type(exc).__name__, delay)
                self._sleep(delay)
                attempt += 1
                continue
            self.calls[endpoint] += 1
            self.on_response(response)
            if response.status_code in RETRYABLE_STATUS:
                first_failure = first_failure or time.monotonic()
            if response.status_code in RETRYABLE_STATUS and self._may_retry(attempt, first_failure):
                delay = self.backoff(attempt, _retry_after(response))
                logger.warning(
                    "%s %s: HTTP %s, retrying in %.1fs", method, endpoint, response.status_code, delay
                )
                response.close()
                self._sleep(delay)
                attempt += 1
                continue
            if response.status_code >= 400:
                try:
                    self.raise_for_response(response)
                finally:
                    response.close()
            return response


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
