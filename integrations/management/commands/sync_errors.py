"""List sync errors by type; retry (re-read those records now) or ignore (resolve) them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations import ops, sync_selectors
from integrations.management.commands._sync_common import add_target_arguments, resolve_connections
from integrations.models import SyncError


class Command(BaseCommand):
    help = "Show open sync errors; --retry re-reads their records from Salesforce, --ignore resolves them."

    def add_arguments(self, parser):
        add_target_arguments(parser)
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--retry", action="store_true", help="Re-read the records behind retryable errors now."
        )
        action.add_argument(
            "--ignore", action="store_true", help="Mark the errors resolved without retrying."
        )
        parser.add_argument(
            "--type",
            dest="error_type",
            default="",
            help=f"Only this type: {', '.join(SyncError.Type.values)}.",
        )
        parser.add_argument("--limit", type=int, default=50)

    def handle(self, *args, **options):
        if options["error_type"] and options["error_type"] not in SyncError.Type.values:
            raise CommandError(
                f"Unknown error type '{options['error_type']}'. Use one of: {', '.join(SyncError.Type.values)}."
            )
        for connection in resolve_connections(options):
            ws = connection.workspace
            errors = sync_selectors.sync_errors(
                workspace=ws, connection=connection, error_type=options["error_type"]
            )
            if options["ignore"]:
                n = ops.sync_errors_ignore(errors=errors)
                self.stdout.write(f"Connection {connection.pk}: {n} error(s) ignored.")
                continue
            if options["retry"]:
                outcome = ops.sync_errors_retry(errors=errors)
                for problem in outcome.refused:
                    self.stderr.write(problem)
                self.stdout.write(
                    f"Connection {connection.pk}: re-read {outcome.retried} record(s); "
                    f"{outcome.resolved} error(s) resolved, {outcome.not_retryable} not retryable."
                )
                continue
            summary = sync_selectors.open_errors_by_type(
                sync_selectors.sync_errors(workspace=ws, connection=connection)
            )
            self.stdout.write(f"Connection {connection.pk}: {sum(s['count'] for s in summary)} open error(s)")
            for s in summary:
                self.stdout.write(f"  {s['label']} ({s['type']}): {s['count']}")
            for err in errors[: options["limit"]]:
                self.stdout.write(f"  [{err.error_type}] {err.object_name} {err.sf_id}: {err.message}")
                if err.fix:
                    self.stdout.write(f"      fix: {err.fix}")
