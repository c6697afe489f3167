"""Where each connection's sync stands: the latest runs, each object's watermark and the open errors."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations import sync_selectors
from integrations.management.commands._sync_common import (
    add_target_arguments,
    fmt_seconds,
    resolve_connections,
)


class Command(BaseCommand):
    help = "Show sync runs, per-object progress and watermarks, and open errors by type."

    def add_arguments(self, parser):
        add_target_arguments(parser)
        parser.add_argument("--runs", type=int, default=5, help="How many recent runs to list.")

    def handle(self, *args, **options):
        for connection in resolve_connections(options):
            ws = connection.workspace
            self.stdout.write(
                f"Connection {connection.pk} ({connection.username}, {ws.slug}): {connection.get_status_display()}, "
                f"every {connection.schedule_interval_minutes} min, API budget {connection.api_budget_percent}%"
            )
            live = sync_selectors.live_status(workspace=ws, connection=connection)
            self.stdout.write(f"  live updates: {live.label} — {live.detail}")
            progress = sync_selectors.sync_progress(workspace=ws, connection=connection)
            if progress["run_id"]:
                self.stdout.write(
                    f"  latest run #{progress['run_id']} {progress['kind']} {progress['state']}"
                    + (f" ({progress['state_reason']})" if progress["state_reason"] else "")
                    + f": {progress['done']:,}/{progress['total']:,} records, {progress['rate']:,.0f} rec/s, "
                    f"ETA {fmt_seconds(progress['eta_seconds'])}"
                )
            self.stdout.write(f"  {'object':<24}{'becomes':<16}{'synced':>9}  watermark")
            for obj in sync_selectors.synced_objects(workspace=ws, connection=connection):
                mark = (
                    f"{obj.watermark_modstamp:%Y-%m-%d %H:%M:%S} {obj.watermark_id}"
                    if obj.watermark_modstamp
                    else "—"
                )
                state = "" if obj.enabled else " (disabled)"
                self.stdout.write(
                    f"  {obj.api_name + state:<24}{obj.becomes:<16}{obj.records_synced:>9,}  {mark}"
                )
            self.stdout.write("  recent runs:")
            for run in sync_selectors.sync_runs(workspace=ws, connection=connection, limit=options["runs"]):
                self.stdout.write(
                    f"    #{run.pk} {run.kind:<11} {run.state:<9} fetched {run.fetched:>7,} created {run.created:>6,} "
                    f"merged {run.merged:>6,} archived {run.archived:>5,} failed {run.failed:>4,} "
                    f"API {run.api_calls:>4,} {(run.seconds or 0):6.1f}s {run.state_reason}"
                )
            summary = sync_selectors.open_errors_by_type(
                sync_selectors.sync_errors(workspace=ws, connection=connection)
            )
            if summary:
                self.stdout.write(
                    "  open errors: " + ", ".join(f"{s['label']} {s['count']}" for s in summary)
                )
