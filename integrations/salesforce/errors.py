"""Typed Salesforce errors. Messages carry Salesforce's own text and never a token.

Hierarchy (what a caller decides on):
  SalesforceError
    SalesforceApiError(error_code, message, status)   an error answer from the REST / Bulk API
      SalesforceAuthError          the connection cannot authenticate any more -> needs_reauth, do not retry
        SalesforceNotConnected     the connection has no usable tokens (disconnected)
      SalesforceSessionExpired     401 INVALID_SESSION_ID (handled inside the client by one refresh)
      SalesforceRateLimited        403 REQUEST_LIMIT_EXCEEDED / 429: stop for now, resume later
      SalesforceQueryTimeout       QUERY_TIMEOUT: narrow the query window
      SalesforceInvalidLocator     INVALID_QUERY_LOCATOR: restart the query from the watermark
      SalesforceMalformedQuery     MALFORMED_QUERY
      SalesforceInvalidField       INVALID_FIELD (a selected field was deleted or hidden by FLS)
      SalesforceInvalidType        INVALID_TYPE (object deleted or not visible)
      SalesforceNotFound           NOT_FOUND / 404
      SalesforceServerError        5xx after the retries ran out
      SalesforceBulkJobFailed      a Bulk API 2.0 job ended Failed/Aborted
    SalesforceUnavailable          no HTTP answer (connection errors, timeouts) after the retries ran out
    SalesforceMalformedResponse    an answer that is not what Salesforce's documented wire format says
    SalesforceOAuthError(error, description)   the OAuth endpoints (token, identity, revoke)
"""

from __future__ import annotations


class SalesforceError(Exception):
    """Base of every error raised by integrations.salesforce."""


class SalesforceApiError(SalesforceError):
    def __init__(self, error_code: str, message: str, status: int | None = None):
        self.error_code = error_code
        self.message = message
        self.status = status
        super().__init__(f"{error_code}: {message}" + (f" (HTTP {status})" if status else ""))


class SalesforceAuthError(SalesforceApiError):
    """Terminal for the connection until the user reconnects; `message` is Salesforce's exact reason."""


class SalesforceNotConnected(SalesforceAuthError):
    pass


class SalesforceSessionExpired(SalesforceApiError):
    pass


class SalesforceRateLimited(SalesforceApiError):
    def __init__(
        self, error_code: str, message: str, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(error_code, message, status)
        self.retry_after = retry_after


class SalesforceQueryTimeout(SalesforceApiError):
    pass


class SalesforceInvalidLocator(SalesforceApiError):
    pass


class SalesforceMalformedQuery(SalesforceApiError):
    pass


class SalesforceInvalidField(SalesforceApiError):
    pass


class SalesforceInvalidType(SalesforceApiError):
    pass


class SalesforceNotFound(SalesforceApiError):
    pass


class SalesforceServerError(SalesforceApiError):
    pass


class SalesforceBulkJobFailed(SalesforceApiError):
    pass


class SalesforceUnavailable(SalesforceError):
    pass


class SalesforceMalformedResponse(SalesforceError):
    pass


class SalesforceOAuthError(SalesforceError):
    """An OAuth endpoint refused or answered badly. `error` is the OAuth error code (or ours)."""

    def __init__(self, error: str, description: str = ""):
        self.error = error
        self.description = description
        super().__init__(f"{error}: {description}" if description else error)

    @property
    def is_invalid_grant(self) -> bool:
        return self.error == "invalid_grant"


# errorCode -> exception class; anything else is a plain SalesforceApiError.
ERROR_CODE_CLASSES: dict[str, type[SalesforceApiError]] = {
    "INVALID_SESSION_ID": SalesforceSessionExpired,
    "REQUEST_LIMIT_EXCEEDED": SalesforceRateLimited,
    "QUERY_TIMEOUT": SalesforceQueryTimeout,
    "INVALID_QUERY_LOCATOR": SalesforceInvalidLocator,
    "MALFORMED_QUERY": SalesforceMalformedQuery,
    "INVALID_FIELD": SalesforceInvalidField,
    "INVALID_TYPE": SalesforceInvalidType,
    "NOT_FOUND": SalesforceNotFound,
}
