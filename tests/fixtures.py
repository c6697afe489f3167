"""Shared fixtures. Factories are fixtures that return callables."""

from __future__ import annotations

import itertools

import pytest

_counter = itertools.count(1)
_orgs = itertools.count(1)

# The tokens make_connection stores unless told otherwise (tests look for them in pages and logs).
ACCESS_TOKEN = "00Dadmin!AQ8.plaintext-access-token"
REFRESH_TOKEN = "5Aep.plaintext-refresh-token-admin"


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
def sf_settings(settings):
    """Inflow's Salesforce settings for the local sandbox orgs (tests/sandbox_org.py): their connected
    app's credentials, and their plain-http origins allowed."""
    from tests.sandbox_org import CLIENT_ID, CLIENT_SECRET, LOCAL_SANDBOX_ORIGINS

    settings.SALESFORCE_CLIENT_ID = CLIENT_ID
    settings.SALESFORCE_CLIENT_SECRET = CLIENT_SECRET
    settings.SALESFORCE_LOCAL_ORIGINS = LOCAL_SANDBOX_ORIGINS
    settings.SALESFORCE_API_VERSION = "62.0"
    return settings


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


@pytest.fixture
def make_connection():
    """A factory of Connection rows (no org behind them): each call a different org and user unless
    `fields` name them; `fields` set any other column."""
    from django.utils import timezone

    from integrations.models import Connection

    def make(
        workspace,
        *,
        status=Connection.Status.CONNECTED,
        login_url="https://login.salesforce.com",
        instance_url="https://acme.my.salesforce.com",
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        **fields,
    ):
        n = next(_orgs)
        org_id = fields.pop("org_id", f"00D5e{n:013d}")[:18]
        columns = {
            "sf_user_id": f"0055e{n:013d}"[:18],
            "username": f"admin{n}@acme.example",
            "identity_url": f"{login_url}/id/{org_id}/0055e000000000001",
            "scopes": "refresh_token api id",
            "api_version": "62.0",
            "status_changed_at": timezone.now(),
            "connected_at": timezone.now(),
            **fields,
        }
        connection = Connection(
            workspace=workspace,
            org_id=org_id,
            instance_url=instance_url,
            login_url=login_url,
            status=status,
            **columns,
        )
        connection.set_tokens(access_token=access_token, refresh_token=refresh_token)
        connection.save()
        return connection

    return make


@pytest.fixture
def connection(make_connection, workspace):
    return make_connection(workspace)


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
