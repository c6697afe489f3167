"""A real browser sets a permission's sync direction on the source settings page, with the keyboard and mouse
a user would use; the choice is saved per object and channel."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from integrations.models import SyncedObject
from tests.browser import screenshot_dir
from tests.integrations.sync.conftest import connect, select_objects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": live_server.url, "httpOnly": True}]
    )


def test_the_sync_direction_is_chosen_on_the_permissions_page(
    live_server, page, workspace, owner, make_sandbox_org, sf_settings
):
    org = make_sandbox_org(contacts=40, seed=21)
    connection = connect(workspace, org)
    select_objects(connection, ("Account", "Contact", "Lead"))
    _log_in(page, live_server, owner)

    page.goto(f"{live_server.url}/sources/salesforce/{connection.pk}/permissions/")
    contact_email = page.locator('[data-permission="Contact-email"]')
    from_salesforce = contact_email.get_by_label("Update Inflow from Salesforce")
    assert from_salesforce.is_checked()  # the default: nothing is written to Salesforce
    contact_email.get_by_label("Keep both in sync").check()
    page.locator('[data-permission="Lead-email"]').get_by_label("Update Salesforce from Inflow").check()
    page.screenshot(path=str(screenshot_dir() / "permissions-direction.png"), full_page=True)
    page.get_by_role("button", name="Save changes").click()

    page.wait_for_load_state()
    assert page.get_by_text("Permissions saved.").is_visible()
    assert page.locator('[data-permission="Contact-email"]').get_by_label("Keep both in sync").is_checked()
    rules = {o.api_name: o.email_permission for o in SyncedObject.objects.filter(connection=connection)}
    assert rules["Contact"]["direction"] == "both"
    assert rules["Lead"]["direction"] == "to_salesforce"
    page.screenshot(path=str(screenshot_dir() / "permissions-direction-saved.png"), full_page=True)
