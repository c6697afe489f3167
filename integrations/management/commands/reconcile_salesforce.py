"""Compare Salesforce's id sets with what Inflow holds: archive hard deletes, fetch what a cursor missed."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.management.commands._sync_common import add_target_arguments, resolve_connections
from integrations.models import SyncRun
from integrations.salesforce import tasks
from integrations.salesforce.engine.runner import run_sync


class Command(BaseCommand):
    help = "Reconcile each connection's objects against Salesforce (runs daily on its own; this runs it now)."

    def add_arguments(self, parser):
        add_target_arguments(parser)
        parser.add_argument("--inline", action="store_true", help="Run here instead of on the cluster.")

    def handle(self, *args, **options):
        for connection in resolve_connections(options):
            run, created = tasks.sync_request(
                connection=connection, kind=SyncRun.Kind.RECONCILE, enqueue=not options["inline"]
            )
            if run.state == SyncRun.State.SKIPPED or not options["inline"]:
                self.stdout.write(
                    f"Connection {connection.pk}: "
                    + (
                        run.state_reason
                        if run.state == SyncRun.State.SKIPPED
                        else f"reconcile run #{run.pk} {'queued' if created else 'already in progress'}"
                    )
                )
                continue
            result = run_sync(run.pk)
            if result is None:
                self.stdout.write(
                    f"Connection {connection.pk}: run #{run.pk} is in progress in another worker."
                )
                continue
            self.stdout.write(
                f"Connection {connection.pk}: reconcile #{result.pk} {result.state}; archived {result.archived:,}, "
                f"fetched {result.fetched:,}, API calls {result.api_calls:,}"
            )
            for name, entry in result.progress.items():
                self.stdout.write(
                    f"  {name}: {entry.get('hard_deleted', 0):,} gone from Salesforce, "
                    f"{entry.get('missing_fetched', 0):,} missing here fetched"
                )
