"""Finding 8: /healthz was anonymous and showed counts across every workspace. Anyone reads the status;
the detail is for staff signed in or a monitor holding HEALTHZ_TOKEN."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations import services

pytestmark = pytest.mark.django_db


def test_anonymous_reads_the_status_only(client, connection):
    services.connection_mark_needs_reauth(connection=connection, reason="invalid_grant")
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "degraded"}
    assert response["Cache-Control"] == "no-store"


def test_a_workspace_owner_reads_the_status_only(owner_client, connection):
    assert owner_client.get(reverse("healthz")).json() == {"status": "ok"}


def test_staff_read_the_detail(staff_client, connection):
    body = staff_client.get(reverse("healthz")).json()
    assert body["salesforce"]["connections"]["connected"] == 1
    assert body["database"] == "ok"


def test_a_monitor_with_the_token_reads_the_detail_and_a_wrong_token_does_not(client, connection, settings):
    settings.HEALTHZ_TOKEN = "s3cret-monitor-token"  # noqa: S105 - a test token
    body = client.get(reverse("healthz"), HTTP_AUTHORIZATION="Bearer s3cret-monitor-token").json()
    assert body["salesforce"]["connections"]["connected"] == 1
    for wrong in ("Bearer nope", "Bearer ", "s3cret-monitor-token", "Basic s3cret-monitor-token"):
        assert client.get(reverse("healthz"), HTTP_AUTHORIZATION=wrong).json() == {"status": "ok"}
    settings.HEALTHZ_TOKEN = ""
    assert client.get(reverse("healthz"), HTTP_AUTHORIZATION="Bearer ").json() == {"status": "ok"}
