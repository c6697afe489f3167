"""Start a Salesforce sync (queued on the cluster, or --inline in the foreground with a progress bar)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.management.commands._sync_common import (
    ProgressBar,
    add_target_arguments,
    resolve_connections,
)
from integrations.models import SyncedObject, SyncRun
from integrations.salesforce import tasks
from integrations.salesforce.engine.preview import preview
from integrations.salesforce.engine.runner import run_sync


class Command(BaseCommand):
    help = "Sync Salesforce into the CDP: an incremental run (or the first backfill) for each connection."

    def add_arguments(self, parser):
        add_target_arguments(parser)
        parser.add_argument(
            "--object", action="append", default=[], metavar="API_NAME", help="Only this object (repeatable)."
        )
        parser.add_argument(
            "--full", action="store_true", help="Re-read everything from the start (a resync)."
        )
        parser.add_argument(
            "--inline", action="store_true", help="Run here, in the foreground, with a progress bar."
        )
        parser.add_argument(
            "--preview",
            action="store_true",
            help="Dry run: count what would be created/merged; write nothing.",
        )

    def handle(self, *args, **options):
        for connection in resolve_connections(options):
            objects = options["object"]
            if objects:
                known = set(
                    SyncedObject.objects.filter(connection=connection).values_list("api_name", flat=True)
                )
                unknown = sorted(set(objects) - known)
                if unknown:
                    raise CommandError(
                        f"Not selected for sync on connection {connection.pk}: {', '.join(unknown)}."
                    )
            if options["preview"]:
                self._preview(connection)
                continue
            kind = SyncRun.Kind.RESYNC if options["full"] else None
            run, created = tasks.sync_request(
                connection=connection, kind=kind, only_objects=objects, enqueue=not options["inline"]
            )
            if run.state == SyncRun.State.SKIPPED:
                self.stdout.write(f"Connection {connection.pk}: {run.state_reason}")
                continue
            if not options["inline"]:
                verb = "queued" if created else f"joined the {run.get_state_display().lower()} run"
                run.refresh_from_db()  # a joined run whose task was lost has just been enqueued again
                why = (
                    f" — {run.state_reason}" if run.state == SyncRun.State.QUEUED and run.state_reason else ""
                )
                self.stdout.write(
                    f"Connection {connection.pk}: {verb} (run #{run.pk}, {run.get_kind_display().lower()}){why}."
                )
                continue
            bar = ProgressBar(self.stderr._out)
            result = run_sync(run.pk, progress=bar)
            bar.close()
            if result is None:
                self.stdout.write(
                    f"Connection {connection.pk}: run #{run.pk} is in progress in another worker."
                )
                continue
            self.stdout.write(
                f"Connection {connection.pk}: run #{result.pk} {result.state}"
                + (f" ({result.state_reason})" if result.state_reason else "")
                + f" — fetched {result.fetched:,}, created {result.created:,}, merged {result.merged:,}, "
                f"ignored {result.ignored:,}, archived {result.archived:,}, failed {result.failed:,}, "
                f"activities {result.activities_recorded:,}, API calls {result.api_calls:,}, "
                f"{(result.seconds or 0):.1f}s"
            )

    def _preview(self, connection):
        counts = preview(connection)
        self.stdout.write(
            f"Connection {connection.pk}: preview under '{connection.merge_label}' (nothing written)"
        )
        self.stdout.write(
            f"  {'object':<16}{'read':>8}{'created':>9}{'merged':>8}{'ignored':>9}{'invalid':>9}"
        )
        for name, c in counts.items():
            self.stdout.write(
                f"  {name:<16}{c['read']:>8,}{c['created']:>9,}{c['merged']:>8,}{c['ignored']:>9,}{c['invalid']:>9,}"
            )
