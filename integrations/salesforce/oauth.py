"""Salesforce OAuth 2.0 web-server flow with PKCE, refresh and revoke (requests-oauthlib).

Salesforce's OAuth 2.0 web-server flow (docs/salesforce.md). Salesforce sends no `expires_in`, so nothing here
refreshes on a timer; the API client refreshes on `401 INVALID_SESSION_ID` (client.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from integrations.salesforce.errors import SalesforceOAuthError

# https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_endpoints.htm
AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a secret
# https://developer.salesforce.com/docs/atlas.en-us.mobile_sdk.meta/mobile_sdk/oauth_revoking_tokens.htm
REVOKE_PATH = "/services/oauth2/revoke"

PRODUCTION_LOGIN_URL = "https://login.salesforce.com"
SANDBOX_LOGIN_URL = "https://test.salesforce.com"

# Outside development the login host must be Salesforce's: the token exchange sends the client
# secret to it, so a user-typed host must never be an arbitrary server.
SALESFORCE_HOST_SUFFIXES = (
    ".salesforce.com",
    ".force.com",
    ".salesforce.mil",
    ".cloudforce.com",
    ".sfcrmproducts.cn",
)

TIMEOUT = (5.0, 30.0)


def local_origin_allowed(url: str) -> bool:
    """Whether `url` is at one of SALESFORCE_LOCAL_ORIGINS: the local sandbox orgs an operator named
    explicitly (`make run` names its own). Only those may be a non-Salesforce host or plain http, in every
    mode: DEBUG allows nothing, since the token exchange sends the client secret to the login host. An
    entry without a port allows every port of its host (tests start sandbox orgs on free ports)."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return False
    for origin in getattr(settings, "SALESFORCE_LOCAL_ORIGINS", ()):
        allowed = urlsplit(origin.strip())
        if (
            allowed.scheme == parts.scheme
            and allowed.hostname
            and allowed.hostname == (parts.hostname or "").lower()
            and (allowed.port is None or allowed.port == port)
        ):
            return True
    return False


@sensitive_variables()
def client_credentials() -> tuple[str, str]:
    client_id = (settings.SALESFORCE_CLIENT_ID or "").strip()
    client_secret = (settings.SALESFORCE_CLIENT_SECRET or "").strip()
    if not client_id or not client_secret:
        missing = " and ".join(
            name
            for name, value in (
                ("SALESFORCE_CLIENT_ID", client_id),
                ("SALESFORCE_CLIENT_SECRET", client_secret),
            )
            if not value
        )
        raise SalesforceOAuthError(
            "not_configured",
            f"{missing} {'is' if ' and ' not in missing else 'are'} not set. Set the connected app's consumer key "
            "and secret in the environment (see docs/salesforce.md).",
        )
    return client_id, client_secret


def validate_salesforce_url(url: str, *, what: str = "Salesforce URL") -> str:
    """Returns the URL's origin (scheme://host[:port]) or raises SalesforceOAuthError."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise SalesforceOAuthError("invalid_url", f"The {what} is not a valid URL.") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not re.fullmatch(r"[a-z0-9.-]+|[0-9a-f:.]+", parts.hostname.lower())
    ):
        raise SalesforceOAuthError("invalid_url", f"The {what} is not a valid URL (expected https://…).")
    if parts.username or parts.password:
        raise SalesforceOAuthError("invalid_url", f"The {what} must not contain a user name or password.")
    local = local_origin_allowed(url)
    if parts.scheme != "https" and not local:
        raise SalesforceOAuthError("insecure_url", f"The {what} must use https://.")
    host = parts.hostname.lower()
    if not local and not host.endswith(SALESFORCE_HOST_SUFFIXES):
        raise SalesforceOAuthError(
            "untrusted_host",
            f"The {what} must be a Salesforce host (such as yourdomain.my.salesforce.com), not {host}.",
        )
    netloc = host if port is None else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    return f"{parts.scheme}://{netloc}"


def _allow_insecure_transport(url: str) -> None:
    # oauthlib refuses http:// unless this is set; only ever set for a local sandbox org named in
    # SALESFORCE_LOCAL_ORIGINS (every URL is validated by validate_salesforce_url before it is used).
    if url.startswith("http://") and local_origin_allowed(url):
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")


@dataclass(frozen=True)
class PkcePair:
    verifier: str = field(repr=False)
    challenge: str


def new_pkce_pair() -> PkcePair:
    # RFC 7636 §4.1: 43-128 chars of the unreserved set; token_urlsafe(64) gives 86.
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return PkcePair(verifier=verifier, challenge=challenge)


@sensitive_variables()
def authorization_url(*, login_url: str, redirect_uri: str, state: str, code_challenge: str) -> str:
    client_id, _ = client_credentials()
    login_url = validate_salesforce_url(login_url, what="login URL")
    _allow_insecure_transport(login_url)
    oauth = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=list(settings.SALESFORCE_SCOPES))
    url, _ = oauth.authorization_url(
        login_url + AUTHORIZE_PATH,
        state=state,
        code_challenge=code_challenge,
        code_challenge_method="S256",
    )
    return url


@dataclass(frozen=True)
class TokenGrant:
    """A verified token response. Tokens are kept out of repr()."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    instance_url: str
    identity_url: str
    org_id: str
    user_id: str
    issued_at: datetime
    scopes: tuple[str, ...]


