# ruff: noqa: S107 - fixed test tokens
"""Fixtures for the Salesforce connection tests: settings, connections, recorded describes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CLIENT_ID = "test-consumer-key"
CLIENT_SECRET = "test-consumer-secret"
INSTANCE = "https://acme.my.salesforce.com"
LOGIN = "https://login.salesforce.com"
ORG_ID = "00D5e000000AbCdEAF"
USER_ID = "0055e000001XyZwAAC"


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(identity_url: str, issued_at: str, secret: str = CLIENT_SECRET) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), (identity_url + issued_at).encode(), hashlib.sha256).digest()
    ).decode()


def token_body(
    *,
    access_token="00D5e!AQ8.access-1",
    refresh_token="5Aep.refresh-1",
    org_id=ORG_ID,
    user_id=USER_ID,
    instance_url=INSTANCE,
    issued_at="1708058728442",
    secret=CLIENT_SECRET,
    **extra,
) -> dict:
    identity_url = f"{LOGIN}/id/{org_id}/{user_id}"
    body = {
        "access_token": access_token,
        "signature": sign(identity_url, issued_at, secret),
        "scope": "refresh_token api id",
        "instance_url": instance_url,
        "id": identity_url,
        "token_type": "Bearer",
        "issued_at": issued_at,
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    body.update(extra)
    return body


@pytest.fixture
def sf_settings(settings):
    """Here, unlike elsewhere (tests/fixtures.py), a production-like app talking to login.salesforce.com,
    whose answers the tests record or fake: no local origins."""
    settings.SALESFORCE_CLIENT_ID = CLIENT_ID
    settings.SALESFORCE_CLIENT_SECRET = CLIENT_SECRET
    settings.SALESFORCE_API_VERSION = "62.0"
    settings.SALESFORCE_LOCAL_ORIGINS = []
    settings.SALESFORCE_DEFAULT_LOGIN_URL = LOGIN
    return settings


@pytest.fixture
def make_connection(make_connection, sf_settings):
    """tests/fixtures.py's factory with this folder's one org and user (the recorded responses' ones)."""

    def make(
        workspace,
        *,
        org_id=ORG_ID,
        access_token="00D5e!AQ8.access-0",
        refresh_token="5Aep.refresh-0",
        **fields,
    ):
        columns = {
            "sf_user_id": USER_ID,
            "username": "admin@acme.example",
            "instance_url": INSTANCE,
            "login_url": LOGIN,
            "identity_url": f"{LOGIN}/id/{org_id}/{USER_ID}",
            "status_changed_at": None,
            **fields,
        }
        return make_connection(
            workspace, org_id=org_id, access_token=access_token, refresh_token=refresh_token, **columns
        )

    return make


from tests.browser import browser, page  # noqa: E402, F401 - fixtures
