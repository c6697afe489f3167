"""Connecting Salesforce: the connect page and the OAuth flow (start, callback), for a new connection or
to reconnect one."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View
from django.views.generic import FormView

from cdp import roles
from cdp.mixins import WorkspaceRequiredMixin
from integrations import plan_limits, selectors, services
from integrations.forms import (
    LOCAL,
    LOGIN_HOSTS,
    CallbackForm,
    ConnectForm,
    default_login_choice,
    local_login_url,
)
from integrations.models import Connection
from integrations.salesforce import oauth
from integrations.salesforce.errors import SalesforceOAuthError

logger = logging.getLogger(__name__)

# Pending OAuth flows in the user's session, keyed by `state` (a few tabs may connect at once).
FLOW_SESSION_KEY = "integrations:salesforce_oauth_flows"
MAX_PENDING_FLOWS = 5
# Salesforce's authorization codes live about 15 minutes; a flow older than that is stale.
FLOW_MAX_AGE_SECONDS = 15 * 60

OAUTH_ERROR_MESSAGES = {
    "invalid_signature": "Salesforce's answer failed its signature check, so it was not trusted.",
    "identity_failed": "Salesforce's identity service did not confirm who signed in.",
    "unreachable": "Salesforce could not be reached.",
    "malformed_response": "Salesforce answered with something that is not a valid token response.",
    "no_refresh_token": "Salesforce did not issue a refresh token, which Inflow needs to keep syncing.",
    "not_configured": "Salesforce is not configured on this Inflow server.",
    "invalid_grant": "Salesforce refused the authorization code (it may have expired or been used already).",
    "invalid_request": "Salesforce refused the request.",
    "invalid_client": "Salesforce refused this server's client credentials.",
    "invalid_client_id": "Salesforce does not know this server's client id.",
}


def safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def callback_url(request: HttpRequest) -> str:
    # Must match a callback registered in the connected app, byte for byte.
    configured = getattr(settings, "SALESFORCE_CALLBACK_URL", "")
    return configured or request.build_absolute_uri(reverse("integrations:salesforce_callback"))


class SalesforceConnectView(WorkspaceRequiredMixin, FormView):
    """GET: choose Production / Sandbox / My Domain. POST: start OAuth at that host."""

    template_name = "integrations/sources/salesforce_connect.html"
    form_class = ConnectForm
    reconnect: Connection | None = None

    def require_manager(self) -> None:
        """Connecting is for the workspace's owners and admins."""
        roles.require_role(self.request.user, self.workspace, *roles.MANAGERS)

    def get(self, request, *args, **kwargs):
        self.require_manager()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.require_manager()
        return super().post(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        initial = default_login_choice()
        if self.reconnect is not None:
            kind = self.reconnect.login_kind
            initial = {
                "login_kind": kind,
                "my_domain_url": "" if kind in LOGIN_HOSTS else self.reconnect.login_url,
            }
            if self.reconnect.login_url.rstrip("/") == local_login_url():
                initial = {"login_kind": LOCAL, "my_domain_url": ""}
        login = self.request.GET.get("login")
        if login in Connection.LoginKind.values:
            initial["login_kind"] = login
        if self.request.GET.get("domain"):
            initial["my_domain_url"] = self.request.GET["domain"][:255]
        initial["next"] = safe_next(self.request, self.request.GET.get("next"))
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            reconnect=self.reconnect, scopes=list(settings.SALESFORCE_SCOPES), **kwargs
        )

    def form_valid(self, form: ConnectForm) -> HttpResponse:
        data = form.cleaned_data
        if self.reconnect is None:
            try:
                plan_limits.check_new_connection(self.workspace)
            except ValidationError as exc:
                form.add_error(None, exc.messages[0])
                return self.form_invalid(form)
        state = secrets.token_urlsafe(32)
        pkce = oauth.new_pkce_pair()
        try:
            url = oauth.authorization_url(
                login_url=data["login_url"],
                redirect_uri=callback_url(self.request),
                state=state,
                code_challenge=pkce.challenge,
            )
        except SalesforceOAuthError as exc:
            form.add_error(
                None,
                f"{OAUTH_ERROR_MESSAGES.get(exc.error, 'Salesforce cannot be reached.')} {exc.description}",
            )
            return self.form_invalid(form)
        flows = dict(self.request.session.get(FLOW_SESSION_KEY) or {})
        flows[state] = {
            "verifier": pkce.verifier,
            "login_url": data["login_url"],
            "login_kind": data["login_kind"],
            "next": safe_next(self.request, data.get("next")),
            "workspace_id": self.workspace.pk,
            "reconnect_id": self.reconnect.pk if self.reconnect is not None else None,
            "created": time.time(),
        }
        newest = sorted(flows.items(), key=lambda item: item[1]["created"])[-MAX_PENDING_FLOWS:]
        self.request.session[FLOW_SESSION_KEY] = dict(newest)
        return redirect(url)


