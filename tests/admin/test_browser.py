"""The console in a real browser: an operator signs in, reads Sync health and runs an action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import SyncError, SyncRun
from tests.browser import screenshot_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def sign_in(page, live_server, staff):
    # The console's own sign-in page sends the operator to the app's (rate-limited) one.
    page.goto(live_server.url + "/admin/login/")
    page.wait_for_url("**/accounts/login/?next=/admin/")
    page.fill("#id_login", staff.email)
    page.fill("#id_password", staff.raw_password)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/admin/")


def test_operator_reads_sync_health_and_syncs_from_the_list(
    live_server, page, staff, make_connection, workspace, make_workspace
):
    healthy = make_connection(
        workspace, username="healthy@acme.example", api_usage_used=3200, api_usage_max=15000
    )
    make_connection(
        make_workspace(name="Zeta"),
        status="needs_reauth",
        username="lost@zeta.example",
        status_reason="Salesforce refused the refresh token: invalid_grant",
    )
    now = timezone.now()
    for i in range(12):
        start = now - dt.timedelta(hours=12 - i)
        SyncRun.objects.create(
            workspace=workspace,
            connection=healthy,
            kind="incremental",
            state="failed" if i == 7 else "succeeded",
            fetched=100 + 40 * i,
            api_calls=3,
            started_at=start,
            finished_at=start + dt.timedelta(seconds=20 + 5 * i),
        )
    for i in range(3):
        SyncError.objects.create(
            workspace=workspace,
            connection=healthy,
            object_name="Contact",
            sf_id=f"003000000000{i:03d}AAA",
            error_type="mapping",
            message=f"'bad{i}@@example.com' is not an email address",
        )

    sign_in(page, live_server, staff)
    page.goto(live_server.url + "/admin/integrations/connection/sync-health/")
    page.get_by_role("heading", name="Open errors by type (3)").wait_for()
    rows = page.locator("#content-main section").first.locator("tbody tr")
    assert "lost@zeta.example" in rows.nth(0).inner_text()  # needing reconnection first
    assert "healthy@acme.example" in rows.nth(1).inner_text()
    assert page.get_by_role("img", name="The last 12 sync runs: records fetched and duration").is_visible()
    assert "3,200 of 15,000 used by the org (21.3%)" in rows.nth(1).inner_text()
    page.screenshot(path=str(screenshot_dir() / "admin-sync-health.png"), full_page=True)

    page.get_by_role("button", name="Ignore all 3").click()
    page.get_by_text("Ignored 3 error(s); they no longer count as open.").wait_for()
    assert SyncError.objects.filter(resolved=False).count() == 0

    page.goto(live_server.url + "/admin/integrations/connection/")
    listed = page.locator("#result_list tbody tr")
    assert "lost@zeta.example" in listed.nth(0).inner_text()  # needing reconnection first here too
    assert "Needs reconnecting" in listed.nth(0).inner_text()
    page.locator(f'input[name="_selected_action"][value="{healthy.pk}"]').check()
    page.locator('select[name="action"]').select_option("sync_now")
    page.get_by_role("button", name="Go").click()
    run = SyncRun.objects.filter(state="queued").get()
    page.get_by_text(f"Sync of healthy@acme.example ({healthy.org_id}): run #{run.pk} queued.").wait_for()
    page.screenshot(path=str(screenshot_dir() / "admin-connections.png"), full_page=True)

    page.goto(live_server.url + f"/admin/integrations/connection/{healthy.pk}/change/")
    page.get_by_role("group", name="Actions on this connection").get_by_role(
        "button", name="Pause syncing"
    ).click()
    page.get_by_text(f"Paused healthy@acme.example ({healthy.org_id})").wait_for()
    healthy.refresh_from_db()
    assert healthy.status == "paused"
    page.goto(live_server.url + f"/admin/integrations/connection/{healthy.pk}/change/")
    page.screenshot(path=str(screenshot_dir() / "admin-connection.png"), full_page=True)
