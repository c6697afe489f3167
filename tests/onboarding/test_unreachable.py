"""With the Salesforce org stopped, a connection's settings pages still render at once: the stored
settings, and a plain "can't reach Salesforce" notice, never a 500 after retries."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from tests.integrations.sync.conftest import connect, select_objects

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PAGES = ("fields/", "permissions/", "custom-objects/", "identifiers/")


def test_settings_pages_render_with_the_org_stopped(make_sandbox_org, sf_settings, workspace, owner_client):
    cache.clear()
    org = make_sandbox_org(contacts=20, seed=3)
    connection = connect(workspace, org)
    select_objects(connection, ("Contact", "Lead"))
    base = f"/sources/salesforce/{connection.pk}/"
    # Read once while the org answers: the catalogue is kept.
    assert "can't reach Salesforce" not in owner_client.get(base + "fields/").content.decode()

    org.stop()
    cache.delete(
        f"integrations:catalog:{connection.pk}:{connection.api_version}"
    )  # the ten-minute cache ran out

    for page in PAGES:
        started = time.monotonic()
        response = owner_client.get(base + page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert "can't reach Salesforce" in html, page
        assert time.monotonic() - started < 5, page  # no retries with backoff inside the request
    assert 'value="Email"' in owner_client.get(base + "fields/").content.decode()  # the stored choice

    # Never read at all (a fresh cache): the stored settings, named, on a page that says why.
    cache.clear()
    for page in PAGES:
        response = owner_client.get(base + page)
        html = response.content.decode()
        assert response.status_code == 200, page
        assert "Inflow can't reach Salesforce right now" in html, page
        assert "Contact" in html and "Syncing" in html, page
