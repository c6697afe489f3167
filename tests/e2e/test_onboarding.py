"""A new user walks the whole onboarding in a real browser: the web app (live server), a real django-q2
cluster (`manage.py qcluster` subprocess) and the sandbox org process, then finds the people in People.

Screenshots of every step go to `screenshot_dir()` (SCREENSHOT_DIR, or a temp folder).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.browser import browser, page, screenshot_dir  # noqa: F401 - fixtures
from tests.sandbox_org import LOCAL_SANDBOX_ORIGINS

# `sandbox_org` comes from the tests.sandbox_org plugin (conftest.py).
pytest.importorskip("tests.sandbox_org", reason="the sandbox org fixture is not built yet")

from tests.fixtures import confirmation_path
from tests.processes import qcluster

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def salesforce_settings(settings, sandbox_org, live_server):
    # The org's connected app matches callbacks exactly: register this server's.
    sandbox_org.register_callback(live_server.url + "/integrations/salesforce/callback/")
    settings.SALESFORCE_DEFAULT_LOGIN_URL = sandbox_org.url
    settings.SALESFORCE_CLIENT_ID = sandbox_org.client_id
    settings.SALESFORCE_CLIENT_SECRET = sandbox_org.client_secret
    settings.SALESFORCE_LOCAL_ORIGINS = LOCAL_SANDBOX_ORIGINS
    return settings


@pytest.fixture
def q_cluster(live_server, sandbox_org, tmp_path):
    """A real django-q2 cluster on the test database; stopped before the database is flushed."""
    with qcluster(org=sandbox_org, log_path=tmp_path / "qcluster.log") as process:
        yield process


def _shot(browser_page, name: str) -> None:
    browser_page.screenshot(path=str(screenshot_dir() / f"onboarding-{name}.png"), full_page=True)


def _logo_png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (240, 60), (232, 89, 12)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _sandbox_emails(org) -> list[str]:
    return sorted(r["Email"] for r in org.records("Contact") if r.get("Email"))[:3]


def test_new_user_walks_every_step_and_finds_synced_people(
    live_server,
    page,  # noqa: F811
    salesforce_settings,
    sandbox_org,
    q_cluster,
    tmp_path,
):
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Sign up: a new user with a new workspace.
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_email", "ada@lovelace.example")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.fill("#id_workspace_name", "Lovelace Analytics")
    page.get_by_role("button", name="Sign Up").click()
    # The emailed link confirms the address and signs the new user in.
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()
    page.goto(live_server.url + confirmation_path("ada@lovelace.example"))

    # Sign-up leads straight into the onboarding, not an empty dashboard. About your business: B2B -> Salesforce.
    page.wait_for_url("**/onboarding/business/")
    _shot(page, "01-about-your-business")
    page.get_by_label("B2B — I sell to businesses").check()
    page.get_by_label("Salesforce").check()
    page.get_by_role("button", name="Next").click()

    # Connect to Salesforce: the local sandbox org is the default login host.
    page.wait_for_url("**/onboarding/salesforce-connect/")
    assert page.get_by_role("heading", name="Connect to Salesforce").is_visible()
    local = page.get_by_label("Local sandbox org", exact=False)
    assert local.is_checked()  # the README's preselected local org, named as such
    _shot(page, "02-connect-to-salesforce")
    page.get_by_role("button", name="Next").click()

    # Salesforce's log-in and Allow Access pages, rendered by the sandbox org.
    page.wait_for_url(sandbox_org.url + "/**")
    page.fill("#username", "demo@inflow.local")
    page.fill("#password", "inflow-demo")
    _shot(page, "03-salesforce-log-in")
    page.get_by_role("button", name="Log In").click()
    page.get_by_role("button", name="Allow").wait_for()
    _shot(page, "04-salesforce-allow-access")

    # Deny first: a friendly page, nothing saved, and "Try again" leads back into the onboarding.
    page.get_by_role("button", name="Deny").click()
    page.get_by_role("heading", name="Salesforce was not connected").wait_for()
    _shot(page, "04b-salesforce-denied")
    page.get_by_role("link", name="Try again").click()
    page.get_by_role("button", name="Continue to Salesforce").click()
    page.wait_for_url(sandbox_org.url + "/**")
    if page.locator("#username").count():
        page.fill("#username", "demo@inflow.local")
        page.fill("#password", "inflow-demo")
        page.get_by_role("button", name="Log In").click()
    page.get_by_role("button", name="Allow").click()

    # Sync custom fields: defaults preselected; a 51st Contact field is refused.
    page.wait_for_url("**/onboarding/salesforce-fields/")
    contact = page.locator('details[data-object="Contact"]')
    # The search box filters every object's fields and opens the objects that match.
    page.get_by_label("Search fields").fill("mailing city")
    assert contact.get_attribute("open") is not None
    assert contact.locator(".field-row:visible").all_inner_texts()[0].split()[:3] == [
        "Mailing",
        "City",
        "MailingCity",
    ]
    assert contact.locator(".field-row:visible").count() == 1
    assert page.locator('details[data-object="Task"]').is_hidden()
    page.get_by_label("Search fields").fill("")
    assert contact.locator(".field-row:visible").count() > 50
    count = contact.locator("[data-count-n]")
    assert int(count.inner_text()) > 0
    assert contact.locator("td.sample").filter(has_text="@").count() > 0  # sample values from Salesforce
    contact.locator('input[data-field][value="SMS_Opt_In__c"]').check()  # the SMS rule below reads it
    unticked = contact.locator("input[data-field]:not(:checked)")
    while int(count.inner_text()) < 50:
        unticked.first.check()
    assert contact.locator("[data-count]").inner_text() == "50 / 50 fields"
    fifty_first = contact.locator("input[data-field]:not(:checked)").first
    assert fifty_first.is_disabled()
    fifty_first.locator("xpath=..").click()
    assert contact.locator("[data-limit-message]").is_visible()
    assert contact.locator("input[data-field]:checked").count() == 50
    _shot(page, "05-sync-custom-fields-51st-refused")
    page.get_by_role("button", name="Next").click()

    # Email and SMS permissions: SMS from the SMS opt-in checkbox on Contact.
    page.wait_for_url("**/onboarding/salesforce-permissions/")
    assert (
        page.get_by_role("note")
        .inner_text()
        .startswith("The default: without a rule, new contacts are subscribed to email")
    )
    sms = page.locator('[data-permission="Contact-sms"]')
    sms.get_by_label("Read it from a Salesforce field").check()
    sms.get_by_label("Permission field").select_option("SMS_Opt_In__c")
    sms.get_by_label("Value meaning subscribed").fill("true")
    sms.get_by_label("Value meaning unsubscribed").fill("false")
    _shot(page, "06-email-and-sms-permissions")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "06b-email-and-sms-permissions-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Next").click()

    # Custom objects: the organization-like Company Profile.
    page.wait_for_url("**/onboarding/salesforce-custom-objects/")
    company = page.locator('details[data-object="Company_Profile__c"]')
    company.locator("summary").click()
    company.get_by_label("Sync Company Profile").check()
    for field in ("Name", "Domain__c", "Industry__c", "Employees__c"):
        company.locator(f'input[data-field][value="{field}"]').check()
    _shot(page, "07-custom-objects")
    page.get_by_role("button", name="Next").click()

    # Set identifiers: sync Company Profile as organizations, identified by its domain.
    page.wait_for_url("**/onboarding/salesforce-identifiers/")
    rule = page.locator('[data-identifier="Company_Profile__c"]')
    rule.get_by_label("Sync as organizations").check()
    rule.get_by_label("Unique identifier").check()
    rule.get_by_label("Object field").select_option("Domain__c")
    rule.get_by_label("Matches this Inflow field").select_option("str:o:website")
    _shot(page, "08-set-identifiers")
    page.get_by_role("button", name="Next").click()

    # Merge: the seed's labels, a preview, then the first sync.
    page.wait_for_url("**/onboarding/salesforce-merge/")
    page.get_by_label("Import and merge new records only").check()
    page.get_by_role("button", name="Preview with these options").click()
    created = page.locator("[data-preview-created]")
    created.wait_for()
    assert int(created.inner_text()) > 0
    assert page.get_by_label("Import and merge new records only").is_checked()
    _shot(page, "09-merge-with-preview")
    page.get_by_role("button", name="Next").click()

    # Selective sync (between Merge and the first sync): Leads from the web only, counted before saving.
    page.wait_for_url("**/onboarding/salesforce-filters/")
    leads = page.locator('[data-filter-object="Lead"]')
    leads.get_by_label("Sync records matching criteria").check()
    assert leads.locator('[data-condition="0"]').is_visible()
    leads.locator('[data-condition="0"] select[name="Lead__field_0"]').select_option("LeadSource")
    leads.locator('[data-condition="0"] select[name="Lead__operator_0"]').select_option("equals")
    leads.locator('[data-condition="0"] input[name="Lead__values_0"]').fill("Web, Partner Referral")
    page.get_by_role("button", name="Preview matching records").click()
    count = page.locator('[data-preview-object="Lead"] [data-preview-count]')
    count.wait_for()
    web_leads = [r for r in sandbox_org.records("Lead") if r.get("LeadSource") in ("Web", "Partner Referral")]
    assert int(count.inner_text().split()[0]) == len(web_leads) > 0
    assert (
        page.locator('[data-preview-object="Contact"] [data-preview-count]')
        .inner_text()
        .startswith(str(len(sandbox_org.records("Contact"))))
    )
    _shot(page, "09b-selective-sync-with-preview")
    # A filter on a long text field is refused by name, and what was typed stays.
    leads.locator('select[name="Lead__field_1"]').evaluate(
        "el => { const o = document.createElement('option'); o.value = 'Description'; el.add(o); el.value = 'Description'; }"
    )
    leads.locator('input[name="Lead__values_1"]').fill("vip")
    page.get_by_role("button", name="Start the first sync").click()
    refused = leads.locator("[data-filter-errors]")
    refused.wait_for()
    assert "Salesforce cannot filter on" in refused.inner_text()
    assert leads.locator('input[name="Lead__values_0"]').input_value() == "Web, Partner Referral"
    _shot(page, "09c-selective-sync-refused")
    leads.locator('select[name="Lead__field_1"]').select_option("")
    leads.locator('input[name="Lead__values_1"]').fill("")
    page.get_by_role("button", name="Start the first sync").click()

    # Congratulations: live progress until the first sync is done.
    page.wait_for_url("**/onboarding/salesforce-congratulations/")
    _shot(page, "10-congratulations-syncing")
    page.locator('[data-sync-progress][data-state="succeeded"]').wait_for(timeout=180_000)
    assert "Your first sync completed" in page.locator("[data-first-sync-text]").inner_text()
    bars = page.locator("[data-progress-objects] .progress-bar")
    assert bars.count() >= 5
    assert set(bars.all_inner_texts()) == {"100%"}
    _shot(page, "11-congratulations-done")
    page.get_by_role("button", name="Next").click()

    # Business address (a bad postal code first: message next to the field, the rest kept).
    page.wait_for_url("**/onboarding/address/")
    page.get_by_label("Street address").fill("12 St James's Square")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("!!")
    page.get_by_label("Country").select_option("GB")
    page.get_by_role("button", name="Next").click()
    assert page.get_by_text("Enter a postal code of letters, digits, spaces or dashes.").is_visible()
    assert page.get_by_label("City").input_value() == "London"
    page.get_by_label("Postal code").fill("SW1Y 4JH")
    _shot(page, "12-business-address")
    page.get_by_role("button", name="Next").click()

    page.wait_for_url("**/onboarding/email/")
    page.get_by_label("Sender name").fill("Lovelace Analytics")
    page.get_by_label("Reply-to address").fill("hello@lovelace.example")
    _shot(page, "13-email-setup")
    page.get_by_role("button", name="Next").click()

    # Brand setup: the preview follows the options as they change.
    page.wait_for_url("**/onboarding/brand/")
    page.get_by_label("Logo").set_input_files(str(_logo_png(tmp_path / "logo.png")))
    page.get_by_label("Buttons & links").fill("#e8590c")
    page.get_by_label("Font").select_option("georgia")
    page.get_by_label("Button style").select_option("pill")
    button = page.locator(".email-preview-button")
    assert button.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(232, 89, 12)"
    assert "Georgia" in page.locator("[data-preview-body]").evaluate("el => getComputedStyle(el).fontFamily")
    assert page.locator("[data-preview-logo]").is_visible()
    assert "12 St James's Square" in page.locator("[data-preview-address]").inner_text()
    _shot(page, "14-brand-setup")
    page.get_by_role("button", name="Next").click()

    page.wait_for_url("**/onboarding/links/")
    page.get_by_label("Website").fill("https://lovelace.example")
    page.get_by_label("LinkedIn").fill("https://www.linkedin.com/company/lovelace")
    _shot(page, "15-links-and-social")
    page.get_by_role("button", name="Next").click()

    page.wait_for_url("**/onboarding/plan/")
    page.get_by_label("Free", exact=True).check()
    _shot(page, "16-select-a-plan")
    page.get_by_role("button", name="Next").click()
    # The Free plan has no custom objects, and this workspace syncs one: the step says what to change.
    refused = page.locator("#plan-errors")
    refused.wait_for()
    assert (
        "The Free plan does not fit yet: it does not include custom objects and Company Profile is synced"
        in (refused.inner_text())
    )
    _shot(page, "16b-plan-limit")
    page.get_by_label("Premium trial", exact=True).check()
    page.get_by_role("button", name="Next").click()

    page.wait_for_url("**/onboarding/launch/")
    _shot(page, "17-launch")
    page.get_by_role("button", name="Launch Inflow").click()
    page.wait_for_url("**/dashboard/")

    # The synced people are in People.
    page.get_by_role("link", name="People", exact=True).click()
    page.wait_for_url("**/people/**")
    emails = _sandbox_emails(sandbox_org)
    assert len(emails) == 3
    for email in emails:
        page.get_by_label("Search").fill(email)
        page.get_by_label("Search").press("Enter")
        page.get_by_role("cell", name=email, exact=True).wait_for()
    _shot(page, "18-people")

    # The connection's settings pages after onboarding.
    page.goto(live_server.url + "/onboarding/")
    page.wait_for_url("**/dashboard/")
    from cdp.models import Identity
    from integrations.models import Connection

    connection = Connection.objects.get()
    page.goto(f"{live_server.url}/sources/salesforce/{connection.pk}/")
    assert page.get_by_role("heading", name="Last 14 days").is_visible()
    from integrations.models import SourceRecord

    records = SourceRecord.objects.filter(connection=connection, deleted=False).count()
    assert records > 200
    assert page.locator('[data-stat="records"]').inner_text() == f"{records:,}"
    assert Identity.objects.filter(source=f"salesforce:{connection.pk}").exists()
    _shot(page, "19-source-overview")

    # Sync health: the first sync's errors by type, retried and ignored through the engine.
    from integrations.models import SyncError

    page.get_by_role("link", name="Sync health").first.click()
    page.wait_for_url("**/health/")
    open_errors = SyncError.objects.filter(connection=connection, resolved=False).count()
    if open_errors:
        _shot(page, "19b-sync-health")
        retry = page.get_by_role("button", name="Retry", exact=True)
        if retry.count():
            retry.first.click()
            page.get_by_role("alert").filter(has_text="this time").or_(
                page.get_by_role("alert").filter(has_text="still fails")
            ).first.wait_for()
        remaining = SyncError.objects.filter(connection=connection, resolved=False).count()
        page.get_by_role("button", name="Ignore", exact=True).first.click()
        page.get_by_role("alert").filter(has_text="Ignored the error on").wait_for()
        assert SyncError.objects.filter(connection=connection, resolved=False).count() == remaining - 1
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/sources/salesforce/{connection.pk}/fields/")
    _shot(page, "20-source-fields-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert errors == []

    # The selective sync chosen in the onboarding: only those Leads synced.
    from integrations.models import SyncedObject

    lead = SyncedObject.objects.get(connection=connection, api_name="Lead")
    assert (lead.sync_filter, lead.filter_criteria[0]["values"]) == ("matching", ["Web", "Partner Referral"])
    synced_leads = set(
        SourceRecord.objects.filter(connection=connection, object_name="Lead", deleted=False).values_list(
            "sf_id", flat=True
        )
    )
    assert synced_leads == {r["Id"] for r in web_leads}

    # Selective sync and Data retention stay editable on the source's pages.
    page.goto(f"{live_server.url}/sources/salesforce/{connection.pk}/filters/")
    assert (
        page.locator('[data-filter-object="Lead"]')
        .get_by_label("Sync records matching criteria")
        .is_checked()
    )
    _shot(page, "21-source-selective-sync")
    page.goto(f"{live_server.url}/sources/salesforce/{connection.pk}/retention/")
    page.get_by_label("Keep a time frame I choose").check()
    page.get_by_label("Time frame (days)").fill("7")
    page.get_by_label("Salesforce task completed").uncheck()
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("alert").filter(has_text="Data retention saved.").wait_for()
    outside = int(page.locator("[data-stored-outside]").inner_text())
    from cdp.models import Activity

    stored = Activity.objects.filter(source=f"salesforce:{connection.pk}").count()
    _shot(page, "22-source-data-retention")
    if outside:
        page.get_by_role("button", name=re.compile("^Delete the")).click()
        page.get_by_role("alert").filter(has_text=f"Deleted {outside:,} stored").wait_for()
        assert Activity.objects.filter(source=f"salesforce:{connection.pk}").count() == stored - outside
        assert page.locator("[data-stored-outside]").inner_text() == "0"
        _shot(page, "23-source-data-retention-pruned")

    # What a marketer reads on every page: plain words, one set of numbers, accessible at both widths.
    from tests.e2e.pages_check import check_every_page

    check_every_page(page, live_server.url, connection)
