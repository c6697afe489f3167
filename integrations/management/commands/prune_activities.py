"""Apply each connection's data retention to the activities already stored (docs/sync.md "Data retention")."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations import sync_selectors, sync_settings
from integrations.management.commands._sync_common import add_target_arguments, resolve_connections


class Command(BaseCommand):
    help = (
        "Delete stored Salesforce activities outside the connection's retention setting (window and kinds)."
    )

    def add_arguments(self, parser):
        add_target_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, **options):
        for connection in resolve_connections(options):
            stored = sync_selectors.activities_stored(workspace=connection.workspace, connection=connection)
            if options["dry_run"]:
                self.stdout.write(
                    f"Connection {connection.pk}: {stored['outside']:,} of {stored['total']:,} activities "
                    "are outside the retention setting (nothing deleted: --dry-run)."
                )
                continue
            pruned = sync_settings.activities_prune(connection=connection)
            self.stdout.write(
                f"Connection {connection.pk}: deleted {pruned:,} of {stored['total']:,} activities "
                "outside the retention setting."
            )
