"""OAuth 2.0 for the org: authorization codes, grants (refresh tokens), access tokens, revocation.

Raw tokens and codes are returned once and stored only as SHA-256 digests. Every refresh-token failure
is the same `invalid_grant` / `expired access/refresh token`, whatever the cause, as on Salesforce.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password
from django.db import transaction

from ..models import AccessToken, AuthorizationCode, ConnectedApp, Grant, OrgState, OrgUser
from ..routers import current_org, db
from ..wire import now

CODE_LIFETIME = dt.timedelta(minutes=15)
REFRESH_SCOPES = {"refresh_token", "offline_access"}
KNOWN_SCOPES = {
    "api",
    "refresh_token",
    "offline_access",
    "id",
    "openid",
    "full",
    "web",
    "chatter_api",
    "visualforce",
    "custom_permissions",
    "wave_api",
    "profile",
    "email",
    "address",
    "phone",
    "lightning",
    "content",
    "sfap_api",
    "einstein_gpt_api",
    "cdp_api",
    "pardot_api",
    "eclair_api",
}
EXPIRED = "expired access/refresh token"


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


# Access tokens start with the org Id and "!" as on Salesforce; codes and refresh tokens carry it after
# their prefix, so the token endpoint knows the org a code or refresh token belongs to.
CODE_PREFIX = "aPrx"
REFRESH_PREFIX = "5Aep861"


def _new_access_token() -> str:
    return f"{current_org().org_id[:15]}!AQ" + secrets.token_urlsafe(72).replace("-", ".")


def _new_refresh_token() -> str:
    return REFRESH_PREFIX + current_org().org_id[:15] + secrets.token_urlsafe(64).replace("-", ".")


def identity_url(origin: str, user: OrgUser) -> str:
    return f"{origin}/id/{current_org().org_id}/{user.user_id}"


def signature(*, client_secret: str, identity: str, issued_at: str) -> str:
    mac = hmac.new(client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def callback_allowed(app: ConnectedApp, redirect_uri: str) -> bool:
    """Exact match against a registered callback URL: no wildcard port, path or query."""
    return bool(redirect_uri) and redirect_uri in app.callback_urls.split()


def app_by_client_id(client_id: str) -> ConnectedApp | None:
    if not client_id or len(client_id) > 255:
        return None
    return ConnectedApp.objects.using(db()).filter(client_id=client_id).first()


def authenticate_user(username: str, password: str) -> OrgUser | None:
    user = (
        OrgUser.objects.using(db()).filter(username__iexact=(username or "").strip(), is_active=True).first()
    )
    if user is None or not check_password(password or "", user.password):
        return None
    return user


def normalise_scopes(requested: str, app: ConnectedApp) -> str:
    scopes = [s for s in (requested or "").split() if s in KNOWN_SCOPES]
    if not scopes:
        scopes = ["api", "id", "refresh_token"] if "refresh_token" in app.scopes.split() else ["api", "id"]
    seen: list[str] = []
    for scope in scopes:
        if scope not in seen:
            seen.append(scope)
    return " ".join(seen)


def has_active_grant(app: ConnectedApp, user: OrgUser) -> bool:
    return Grant.objects.using(db()).filter(app=app, user=user, revoked_at__isnull=True).exists()


def code_issue(
    *,
    app: ConnectedApp,
    user: OrgUser,
    redirect_uri: str,
    scopes: str,
    code_challenge: str = "",
    code_challenge_method: str = "",
    nonce: str = "",
) -> str:
    raw = CODE_PREFIX + current_org().org_id[:15] + secrets.token_urlsafe(48) + "=="
    moment = now()
    AuthorizationCode.objects.using(db()).create(
        code_hash=digest(raw),
        app=app,
        user=user,
        redirect_uri=redirect_uri,
        scopes=scopes,
        code_challenge=code_challenge[:128],
        code_challenge_method=code_challenge_method[:10],
        nonce=nonce[:255],
        created_at=moment,
        expires_at=moment + CODE_LIFETIME,
    )
    return raw


@dataclass
class Issued:
    app: ConnectedApp
    user: OrgUser
    scopes: str
    access_token: str
    refresh_token: str | None
    issued_at: dt.datetime
    nonce: str = ""


def _grant_create(*, app: ConnectedApp, user: OrgUser, scopes: str) -> tuple[Grant, str | None]:
    moment = now()
    wants_refresh = bool(REFRESH_SCOPES & set(scopes.split()))
    # At most `max_grants_per_user` live grants per user and app: the newest one evicts the oldest.
    live = list(
        Grant.objects.using(db())
        .select_for_update()
        .filter(app=app, user=user, revoked_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    excess = len(live) - (app.max_grants_per_user - 1)
    if excess > 0:
        Grant.objects.using(db()).filter(id__in=live[:excess]).update(
            revoked_at=moment, revoked_reason="evicted"
        )
    refresh = _new_refresh_token() if wants_refresh else None
    grant = Grant.objects.using(db()).create(
        app=app,
        user=user,
        scopes=scopes,
        refresh_token_hash=digest(refresh) if refresh else None,
        created_at=moment,
        last_used_at=moment,
    )
    return grant, refresh


def _access_token_create(*, app: ConnectedApp, user: OrgUser, grant: Grant | None) -> tuple[str, dt.datetime]:
    raw = _new_access_token()
    moment = now()
    AccessToken.objects.using(db()).create(
        token_hash=digest(raw),
        grant=grant,
        app=app,
        user=user,
        issued_at=moment,
        expires_at=moment + dt.timedelta(seconds=app.session_timeout_seconds),
    )
    return raw, moment


def tokens_grant(*, app: ConnectedApp, user: OrgUser, scopes: str) -> Issued:
    """A fresh grant and access token without the browser (sandbox_token, the code exchange)."""
    with transaction.atomic(using=db()):
        grant, refresh = _grant_create(app=app, user=user, scopes=scopes)
        access, issued_at = _access_token_create(app=app, user=user, grant=grant)
    return Issued(app, user, scopes, access, refresh, issued_at)


def code_exchange(*, app: ConnectedApp, code: str, redirect_uri: str, code_verifier: str) -> Issued:
    moment = now()
    with transaction.atomic(using=db()):
        row = (
            AuthorizationCode.objects.using(db())
            .select_for_update()
            .select_related("user")
            .filter(code_hash=digest(code or ""), app=app)
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at <= moment:
            # A replayed code is refused; what its first use issued stays valid (a browser that submits the
            # callback twice must not disconnect the app).
            raise OAuthError("invalid_grant", "invalid authorization code")
        # Single use: the code is spent even if the rest of the exchange fails.
        AuthorizationCode.objects.using(db()).filter(pk=row.pk).update(used_at=moment)
    if row.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri must match configuration")
    if not app.require_secret and not row.code_challenge:
        # A public client proves it started the flow only through PKCE.
        raise OAuthError("invalid_grant", "invalid code verifier")
    if row.code_challenge:
        if not code_verifier:
            raise OAuthError("invalid_grant", "invalid code verifier")
        computed = (
            base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        )
        if row.code_challenge_method not in ("", "S256") or not hmac.compare_digest(
            computed, row.code_challenge
        ):
            raise OAuthError("invalid_request", "invalid code verifier")
    if not row.user.is_active:
        raise OAuthError("invalid_grant", "authentication failure")
    issued = tokens_grant(app=app, user=row.user, scopes=row.scopes)
    issued.nonce = row.nonce
    return issued


def refresh_exchange(*, app: ConnectedApp, refresh_token: str) -> Issued:
    moment = now()
    with transaction.atomic(using=db()):
        grant = (
            Grant.objects.using(db())
            .select_for_update()
            .select_related("user")
            .filter(refresh_token_hash=digest(refresh_token or ""), app=app)
            .first()
        )
        if grant is None or grant.revoked_at is not None or not grant.user.is_active:
            raise OAuthError("invalid_grant", EXPIRED)
        policy = app.refresh_policy
        ttl = dt.timedelta(seconds=app.refresh_ttl_seconds or 0)
        expired = (
            policy == ConnectedApp.RefreshPolicy.IMMEDIATELY
            or (policy == ConnectedApp.RefreshPolicy.EXPIRE_AFTER and moment >= grant.created_at + ttl)
            or (policy == ConnectedApp.RefreshPolicy.EXPIRE_IF_UNUSED and moment >= grant.last_used_at + ttl)
        )
        if expired:
            Grant.objects.using(db()).filter(pk=grant.pk).update(revoked_at=moment, revoked_reason="expired")
            raise OAuthError("invalid_grant", EXPIRED)
        new_refresh = None
        update = {"last_used_at": moment}
        if app.rotate_refresh_tokens:
            new_refresh = _new_refresh_token()
            update["refresh_token_hash"] = digest(new_refresh)
        Grant.objects.using(db()).filter(pk=grant.pk).update(**update)
        access, issued_at = _access_token_create(app=app, user=grant.user, grant=grant)
    return Issued(app, grant.user, grant.scopes, access, new_refresh, issued_at)


def password_exchange(*, app: ConnectedApp, username: str, password: str) -> Issued:
    user = authenticate_user(username, password)
    if user is None:
        raise OAuthError("invalid_grant", "authentication failure")
    access, issued_at = _access_token_create(app=app, user=user, grant=None)
    return Issued(app, user, "api web full", access, None, issued_at)


def token_json(issued: Issued, *, origin: str) -> dict:
    """Exactly the token endpoint's JSON (for an authorization code and for a refresh), keys in Salesforce's
    order, so a client parsing it meets what a real org sends."""
    identity = identity_url(origin, issued.user)
    issued_at = str(int(issued.issued_at.timestamp() * 1000))
    body = {"access_token": issued.access_token}
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    body["signature"] = signature(
        client_secret=issued.app.client_secret, identity=identity, issued_at=issued_at
    )
    body["scope"] = issued.scopes
    if "openid" in issued.scopes.split():
        from .oidc import id_token

        body["id_token"] = id_token(
            origin=origin,
            client_id=issued.app.client_id,
            identity=identity,
            access_token=issued.access_token,
            issued_at=issued.issued_at,
            nonce=issued.nonce,
            user_claims={"preferred_username": issued.user.username, "email": issued.user.username},
        )
    body["instance_url"] = origin
    body["id"] = identity
    body["token_type"] = "Bearer"  # noqa: S105
    body["issued_at"] = issued_at
    return body


def revoke(token: str) -> bool:
    """Revoke an access token, or a refresh token and every access token issued from it."""
    moment = now()
    hashed = digest(token or "")
    if (
        Grant.objects.using(db())
        .filter(refresh_token_hash=hashed, revoked_at__isnull=True)
        .update(revoked_at=moment, revoked_reason="revoked")
    ):
        return True
    return bool(
        AccessToken.objects.using(db())
        .filter(token_hash=hashed, revoked_at__isnull=True)
        .update(revoked_at=moment)
    )


def access_token_user(raw: str, state: OrgState) -> AccessToken | None:
    """The live access token for `raw`, or None when it is unknown, expired or revoked (directly or via its grant)."""
    if not raw or len(raw) > 512:
        return None
    token = (
        AccessToken.objects.using(db())
        .select_related("user", "grant", "app")
        .filter(token_hash=digest(raw))
        .first()
    )
    if token is None or token.revoked_at is not None or token.expires_at <= now() or not token.user.is_active:
        return None
    if token.grant is not None and token.grant.revoked_at is not None:
        return None
    if state.tokens_expired_before is not None and token.issued_at <= state.tokens_expired_before:
        return None
    return token


def refresh_tokens_revoke_all() -> int:
    return (
        Grant.objects.using(db())
        .filter(revoked_at__isnull=True)
        .update(revoked_at=now(), revoked_reason="fault")
    )
