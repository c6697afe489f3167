"""Nobody presses Sync now: a user finishes the onboarding in Chromium, chooses the 1-minute interval, and a
Contact changed in the sandbox org reaches People on its own, through the schedule the lifecycle created,
run by a real `manage.py qcluster` (its scheduler and a worker) against the test database.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser import browser, page, screenshot_dir  # noqa: F401 - fixtures
from tests.fixtures import confirmation_path
from tests.processes import qcluster
from tests.sandbox_org import LOCAL_SANDBOX_ORIGINS

# Not marked slow: 81 s measured on SQLite and on PostgreSQL (slow is for tests over 90 s).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def org(make_sandbox_org, settings, live_server):
    """An org of its own (its data changes here), its connected app knowing this server's callback."""
    org = make_sandbox_org(contacts=40, seed=3)
    org.register_callback(live_server.url + "/integrations/salesforce/callback/")
    settings.SALESFORCE_DEFAULT_LOGIN_URL = org.url
    settings.SALESFORCE_CLIENT_ID = org.client_id
    settings.SALESFORCE_CLIENT_SECRET = org.client_secret
    settings.SALESFORCE_LOCAL_ORIGINS = LOCAL_SANDBOX_ORIGINS
    return org


def finish_onboarding(page, base_url: str, org) -> None:  # noqa: F811
    """The shortest walk through every onboarding step, with the defaults wherever there are some."""
    page.goto(base_url + "/accounts/signup/")
    page.fill("#id_email", "grace@hopper.example")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.fill("#id_workspace_name", "Hopper Analytics")
    page.get_by_role("button", name="Sign Up").click()
    # The emailed link confirms the address and signs the new user in.
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()
    page.goto(base_url + confirmation_path("grace@hopper.example"))
    page.wait_for_url("**/onboarding/business/")
    page.get_by_label("B2B — I sell to businesses").check()
    page.get_by_label("Salesforce").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/onboarding/salesforce-connect/")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(org.url + "/**")
    page.fill("#username", "demo@inflow.local")
    page.fill("#password", "inflow-demo")
    page.get_by_role("button", name="Log In").click()
    page.get_by_role("button", name="Allow").click()
    for step in ("salesforce-fields", "salesforce-permissions", "salesforce-custom-objects"):
        page.wait_for_url(f"**/onboarding/{step}/")
        page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r".*/onboarding/salesforce-(identifiers|merge)/$"))
    if "identifiers" in page.url:  # shown when a selected object cannot link to a person by itself
        page.get_by_role("button", name="Next").click()
        page.wait_for_url("**/onboarding/salesforce-merge/")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/onboarding/salesforce-filters/")
    page.get_by_role("button", name="Start the first sync").click()
    page.wait_for_url("**/onboarding/salesforce-congratulations/")
    page.locator('[data-sync-progress][data-state="succeeded"]').wait_for(timeout=180_000)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/onboarding/address/")
    page.get_by_label("Street address").fill("1 Navy Yard")
    page.get_by_label("City").fill("Arlington")
    page.get_by_label("Postal code").fill("22202")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/onboarding/email/")
    page.get_by_label("Sender name").fill("Hopper Analytics")
    page.get_by_label("Reply-to address").fill("hello@hopper.example")
    page.get_by_role("button", name="Next").click()
    for step in ("brand", "links"):
        page.wait_for_url(f"**/onboarding/{step}/")
        if step == "links":
            page.get_by_label("Website").fill("https://hopper.example")
        page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/onboarding/plan/")
    page.get_by_label("Premium trial", exact=True).check()  # syncing every minute is a Premium feature
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/onboarding/launch/")
    page.get_by_role("button", name="Launch Inflow").click()
    page.wait_for_url("**/dashboard/")


def change_contact_email(org, contact: dict, email: str) -> None:
    """What a Salesforce user does: edit the Contact (over the org's REST API, as any client would)."""
    token = org.token()
    response = org.session().patch(
        f"{token['instance_url']}/services/data/v62.0/sobjects/Contact/{contact['Id']}",
        json={"Email": email},
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 204, response.text[:500]


def people_search_shows(page, base_url: str, email: str) -> bool:  # noqa: F811
    page.goto(f"{base_url}/people/?q={email}")
    return page.get_by_role("cell", name=email, exact=True).count() > 0


def test_a_salesforce_change_reaches_people_on_the_1_minute_schedule_without_sync_now(
    live_server,
    page,  # noqa: F811
    org,
    tmp_path,
):
    page.set_default_timeout(20_000)
    with qcluster(org=org, log_path=tmp_path / "qcluster.log"):
        finish_onboarding(page, live_server.url, org)

        from integrations.models import Connection, SyncRun

        connection = Connection.objects.get()
        overview = f"{live_server.url}/sources/salesforce/{connection.pk}/"
        page.goto(overview)
        schedule = page.locator("[data-schedule]")
        assert schedule.inner_text().startswith("Every 5 minutes · next run"), schedule.inner_text()

        # Schedule page: every minute.
        page.goto(overview + "schedule/")
        page.get_by_label("Every minute").check()
        page.get_by_role("button", name="Save changes").click()
        page.get_by_role("alert").filter(has_text="Schedule saved.").wait_for()
        page.goto(overview)
        assert page.locator("[data-schedule]").inner_text().startswith("Every minute · next run")
        page.screenshot(path=str(screenshot_dir() / "scheduled-sync-overview.png"), full_page=True)

        contact = next(r for r in org.records("Contact") if r.get("Email"))
        new_email = f"renamed.{contact['Id'][-6:].lower()}@hopper.example"
        assert not people_search_shows(page, live_server.url, new_email)
        runs_before = SyncRun.objects.exclude(state=SyncRun.State.SKIPPED).count()
        change_contact_email(org, contact, new_email)

        # Bounded wait, polling People: the scheduler checks every 30 s, the interval is 1 minute.
        started, deadline = time.monotonic(), time.monotonic() + 180
        while not people_search_shows(page, live_server.url, new_email):
            assert time.monotonic() < deadline, (
                "the change never reached People; qcluster log:\n"
                + (tmp_path / "qcluster.log").read_text()[-3000:]
            )
            time.sleep(1)  # one People search a second: the change shows within a second of landing
        waited = time.monotonic() - started
        page.screenshot(path=str(screenshot_dir() / "scheduled-sync-people.png"), full_page=True)

    # It was the schedule: a new incremental run, which nobody asked for on a page.
    new_runs = SyncRun.objects.exclude(state=SyncRun.State.SKIPPED).order_by("pk")[runs_before:]
    assert [run.kind for run in new_runs][:1] == [SyncRun.Kind.INCREMENTAL]
    print(f"the change reached People {waited:.0f} s after it was made in Salesforce")
