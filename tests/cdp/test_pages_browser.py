"""The people pages in a real browser: search with the keyboard, open a person, see their data."""

from __future__ import annotations

import pytest

from cdp.merge import IdentityKey, OrganizationRow, PersonRow, merge_organizations, merge_people
from tests.browser import browser, page, screenshot_dir  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SRC = "salesforce:7"


def test_search_people_and_open_a_person(live_server, page, make_user, make_workspace):  # noqa: F811
    owner = make_user()
    workspace = make_workspace(name="Acme", owner=owner)
    account = IdentityKey(SRC, "Account", "001ACME")
    merge_organizations(
        workspace=workspace, source=SRC, rows=[OrganizationRow(account, {"str:o:name": "Acme Rockets"})]
    )
    merge_people(
        workspace=workspace,
        source=SRC,
        rows=[
            PersonRow(
                IdentityKey(SRC, "Contact", "003ADA"),
                {
                    "str::first": "Ada",
                    "str::last": "Lovelace",
                    "str::email": "ada@acme.example",
                    "geo::city": "London",
                },
                organization_key=account,
            ),
            PersonRow(
                None, {"str::first": "Grace", "str::last": "Hopper", "str::email": "grace@navy.example"}
            ),
        ],
    )

    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_login", owner.email)
    page.fill("#id_password", owner.raw_password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard/")
    assert page.locator("[data-count=people]").inner_text() == "2"

    page.get_by_role("link", name="People").first.click()
    search = page.get_by_label("Search")
    search.fill("love")
    search.press("Enter")
    page.wait_for_url("**/people/?q=love*")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert rows.first.inner_text().split("\t")[:3] == ["Ada Lovelace", "ada@acme.example", "Acme Rockets"]
    page.screenshot(path=str(screenshot_dir() / "cdp-people-search.png"), full_page=True)

    page.get_by_role("link", name="Ada Lovelace").click()
    assert page.get_by_role("heading", name="Ada Lovelace").is_visible()
    assert page.get_by_role("heading", name="Built-in fields").is_visible()
    assert page.get_by_role("heading", name="Identities").is_visible()
    # The identity is named by its object and source, never by the raw Salesforce id.
    assert page.get_by_text("Contact in").first.is_visible()
    assert not page.get_by_text("003ADA").is_visible()
    assert page.get_by_role("link", name="Acme Rockets").is_visible()
    page.screenshot(path=str(screenshot_dir() / "cdp-person.png"), full_page=True)
