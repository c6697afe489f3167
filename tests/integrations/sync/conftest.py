"""Fixtures for the sync engine tests: a plain connection for unit tests, a sandbox-backed one for the rest."""

from __future__ import annotations

import pytest


@pytest.fixture
def plain_connection(workspace):
    """A connection row with no reachable org (configuration and mapping tests)."""
    from django.utils import timezone

    from integrations.models import Connection

    connection = Connection(
        workspace=workspace,
        org_id="00D5e000000AbCdEAF",
        sf_user_id="0055e000001XyZwAAC",
        username="admin@acme.example",
        instance_url="https://acme.my.salesforce.com",
        login_url="https://login.salesforce.com",
        api_version="62.0",
        connected_at=timezone.now(),
    )
    connection.set_tokens(access_token="access-0", refresh_token="refresh-0")
    connection.save()
    return connection
