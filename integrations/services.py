"""Writes on Salesforce connections: its lifecycle (connect, reconnect, refresh, pause, resume,
disconnect, delete). Settings are written by integrations.connection_settings.

The sync schedule belongs to the lifecycle: every status change here re-runs `tasks.schedule_ensure`
after commit, so a connected connection has its django-q2 schedules and no other connection has any.

HTTP to Salesforce happens outside the database transactions, except for the token refresh, which
holds the Connection's row lock on purpose so that two workers make one refresh call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from cdp.models import Workspace
from integrations import crypto, plan_limits
from integrations.models import Connection
from integrations.salesforce import oauth
from integrations.salesforce.client import RefreshedSession, SalesforceClient
from integrations.salesforce.errors import (
    SalesforceAuthError,
    SalesforceError,
    SalesforceNotConnected,
    SalesforceOAuthError,
    SalesforceUnavailable,
)
from integrations.salesforce.tasks import schedule_ensure_on_commit, sync_request

logger = logging.getLogger(__name__)


# --- Connect ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectResult:
    connection: Connection
    created: bool


@sensitive_variables()
def connection_connect_via_oauth(
    *,
    workspace: Workspace,
    login_url: str,
    login_kind: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    reconnect: Connection | None = None,
) -> ConnectResult:
    """The callback's one service: exchange the code, verify, read identity and version, then store.

    Raises SalesforceOAuthError or ValidationError with a message for the user; in either case the
    existing connection (if any) is left exactly as it was.
    """
    grant = oauth.exchange_code(
        login_url=login_url, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    try:
        identity = oauth.fetch_identity(identity_url=grant.identity_url, access_token=grant.access_token)
        if identity.org_id != grant.org_id or identity.user_id != grant.user_id:
            raise SalesforceOAuthError(
                "identity_failed", "The identity response is for a different org or user."
            )

        with SalesforceClient(
            instance_url=grant.instance_url, access_token=grant.access_token, max_retries=1
        ) as client:
            try:
                api_version = client.negotiate_version()
            except SalesforceError as exc:
                raise SalesforceOAuthError(
                    "versions_failed", f"Could not read the org's API versions: {exc}"
                ) from None
        result = connection_create_from_oauth(
            workspace=workspace,
            grant=grant,
            identity=identity,
            login_url=login_url,
            login_kind=login_kind,
            api_version=api_version,
            reconnect=reconnect,
        )
    except (SalesforceOAuthError, ValidationError):
        # Nothing was stored: give the fresh grant back so it does not count against the user's 5 grants.
        _revoke_quietly(login_url=login_url, token=grant.refresh_token or grant.access_token)
        raise
    if result.replaced_refresh_token and result.replaced_refresh_token != grant.refresh_token:
        _revoke_quietly(login_url=result.previous_login_url, token=result.replaced_refresh_token)
    return ConnectResult(connection=result.connection, created=result.created)


@sensitive_variables()
def _revoke_quietly(*, login_url: str, token: str | None) -> None:
    if not token:
        return
    try:
        oauth.revoke(login_url=login_url, token=token)
    except SalesforceOAuthError as exc:
        logger.warning("Could not revoke a superseded Salesforce token: %s", exc.error)


@dataclass(frozen=True)
class _StoreResult:
    connection: Connection
    created: bool
    replaced_refresh_token: str | None = field(repr=False)
    previous_login_url: str


@transaction.atomic
@sensitive_variables()
def connection_create_from_oauth(
    *,
    workspace: Workspace,
    grant: oauth.TokenGrant,
    identity: oauth.Identity,
    login_url: str,
    login_kind: str,
    api_version: str,
    reconnect: Connection | None = None,
) -> _StoreResult:
    """Creates the workspace's connection to the org, or renews an existing one (reconnect resumes it)."""
    if reconnect is not None and reconnect.workspace_id != workspace.pk:
        raise ValidationError("That connection belongs to another workspace.")
    if reconnect is not None and reconnect.org_id != grant.org_id:
        raise ValidationError(
            f"You signed in to Salesforce org {grant.org_id}, but this connection is for org {reconnect.org_id}. "
            "Sign in as a user of that org to reconnect it, or connect the other org as a new data source."
        )
    existing = Connection.objects.select_for_update().filter(workspace=workspace, org_id=grant.org_id).first()
    if existing is not None and reconnect is None and existing.status == Connection.Status.CONNECTED:
        raise ValidationError(
            f"This Salesforce org ({existing.username}, {existing.org_id}) is already connected to this workspace. "
            "Open it under Data sources to manage or reconnect it."
        )
    if reconnect is None and (existing is None or existing.status == Connection.Status.DISCONNECTED):
        plan_limits.check_new_connection(workspace, org_id=grant.org_id)
    now = timezone.now()
    created = existing is None
    connection = existing or Connection(workspace=workspace, org_id=grant.org_id, connected_at=now)
    replaced = connection.refresh_token if existing is not None and existing.refresh_token_encrypted else None
    previous_login_url = connection.login_url
    connection.sf_user_id = identity.user_id
    connection.username = identity.username
    connection.display_name = identity.display_name
    connection.instance_url = grant.instance_url
    connection.login_url = login_url
    connection.login_kind = login_kind
    connection.identity_url = grant.identity_url
    connection.scopes = " ".join(grant.scopes)
    connection.api_version = api_version
    connection.set_tokens(access_token=grant.access_token, refresh_token=grant.refresh_token)
    connection.token_issued_at = grant.issued_at
    connection.status = Connection.Status.CONNECTED
    connection.status_reason = ""
    connection.status_changed_at = now
    if connection.connected_at is None:
        connection.connected_at = now
    connection.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        # A second callback for the same org won the race: the unique constraint is the arbiter.
        raise ValidationError("This Salesforce org is already connected to this workspace.") from None
    schedule_ensure_on_commit(connection_id=connection.pk)
    logger.info(
        "Salesforce org %s %s for workspace %s",
        grant.org_id,
        "connected" if created else "reconnected",
        workspace.pk,
    )
    return _StoreResult(
        connection=connection,
        created=created,
        replaced_refresh_token=replaced,
        previous_login_url=previous_login_url,
    )


