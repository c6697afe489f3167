"""List Salesforce connections with their status (never a token)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.models import Connection


class Command(BaseCommand):
    help = "List Salesforce connections: id, workspace, org, user, status and reason."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="Only this workspace (slug).")
        parser.add_argument(
            "--status", choices=Connection.Status.values, help="Only connections in this status."
        )

    def handle(self, *args, **options):
        connections = Connection.objects.select_related("workspace").order_by("workspace__slug", "pk")
        if options["workspace"]:
            connections = connections.filter(workspace__slug=options["workspace"])
        if options["status"]:
            connections = connections.filter(status=options["status"])
        rows = [
            (
                str(c.pk),
                c.workspace.slug,
                c.org_id,
                c.username,
                c.status,
                c.last_refreshed_at.strftime("%Y-%m-%d %H:%M") if c.last_refreshed_at else "-",
                c.status_reason,
            )
            for c in connections
        ]
        if not rows:
            self.stdout.write("No Salesforce connections.")
            return
        header = ("ID", "WORKSPACE", "ORG", "USER", "STATUS", "REFRESHED", "REASON")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(v.ljust(w) for v, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
            )
