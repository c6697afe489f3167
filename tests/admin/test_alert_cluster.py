"""The reconnect alert as deployed: a real `manage.py qcluster` runs the alert task and the console email
backend (development) prints the owner's email, once."""

from __future__ import annotations

import pytest

from integrations import services
from integrations.models import ConnectionAlert
from tests.processes import qcluster, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_qcluster_worker_sends_the_reconnect_email_once(connection, owner, tmp_path):
    from django_q.models import Success
    from django_q.tasks import async_task

    services.connection_mark_needs_reauth(
        connection=connection, reason="Salesforce refused the refresh token: invalid_grant"
    )
    log_path = tmp_path / "qcluster.log"
    with qcluster(log_path=log_path, EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
        for _ in range(2):  # two checks, as two schedule ticks would run
            async_task("integrations.alerts.scheduled_reauth_alerts")
        assert wait_for(lambda: Success.objects.count() == 2), log_path.read_text()[-3000:]

    results = sorted(Success.objects.values_list("result", flat=True))
    assert results == ["0 alert(s) sent", "1 alert(s) sent"]
    output = log_path.read_text()
    assert output.count("Subject: Reconnect Salesforce to Acme on Inflow") == 1, output[-3000:]
    assert f"To: {owner.email}" in output
    assert ConnectionAlert.objects.filter(connection=connection).count() == 1
