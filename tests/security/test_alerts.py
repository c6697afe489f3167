"""Finding 4: one workspace's alert failing (a name with CR/LF made the subject a BadHeaderError) stopped
the whole reauthorization-alert pass, so every later workspace missed its alert."""

from __future__ import annotations

import pytest
from django.core import mail

from cdp.models import Workspace
from integrations import alerts, services
from integrations.models import ConnectionAlert

pytestmark = pytest.mark.django_db


def test_a_workspace_name_with_a_line_break_is_alerted_and_does_not_stop_the_others(
    make_workspace, make_connection, make_user
):
    hostile = make_workspace(name="Acme", owner=make_user(email="hostile@acme.example"))
    Workspace.objects.filter(pk=hostile.pk).update(name="Acme\r\nBcc: victim@example.com")
    later = make_workspace(name="Globex", owner=make_user(email="owner@globex.example"))
    for workspace in (hostile, later):
        services.connection_mark_needs_reauth(connection=make_connection(workspace), reason="invalid_grant")

    assert alerts.reauth_alerts_send() == 2
    by_recipient = {email.to[0]: email for email in mail.outbox}
    assert set(by_recipient) == {"hostile@acme.example", "owner@globex.example"}
    subject = by_recipient["hostile@acme.example"].subject
    assert subject == "Reconnect Salesforce to Acme Bcc: victim@example.com on Inflow"
    assert by_recipient["hostile@acme.example"].bcc == []


def test_any_failure_of_one_alert_leaves_it_pending_and_alerts_the_rest(
    make_workspace, make_connection, make_user, monkeypatch
):
    first = make_connection(make_workspace(name="Acme", owner=make_user(email="a@acme.example")))
    second = make_connection(make_workspace(name="Globex", owner=make_user(email="b@globex.example")))
    for connection in (first, second):
        services.connection_mark_needs_reauth(connection=connection, reason="invalid_grant")
    message = alerts._message

    def broken_for_first(connection):
        if connection.pk == first.pk:
            raise RuntimeError("template bug")
        return message(connection)

    monkeypatch.setattr(alerts, "_message", broken_for_first)
    assert alerts.reauth_alerts_send() == 1
    assert [email.to for email in mail.outbox] == [["b@globex.example"]]
    assert list(ConnectionAlert.objects.values_list("connection", flat=True)) == [second.pk]

    monkeypatch.undo()
    assert alerts.reauth_alerts_send() == 1  # the first one, on the next check
    assert mail.outbox[-1].to == ["a@acme.example"]


def test_the_workspace_name_form_refuses_control_characters():
    from cdp.forms import WorkspaceCreateForm

    form = WorkspaceCreateForm(data={"name": "Acme\r\nBcc: x@example.com"})
    assert not form.is_valid()
    assert "line breaks" in form.errors["name"][0]
