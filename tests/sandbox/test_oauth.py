"""The OAuth 2.0 web-server flow against a running sandbox org: pages, codes, tokens, refresh, revoke."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

CALLBACK = "http://localhost:8123/integrations/salesforce/callback/"
EXPIRED = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
# The timestamps the org's time limits are measured from, per table (for SandboxOrg.pass_time).
GRANTS = ("salesforce_sandbox_grant", "created_at", "last_used_at")
ACCESS_TOKENS = ("salesforce_sandbox_accesstoken", "issued_at", "expires_at")
# Idle expiry reads when a locator was last used; its creation time is the query snapshot and, on an org
# shared with other tests, what an earlier "expire every locator" fault compares against: it stays put.
LOCATORS = ("salesforce_sandbox_querycursor", "last_used_at")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _csrf(session) -> str:
    return session.cookies.get("sbx_csrftoken")


def authorize_code(
    org,
    *,
    challenge: str | None = None,
    redirect_uri: str = CALLBACK,
    scope="api refresh_token id",
    state="st-1",
) -> tuple[str, object]:
    """Log in as the demo user and allow access; returns (code, browser session)."""
    browser = org.session()
    params = {
        "response_type": "code",
        "client_id": org.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    page = browser.get(f"{org.url}/services/oauth2/authorize", params=params, timeout=10)
    assert page.status_code == 200
    assert "demo@inflow.local" in page.text and "inflow-demo" in page.text
    allow = browser.post(
        f"{org.url}/services/oauth2/authorize/login",
        data={
            "username": "demo@inflow.local",
            "password": "inflow-demo",
            "csrfmiddlewaretoken": _csrf(browser),
        },
        headers={"Referer": org.url + "/"},
        timeout=10,
        allow_redirects=False,
    )
    assert allow.status_code == 200, allow.text
    assert "Allow Access?" in allow.text
    assert "Manage user data via APIs (api)" in allow.text
    assert "Perform requests at any time (refresh_token, offline_access)" in allow.text
    done = browser.post(
        f"{org.url}/services/oauth2/authorize/approve",
        data={"decision": "allow", "csrfmiddlewaretoken": _csrf(browser)},
        headers={"Referer": org.url + "/"},
        timeout=10,
        allow_redirects=False,
    )
    assert done.status_code == 302
    location = urlsplit(done.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0], browser


def exchange(org, code: str, verifier: str | None = None, redirect_uri: str = CALLBACK):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": org.client_id,
        "client_secret": org.client_secret,
        "redirect_uri": redirect_uri,
    }
    if verifier:
        data["code_verifier"] = verifier
    return org.session().post(f"{org.url}/services/oauth2/token", data=data, timeout=10)


def refresh(org, refresh_token: str):
    return org.session().post(
        f"{org.url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": org.client_id,
            "client_secret": org.client_secret,
        },
        timeout=10,
    )


def api_get(org, token: str, path: str = "/services/data/v62.0/limits/"):
    return org.session().get(f"{org.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_code_token_refresh_revoke(make_sandbox_org):
    org = make_sandbox_org()
    verifier, challenge = pkce_pair()
    code, _ = authorize_code(org, challenge=challenge)
    response = exchange(org, code, verifier)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert list(body) == [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ]
    assert body["instance_url"] == org.url
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api refresh_token id"
    assert body["access_token"].startswith("00DDw0000000001!")
    assert re.fullmatch(r"\d{13}", body["issued_at"])
    assert re.fullmatch(rf"{re.escape(org.url)}/id/00D\w{{15}}/005\w{{15}}", body["id"])
    expected_signature = base64.b64encode(
        hmac.new(
            org.client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert body["signature"] == expected_signature
    assert api_get(org, body["access_token"]).status_code == 200

    identity = org.session().get(
        body["id"], headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert identity.status_code == 200
    assert identity.json()["username"] == "demo@inflow.local"
    assert identity.json()["organization_id"] == body["id"].split("/")[-2]
    userinfo = org.session().get(
        f"{org.url}/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert userinfo.json()["preferred_username"] == "demo@inflow.local"

    refreshed = refresh(org, body["refresh_token"])
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert "refresh_token" not in new
    assert list(new) == [
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ]
    assert new["access_token"] != body["access_token"]
    assert api_get(org, new["access_token"]).status_code == 200

    revoked = org.session().post(
        f"{org.url}/services/oauth2/revoke", data={"token": body["refresh_token"]}, timeout=10
    )
    assert revoked.status_code == 200
    again = refresh(org, body["refresh_token"])
    assert again.status_code == 400
    assert again.json() == EXPIRED
    # Revoking the refresh token revoked the access tokens issued from it.
    expired = api_get(org, new["access_token"])
    assert expired.status_code == 401
    assert expired.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_code_is_single_use(make_sandbox_org):
    org = make_sandbox_org()
    code, _ = authorize_code(org)
    assert exchange(org, code).status_code == 200
    reused = exchange(org, code)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "invalid authorization code"}


def test_pkce_mismatch_and_missing_verifier(make_sandbox_org):
    org = make_sandbox_org()
    _, challenge = pkce_pair()
    code, _ = authorize_code(org, challenge=challenge)
    wrong = exchange(org, code, verifier="not-the-verifier-" + "x" * 40)
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_request", "error_description": "invalid code verifier"}
    code, _ = authorize_code(org, challenge=challenge)
    missing = exchange(org, code)
    assert missing.status_code == 400
    assert missing.json() == {"error": "invalid_grant", "error_description": "invalid code verifier"}


def test_wrong_redirect_uri_shows_error_page_and_never_redirects(sandbox_org):
    browser = sandbox_org.session()
    response = browser.get(
        f"{sandbox_org.url}/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": sandbox_org.client_id,
            "redirect_uri": "https://evil.example.com/integrations/salesforce/callback/",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 400
    assert "error=redirect_uri_mismatch" in response.text
    assert "Location" not in response.headers


def test_deny_redirects_with_access_denied(sandbox_org):
    browser = sandbox_org.session()
    browser.get(
        f"{sandbox_org.url}/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": sandbox_org.client_id,
            "redirect_uri": CALLBACK,
            "state": "xyz",
            "prompt": "consent",
        },
        timeout=10,
    )
    browser.post(
        f"{sandbox_org.url}/services/oauth2/authorize/login",
        data={
            "username": "demo@inflow.local",
            "password": "inflow-demo",
            "csrfmiddlewaretoken": _csrf(browser),
        },
        timeout=10,
    )
    denied = browser.post(
        f"{sandbox_org.url}/services/oauth2/authorize/approve",
        data={"decision": "deny", "csrfmiddlewaretoken": _csrf(browser)},
        allow_redirects=False,
        timeout=10,
    )
    assert denied.status_code == 302
    query = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert query == {
        "error": ["access_denied"],
        "error_description": ["end-user denied authorization"],
        "state": ["xyz"],
    }


def test_wrong_password_and_garbage_posts_stay_on_the_login_page(sandbox_org):
    browser = sandbox_org.session()
    browser.get(
        f"{sandbox_org.url}/services/oauth2/authorize",
        params={"response_type": "code", "client_id": sandbox_org.client_id, "redirect_uri": CALLBACK},
        timeout=10,
    )
    wrong = browser.post(
        f"{sandbox_org.url}/services/oauth2/authorize/login",
        data={"username": "demo@inflow.local", "password": "nope", "csrfmiddlewaretoken": _csrf(browser)},
        timeout=10,
    )
    assert wrong.status_code == 400
    assert "Please check your username and password." in wrong.text
    garbage = browser.post(
        f"{sandbox_org.url}/services/oauth2/authorize/login",
        data={
            "username": "x" * 5000,
            "password": ["a", "b"],
            "\x00": "\udcff".encode("utf-8", "surrogatepass"),
            "csrfmiddlewaretoken": _csrf(browser),
        },
        timeout=10,
    )
    assert garbage.status_code == 400
    assert "Log In" in garbage.text
    no_csrf = sandbox_org.session().post(
        f"{sandbox_org.url}/services/oauth2/authorize/login",
        data={"username": "demo@inflow.local", "password": "inflow-demo"},
        timeout=10,
    )
    assert no_csrf.status_code == 403


@pytest.mark.parametrize(
    "data, expected",
    [
        ({}, {"error": "invalid_request", "error_description": "grant type is missing"}),
        (
            {"grant_type": "magic"},
            {"error": "unsupported_grant_type", "error_description": "grant type not supported"},
        ),
        (
            {"grant_type": "refresh_token", "client_id": "nope", "client_secret": "x", "refresh_token": "y"},
            {"error": "invalid_client_id", "error_description": "client identifier invalid"},
        ),
        (
            {
                "grant_type": "refresh_token",
                "client_id": "inflow-local-dev",
                "client_secret": "wrong",
                "refresh_token": "y",
            },
            {"error": "invalid_client", "error_description": "invalid client credentials"},
        ),
        (
            {
                "grant_type": "refresh_token",
                "client_id": "inflow-local-dev",
                "client_secret": "inflow-local-dev-secret",
                "refresh_token": "5Aep861unknown",
            },
            EXPIRED,
        ),
    ],
)
def test_token_endpoint_errors(sandbox_org, data, expected):
    response = sandbox_org.session().post(f"{sandbox_org.url}/services/oauth2/token", data=data, timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == expected


def test_refresh_token_revoked_by_fault_is_invalid_grant(make_sandbox_org):
    org = make_sandbox_org()
    issued = org.token()
    org.faults(revoke_refresh_tokens=True)
    response = refresh(org, issued["refresh_token"])
    assert response.status_code == 400
    assert response.json() == EXPIRED


def test_expire_access_tokens_fault(make_sandbox_org):
    org = make_sandbox_org()
    issued = org.token()
    assert api_get(org, issued["access_token"]).status_code == 200
    org.faults(expire_access_tokens=True)
    assert api_get(org, issued["access_token"]).status_code == 401
    new = refresh(org, issued["refresh_token"]).json()
    assert api_get(org, new["access_token"]).status_code == 200


def test_sixth_grant_evicts_the_oldest(make_sandbox_org):
    org = make_sandbox_org()
    grants = [org.token() for _ in range(6)]
    assert refresh(org, grants[0]["refresh_token"]).json() == EXPIRED
    for grant in grants[1:]:
        assert refresh(org, grant["refresh_token"]).status_code == 200


def _app(org, *args):
    return org.manage("sandbox_app", *args).stdout


def test_refresh_token_policies(make_sandbox_org):
    org = make_sandbox_org()
    assert "Immediately expire refresh token" in _app(org, "--refresh-policy", "immediately")
    assert refresh(org, org.token()["refresh_token"]).json() == EXPIRED

    # The org's clock goes forward by moving the grants' timestamps back (GRANTS); the TTLs leave this
    # test a minute of real time between steps, however slow the machine.
    _app(org, "--refresh-policy", "expire_after", "--refresh-ttl", "60")
    issued = org.token()
    assert refresh(org, issued["refresh_token"]).status_code == 200
    org.pass_time(*GRANTS, seconds=50)
    assert refresh(org, issued["refresh_token"]).status_code == 200  # a use does not extend it
    org.pass_time(*GRANTS, seconds=11)
    assert refresh(org, issued["refresh_token"]).json() == EXPIRED

    _app(org, "--refresh-policy", "expire_if_unused", "--refresh-ttl", "60")
    issued = org.token()
    for _ in range(2):  # each use restarts the idle clock: 80 s after the grant, it still refreshes
        org.pass_time(*GRANTS, seconds=40)
        assert refresh(org, issued["refresh_token"]).status_code == 200
    org.pass_time(*GRANTS, seconds=61)
    assert refresh(org, issued["refresh_token"]).json() == EXPIRED

    _app(org, "--refresh-policy", "until_revoked", "--rotate")
    issued = org.token()
    rotated = refresh(org, issued["refresh_token"]).json()
    assert rotated["refresh_token"] != issued["refresh_token"]
    assert refresh(org, issued["refresh_token"]).json() == EXPIRED
    assert refresh(org, rotated["refresh_token"]).status_code == 200


def test_session_timeout_expires_access_tokens(make_sandbox_org):
    org = make_sandbox_org()
    _app(org, "--session-timeout", "60")
    issued = org.token()
    org.pass_time(*ACCESS_TOKENS, seconds=50)
    assert api_get(org, issued["access_token"]).status_code == 200
    org.pass_time(*ACCESS_TOKENS, seconds=11)
    expired = api_get(org, issued["access_token"])
    assert expired.status_code == 401
    assert expired.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_idle_locators_expire(sandbox_org):
    """Salesforce forgets a query locator left unused for 15 minutes (the org's default)."""
    org = sandbox_org
    token = org.token()["access_token"]
    org.faults(short_page_size=50)
    first = api_get(org, token, "/services/data/v62.0/query?q=SELECT+Id+FROM+Contact").json()
    org.pass_time(*LOCATORS, seconds=14 * 60 + 50)
    second = api_get(org, token, first["nextRecordsUrl"])
    assert second.status_code == 200
    org.pass_time(*LOCATORS, seconds=15 * 60)
    stale = api_get(org, token, second.json()["nextRecordsUrl"])
    assert stale.status_code == 400
    assert stale.json() == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_openid_scope_adds_a_verifiable_id_token(make_sandbox_org):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    org = make_sandbox_org()
    browser = org.session()
    params = {
        "response_type": "code",
        "client_id": org.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid api refresh_token",
        "nonce": "n-0S6_WzA2Mj",
        "state": "s",
    }
    browser.get(f"{org.url}/services/oauth2/authorize", params=params, timeout=10)
    browser.post(
        f"{org.url}/services/oauth2/authorize/login",
        timeout=10,
        data={
            "username": "demo@inflow.local",
            "password": "inflow-demo",
            "csrfmiddlewaretoken": _csrf(browser),
        },
    )
    done = browser.post(
        f"{org.url}/services/oauth2/authorize/approve",
        allow_redirects=False,
        timeout=10,
        data={"decision": "allow", "csrfmiddlewaretoken": _csrf(browser)},
    )
    code = parse_qs(urlsplit(done.headers["Location"]).query)["code"][0]
    body = exchange(org, code).json()
    assert list(body) == [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "id_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ]
    header, claims, signature = body["id_token"].split(".")
    claims_json = json.loads(_b64decode(claims))
    assert claims_json["aud"] == org.client_id
    assert claims_json["sub"] == body["id"]
    assert claims_json["nonce"] == "n-0S6_WzA2Mj"
    assert claims_json["iss"] == org.url
    jwks = org.session().get(f"{org.url}/id/keys", timeout=10).json()["keys"][0]
    assert json.loads(_b64decode(header))["kid"] == jwks["kid"]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(_b64decode(jwks["e"]), "big"), int.from_bytes(_b64decode(jwks["n"]), "big")
    ).public_key()
    public.verify(_b64decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    discovery = org.session().get(f"{org.url}/.well-known/openid-configuration", timeout=10).json()
    assert discovery["jwks_uri"] == f"{org.url}/id/keys"
