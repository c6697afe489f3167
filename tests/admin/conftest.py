# ruff: noqa: S107 - fixed test tokens
"""Fixtures for the operator console: a staff superuser, connections in every state, sync history."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from tests.sandbox_org import LOCAL_SANDBOX_ORIGINS

_orgs = itertools.count(1)

ACCESS_TOKEN = "00Dadmin!AQ8.plaintext-access-token"
REFRESH_TOKEN = "5Aep.plaintext-refresh-token-admin"


@pytest.fixture
def staff(make_user):
    return make_user(email="operator@inflow.example", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def make_connection():
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
        connection = Connection(
            workspace=workspace,
            org_id=org_id,
            sf_user_id=fields.pop("sf_user_id", f"0055e{n:013d}"[:18]),
            username=fields.pop("username", f"admin{n}@acme.example"),
            instance_url=instance_url,
            login_url=login_url,
            identity_url=f"{login_url}/id/{org_id}/0055e000000000001",
            scopes="refresh_token api id",
            api_version="62.0",
            status=status,
            status_changed_at=timezone.now(),
            connected_at=timezone.now(),
            **fields,
        )
        connection.set_tokens(access_token=access_token, refresh_token=refresh_token)
        connection.save()
        return connection

    return make


@pytest.fixture
def connection(make_connection, workspace):
    return make_connection(workspace)


def changelist(model) -> str:
    from django.urls import reverse

    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client, model, action: str, ids, *, follow=True, **extra):
    from django.contrib.admin import helpers

    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids], "index": "0", **extra}
    return client.post(changelist(model), data, follow=follow)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# The real sandbox org process (tests/sandbox_org.py) for the actions that talk to Salesforce.
from tests.sandbox_org import (  # noqa: E402, F401 - fixtures
    _sandbox_org_session,
    _sandbox_templates,
    make_sandbox_org,
    sandbox_org,
)


@pytest.fixture
def sf_settings(settings):
    settings.SALESFORCE_CLIENT_ID = "inflow-local-dev"
    settings.SALESFORCE_CLIENT_SECRET = "inflow-local-dev-secret"
    settings.SALESFORCE_LOCAL_ORIGINS = LOCAL_SANDBOX_ORIGINS  # the local org speaks plain http
    settings.SALESFORCE_API_VERSION = "62.0"
    return settings


from tests.browser import browser, page  # noqa: E402, F401 - fixtures for test_browser.py
