"""Finding 8: sessions lasted two weeks with no idle timeout. Now an hour without a request signs the user
out, and a session lasts at most 12 hours after it was last used."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_a_session_idle_past_the_timeout_is_signed_out(owner_client, workspace, monkeypatch):
    assert owner_client.get("/dashboard/").status_code == 200
    started = time.time()
    monkeypatch.setattr(time, "time", lambda: started + settings.SESSION_IDLE_SECONDS - 5)
    assert owner_client.get("/dashboard/").status_code == 200  # used within the hour: still in
    monkeypatch.setattr(time, "time", lambda: started + 2 * settings.SESSION_IDLE_SECONDS)
    response = owner_client.get("/dashboard/", follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "signed out after a while without activity" in response.content.decode()
    assert "_auth_user_id" not in owner_client.session


def test_activity_keeps_the_session_alive(owner_client, workspace, monkeypatch):
    started = time.time()
    for minutes in range(0, 4 * 60, 50):  # four hours, a request every 50 minutes
        monkeypatch.setattr(time, "time", lambda m=minutes: started + m * 60)
        assert owner_client.get("/dashboard/").status_code == 200, minutes


def test_a_remembered_session_lasts_hours_not_weeks(client, make_user):
    user = make_user()
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": user.raw_password, "remember": "on"}
    )
    assert response.status_code == 302
    assert int(response.cookies["sessionid"]["max-age"]) == 12 * 3600
    assert client.session.get_expiry_age() == 12 * 3600
