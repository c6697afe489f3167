"""Encryption at rest, key rotation, and the operator commands."""

from __future__ import annotations

import io

import pytest
import responses
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from integrations import crypto
from integrations.models import Connection
from tests.integrations.connection.conftest import LOGIN, token_body

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_tokens_are_stored_encrypted_and_decrypt_on_read(connection):
    raw = (
        Connection.objects.filter(pk=connection.pk)
        .values("access_token_encrypted", "refresh_token_encrypted")
        .get()
    )

    assert raw["access_token_encrypted"].startswith("gAAAAA")  # Fernet token
    assert (
        "access-0" not in raw["access_token_encrypted"] and "refresh-0" not in raw["refresh_token_encrypted"]
    )
    assert Connection.objects.get(pk=connection.pk).access_token == "00D5e!AQ8.access-0"
    assert Connection.objects.get(pk=connection.pk).refresh_token == "5Aep.refresh-0"


def test_no_keys_is_a_clear_configuration_error(settings):
    settings.ENCRYPTION_KEYS = []

    with pytest.raises(
        ImproperlyConfigured, match="ENCRYPTION_KEYS is empty: Salesforce tokens cannot be stored"
    ):
        crypto.encrypt("x")


def test_a_bad_key_is_reported_without_echoing_it(settings):
    settings.ENCRYPTION_KEYS = ["not-a-fernet-key-secret-material"]

    with pytest.raises(ImproperlyConfigured) as raised:
        crypto.encrypt("x")
    assert "not-a-fernet-key-secret-material" not in str(raised.value)


def test_rotation_new_key_encrypts_old_keys_decrypt_and_the_command_re_encrypts(settings, connection):
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    assert (
        Connection.objects.get(pk=connection.pk).access_token == "00D5e!AQ8.access-0"
    )  # old key still opens it

    output = run("rotate_encryption_keys")

    assert output.startswith("Re-encrypted the tokens of 1 connection(s) with key ")
    settings.ENCRYPTION_KEYS = [new_key]  # the old key can now be dropped
    rotated = Connection.objects.get(pk=connection.pk)
    assert (rotated.access_token, rotated.refresh_token) == ("00D5e!AQ8.access-0", "5Aep.refresh-0")
    assert Fernet(new_key.encode()).decrypt(rotated.refresh_token_encrypted.encode()) == b"5Aep.refresh-0"


def test_rotation_without_the_old_key_fails_clearly_and_changes_nothing(settings, connection):
    before = Connection.objects.filter(pk=connection.pk).values("access_token_encrypted").get()
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError, match="cannot be decrypted with any key in ENCRYPTION_KEYS"):
        run("rotate_encryption_keys")

    assert Connection.objects.filter(pk=connection.pk).values("access_token_encrypted").get() == before


def test_salesforce_connections_lists_status_without_tokens(connection, make_connection, workspace):
    make_connection(
        workspace,
        org_id="00DOTHERORG0000AAA",
        status=Connection.Status.NEEDS_REAUTH,
        status_reason="Salesforce refused the refresh token: invalid_grant (expired access/refresh token)",
    )

    output = run("salesforce_connections")

    lines = output.splitlines()
    assert lines[0].split() == ["ID", "WORKSPACE", "ORG", "USER", "STATUS", "REFRESHED", "REASON"]
    assert lines[1].split()[:6] == [
        str(connection.pk),
        "acme",
        "00D5e000000AbCdEAF",
        "admin@acme.example",
        "connected",
        "-",
    ]
    assert "needs_reauth" in lines[2] and lines[2].endswith("invalid_grant (expired access/refresh token)")
    assert "access-0" not in output and "refresh-0" not in output
    assert run("salesforce_connections", "--status", "connected").count("\n") == 2


@responses.activate
def test_salesforce_refresh_command(connection):
    responses.post(
        f"{LOGIN}/services/oauth2/token",
        json=token_body(access_token="refreshed-by-command", refresh_token=None),
    )

    output = run("salesforce_refresh", str(connection.pk))

    connection.refresh_from_db()
    assert output.startswith(
        f"Refreshed connection {connection.pk} (admin@acme.example, org 00D5e000000AbCdEAF) at "
    )
    assert connection.access_token == "refreshed-by-command"
    assert connection.refresh_count == 1