# --- Tokens -------------------------------------------------------------------------------------
@sensitive_variables()
def connection_refresh_access_token(*, connection: Connection, stale_access_token: str | None) -> str:
    """Returns a fresh access token, refreshing at most once across every worker.

    Under the row lock the token is re-read: if it differs from `stale_access_token` another worker
    already refreshed and its token is used. The new tokens are committed before they are used.
    An `invalid_grant` answer commits `needs_reauth` with Salesforce's reason, then raises.
    """
    refused: SalesforceOAuthError | None = None
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        if locked.status == Connection.Status.DISCONNECTED or not locked.refresh_token_encrypted:
            raise SalesforceNotConnected("NOT_CONNECTED", "This Salesforce connection is disconnected.", None)
        current = locked.access_token
        if stale_access_token is not None and current and current != stale_access_token:
            return current
        if stale_access_token is not None and locked.status == Connection.Status.NEEDS_REAUTH:
            # Salesforce already refused this refresh token (maybe a moment ago, in another worker):
            # asking again cannot succeed; only a reconnect can.
            raise SalesforceAuthError("invalid_grant", locked.status_reason, 400)
        try:
            grant = oauth.refresh(login_url=locked.login_url, refresh_token=locked.refresh_token)
        except SalesforceOAuthError as exc:
            if not exc.is_invalid_grant:
                raise SalesforceUnavailable(f"Token refresh failed: {exc}") from None
            refused = exc
            _set_status(locked, Connection.Status.NEEDS_REAUTH, _reauth_reason(exc))
        else:
            now = timezone.now()
            locked.set_tokens(access_token=grant.access_token, refresh_token=grant.refresh_token)
            locked.token_issued_at = grant.issued_at
            locked.last_refreshed_at = now
            locked.refresh_count = F("refresh_count") + 1
            fields = [
                "access_token_encrypted",
                "token_issued_at",
                "last_refreshed_at",
                "refresh_count",
                "updated_at",
            ]
            if grant.refresh_token:
                fields.append("refresh_token_encrypted")
            if grant.instance_url and grant.instance_url != locked.instance_url:
                locked.instance_url = grant.instance_url
                fields.append("instance_url")
            locked.save(update_fields=fields)
            logger.info("Refreshed the Salesforce session of connection %s", locked.pk)
            return grant.access_token
    assert refused is not None
    raise SalesforceAuthError(refused.error, _reauth_reason(refused), 400)


def _reauth_reason(exc: SalesforceOAuthError) -> str:
    return f"Salesforce refused the refresh token: {exc.error}" + (
        f" ({exc.description})" if exc.description else ""
    )


def _set_status(connection: Connection, status: str, reason: str) -> None:
    connection.status = status
    connection.status_reason = reason
    connection.status_changed_at = timezone.now()
    connection.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    schedule_ensure_on_commit(connection_id=connection.pk)


@transaction.atomic
def connection_mark_needs_reauth(*, connection: Connection, reason: str) -> Connection:
    """The connection cannot authenticate: its schedules are removed until a reconnect restores them."""
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    if locked.status != Connection.Status.DISCONNECTED:
        _set_status(locked, Connection.Status.NEEDS_REAUTH, reason)
    return locked


def connection_record_api_usage(*, connection: Connection, used: int, limit: int) -> None:
    """Last `Sforce-Limit-Info` seen; a single UPDATE, no read-modify-write."""
    Connection.objects.filter(pk=connection.pk).update(
        api_usage_used=used, api_usage_max=limit, api_usage_seen_at=timezone.now()
    )


