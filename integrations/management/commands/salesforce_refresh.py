"""Refresh a connection's access token now (proves the refresh token still works)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.management.commands._common import get_connection
from integrations.salesforce.errors import SalesforceError, SalesforceOAuthError
from integrations.services import connection_refresh_now


class Command(BaseCommand):
    help = "Refresh the access token of Salesforce connection <id>."

    def add_arguments(self, parser):
        parser.add_argument("connection_id", type=int)

    def handle(self, *args, connection_id: int, **options):
        connection = get_connection(connection_id)
        try:
            connection = connection_refresh_now(connection=connection)
        except SalesforceOAuthError as exc:
            raise CommandError(f"Refresh failed: {exc.error}: {exc.description}") from None
        except SalesforceError as exc:
            connection.refresh_from_db()
            raise CommandError(f"Refresh failed: {exc}. Connection status: {connection.status}.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Refreshed connection {connection.pk} ({connection.username}, org {connection.org_id}) "
                f"at {connection.last_refreshed_at:%Y-%m-%d %H:%M:%S} UTC."
            )
        )
