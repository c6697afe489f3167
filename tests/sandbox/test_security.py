"""The sandbox org ships with the product: hostile input must not stall it, and no code is taken silently.

Each test drives a real sandbox org process over HTTP (the LIKE matcher is also timed on its own).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from salesforce_sandbox.soql import matches, parse

CALLBACK = "http://localhost:8123/integrations/salesforce/callback/"
NOW = None


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _csrf(browser) -> str:
    return browser.cookies.get("sbx_csrftoken")


def _authorize(org, browser, *, client_id=None, redirect_uri=CALLBACK, **extra):
    params = {
        "response_type": "code",
        "client_id": client_id or org.client_id,
        "redirect_uri": redirect_uri,
        "scope": "api refresh_token id",
        "state": "s-1",
        **extra,
    }
    return browser.get(
        f"{org.url}/services/oauth2/authorize", params=params, allow_redirects=False, timeout=10
    )


def _log_in(org, browser, username="demo@inflow.local", password="inflow-demo"):  # noqa: S107
    return browser.post(
        f"{org.url}/services/oauth2/authorize/login",
        data={"username": username, "password": password, "csrfmiddlewaretoken": _csrf(browser)},
        allow_redirects=False,
        timeout=10,
    )


def _allow(org, browser):
    return browser.post(
        f"{org.url}/services/oauth2/authorize/approve",
        data={"decision": "allow", "csrfmiddlewaretoken": _csrf(browser)},
        allow_redirects=False,
        timeout=10,
    )


# -- LIKE without backtracking -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a" * 80, False), ("a" * 79 + "b", True), ("x" * 80, False), ("ab" * 40, True)],
)
def test_a_pathological_like_pattern_answers_at_once(value, expected):
    # A backtracking regex tries every way to place five runs of "anything" in 80 characters: seconds.
    where = parse("SELECT Id FROM Contact WHERE Description LIKE '%a%a%a%a%a%b'").where
    started = time.perf_counter()
    result = matches(where, {"Description": value}, now=NOW)
    assert time.perf_counter() - started < 0.05
    assert result is expected


def test_a_pathological_like_query_over_http_finishes_fast(make_sandbox_org):
    org = make_sandbox_org(contacts=20)
    http = org.session()
    http.headers["Authorization"] = f"Bearer {org.token()['access_token']}"
    base = f"{org.url}/services/data/v62.0"
    for value in ("a" * 80, "a" * 79 + "b"):
        created = http.post(f"{base}/sobjects/Contact/", json={"LastName": "Like", "Title": value})
        assert created.status_code == 201, created.text
    pattern = "%a" * 12 + "%b"
    started = time.monotonic()
    answer = http.get(
        f"{base}/query/",
        # Title, not Description: Salesforce refuses to filter on a long text area (filterable: false).
        params={"q": "SELECT Id, Title FROM Contact WHERE Title LIKE '" + pattern + "'"},  # noqa: S608 - SOQL sent to the org under test
    )
    elapsed = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert [r["Title"] for r in answer.json()["records"]] == ["a" * 79 + "b"]
    assert elapsed < 5


# -- callbacks, PKCE, approval ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:9999/integrations/salesforce/callback/",  # another local port: another process
        "http://localhost:8123/integrations/salesforce/callback/x",
        "http://localhost:8123/integrations/salesforce/callback/?next=evil",
        "https://localhost:8123/integrations/salesforce/callback/",
    ],
)
def test_only_an_exactly_registered_callback_gets_a_redirect(sandbox_org, redirect_uri):
    answer = _authorize(sandbox_org, sandbox_org.session(), redirect_uri=redirect_uri)
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert "redirect_uri must match configuration" in answer.text


def test_a_newly_registered_callback_is_accepted(make_sandbox_org):
    org = make_sandbox_org()
    other = "http://localhost:9999/integrations/salesforce/callback/"
    assert _authorize(org, org.session(), redirect_uri=other).status_code == 400
    org.register_callback(other)
    assert _authorize(org, org.session(), redirect_uri=other).status_code == 200


def test_a_public_client_must_use_pkce(make_sandbox_org):
    org = make_sandbox_org()
    org.manage("sandbox_app", "--create", "--client-id", "public-cli", "--public", "--callback", CALLBACK)
    browser = org.session()
    refused = _authorize(org, browser, client_id="public-cli")
    assert refused.status_code == 302
    assert parse_qs(urlsplit(refused.headers["Location"]).query) == {
        "error": ["invalid_request"],
        "error_description": ["missing required code challenge"],
        "state": ["s-1"],
    }
    verifier, challenge = _pkce()
    assert (
        _authorize(
            org, browser, client_id="public-cli", code_challenge=challenge, code_challenge_method="S256"
        ).status_code
        == 200
    )
    assert "Allow Access?" in _log_in(org, browser).text
    code = parse_qs(urlsplit(_allow(org, browser).headers["Location"]).query)["code"][0]
    token = f"{org.url}/services/oauth2/token"
    base = {"grant_type": "authorization_code", "client_id": "public-cli", "redirect_uri": CALLBACK}
    # No secret: the verifier is the proof. Without it the code is refused (and spent).
    missing = org.session().post(token, data={**base, "code": code}, timeout=10)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    browser = org.session()
    _authorize(org, browser, client_id="public-cli", code_challenge=challenge, code_challenge_method="S256")
    _log_in(org, browser)
    code = parse_qs(urlsplit(_allow(org, browser).headers["Location"]).query)["code"][0]
    issued = org.session().post(token, data={**base, "code": code, "code_verifier": verifier}, timeout=10)
    assert issued.status_code == 200, issued.text
    assert issued.json()["access_token"].startswith("00D")


def test_a_remembered_approval_still_needs_one_click_in_the_browser(make_sandbox_org):
    org = make_sandbox_org()
    org.token()  # the demo user has approved the app before (a live grant)
    browser = org.session()
    _authorize(org, browser)
    page = _log_in(org, browser)
    # A page that sends a logged-in user to /authorize cannot take a code without them seeing this.
    assert page.status_code == 200 and "Allow Access?" in page.text
    assert _allow(org, browser).status_code == 302
    # Once this browser clicked Allow, the remembered approval goes straight back, as on Salesforce.
    again = _authorize(org, browser, state="s-2")
    assert again.status_code == 302
    assert parse_qs(urlsplit(again.headers["Location"]).query)["state"] == ["s-2"]
    # Another browser session (the same user) is asked again.
    other = org.session()
    _authorize(org, other)
    assert "Allow Access?" in _log_in(org, other).text


# -- the operator page, failed log-ins, large bodies -------------------------------------------------------


def test_the_operator_page_needs_a_log_in(sandbox_org):
    browser = sandbox_org.session()
    home = browser.get(f"{sandbox_org.url}/", allow_redirects=False, timeout=10)
    assert home.status_code == 302 and home.headers["Location"] == "/login"
    form = browser.get(f"{sandbox_org.url}/login", timeout=10)
    assert "Records" not in form.text and "Connected apps" not in form.text
    wrong = browser.post(
        f"{sandbox_org.url}/login",
        data={"username": "demo@inflow.local", "password": "nope", "csrfmiddlewaretoken": _csrf(browser)},
        timeout=10,
    )
    assert wrong.status_code == 400 and "Records" not in wrong.text
    browser.post(
        f"{sandbox_org.url}/login",
        data={
            "username": "demo@inflow.local",
            "password": "inflow-demo",
            "csrfmiddlewaretoken": _csrf(browser),
        },
        timeout=10,
    )
    home = browser.get(f"{sandbox_org.url}/", timeout=10)
    assert home.status_code == 200
    assert re.search(r'id="user">demo@inflow.local<', home.text)
    assert "Records" in home.text
    browser.post(f"{sandbox_org.url}/logout", data={"csrfmiddlewaretoken": _csrf(browser)}, timeout=10)
    assert browser.get(f"{sandbox_org.url}/", allow_redirects=False, timeout=10).status_code == 302


def test_the_log_in_page_locks_a_user_out_after_ten_failures(sandbox_org):
    browser = sandbox_org.session()
    _authorize(sandbox_org, browser)
    for _ in range(10):
        assert _log_in(sandbox_org, browser, password="wrong").status_code == 400
    locked = _log_in(sandbox_org, browser)  # the right password, too late
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.text
    assert "Allow Access?" not in locked.text
    # The password grant counts against the same user.
    token = sandbox_org.session().post(
        f"{sandbox_org.url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": sandbox_org.client_id,
            "client_secret": sandbox_org.client_secret,
            "username": "demo@inflow.local",
            "password": "inflow-demo",
        },
        timeout=10,
    )
    assert token.status_code == 429
    assert "access_token" not in token.text


def test_the_password_grant_locks_a_user_out_after_ten_failures(make_sandbox_org):
    org = make_sandbox_org()
    url = f"{org.url}/services/oauth2/token"
    data = {
        "grant_type": "password",
        "client_id": org.client_id,
        "client_secret": org.client_secret,
        "username": "demo@inflow.local",
    }
    assert org.session().post(url, data={**data, "password": "inflow-demo"}, timeout=10).status_code == 200
    for _ in range(10):
        wrong = org.session().post(url, data={**data, "password": "wrong"}, timeout=10)
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    locked = org.session().post(url, data={**data, "password": "inflow-demo"}, timeout=10)
    assert locked.status_code == 429
    assert locked.json()["error_description"].startswith("Too many failed log-ins")
    # Another user of the org is not locked out by the demo user's failures.
    browser = org.session()
    _authorize(org, browser)
    assert "Please check your username" in _log_in(org, browser, username="x@example.com").text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/services/data/v62.0/sobjects/Contact/", "application/json"),
        ("/services/oauth2/token", "application/x-www-form-urlencoded"),
        ("/services/data/v62.0/composite/batch", "application/json"),
    ],
)
def test_a_body_over_the_limit_is_413_not_500(sandbox_org, path, content_type):
    token = sandbox_org.token()["access_token"]
    body = b'{"LastName": "' + b"x" * 3_000_000 + b'"}'
    answer = sandbox_org.session().post(
        f"{sandbox_org.url}{path}",
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 413
    assert answer.json()[0]["errorCode"] == "REQUEST_ENTITY_TOO_LARGE"
