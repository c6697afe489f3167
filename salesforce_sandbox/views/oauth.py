"""OAuth 2.0 endpoints, as Salesforce's web server flow has them: the log-in and "Allow Access?" pages, token, revoke, identity, userinfo.

The pending authorization request lives in the (signed-cookie) session between the pages; the HTML forms
are CSRF-protected, the token and revoke endpoints are not (clients post to them directly).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import urlencode

import orjson
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from ..api import bearer_token, request_origin
from ..models import OrgUser, Record
from ..routers import current_org, db
from ..services import oauth, org, orgs, throttle
from ..wire import json_response, oauth_error, sf_datetime

PENDING = "sbx_authorize"
SESSION_USER = "sbx_user"
SESSION_ORG = "sbx_org"
# Client ids this browser session approved with a click: only these get a code without the Allow page.
SESSION_APPROVED = "sbx_approved"
LOCKED_OUT = "Too many failed log-ins. Wait a few minutes, then try again."
DEMO_USERNAME = "demo@inflow.local"
DEMO_PASSWORD = "inflow-demo"  # noqa: S105 - public demo credential, shown on the log-in page
SCOPE_LABELS = {
    "api": "Manage user data via APIs (api)",
    "refresh_token": "Perform requests at any time (refresh_token, offline_access)",
    "offline_access": "Perform requests at any time (refresh_token, offline_access)",
    "id": "Access the identity URL service (id, profile, email, address, phone)",
    "openid": "Access unique user identifiers (openid)",
    "full": "Full access (full)",
    "web": "Manage user data via Web browsers (web)",
    "chatter_api": "Access Chatter REST API resources (chatter_api)",
}
MAX_PARAM = 2048


class LoginForm(forms.Form):
    username = forms.CharField(max_length=80, label="Username")
    password = forms.CharField(max_length=128, label="Password", widget=forms.PasswordInput)


class ApproveForm(forms.Form):
    decision = forms.ChoiceField(choices=[("allow", "Allow"), ("deny", "Deny")])


def _error_page(request, error: str, description: str, status: int = 400):
    return render(
        request,
        "salesforce_sandbox/oauth_error.html",
        {"error": error, "description": description},
        status=status,
    )


def _redirect_with(redirect_uri: str, params: dict) -> HttpResponseRedirect:
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(redirect_uri + separator + urlencode({k: v for k, v in params.items() if v}))


@csrf_protect
@require_http_methods(["GET", "POST"])
def authorize(request):
    params = request.GET if request.method == "GET" else request.POST
    values = {
        key: (params.get(key) or "")[:MAX_PARAM]
        for key in (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "prompt",
            "login_hint",
            "nonce",
        )
    }
    app = oauth.app_by_client_id(values["client_id"])
    if app is None:
        return _error_page(request, "invalid_client_id", "client identifier invalid")
    if not values["redirect_uri"] or not oauth.callback_allowed(app, values["redirect_uri"]):
        return _error_page(request, "redirect_uri_mismatch", "redirect_uri must match configuration")
    state = values["state"]
    if values["response_type"] != "code":
        return _redirect_with(
            values["redirect_uri"],
            {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
                "state": state,
            },
        )
    if values["code_challenge_method"] not in ("", "S256"):
        return _redirect_with(
            values["redirect_uri"],
            {
                "error": "invalid_request",
                "error_description": "code_challenge_method not supported",
                "state": state,
            },
        )
    if not app.require_secret and not values["code_challenge"]:
        # A public client cannot keep a secret: without PKCE anyone who saw the code could redeem it.
        return _redirect_with(
            values["redirect_uri"],
            {
                "error": "invalid_request",
                "error_description": "missing required code challenge",
                "state": state,
            },
        )
    values["scope"] = oauth.normalise_scopes(values["scope"], app)
    request.session[PENDING] = values
    prompt = values["prompt"].split()
    if "login" in prompt:
        request.session.pop(SESSION_USER, None)
    if session_user(request) is None:
        return _login_page(request, LoginForm(initial={"username": values["login_hint"]}))
    return _approval_step(request)


def session_user(request) -> OrgUser | None:
    user_pk = request.session.get(SESSION_USER)
    if not isinstance(user_pk, int):
        return None
    return OrgUser.objects.using(db()).filter(pk=user_pk, is_active=True).first()


def login_page(request, form, status=200, action: str = ""):
    return render(
        request,
        "salesforce_sandbox/login.html",
        {
            "form": form,
            "demo_username": DEMO_USERNAME,
            "demo_password": DEMO_PASSWORD,
            "action": action or reverse("oauth-login"),
        },
        status=status,
    )


_login_page = login_page


def _pending(request) -> dict | None:
    pending = request.session.get(PENDING)
    return pending if isinstance(pending, dict) and pending.get("client_id") else None


@csrf_protect
@require_http_methods(["POST"])
def login(request):
    pending = _pending(request)
    if pending is None:
        return _error_page(
            request,
            "invalid_request",
            "Your log-in request has expired. Go back to the application and connect again.",
        )
    form = LoginForm(request.POST)
    if not form.is_valid():
        return _login_page(request, form, status=400)
    user, found_org = log_in(request, form)
    if user is None:
        return _login_page(request, form, status=429 if form.has_error(NON_FIELD_ERRORS, "locked") else 400)
    with orgs.activated(found_org):
        # The user's org decides which connected app answers: it must know the client and its callback.
        app = oauth.app_by_client_id(pending["client_id"])
        if app is None or not oauth.callback_allowed(app, pending["redirect_uri"]):
            request.session.pop(PENDING, None)
            return _error_page(
                request, "invalid_client_id", "client identifier invalid for this user's organization"
            )
        return _approval_step(request)


def log_in(request, form: LoginForm):
    """Check the log-in form against the failed-log-in limits and every org's users; on success start
    the session in the user's org. Returns (user, org) or (None, None) with the form's error set."""
    username = form.cleaned_data["username"]
    address = request.META.get("REMOTE_ADDR", "")
    if throttle.blocked(username=username, address=address):
        form.add_error(None, forms.ValidationError(LOCKED_OUT, code="locked"))
        return None, None
    found_org = orgs.for_username(username)
    user = None
    if found_org is not None:
        with orgs.activated(found_org):
            user = oauth.authenticate_user(username, form.cleaned_data["password"])
    if user is None:
        throttle.failure_record(username=username, address=address)
        form.add_error(
            None,
            "Please check your username and password. If you still can't log in, contact your "
            "Salesforce administrator.",
        )
        return None, None
    throttle.success_record(username=username)
    request.session.cycle_key()
    request.session[SESSION_USER] = user.pk
    request.session[SESSION_ORG] = found_org.name
    request.session[SESSION_APPROVED] = []
    return user, found_org


def _approval_step(request):
    pending = _pending(request)
    user = session_user(request)
    app = oauth.app_by_client_id(pending["client_id"]) if pending else None
    if pending is None or user is None or app is None:
        return _error_page(
            request,
            "invalid_request",
            "Your log-in request has expired. Go back to the application and connect again.",
        )
    # An approval is remembered as on Salesforce, but a code is never issued without one click in this
    # browser session: a page that sends a logged-in user here cannot take a code silently.
    approved = request.session.get(SESSION_APPROVED) or []
    if (
        "consent" not in pending["prompt"].split()
        and app.client_id in approved
        and oauth.has_active_grant(app, user)
    ):
        return _issue_code(request, app, user, pending)
    scopes = []
    for scope in pending["scope"].split():
        label = SCOPE_LABELS.get(scope, f"Access {scope}")
        if label not in scopes:
            scopes.append(label)
    return render(
        request,
        "salesforce_sandbox/allow.html",
        {"app": app, "user": user, "scopes": scopes, "form": ApproveForm()},
    )


def _issue_code(request, app, user, pending):
    code = oauth.code_issue(
        app=app,
        user=user,
        redirect_uri=pending["redirect_uri"],
        scopes=pending["scope"],
        code_challenge=pending["code_challenge"],
        code_challenge_method=pending["code_challenge_method"],
        nonce=pending["nonce"],
    )
    request.session.pop(PENDING, None)
    return _redirect_with(pending["redirect_uri"], {"code": code, "state": pending["state"]})


@csrf_protect
@require_http_methods(["POST"])
def approve(request):
    pending = _pending(request)
    user = session_user(request)
    app = oauth.app_by_client_id(pending["client_id"]) if pending else None
    if pending is None or user is None or app is None:
        return _error_page(
            request,
            "invalid_request",
            "Your log-in request has expired. Go back to the application and connect again.",
        )
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _error_page(request, "invalid_request", "Choose Allow or Deny.")
    if form.cleaned_data["decision"] == "deny":
        request.session.pop(PENDING, None)
        return _redirect_with(
            pending["redirect_uri"],
            {
                "error": "access_denied",
                "error_description": "end-user denied authorization",
                "state": pending["state"],
            },
        )
    approved = [c for c in request.session.get(SESSION_APPROVED) or [] if isinstance(c, str)][-20:]
    if app.client_id not in approved:
        request.session[SESSION_APPROVED] = [*approved, app.client_id]
    return _issue_code(request, app, user, pending)


def _client_credentials(request) -> tuple[str, str]:
    client_id = request.POST.get("client_id", "")
    client_secret = request.POST.get("client_secret", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, client_secret = client_id or basic_id, client_secret or basic_secret
        except (binascii.Error, UnicodeDecodeError):
            pass
    return client_id, client_secret


@csrf_exempt
def token(request):
    org.request_count("token")
    if request.method != "POST":
        return oauth_error("invalid_request", "must use HTTP POST", status=400)
    grant_type = request.POST.get("grant_type", "")
    if not grant_type:
        return oauth_error("invalid_request", "grant type is missing")
    if grant_type not in ("authorization_code", "refresh_token", "password"):
        return oauth_error("unsupported_grant_type", "grant type not supported")
    client_id, client_secret = _client_credentials(request)
    app = oauth.app_by_client_id(client_id)
    if app is None:
        return oauth_error("invalid_client_id", "client identifier invalid")
    if app.require_secret or client_secret or grant_type == "password":
        if not client_secret or not hmac.compare_digest(client_secret.encode(), app.client_secret.encode()):
            return oauth_error("invalid_client", "invalid client credentials")
    username = request.POST.get("username", "")
    address = request.META.get("REMOTE_ADDR", "")
    if grant_type == "password" and throttle.blocked(username=username, address=address):
        return oauth_error("invalid_grant", LOCKED_OUT, status=429)
    try:
        if grant_type == "authorization_code":
            issued = oauth.code_exchange(
                app=app,
                code=request.POST.get("code", ""),
                redirect_uri=request.POST.get("redirect_uri", ""),
                code_verifier=request.POST.get("code_verifier", ""),
            )
        elif grant_type == "refresh_token":
            issued = oauth.refresh_exchange(app=app, refresh_token=request.POST.get("refresh_token", ""))
        else:
            try:
                issued = oauth.password_exchange(
                    app=app, username=username, password=request.POST.get("password", "")
                )
            except oauth.OAuthError:
                throttle.failure_record(username=username, address=address)
                raise
            throttle.success_record(username=username)
    except oauth.OAuthError as exc:
        return oauth_error(exc.error, exc.description, status=exc.status)
    body = oauth.token_json(issued, origin=request_origin(request))
    if request.POST.get("format") == "urlencoded":
        response = HttpResponse(urlencode(body), content_type="application/x-www-form-urlencoded")
    else:
        response = json_response(body)
        response["Content-Type"] = "application/json;charset=UTF-8"
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def revoke(request):
    org.request_count("revoke")
    raw = (request.POST.get("token") if request.method == "POST" else request.GET.get("token")) or ""
    if not raw:
        return oauth_error("unsupported_token_type", "Token type not supported")
    if not oauth.revoke(raw):
        return oauth_error("invalid_token", "Token was invalid")
    return HttpResponse(status=200)


def _token_from(request):
    raw = bearer_token(request) or request.GET.get("oauth_token") or request.GET.get("access_token")
    return oauth.access_token_user(raw, org.state()) if raw else None


def _bad_token():
    return HttpResponse("Bad_OAuth_Token", status=403, content_type="text/plain")


def _user_record(user: OrgUser) -> dict:
    row = (
        Record.objects.using(db())
        .filter(sf_id=user.user_id)
        .values_list("data", "last_modified_date")
        .first()
    )
    data = orjson.loads(row[0]) if row else {}
    data["LastModifiedDate"] = row[1] if row else None
    return data


def _urls(origin: str, version: str) -> dict:
    base = f"{origin}/services/data/v{version}"
    org15 = current_org().org_id[:15]
    return {
        "enterprise": f"{origin}/services/Soap/c/{version}/{org15}",
        "metadata": f"{origin}/services/Soap/m/{version}/{org15}",
        "partner": f"{origin}/services/Soap/u/{version}/{org15}",
        "rest": f"{base}/",
        "sobjects": f"{base}/sobjects/",
        "search": f"{base}/search/",
        "query": f"{base}/query/",
        "recent": f"{base}/recent/",
        "tooling_soap": f"{origin}/services/Soap/T/{version}/{org15}",
        "tooling_rest": f"{base}/tooling/",
        "profile": f"{origin}/{{user_id}}",
        "feeds": f"{base}/chatter/feeds",
        "groups": f"{base}/chatter/groups",
        "users": f"{base}/chatter/users",
        "feed_items": f"{base}/chatter/feed-items",
        "feed_elements": f"{base}/chatter/feed-elements",
        "custom_domain": origin,
    }


def _version_param(request) -> str:
    version = request.GET.get("version", "")
    if version == "latest":
        return "66.0"
    return version if version.replace(".", "").isdigit() and len(version) <= 6 else "{version}"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def identity(request, org_id, user_id):
    org.request_count("identity")
    token = _token_from(request)
    if token is None or token.user.user_id != user_id or org_id != current_org().org_id:
        return _bad_token()
    user = token.user
    origin = request_origin(request)
    data = _user_record(user)
    urls = {
        k: v.replace("{user_id}", user.user_id) for k, v in _urls(origin, _version_param(request)).items()
    }
    modified = data.get("LastModifiedDate")
    body = {
        "id": oauth.identity_url(origin, user),
        "asserted_user": True,
        "user_id": user.user_id,
        "organization_id": current_org().org_id,
        "username": user.username,
        "nick_name": user.username.split("@")[0],
        "display_name": data.get("Name") or user.username,
        "email": data.get("Email") or user.username,
        "email_verified": True,
        "first_name": data.get("FirstName"),
        "last_name": data.get("LastName"),
        "timezone": data.get("TimeZoneSidKey") or "Europe/London",
        "photos": {"picture": f"{origin}/profilephoto/005/F", "thumbnail": f"{origin}/profilephoto/005/T"},
        "addr_street": None,
        "addr_city": None,
        "addr_state": None,
        "addr_country": "GB",
        "addr_zip": None,
        "mobile_phone": None,
        "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": urls,
        "active": True,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_GB",
        "utcOffset": 0,
        "last_modified_date": modified.strftime("%Y-%m-%dT%H:%M:%SZ") if modified else None,
        "is_app_installed": True,
    }
    return json_response(body)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request):
    org.request_count("userinfo")
    token = _token_from(request)
    if token is None:
        return _bad_token()
    user = token.user
    origin = request_origin(request)
    data = _user_record(user)
    urls = {
        k: v.replace("{user_id}", user.user_id) for k, v in _urls(origin, _version_param(request)).items()
    }
    modified = data.get("LastModifiedDate")
    body = {
        "sub": oauth.identity_url(origin, user),
        "user_id": user.user_id,
        "organization_id": current_org().org_id,
        "preferred_username": user.username,
        "nickname": user.username.split("@")[0],
        "name": data.get("Name") or user.username,
        "email": data.get("Email") or user.username,
        "email_verified": True,
        "given_name": data.get("FirstName"),
        "family_name": data.get("LastName"),
        "zoneinfo": data.get("TimeZoneSidKey") or "Europe/London",
        "photos": {"picture": f"{origin}/profilephoto/005/F", "thumbnail": f"{origin}/profilephoto/005/T"},
        "profile": f"{origin}/{user.user_id}",
        "picture": f"{origin}/profilephoto/005/F",
        "address": {"country": "GB"},
        "is_salesforce_integration_user": False,
        "urls": urls,
        "active": True,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_GB",
        "utcOffset": 0,
        "updated_at": sf_datetime(modified) if modified else None,
        "is_app_installed": True,
    }
    return json_response(body)


@require_http_methods(["GET"])
def keys(request):
    """The public keys that verify id_tokens (JWKS)."""
    from ..services.oidc import jwks

    return json_response(jwks())


@require_http_methods(["GET"])
def openid_configuration(request):
    origin = request_origin(request)
    return json_response(
        {
            "issuer": origin,
            "authorization_endpoint": f"{origin}/services/oauth2/authorize",
            "token_endpoint": f"{origin}/services/oauth2/token",
            "revocation_endpoint": f"{origin}/services/oauth2/revoke",
            "userinfo_endpoint": f"{origin}/services/oauth2/userinfo",
            "jwks_uri": f"{origin}/id/keys",
            "scopes_supported": [
                "id",
                "api",
                "web",
                "full",
                "openid",
                "refresh_token",
                "offline_access",
                "profile",
                "email",
                "address",
                "phone",
            ],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "password"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        }
    )