class SalesforceReconnectView(SalesforceConnectView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.workspace:
            self.reconnect = selectors.connection_get(
                workspace=request.workspace, connection_id=kwargs["connection_id"]
            )
        return super().dispatch(request, *args, **kwargs)


class SalesforceCallbackView(WorkspaceRequiredMixin, View):
    """Where Salesforce sends the browser back. Anything that does not match a pending flow stores nothing."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = CallbackForm(request.GET)
        if not form.is_valid():
            return self.failure("Salesforce's answer was incomplete, so nothing was saved.", status=400)
        data = form.cleaned_data
        flows = dict(request.session.get(FLOW_SESSION_KEY) or {})
        flow = flows.pop(data["state"], None)
        request.session[FLOW_SESSION_KEY] = flows
        if flow is None:
            return self.failure(
                "This answer from Salesforce does not belong to a sign-in started here, or it was already used. "
                "Nothing was saved.",
                status=400,
            )
        retry = self.retry_url(flow)
        if time.time() - flow["created"] > FLOW_MAX_AGE_SECONDS:
            return self.failure(
                "The sign-in took too long and expired. Nothing was saved.", retry, status=400
            )
        if flow["workspace_id"] != self.workspace.pk:
            return self.failure(
                "You switched workspace during the sign-in. Nothing was saved.", retry, status=400
            )
        if data["error"]:
            if data["error"] == "access_denied":
                return render(
                    request,
                    "integrations/sources/salesforce_denied.html",
                    {"retry_url": retry, "description": data["error_description"]},
                )
            detail = f"Salesforce said: {data['error']}" + (
                f" — {data['error_description']}" if data["error_description"] else ""
            )
            return self.failure(f"The authorization did not complete. {detail}", retry, status=400)
        reconnect = None
        if flow["reconnect_id"]:
            reconnect = Connection.objects.filter(workspace=self.workspace, pk=flow["reconnect_id"]).first()
        try:
            result = services.connection_connect_via_oauth(
                workspace=self.workspace,
                login_url=flow["login_url"],
                login_kind=flow["login_kind"],
                code=data["code"],
                redirect_uri=callback_url(request),
                code_verifier=flow["verifier"],
                reconnect=reconnect,
            )
        except SalesforceOAuthError as exc:
            logger.info("Salesforce connect failed: %s", exc.error)
            summary = OAUTH_ERROR_MESSAGES.get(exc.error, "Salesforce refused the connection.")
            detail = exc.description or exc.error
            return self.failure(f"{summary} {detail} Nothing was saved.", retry, status=400)
        except ValidationError as exc:
            return self.failure(" ".join(exc.messages), retry, status=400)
        connection = result.connection
        messages.success(
            request,
            f"Salesforce connected: {connection.username} ({connection.org_id})."
            if result.created
            else f"Salesforce reconnected: {connection.username} ({connection.org_id}). Syncing resumes where it stopped.",
        )
        return redirect(flow["next"] or reverse("integrations:salesforce_manage", args=[connection.pk]))

    def retry_url(self, flow: dict) -> str:
        query = {"login": flow["login_kind"]}
        if flow["login_kind"] == Connection.LoginKind.MY_DOMAIN:
            query["domain"] = flow["login_url"]
        if flow.get("next"):
            query["next"] = flow["next"]
        if flow.get("reconnect_id"):
            base = reverse("integrations:salesforce_reconnect", args=[flow["reconnect_id"]])
        else:
            base = reverse("integrations:salesforce_connect")
        return f"{base}?{urlencode(query)}"

    def failure(self, message: str, retry_url: str | None = None, *, status: int) -> HttpResponse:
        return render(
            self.request,
            "integrations/sources/salesforce_error.html",
            {"message": message, "retry_url": retry_url or reverse("integrations:salesforce_connect")},
            status=status,
        )
