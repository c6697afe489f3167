"""Finding 8: sign-up said "A user is already registered with this email address", so anyone could test
which addresses have accounts. Now a taken address sees exactly what a new one sees (allauth's email
verification): the owner of the address gets an email saying an account exists; nothing is created."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from cdp.models import Workspace
from tests.fixtures import confirmation_path

pytestmark = pytest.mark.django_db


def _sign_up(client, email: str):
    response = client.post(
        reverse("account_signup"),
        {
            "email": email,
            "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9",
            "workspace_name": "Acme",
        },
        follow=True,
    )
    page = re.sub(re.escape(email), "EMAIL", response.content.decode())
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return response.status_code, [url for url, _ in response.redirect_chain], page


def test_a_taken_address_sees_what_a_new_one_sees(client, make_user):
    make_user(email="ada@acme.example")

    taken = _sign_up(client, "ada@acme.example")
    client.cookies.clear()
    new = _sign_up(client, "grace@acme.example")

    assert taken == new
    assert "already" not in taken[2].lower()
    assert get_user_model().objects.filter(email="ada@acme.example").count() == 1
    assert Workspace.objects.count() == 1  # the new address's, not a second one for the taken address
    to_ada = [m for m in mail.outbox if m.to == ["ada@acme.example"]]
    assert len(to_ada) == 1 and "already" in to_ada[0].body.lower()
    assert confirmation_path("grace@acme.example").startswith("/accounts/confirm-email/")


def test_an_unconfirmed_address_cannot_sign_in_until_it_is_confirmed(client):
    _sign_up(client, "grace@acme.example")
    client.cookies.clear()
    response = client.post(
        reverse("account_login"), {"login": "grace@acme.example", "password": "correct-horse-battery-9"}
    )
    assert "_auth_user_id" not in client.session
    client.get(confirmation_path("grace@acme.example"))
    response = client.post(
        reverse("account_login"), {"login": "grace@acme.example", "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session
