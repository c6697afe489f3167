"""A real browser connects Salesforce: Data sources -> Connect -> the sandbox org's log-in and Allow pages
-> back on Manage Salesforce authorization, with the keyboard where a user would use it."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from integrations.models import Connection
from tests.browser import screenshot_dir
from tests.sandbox_org import LOCAL_SANDBOX_ORIGINS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": live_server.url, "httpOnly": True}]
    )


def test_connect_salesforce_in_a_browser(live_server, page, owner, make_sandbox_org, settings):
    org = make_sandbox_org()
    settings.SALESFORCE_CLIENT_ID = org.client_id
    settings.SALESFORCE_CLIENT_SECRET = org.client_secret
    settings.SALESFORCE_LOCAL_ORIGINS = LOCAL_SANDBOX_ORIGINS
    settings.SALESFORCE_DEFAULT_LOGIN_URL = org.url
    # The sandbox's connected app matches callbacks exactly: register this server's.
    base = live_server.url.replace("127.0.0.1", "localhost")
    org.register_callback(base + "/integrations/salesforce/callback/")
    _log_in(page, live_server, owner)
    page.context.add_cookies(
        [{**c, "domain": "localhost"} for c in page.context.cookies() if c["domain"] == "127.0.0.1"]
    )

    page.goto(base + "/sources/")
    assert page.get_by_role("heading", name="No data sources yet").is_visible()
    page.get_by_role("link", name="Connect Salesforce").first.click()
    page.wait_for_url("**/sources/salesforce/connect/")
    # In development the local org is the default choice: the form is ready, Enter submits it.
    local = page.get_by_role("radio", name="Local sandbox org")
    assert local.is_checked()
    page.screenshot(path=str(screenshot_dir() / "salesforce-connect.png"), full_page=True)
    local.press("Enter")

    page.wait_for_url(f"{org.url}/**")
    page.get_by_label("Username").fill("demo@inflow.local")
    page.get_by_label("Password").fill("inflow-demo")
    page.get_by_label("Password").press("Enter")
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url("**/sources/salesforce/*/authorization/")
    assert page.get_by_role("heading", name="Manage Salesforce authorization").is_visible()
    assert page.get_by_text("Salesforce connected: demo@inflow.local").is_visible()
    assert page.locator("#live-check").inner_text().startswith("Working.")
    page.screenshot(path=str(screenshot_dir() / "salesforce-manage.png"), full_page=True)
    connection = Connection.objects.get()
    assert (connection.username, connection.status) == ("demo@inflow.local", "connected")

    page.goto(base + "/sources/")
    row = page.get_by_role("row", name=org.url)
    assert row.get_by_text("Connected").is_visible()
