"""Disconnect a connection: revoke its refresh token at Salesforce and forget the tokens."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.management.commands._common import get_connection
from integrations.salesforce.errors import SalesforceOAuthError
from integrations.services import connection_disconnect


class Command(BaseCommand):
    help = "Disconnect Salesforce connection <id> (revokes the token at Salesforce; synced data is kept)."

    def add_arguments(self, parser):
        parser.add_argument("connection_id", type=int)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Forget the tokens even if Salesforce cannot be reached to revoke them.",
        )

    def handle(self, *args, connection_id: int, force: bool, **options):
        connection = get_connection(connection_id)
        if connection.status == connection.Status.DISCONNECTED:
            self.stdout.write(f"Connection {connection.pk} is already disconnected.")
            return
        try:
            connection = connection_disconnect(
                connection=connection,
                reason="Disconnected by an operator (salesforce_disconnect).",
                force=force,
            )
        except SalesforceOAuthError as exc:
            raise CommandError(
                f"Salesforce did not revoke the token ({exc.error}: {exc.description}); the connection is unchanged. "
                "Use --force to disconnect anyway."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Disconnected connection {connection.pk} ({connection.username}).")
        )