@responses.activate
def test_salesforce_refresh_command_with_a_revoked_token(connection):
    responses.post(
        f"{LOGIN}/services/oauth2/token",
        status=400,
        json={"error": "invalid_grant", "error_description": "expired access/refresh token"},
    )

    with pytest.raises(CommandError) as raised:
        run("salesforce_refresh", str(connection.pk))

    assert str(raised.value) == (
        "Refresh failed: invalid_grant: Salesforce refused the refresh token: invalid_grant "
        "(expired access/refresh token) (HTTP 400). Connection status: needs_reauth."
    )


def test_commands_refuse_unknown_ids(db):
    with pytest.raises(CommandError, match="No Salesforce connection with id 999."):
        run("salesforce_refresh", "999")
    with pytest.raises(CommandError, match="No Salesforce connection with id 999."):
        run("salesforce_disconnect", "999")


@responses.activate
def test_salesforce_disconnect_revokes_and_keeps_settings(connection):
    revoke = responses.post(f"{LOGIN}/services/oauth2/revoke", status=200)
    Connection.objects.filter(pk=connection.pk).update(merge_strategy="ignore")

    output = run("salesforce_disconnect", str(connection.pk))

    connection.refresh_from_db()
    assert output == f"Disconnected connection {connection.pk} (admin@acme.example).\n"
    assert revoke.calls[0].request.body == "token=5Aep.refresh-0"
    assert (connection.status, connection.access_token_encrypted, connection.refresh_token_encrypted) == (
        "disconnected",
        "",
        "",
    )
    assert connection.merge_strategy == "ignore"


@responses.activate
def test_salesforce_disconnect_when_salesforce_is_unreachable(connection):
    import requests

    responses.post(f"{LOGIN}/services/oauth2/revoke", body=requests.ConnectionError("down"))

    with pytest.raises(CommandError, match="the connection is unchanged. Use --force"):
        run("salesforce_disconnect", str(connection.pk))
    connection.refresh_from_db()
    assert connection.status == "connected" and connection.refresh_token == "5Aep.refresh-0"

    output = run("salesforce_disconnect", str(connection.pk), "--force")
    connection.refresh_from_db()
    assert output.startswith("Disconnected connection")
    assert connection.status == "disconnected"


def test_an_unset_client_secret_is_a_clear_error_in_the_command(connection, settings):
    settings.SALESFORCE_CLIENT_SECRET = ""

    with pytest.raises(CommandError) as raised:
        run("salesforce_refresh", str(connection.pk))

    assert "SALESFORCE_CLIENT_SECRET is not set" in str(raised.value)
    connection.refresh_from_db()
    assert (connection.status, connection.access_token, connection.refresh_count) == (
        "connected",
        "00D5e!AQ8.access-0",
        0,
    )


@responses.activate
def test_a_malformed_refresh_answer_changes_nothing(connection):
    responses.post(f"{LOGIN}/services/oauth2/token", body="<html>maintenance</html>", status=503)

    with pytest.raises(CommandError, match="with a body that is not a token response"):
        run("salesforce_refresh", str(connection.pk))

    connection.refresh_from_db()
    assert (connection.status, connection.access_token, connection.refresh_count) == (
        "connected",
        "00D5e!AQ8.access-0",
        0,
    )


@responses.activate
def test_tokens_never_reach_the_logs(connection, caplog):
    import logging

    from integrations.salesforce.client import SalesforceClient

    caplog.set_level(logging.DEBUG)
    responses.get(
        "https://acme.my.salesforce.com/services/data/v62.0/limits/",
        status=401,
        json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    responses.post(
        f"{LOGIN}/services/oauth2/token", json=token_body(access_token="00D5e!AQ8.fresh-secret-access")
    )
    responses.get("https://acme.my.salesforce.com/services/data/v62.0/limits/", json={})

    SalesforceClient.for_connection(connection).limits()

    assert "Refreshed the Salesforce session of connection" in caplog.text
    for secret in ("access-0", "refresh-0", "fresh-secret-access", "5Aep.refresh-1", "test-consumer-secret"):
        assert secret not in caplog.text
