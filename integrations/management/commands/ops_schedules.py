"""Create (idempotently) the operator schedules: the periodic reconnect-alert check."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations import alerts

MINUTES_PER_DAY = 24 * 60


class Command(BaseCommand):
    help = (
        "Ensure the django-q2 schedule that emails workspace owners when a Salesforce connection needs "
        "reconnecting (checks every --minutes; one email per status change). Safe to run on every deploy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=5, help="How often the check runs (default 5).")
        parser.add_argument(
            "--run-now", action="store_true", help="Also run the check once now, in this process."
        )

    def handle(self, *args, minutes: int, run_now: bool, **options):
        if not 1 <= minutes <= MINUTES_PER_DAY:
            raise CommandError(f"--minutes must be between 1 and {MINUTES_PER_DAY}.")
        alerts.alert_schedule_ensure(minutes=minutes)
        if options["verbosity"] >= 1:
            self.stdout.write(f"Schedule {alerts.ALERT_SCHEDULE_NAME}: every {minutes} min.")
        if run_now:
            sent = alerts.reauth_alerts_send()
            self.stdout.write(f"{sent} reconnect alert(s) sent.")
