"""Create (idempotently) each connection's incremental and reconcile schedules; remove stale ones."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.salesforce import tasks


class Command(BaseCommand):
    help = "Ensure one sync schedule (1/5/15/60 min) and one daily reconcile per connected Salesforce connection."

    def handle(self, *args, **options):
        from django_q.models import Schedule

        kept = tasks.schedules_ensure_all()
        self.stdout.write(f"{kept} connection(s) scheduled.")
        for s in Schedule.objects.filter(name__startswith="salesforce-").order_by("name"):
            every = (
                f"every {s.minutes} min"
                if s.schedule_type == Schedule.MINUTES
                else s.get_schedule_type_display().lower()
            )
            self.stdout.write(f"  {s.name}: {every}, next {s.next_run:%Y-%m-%d %H:%M} UTC")
