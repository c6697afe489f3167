from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cdp.models import Membership, Workspace
from tests.fixtures import confirmation_path

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "ada@example.com",
    "password1": "correct-horse-battery-9",
    "password2": "correct-horse-battery-9",
}


def test_signup_creates_workspace_with_owner_and_lands_in_the_onboarding(client):
    response = client.post(
        reverse("account_signup"), {**SIGNUP, "workspace_name": "Analytical Engines"}, follow=True
    )
    assert "Verify Your Email Address" in response.content.decode()
    # The emailed link confirms the address, signs the new user in and starts the onboarding.
    response = client.get(confirmation_path("ada@example.com"), follow=True)

    assert response.status_code == 200
    workspace = Workspace.objects.get()
    assert workspace.name == "Analytical Engines"
    assert workspace.slug == "analytical-engines"
    membership = Membership.objects.get()
    assert (membership.user.email, membership.workspace, membership.role) == (
        "ada@example.com",
        workspace,
        "owner",
    )
    # A new workspace starts its onboarding, not an empty home page.
    assert response.redirect_chain[-1][0] == "/onboarding/business/"
    assert "Analytical Engines" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {**SIGNUP, "email": "not-an-email", "workspace_name": "Acme"},
            "email",
            "Enter a valid email address.",
        ),
        ({**SIGNUP, "workspace_name": ""}, "workspace_name", "This field is required."),
        ({**SIGNUP, "workspace_name": "   "}, "workspace_name", "This field is required."),
        (
            {**SIGNUP, "workspace_name": "x" * 1000},
            "workspace_name",
            "Ensure this value has at most 100 characters",
        ),
        ({**SIGNUP, "workspace_name": "!!!"}, "workspace_name", "at least one letter or digit"),
        (
            {**SIGNUP, "password2": "different-password-1", "workspace_name": "Acme"},
            "password2",
            "same password",
        ),
    ],
)
def test_signup_bad_input_shows_error_and_creates_nothing(client, data, field, message):
    response = client.post(reverse("account_signup"), data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert any(message in error for error in errors[field])
    assert message.split("(")[0].replace("'", "&#x27;")[:20] in response.content.decode()
    assert get_user_model().objects.count() == 0
    assert Workspace.objects.count() == 0


def test_signup_with_taken_email_creates_nothing_and_does_not_say_so(client, make_user):
    make_user(email="ada@example.com")

    response = client.post(reverse("account_signup"), {**SIGNUP, "workspace_name": "Acme"}, follow=True)

    assert response.status_code == 200
    assert "already registered" not in response.content.decode()
    assert "Verify Your Email Address" in response.content.decode()  # what a new address sees
    assert Workspace.objects.count() == 0
    assert get_user_model().objects.count() == 1


def test_anonymous_user_is_sent_to_log_in(client):
    response = client.get(reverse("cdp:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_user_without_workspace_is_asked_to_name_one(client, make_user):
    user = make_user()
    client.force_login(user)

    response = client.get(reverse("cdp:dashboard"))
    assert response["Location"] == reverse("cdp:workspace_create")

    response = client.post(reverse("cdp:workspace_create"), {"name": "Second Co"})
    assert response["Location"] == reverse("cdp:dashboard")
    assert Membership.objects.get(user=user).workspace.name == "Second Co"


def test_dashboard_shows_empty_state(owner_client, workspace):
    response = owner_client.get(reverse("cdp:dashboard"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Connect Salesforce to bring in your customers" in body
    assert workspace.name in body


def test_user_never_sees_another_workspace(client, make_workspace, make_user):
    first = make_workspace(name="First")
    second = make_workspace(name="Second")
    intruder = second.memberships.get().user
    client.force_login(intruder)
    # Even asking for the first workspace in the session does not switch to it.
    session = client.session
    session["workspace_id"] = first.pk
    session.save()

    body = client.get(reverse("cdp:dashboard")).content.decode()

    assert "Second" in body
    assert "First" not in body
