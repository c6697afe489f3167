"""Shared fixtures. Factories are fixtures that return callables."""

from __future__ import annotations

import itertools

import pytest

_counter = itertools.count(1)


@pytest.fixture
def make_user(django_user_model):
    from allauth.account.models import EmailAddress

    def make(*, email: str | None = None, password: str = "correct-horse-battery-9", **extra):
        email = email or f"user{next(_counter)}@example.com"
        user = django_user_model.objects.create_user(username=email, email=email, password=password, **extra)
        # A user who signed up and confirmed their address (sign-in requires a verified email).
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        user.raw_password = password
        return user

    return make


@pytest.fixture
def make_workspace(make_user):
    from cdp.services import workspace_create

    def make(*, name: str = "Acme", owner=None):
        owner = owner or make_user()
        return workspace_create(owner=owner, name=name)

    return make


@pytest.fixture
def workspace(make_workspace):
    return make_workspace(name="Acme")


@pytest.fixture
def owner(workspace):
    return workspace.memberships.get().user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def confirmation_path(email: str) -> str:
    """The path of the newest sign-up confirmation link emailed to `email` (the locmem outbox)."""
    import re

    from django.core import mail

    for message in reversed(mail.outbox):
        if email in message.to:
            found = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"no confirmation email to {email}: {[m.subject for m in mail.outbox]}")
