"""The landing page and dashboard render in a real browser with their styles (no missing static files)."""

from __future__ import annotations

import pytest

from tests.browser import screenshot_dir
from tests.fixtures import confirmation_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _assert_styled(page) -> None:
    failed = page.evaluate(
        "() => performance.getEntriesByType('resource').filter(r => r.responseStatus >= 400).map(r => r.name)"
    )
    assert failed == []
    # Bootstrap loaded: the navbar is a flex container and the body font is Bootstrap's stack.
    assert page.eval_on_selector("nav.navbar", "el => getComputedStyle(el).display") == "flex"
    assert "system-ui" in page.eval_on_selector("body", "el => getComputedStyle(el).fontFamily")


def test_landing_page_renders_with_styles(live_server, page):
    failed_requests = []
    page.on("requestfailed", lambda request: failed_requests.append(request.url))
    page.on("response", lambda r: r.status >= 400 and failed_requests.append(f"{r.status} {r.url}"))

    page.goto(live_server.url + "/")

    assert page.get_by_role("heading", name="Your customers, in one place.").is_visible()
    _assert_styled(page)
    assert failed_requests == []
    page.screenshot(path=str(screenshot_dir() / "landing.png"), full_page=True)


def test_signup_leads_into_the_onboarding_and_the_empty_home_page_renders(live_server, page):
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_email", "grace@example.com")
    page.fill("#id_password1", "correct-horse-battery-9")
    page.fill("#id_password2", "correct-horse-battery-9")
    page.fill("#id_workspace_name", "Hopper Labs")
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()
    page.goto(live_server.url + confirmation_path("grace@example.com"))  # the emailed link

    page.wait_for_url("**/onboarding/business/")
    page.goto(live_server.url + "/dashboard/")
    assert page.get_by_role("heading", name="Connect Salesforce to bring in your customers").is_visible()
    assert page.get_by_text("Hopper Labs").first.is_visible()
    _assert_styled(page)
    page.screenshot(path=str(screenshot_dir() / "dashboard-empty.png"), full_page=True)
