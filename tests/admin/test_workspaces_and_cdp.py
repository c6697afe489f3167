"""Workspaces with members, plan and onboarding step; profiles edited through the service; CDP data read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cdp.models import PermissionChange, Person
from onboarding.models import WorkspaceProfile
from onboarding.services import onboarding_step_complete, profile_update

pytestmark = pytest.mark.django_db


def test_workspace_list_shows_owner_members_plan_and_onboarding_step(
    staff_client, workspace, owner, make_workspace
):
    profile_update(workspace=workspace, data={"plan": "premium_trial"})
    onboarding_step_complete(workspace=workspace, key="about", next_key="address")
    make_workspace(name="Globex")  # no profile yet

    html = staff_client.get(reverse("admin:cdp_workspace_changelist")).content.decode()

    assert owner.email in html
    assert "Premium (14-day trial)" in html
    assert '<td class="field-onboarding_step">address</td>' in html  # Acme's current step
    assert '<td class="field-onboarding_step">not started</td>' in html  # Globex
    html = staff_client.get(
        reverse("admin:cdp_workspace_changelist") + "?profile__plan=premium_trial"
    ).content.decode()
    assert "Acme" in html and "Globex" not in html


def test_workspace_page_lists_members_inline_and_is_read_only(staff_client, workspace, owner):
    url = reverse("admin:cdp_workspace_change", args=[workspace.pk])
    html = staff_client.get(url).content.decode()
    assert owner.email in html and "Owner" in html
    assert 'name="_save"' not in html
    assert staff_client.post(url, {"name": "Renamed"}).status_code == 403
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


def test_profile_edits_go_through_the_service_and_bad_input_is_refused(staff_client, workspace):
    profile = profile_update(workspace=workspace, data={"plan": "free"})
    url = reverse("admin:onboarding_workspaceprofile_change", args=[profile.pk])
    form = {
        f: getattr(profile, f)
        for f in ("primary_color", "background_color", "text_color", "font", "button_style")
    }
    response = staff_client.post(url, {**form, "plan": "premium_trial", "city": "Lisbon"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.plan, profile.city) == ("premium_trial", "Lisbon")
    assert profile.trial_ends_at is not None  # the service starts the trial; a plain save would not

    response = staff_client.post(
        url, {**form, "plan": "premium_trial", "primary_color": "blue", "city": "Porto"}
    )
    assert response.status_code == 200
    assert "Enter a colour as # followed by six hex digits" in response.content.decode()
    profile.refresh_from_db()
    assert (profile.city, profile.primary_color) == ("Lisbon", "#3b5bdb")
    assert WorkspaceProfile.objects.count() == 1


def test_people_and_permission_history_are_read_only(staff_client, workspace):
    now = timezone.now()
    person = Person.objects.create(
        workspace=workspace,
        email="ada@example.com",
        email_key="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        created_at=now,
        updated_at=now,
    )
    change = PermissionChange.objects.create(
        workspace=workspace,
        person=person,
        field_id="bol::p",
        old_value=True,
        new_value=False,
        source="salesforce:1",
        changed_at=now,
    )

    html = staff_client.get(reverse("admin:cdp_person_changelist") + "?q=ada").content.decode()
    assert "Ada Lovelace" in html and "Subscribed" in html
    html = staff_client.get(reverse("admin:cdp_permissionchange_changelist")).content.decode()
    assert "subscribed → unsubscribed" in html and "Email" in html
    page = staff_client.get(reverse("admin:cdp_person_change", args=[person.pk])).content.decode()
    assert 'name="_save"' not in page and "ada@example.com" in page
    assert (
        staff_client.post(
            reverse("admin:cdp_person_change", args=[person.pk]), {"email": "x@y.z"}
        ).status_code
        == 403
    )
    assert (
        staff_client.post(
            reverse("admin:cdp_permissionchange_delete", args=[change.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert PermissionChange.objects.count() == 1
    assert Person.objects.get().email == "ada@example.com"