@sensitive_variables()
def verify_signature(*, identity_url: str, issued_at: str, signature: str, client_secret: str) -> bool:
    """Salesforce signs `id + issued_at` with HMAC-SHA256 keyed by the consumer secret; a token
    answer whose signature does not match was not made for this app and is refused."""
    expected = base64.b64encode(
        hmac.new(client_secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected, signature or "")


@sensitive_variables()
def _parse_grant(
    token: dict, *, client_secret: str, require_signature: bool, require_refresh: bool
) -> TokenGrant:
    def text(key: str) -> str:
        value = token.get(key)
        return value.strip() if isinstance(value, str) else ""

    access_token = text("access_token")
    identity_url = text("id")
    issued_at = text("issued_at")
    instance_url = text("instance_url")
    missing = [
        k
        for k, v in (
            ("access_token", access_token),
            ("id", identity_url),
            ("issued_at", issued_at),
            ("instance_url", instance_url),
        )
        if not v
    ]
    if missing:
        raise SalesforceOAuthError(
            "malformed_response", f"Salesforce's token response is missing {', '.join(missing)}."
        )
    signature = text("signature")
    if signature or require_signature:
        if not verify_signature(
            identity_url=identity_url, issued_at=issued_at, signature=signature, client_secret=client_secret
        ):
            raise SalesforceOAuthError(
                "invalid_signature",
                "The token response's signature does not match: it was not issued for this app's client secret.",
            )
    if not issued_at.isdigit():
        raise SalesforceOAuthError(
            "malformed_response", "Salesforce's token response has an invalid issued_at."
        )
    refresh_token = text("refresh_token") or None
    if require_refresh and not refresh_token:
        raise SalesforceOAuthError(
            "no_refresh_token",
            "Salesforce issued no refresh token. In the connected app, add the OAuth scope "
            "'Perform requests at any time (refresh_token, offline_access)'.",
        )
    validate_salesforce_url(instance_url, what="instance URL")
    validate_salesforce_url(identity_url, what="identity URL")
    segments = [s for s in urlsplit(identity_url).path.split("/") if s]
    if len(segments) < 3 or segments[-3] != "id":
        raise SalesforceOAuthError(
            "malformed_response", "The identity URL in the token response is not …/id/<org>/<user>."
        )
    scope = token.get("scope") or ""
    scopes = tuple(scope.split()) if isinstance(scope, str) else tuple(scope)
    return TokenGrant(
        access_token=access_token,
        refresh_token=refresh_token,
        instance_url=instance_url.rstrip("/"),
        identity_url=identity_url,
        org_id=segments[-2],
        user_id=segments[-1],
        issued_at=datetime.fromtimestamp(int(issued_at) / 1000, tz=UTC),
        scopes=scopes,
    )


@sensitive_variables()
def grant_from_token_response(token: dict) -> TokenGrant:
    """A token endpoint's JSON obtained some other way (an operator's tool), checked like the flow's."""
    _, client_secret = client_credentials()
    return _parse_grant(token, client_secret=client_secret, require_signature=True, require_refresh=True)


@sensitive_variables()
def _token_request(login_url: str, call, *, redirect_uri: str | None = None) -> dict:
    """Runs a requests-oauthlib token call and turns every failure into SalesforceOAuthError."""
    seen: dict = {}

    def remember(response):
        seen["status"] = response.status_code
        return response

    client_id, _ = client_credentials()
    _allow_insecure_transport(login_url)
    # No scope on this session: Salesforce may grant a subset; we check what we need ourselves.
    oauth = OAuth2Session(client_id, redirect_uri=redirect_uri)
    oauth.register_compliance_hook("access_token_response", remember)
    oauth.register_compliance_hook("refresh_token_response", remember)
    try:
        token = call(oauth)
    except OAuth2Error as exc:
        if exc.error == "missing_token" or seen.get("status", 200) >= 500:
            # oauthlib's name for "no access_token in the body": an HTML error page, a proxy's answer...
            raise SalesforceOAuthError(
                "malformed_response",
                f"Salesforce's token endpoint answered HTTP {seen.get('status', '?')} with a body that is not a "
                "token response.",
            ) from None
        raise SalesforceOAuthError(exc.error or "oauth_error", exc.description or "") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise SalesforceOAuthError(
            "unreachable",
            f"Salesforce's token endpoint at {login_url} could not be reached ({type(exc).__name__}).",
        ) from None
    except (ValueError, Warning, TypeError):
        raise SalesforceOAuthError(
            "malformed_response",
            f"Salesforce's token endpoint answered HTTP {seen.get('status', '?')} with a body that is not a token response.",
        ) from None
    if seen.get("status", 200) >= 400:
        raise SalesforceOAuthError(
            "http_error", f"Salesforce's token endpoint answered HTTP {seen['status']}."
        )
    return dict(token)


@sensitive_variables()
def exchange_code(*, login_url: str, code: str, redirect_uri: str, code_verifier: str) -> TokenGrant:
    _, client_secret = client_credentials()
    login_url = validate_salesforce_url(login_url, what="login URL")
    token = _token_request(
        login_url,
        lambda oauth: oauth.fetch_token(
            login_url + TOKEN_PATH,
            code=code,
            client_secret=client_secret,
            include_client_id=True,
            code_verifier=code_verifier,
            timeout=TIMEOUT,
            headers={"Accept": "application/json"},
        ),
        redirect_uri=redirect_uri,
    )
    return _parse_grant(token, client_secret=client_secret, require_signature=True, require_refresh=True)


@sensitive_variables()
def refresh(*, login_url: str, refresh_token: str) -> TokenGrant:
    """One refresh_token grant. `TokenGrant.refresh_token` is set only when Salesforce rotated it."""
    client_id, client_secret = client_credentials()
    login_url = validate_salesforce_url(login_url, what="login URL")
    token = _token_request(
        login_url,
        lambda oauth: oauth.refresh_token(
            login_url + TOKEN_PATH,
            refresh_token=refresh_token,
            client_id=client_id,
            client_secret=client_secret,
            timeout=TIMEOUT,
            headers={"Accept": "application/json"},
        ),
    )
    # requests-oauthlib copies the old refresh token into the result when none came back; drop it
    # so a rotation is visible.
    if token.get("refresh_token") == refresh_token:
        token.pop("refresh_token")
    return _parse_grant(token, client_secret=client_secret, require_signature=False, require_refresh=False)


@dataclass(frozen=True)
class Identity:
    org_id: str
    user_id: str
    username: str
    display_name: str
    email: str


@sensitive_variables()
def fetch_identity(
    *, identity_url: str, access_token: str, session: requests.Session | None = None
) -> Identity:
    """Reads the identity URL the token answer names; its org and user must match the token's, or a token
    for one org could be stored as another's."""
    url = validate_salesforce_url(identity_url, what="identity URL") + urlsplit(identity_url).path
    http = session or requests.Session()
    try:
        response = http.get(
            url,
            params={"format": "json"},
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise SalesforceOAuthError(
            "identity_failed", f"The identity URL could not be reached ({type(exc).__name__})."
        ) from None
    if response.status_code != 200:
        raise SalesforceOAuthError(
            "identity_failed", f"The identity URL answered HTTP {response.status_code}."
        )
    try:
        body = response.json()
    except ValueError:
        raise SalesforceOAuthError("identity_failed", "The identity URL did not answer with JSON.") from None
    if not isinstance(body, dict):
        raise SalesforceOAuthError("identity_failed", "The identity URL answered with an unexpected shape.")
    org_id = str(body.get("organization_id") or "")
    user_id = str(body.get("user_id") or "")
    username = str(body.get("username") or "")
    if not org_id or not user_id or not username:
        raise SalesforceOAuthError(
            "identity_failed", "The identity response lacks organization_id, user_id or username."
        )
    segments = [s for s in urlsplit(identity_url).path.split("/") if s]
    if segments[-2:] != [org_id, user_id]:
        raise SalesforceOAuthError("identity_failed", "The identity response is for a different org or user.")
    return Identity(
        org_id=org_id,
        user_id=user_id,
        username=username,
        display_name=str(body.get("display_name") or ""),
        email=str(body.get("email") or ""),
    )


@sensitive_variables()
def revoke(*, login_url: str, token: str) -> None:
    """Revokes a refresh token (and its access tokens). An already-invalid token counts as revoked."""
    login_url = validate_salesforce_url(login_url, what="login URL")
    try:
        response = requests.post(
            login_url + REVOKE_PATH,
            data={"token": token},
            headers={"Accept": "application/json"},
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise SalesforceOAuthError(
            "unreachable",
            f"Salesforce at {login_url} could not be reached to revoke the token ({type(exc).__name__}).",
        ) from None
    if response.status_code == 200:
        return
    error, description = "revoke_failed", f"HTTP {response.status_code}"
    try:
        body = response.json()
        if isinstance(body, dict):
            error = body.get("error") or error
            description = body.get("error_description") or description
    except ValueError:
        pass
    if error == "invalid_token":
        return
    raise SalesforceOAuthError(error, description)
