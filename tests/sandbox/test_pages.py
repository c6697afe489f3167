"""The sandbox's own pages in a real browser: the log-in and "Allow Access?" pages, and the operator page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.browser import browser, page, screenshot_dir  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
CALLBACK = "http://localhost:8124/integrations/salesforce/callback/"


def test_log_in_and_allow_in_a_browser(make_sandbox_org, page):  # noqa: F811
    org = make_sandbox_org()
    org.register_callback(CALLBACK)
    landed = {}

    def callback(route):
        landed["url"] = route.request.url
        route.fulfill(status=200, body="connected", content_type="text/plain")

    page.route(f"{CALLBACK}**", callback)
    params = {
        "response_type": "code",
        "client_id": org.client_id,
        "redirect_uri": CALLBACK,
        "scope": "api refresh_token id",
        "state": "browser-1",
    }
    page.goto(f"{org.url}/services/oauth2/authorize?{urlencode(params)}")
    assert page.get_by_role("note").inner_text().count("demo@inflow.local") == 1
    page.screenshot(path=str(screenshot_dir() / "sandbox-login.png"), full_page=True)
    page.get_by_label("Username").fill("demo@inflow.local")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log In").click()
    assert "Please check your username and password." in page.locator("#error").inner_text()
    page.get_by_label("Password").fill("inflow-demo")
    page.get_by_label("Password").press("Enter")
    page.get_by_role("heading", name="Allow Access?").wait_for()
    scopes = page.locator("#scopes li").all_inner_texts()
    assert scopes == [
        "Manage user data via APIs (api)",
        "Perform requests at any time (refresh_token, offline_access)",
        "Access the identity URL service (id, profile, email, address, phone)",
    ]
    page.screenshot(path=str(screenshot_dir() / "sandbox-allow.png"), full_page=True)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{CALLBACK}**")
    query = parse_qs(urlsplit(landed["url"]).query)
    assert query["state"] == ["browser-1"]
    token = org.session().post(
        f"{org.url}/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "client_id": org.client_id,
            "client_secret": org.client_secret,
            "redirect_uri": CALLBACK,
        },
        timeout=10,
    )
    assert token.status_code == 200
    assert token.json()["instance_url"] == org.url


def test_operator_page_in_a_browser(sandbox_org, page):  # noqa: F811
    page.goto(f"{sandbox_org.url}/")
    # The operator page is behind the org's own log-in.
    page.wait_for_url(f"{sandbox_org.url}/login")
    assert not page.get_by_role("heading", name="Records").is_visible()
    page.get_by_label("Username").fill("demo@inflow.local")
    page.get_by_label("Password").fill("inflow-demo")
    page.get_by_role("button", name="Log In").click()
    page.wait_for_url(f"{sandbox_org.url}/")
    assert page.locator("#user").inner_text() == "demo@inflow.local"
    assert page.get_by_role("heading", name="Records").is_visible()
    rows = page.locator("#counts tbody tr").all_inner_texts()
    counts = sandbox_org.counts()
    assert f"Contact\t{counts['Contact']}\t" in "\n".join(rows)
    page.screenshot(path=str(screenshot_dir() / "sandbox-operator.png"), full_page=True)
