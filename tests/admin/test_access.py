"""The admin is staff-only everywhere: every registered model's list and add pages, and the custom views."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    urls += [
        reverse("admin:integrations_connection_sync_health"),
        reverse("admin:integrations_connection_sync_health_one", args=[1]),
    ]
    return urls


def test_every_project_model_is_registered():
    from django.apps import apps

    ours = [m for app in ("cdp", "integrations", "onboarding") for m in apps.get_app_config(app).get_models()]
    missing = [m.__name__ for m in ours if m not in admin.site._registry]
    assert missing == []


def test_anonymous_is_sent_to_the_login_page_everywhere(client):
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_a_signed_in_user_who_is_not_staff_is_refused_everywhere(client, owner):
    client.force_login(owner)  # a workspace owner, but not staff
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_actions_are_refused_to_non_staff_and_change_nothing(client, owner, connection):
    from integrations.models import SyncRun

    client.force_login(owner)
    response = client.post(
        reverse("admin:integrations_connection_changelist"),
        {"action": "sync_now", "_selected_action": [str(connection.pk)]},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert SyncRun.objects.count() == 0


def test_staff_sees_every_changelist(staff_client, connection):
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert staff_client.get(url).status_code == 200, url


def test_django_q_admin_shows_schedules_queued_and_failed_tasks(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()
    for name in ("Scheduled tasks", "Queued tasks", "Failed tasks", "Successful tasks"):
        assert name in html
    for url in (
        "admin:django_q_schedule_changelist",
        "admin:django_q_ormq_changelist",
        "admin:django_q_failure_changelist",
    ):
        assert staff_client.get(reverse(url)).status_code == 200


def test_staff_with_view_permission_only_sees_but_cannot_act(client, make_user, connection):
    from django.contrib.auth.models import Permission

    from integrations.models import SyncRun

    viewer = make_user(email="viewer@inflow.example", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_connection"))
    client.force_login(viewer)

    html = client.get(reverse("admin:integrations_connection_changelist")).content.decode()
    assert connection.username in html
    assert 'value="sync_now"' not in html and 'value="disconnect"' not in html
    response = client.post(
        reverse("admin:integrations_connection_changelist"),
        {"action": "sync_now", "_selected_action": [str(connection.pk)], "index": "0"},
    )
    assert SyncRun.objects.count() == 0
    assert response.status_code in (200, 302)
    assert client.get(reverse("admin:integrations_connection_sync_health")).status_code == 200

    nobody = make_user(email="staff-without-permissions@inflow.example", is_staff=True)
    client.force_login(nobody)
    assert client.get(reverse("admin:integrations_connection_sync_health")).status_code == 403
    assert client.get(reverse("admin:integrations_connection_changelist")).status_code == 403