@dataclass
class ConnectionTokenStore:
    """A connection's tokens and API usage in the database: the token store of its SalesforceClient
    (`client.TokenStore`). The connection object is refreshed in place, so whoever holds it sees the new
    session too."""

    connection: Connection

    def refreshed_session(self, *, stale_access_token: str | None) -> RefreshedSession:
        token = connection_refresh_access_token(
            connection=self.connection, stale_access_token=stale_access_token
        )
        self.connection.refresh_from_db()
        return RefreshedSession(access_token=token, instance_url=self.connection.instance_url)

    def api_usage_save(self, *, used: int, limit: int) -> None:
        connection_record_api_usage(connection=self.connection, used=used, limit=limit)

    def needs_reauth_save(self, *, reason: str) -> None:
        connection_mark_needs_reauth(connection=self.connection, reason=reason)


def connection_refresh_now(*, connection: Connection) -> Connection:
    """Forces one token refresh (command and manage page)."""
    connection_refresh_access_token(connection=connection, stale_access_token=None)
    connection.refresh_from_db()
    return connection


# --- Disconnect, delete, pause ------------------------------------------------------------------
@sensitive_variables()
def connection_disconnect(*, connection: Connection, reason: str = "", force: bool = False) -> Connection:
    """Revokes the refresh token at Salesforce, then forgets the tokens. Synced data and settings stay.

    If Salesforce cannot be reached the connection is left unchanged unless `force` (the operator's
    command), in which case Salesforce keeps the grant until it expires or an admin revokes it.
    """
    if connection.status == Connection.Status.DISCONNECTED:
        return connection
    if connection.refresh_token_encrypted:
        try:
            oauth.revoke(login_url=connection.login_url, token=connection.refresh_token)
        except SalesforceOAuthError:
            if not force:
                raise
            logger.warning("Disconnecting connection %s without revoking at Salesforce", connection.pk)
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        locked.set_tokens(access_token="", refresh_token="")
        locked.status = Connection.Status.DISCONNECTED
        locked.status_reason = reason or "Disconnected; the refresh token was revoked at Salesforce."
        locked.status_changed_at = timezone.now()
        locked.save(
            update_fields=[
                "access_token_encrypted",
                "refresh_token_encrypted",
                "status",
                "status_reason",
                "status_changed_at",
                "updated_at",
            ]
        )
        schedule_ensure_on_commit(connection_id=locked.pk)
    return locked


@transaction.atomic
def connection_sync_now(*, connection: Connection) -> tuple[str, bool]:
    """ "Sync now": a run of whatever kind is due, or the one already running. Returns (what to tell the
    user, whether a new run started); a run that waits (its task queue down, its task lost and queued
    again) says why."""
    with transaction.atomic():
        run, created = sync_request(connection=connection)
    if run.state == run.State.SKIPPED:
        raise ValidationError(run.state_reason.removeprefix("skipped: ").capitalize())
    run.refresh_from_db()
    if run.state == run.State.QUEUED and run.state_reason:
        return f"The sync is queued, {run.state_reason}.", created
    return ("Sync started." if created else "A sync is already running; it picks up every change."), created


def connection_delete(*, connection: Connection) -> None:
    """Removes a disconnected connection and its sync configuration (cascade); CDP data stays."""
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    if locked.status != Connection.Status.DISCONNECTED:
        raise ValidationError("Disconnect this Salesforce connection before deleting it.")
    connection_id = locked.pk
    locked.delete()
    schedule_ensure_on_commit(connection_id=connection_id)


@transaction.atomic
def connection_set_paused(*, connection: Connection, paused: bool, reason: str = "") -> Connection:
    """Pause removes the sync schedules, resume restores them (both after commit, through `_set_status`)."""
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    if paused and locked.status == Connection.Status.CONNECTED:
        _set_status(locked, Connection.Status.PAUSED, reason or "Paused by a user.")
    elif not paused and locked.status == Connection.Status.PAUSED:
        _set_status(locked, Connection.Status.CONNECTED, "")
    return locked


# --- Keys ---------------------------------------------------------------------------------------
@sensitive_variables()
def connection_rotate_encryption(*, batch_size: int = 200) -> int:
    """Re-encrypts every stored token with the first key of ENCRYPTION_KEYS; returns rows rewritten."""

    rewritten = 0
    ids = list(Connection.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            for connection in (
                Connection.objects.select_for_update()
                .filter(pk__in=ids[start : start + batch_size])
                .order_by("pk")
            ):
                changed = []
                for field in ("access_token_encrypted", "refresh_token_encrypted"):
                    value = getattr(connection, field)
                    if value:
                        setattr(connection, field, crypto.rotate(value))
                        changed.append(field)
                if changed:
                    connection.save(update_fields=changed)
                    rewritten += 1
    return rewritten
